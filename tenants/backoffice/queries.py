"""What the back office pages read: a fixed number of statements each,
whatever the number of invoices, lines or entries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.orm import aliased

from saas import db
from saas.models import Membership, User
from tenants.backoffice.models import (
    CareInvoice,
    CareInvoiceLine,
    EntryKind,
    InvoiceStatus,
    PaymentRule,
    Timesheet,
    TimesheetEntry,
    TimesheetStatus,
)
from tenants.clients.models import Case, Client, PlanStatus, ServicePlan
from tenants.outreach.models import Funder
from tenants.scheduling.models import Visit
from tenants.staffing.models import StaffFile

LIST_LIMIT = 500


def funder_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Funder.id, Funder.name).where(Funder.active.is_(True)).order_by(Funder.name).limit(LIST_LIMIT)
    ).all()
    return [(str(i), n) for i, n in rows]


def payer_choices() -> list[tuple[str, str, str]]:
    """(value, name, kind): the active funders, then the clients in care."""
    funders = select(Funder.id, Funder.name, literal("funder").label("kind")).where(Funder.active.is_(True))
    clients = select(Client.id, Client.full_name, literal("client").label("kind")).where(
        Client.archived_at.is_(None), Client.anonymised_at.is_(None)
    )
    both = funders.union_all(clients).subquery()
    rows = db.session.execute(
        select(both.c.id, both.c.name, both.c.kind)
        .order_by(both.c.kind.desc(), both.c.name)
        .limit(2 * LIST_LIMIT)
    ).all()
    return [(f"{kind}:{i}", name, kind) for i, name, kind in rows]


def staff_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(StaffFile.id, User.name)
        .join(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .join(User, User.id == Membership.user_id)
        .order_by(User.name)
        .limit(2000)
    ).all()
    return [(str(i), n) for i, n in rows]


# -- who pays ------------------------------------------------------------------------------------


def plan_payers() -> list[Any]:
    """The active service plans with their client, case and payment rule."""
    return list(
        db.session.execute(
            select(
                ServicePlan.id.label("plan_id"),
                ServicePlan.version,
                Case.number.label("case_number"),
                Client.full_name.label("client_name"),
                PaymentRule.funder_id,
                PaymentRule.funder_percent,
                Funder.name.label("funder_name"),
            )
            .join(Case, and_(Case.tenant_id == ServicePlan.tenant_id, Case.id == ServicePlan.case_id))
            .join(Client, and_(Client.tenant_id == Case.tenant_id, Client.id == Case.client_id))
            .outerjoin(
                PaymentRule,
                and_(PaymentRule.tenant_id == ServicePlan.tenant_id, PaymentRule.plan_id == ServicePlan.id),
            )
            .outerjoin(
                Funder, and_(Funder.tenant_id == PaymentRule.tenant_id, Funder.id == PaymentRule.funder_id)
            )
            .where(ServicePlan.status == PlanStatus.ACTIVE)
            .order_by(Client.full_name, Case.number)
            .limit(LIST_LIMIT)
        )
    )


# -- invoices ------------------------------------------------------------------------------------


def credited_amount() -> Any:
    """What the credit notes of the invoice in the outer query took from it,
    full and partial (a positive amount; zero for a credit note)."""
    note = aliased(CareInvoice)
    return (
        select(func.coalesce(-func.sum(note.total), 0))
        .where(note.tenant_id == CareInvoice.tenant_id, note.credits_invoice_id == CareInvoice.id)
        .scalar_subquery()
    )


def invoice_list(status: str | None = None) -> list[Any]:
    credit = aliased(CareInvoice)
    stmt = (
        select(
            CareInvoice,
            credit.id.label("credit_id"),
            credit.number.label("credit_number"),
            credited_amount().label("credited"),
        )
        .outerjoin(
            credit,
            and_(
                credit.tenant_id == CareInvoice.tenant_id,
                credit.credits_invoice_id == CareInvoice.id,
                credit.partial.is_(False),
            ),
        )
        .order_by(CareInvoice.created_at.desc())
        .limit(LIST_LIMIT)
    )
    if status in (InvoiceStatus.DRAFT, InvoiceStatus.ISSUED):
        stmt = stmt.where(CareInvoice.status == status)
    return list(db.session.execute(stmt))


@dataclass
class InvoicePage:
    invoice: CareInvoice
    lines: list[Any] = field(default_factory=list)
    related: Any = None  # the full credit note of an invoice, or the invoice a credit note reverses
    credit_notes: list[Any] = field(default_factory=list)  # an invoice's, full and partial, in order

    @property
    def credited(self) -> Decimal:
        return -sum((n.total for n in self.credit_notes), Decimal(0))

    @property
    def remaining(self) -> Decimal:
        return self.invoice.total - self.credited

    @property
    def creditable(self) -> list[Any]:
        """The lines a partial credit note may still take from."""
        return [r for r in self.lines if r[0].amount > 0 and r.remaining > 0]


def line_credits() -> tuple[Any, Any]:
    """(credited, remaining) of the invoice line in the outer query: what
    the credit notes took from it, and what is left (nothing once the invoice
    was credited in full, whatever its credit note's lines say)."""
    credit_line = aliased(CareInvoiceLine)
    full = aliased(CareInvoice)
    credited = (
        select(func.coalesce(-func.sum(credit_line.amount), 0))
        .where(
            credit_line.tenant_id == CareInvoiceLine.tenant_id,
            credit_line.credits_line_id == CareInvoiceLine.id,
        )
        .scalar_subquery()
    )
    fully = (
        select(full.id)
        .where(
            full.tenant_id == CareInvoiceLine.tenant_id,
            full.credits_invoice_id == CareInvoiceLine.invoice_id,
            full.partial.is_(False),
        )
        .exists()
    )
    remaining = case((fully, literal(Decimal(0))), else_=CareInvoiceLine.amount - credited)
    return credited, remaining


def invoice_page(invoice: CareInvoice) -> InvoicePage:
    credited, remaining = line_credits()
    lines = list(
        db.session.execute(
            select(
                CareInvoiceLine,
                User.name.label("by_name"),
                credited.label("credited"),
                remaining.label("remaining"),
            )
            .outerjoin(User, User.id == CareInvoiceLine.by_user_id)
            .where(CareInvoiceLine.invoice_id == invoice.id)
            .order_by(
                CareInvoiceLine.kind == "adjustment",
                CareInvoiceLine.day,
                CareInvoiceLine.client_name,
                CareInvoiceLine.created_at,
            )
        )
    )
    columns = (
        CareInvoice.id,
        CareInvoice.kind,
        CareInvoice.number,
        CareInvoice.partial,
        CareInvoice.total,
        CareInvoice.issued_at,
        CareInvoice.note,
    )
    if invoice.credits_invoice_id is not None:
        related = db.session.execute(
            select(*columns).where(CareInvoice.id == invoice.credits_invoice_id)
        ).first()
        return InvoicePage(invoice, lines, related)
    notes = list(
        db.session.execute(
            select(*columns)
            .where(CareInvoice.credits_invoice_id == invoice.id)
            .order_by(CareInvoice.number, CareInvoice.created_at)
        )
    )
    related = next((n for n in notes if not n.partial), None)
    return InvoicePage(invoice, lines, related, notes)


def invoice_lines(invoice_id: uuid.UUID) -> list[CareInvoiceLine]:
    return list(
        db.session.scalars(
            select(CareInvoiceLine)
            .where(CareInvoiceLine.invoice_id == invoice_id)
            .order_by(
                CareInvoiceLine.kind == "adjustment",
                CareInvoiceLine.day,
                CareInvoiceLine.client_name,
                CareInvoiceLine.created_at,
            )
        )
    )


# -- timesheets ------------------------------------------------------------------------------------


def _carer_name() -> Any:
    return (
        select(User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id)
        .scalar_subquery()
    )


def timesheet_list(status: str | None = None, period_start: date | None = None) -> list[Any]:
    stmt = (
        select(Timesheet, _carer_name().label("carer"), StaffFile.staff_number)
        .join(
            StaffFile,
            and_(StaffFile.tenant_id == Timesheet.tenant_id, StaffFile.id == Timesheet.staff_file_id),
        )
        .order_by(Timesheet.period_start.desc(), _carer_name())
        .limit(LIST_LIMIT)
    )
    if status in (TimesheetStatus.DRAFT, TimesheetStatus.APPROVED):
        stmt = stmt.where(Timesheet.status == status)
    if period_start is not None:
        stmt = stmt.where(Timesheet.period_start == period_start)
    return list(db.session.execute(stmt))


@dataclass
class TimesheetPage:
    sheet: Timesheet
    carer: str
    staff_number: str | None
    approver: str | None
    entries: list[Any]
    differences: list[Any]


def timesheet_page(sheet: Timesheet, threshold: int) -> TimesheetPage:
    head = db.session.execute(
        select(_carer_name(), StaffFile.staff_number, User.name)
        .select_from(StaffFile)
        .outerjoin(User, User.id == sheet.approved_by_user_id)
        .where(StaffFile.id == sheet.staff_file_id)
    ).one()
    entries = list(
        db.session.execute(
            select(TimesheetEntry, Client.full_name.label("client"), Visit.starts_at.label("booked_start"))
            .outerjoin(
                Visit, and_(Visit.tenant_id == TimesheetEntry.tenant_id, Visit.id == TimesheetEntry.visit_id)
            )
            .outerjoin(Client, and_(Client.tenant_id == Visit.tenant_id, Client.id == Visit.client_id))
            .where(TimesheetEntry.timesheet_id == sheet.id)
            .order_by(TimesheetEntry.day, TimesheetEntry.starts_at.nulls_first(), TimesheetEntry.kind.desc())
        )
    )
    differences = [
        e
        for e in entries
        if e[0].kind == EntryKind.VISIT and abs(e[0].minutes - e[0].booked_minutes) >= max(threshold, 1)
    ]
    return TimesheetPage(sheet, head[0] or "", head[1], head[2], entries, differences)


def export_rows(sheet_ids: list[uuid.UUID]) -> list[Any]:
    """Per timesheet, day and kind: the minutes (the payroll layout's rows)."""
    if not sheet_ids:
        return []
    return list(
        db.session.execute(
            select(
                StaffFile.staff_number,
                _carer_name().label("carer"),
                Timesheet.period_start,
                Timesheet.period_end,
                TimesheetEntry.day,
                TimesheetEntry.kind,
                func.sum(TimesheetEntry.minutes).label("minutes"),
            )
            .join(
                Timesheet,
                and_(
                    Timesheet.tenant_id == TimesheetEntry.tenant_id,
                    Timesheet.id == TimesheetEntry.timesheet_id,
                ),
            )
            .join(
                StaffFile,
                and_(StaffFile.tenant_id == Timesheet.tenant_id, StaffFile.id == Timesheet.staff_file_id),
            )
            .where(Timesheet.id.in_(sheet_ids), Timesheet.status == TimesheetStatus.APPROVED)
            .group_by(
                StaffFile.tenant_id,
                StaffFile.id,
                StaffFile.staff_number,
                Timesheet.period_start,
                Timesheet.period_end,
                TimesheetEntry.day,
                TimesheetEntry.kind,
            )
            .order_by(_carer_name(), StaffFile.id, TimesheetEntry.day, TimesheetEntry.kind.desc())
        )
    )


def approved_ids(period_start: date, period_end: date) -> list[uuid.UUID]:
    return list(
        db.session.scalars(
            select(Timesheet.id).where(
                Timesheet.status == TimesheetStatus.APPROVED,
                Timesheet.period_start == period_start,
                Timesheet.period_end == period_end,
            )
        )
    )


def timesheet_entries(sheet_id: uuid.UUID) -> list[TimesheetEntry]:
    return list(
        db.session.scalars(
            select(TimesheetEntry)
            .where(TimesheetEntry.timesheet_id == sheet_id)
            .order_by(TimesheetEntry.day, TimesheetEntry.starts_at.nulls_first(), TimesheetEntry.kind.desc())
        )
    )


# -- the API's lists ---------------------------------------------------------------------------


def api_invoices(
    *,
    status: str | None,
    kind: str | None,
    start: date | None,
    end: date | None,
    funder_id: uuid.UUID | None,
    client_id: uuid.UUID | None,
) -> Select[Any]:
    """Invoices and credit notes with what was credited of each (keys first,
    for the cursor: creation, then id), filtered; a period filter keeps
    those whose period overlaps it."""
    stmt = select(CareInvoice.created_at, CareInvoice.id, CareInvoice, credited_amount().label("credited"))
    if status is not None:
        stmt = stmt.where(CareInvoice.status == status)
    if kind is not None:
        stmt = stmt.where(CareInvoice.kind == kind)
    if start is not None:
        stmt = stmt.where(CareInvoice.period_end >= start)
    if end is not None:
        stmt = stmt.where(CareInvoice.period_start <= end)
    if funder_id is not None:
        stmt = stmt.where(CareInvoice.funder_id == funder_id)
    if client_id is not None:
        stmt = stmt.where(CareInvoice.client_id == client_id)
    return stmt


def api_timesheets(
    *, status: str | None, staff_id: uuid.UUID | None, start: date | None, end: date | None
) -> Select[Any]:
    """Timesheets by pay period (then id, for the cursor), filtered; a period
    filter keeps those whose period overlaps it."""
    stmt = select(Timesheet.period_start, Timesheet.id, Timesheet)
    if status is not None:
        stmt = stmt.where(Timesheet.status == status)
    if staff_id is not None:
        stmt = stmt.where(Timesheet.staff_file_id == staff_id)
    if start is not None:
        stmt = stmt.where(Timesheet.period_end >= start)
    if end is not None:
        stmt = stmt.where(Timesheet.period_start <= end)
    return stmt


def invoice_credits(invoice: CareInvoice) -> tuple[list[Any], list[Any]]:
    """An invoice's lines with what was credited of each and what remains
    (rows of line, credited, remaining), and its credit notes (id, number,
    partial, total): two statements."""
    page = invoice_page(invoice)
    return [(r[0], r.credited, r.remaining) for r in page.lines], page.credit_notes
