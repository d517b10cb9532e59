"""How the back office answers the other areas: a plan's new version keeps
its payment rule, and the monthly quality summary gets the month's invoiced
amount against the value of the visits delivered."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import (
    Date,
    DateTime,
    Numeric,
    Uuid,
    and_,
    case,
    cast,
    column,
    extract,
    func,
    literal,
    select,
    union_all,
    values,
)

from tenants.backoffice.invoicing import carry_rule_to_new_version
from tenants.backoffice.models import CareInvoice, CareInvoiceLine, InvoiceStatus
from tenants.clients.signals import PlanActivated, plan_activated
from tenants.quality.signals import (
    FiguresWanted,
    MonthBounds,
    SectionFigures,
    SectionWanted,
    SummarySection,
    summary_figures,
    summary_section,
)
from tenants.scheduling.models import Visit, VisitStatus

KEY = "invoicing"


def keep_payment_rule(event: PlanActivated) -> None:
    carry_rule_to_new_version(event.plan)


def _months(bounds: Sequence[MonthBounds]) -> Any:
    return values(
        column("agency_id", Uuid),
        column("lo", DateTime(timezone=True)),
        column("hi", DateTime(timezone=True)),
        column("first", Date),
        column("as_of", DateTime(timezone=True)),
        name="months",
    ).data([(b.agency.id, b.lo, b.hi, b.month, b.as_of) for b in bounds])


def month_figures(connection: Any, bounds: Sequence[MonthBounds]) -> dict[uuid.UUID, dict[str, Any]]:
    """Per agency and month: the value of the visits delivered (their booked
    price, whole, whoever pays), and what issued invoices and credit notes
    charged for the month's days (as of the build); one SELECT across the
    agencies."""
    if not bounds:
        return {}
    hours = cast(extract("epoch", Visit.ends_at - Visit.starts_at) / 3600, Numeric(12, 4))
    value = func.round(Visit.price * case((Visit.unit == "per_hour", func.round(hours, 2)), else_=1), 2)
    months = _months(bounds)
    delivered = (
        select(Visit.tenant_id, literal("delivered"), func.count(), func.coalesce(func.sum(value), 0))
        .join(
            months,
            and_(
                Visit.tenant_id == months.c.agency_id,
                Visit.starts_at >= months.c.lo,
                Visit.starts_at < months.c.hi,
            ),
        )
        .where(Visit.status == VisitStatus.COMPLETED)
        .group_by(Visit.tenant_id)
    )
    months = _months(bounds)
    invoiced = (
        select(
            CareInvoiceLine.tenant_id,
            literal("invoiced"),
            func.count(),
            func.coalesce(func.sum(CareInvoiceLine.amount), 0),
        )
        .join(
            CareInvoice,
            and_(
                CareInvoice.tenant_id == CareInvoiceLine.tenant_id,
                CareInvoice.id == CareInvoiceLine.invoice_id,
            ),
        )
        .join(
            months,
            and_(
                CareInvoiceLine.tenant_id == months.c.agency_id,
                func.date_trunc("month", func.coalesce(CareInvoiceLine.day, CareInvoice.period_start))
                == months.c.first,
                CareInvoice.issued_at <= months.c.as_of,
            ),
        )
        .where(CareInvoice.status == InvoiceStatus.ISSUED)
        .group_by(CareInvoiceLine.tenant_id)
    )
    rows = connection.execute(union_all(delivered, invoiced)).all()
    found: dict[uuid.UUID, dict[str, Any]] = {
        b.agency.id: {"delivered_visits": 0, "delivered_value": "0.00", "invoiced": "0.00"} for b in bounds
    }
    for agency_id, kind, count, total in rows:
        amount = str(Decimal(total).quantize(Decimal("0.01")))
        if kind == "delivered":
            found[agency_id]["delivered_visits"] = int(count)
            found[agency_id]["delivered_value"] = amount
        else:
            found[agency_id]["invoiced"] = amount
    return found


def invoicing_figures(event: FiguresWanted) -> SectionFigures:
    return SectionFigures(KEY, month_figures(event.connection, event.bounds))


def invoicing_section(event: SectionWanted) -> SummarySection | None:
    if event.key != KEY:
        return None
    f = event.figures
    delivered = Decimal(f.get("delivered_value") or 0)
    invoiced = Decimal(f.get("invoiced") or 0)
    rows = [
        (_("Visits delivered"), str(f.get("delivered_visits", 0))),
        (_("Value of the visits delivered (booked prices)"), format_decimal(delivered, format="#,##0.00")),
        (
            _("Invoiced for the month (issued invoices less credit notes)"),
            format_decimal(invoiced, format="#,##0.00"),
        ),
    ]
    if delivered:
        rows.append(
            (_("Invoiced against delivered"), f"{(invoiced / delivered * 100).quantize(Decimal('0.1'))}%")
        )
    notes = [
        _(
            "Late cancellations and adjustments are invoiced too, so the invoiced amount may pass the value "
            "delivered; a month not yet invoiced shows less."
        )
    ]
    return SummarySection(KEY, _("Invoicing"), rows, notes)


plan_activated.connect(keep_payment_rule)
summary_figures.connect(invoicing_figures)
summary_section.connect(invoicing_section)
