"""Samples for the back office: a payment rule, an invoice with a line, the
agency's invoice counter, a timesheet with an entry."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from saas import db
from tests.samples import AgencyWorld, sample


def _add(world: AgencyWorld, row) -> uuid.UUID:
    with db.tenant_scope(world.agency.id):
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("plan_payment_rules")
def _rule(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.backoffice.models import PaymentRule

    return _add(
        world,
        PaymentRule(
            plan_id=world.ids["service_plans"], funder_id=world.ids["funders"], funder_percent=Decimal(80)
        ),
    )


@sample("care_invoices")
def _invoice(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.backoffice.models import CareInvoice

    return _add(
        world,
        CareInvoice(
            payer_kind="funder",
            funder_id=world.ids["funders"],
            payer_name="City Welfare Office",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 1, 31),
            total=Decimal("10.00"),
        ),
    )


@sample("care_invoice_lines")
def _line(factory, world: AgencyWorld) -> uuid.UUID:
    """An adjustment line; then the invoice is issued (INV-000001), so the
    walk and the purge meet an invoice that can no longer change."""
    from sqlalchemy import update

    from tenants.backoffice.models import CareInvoice, CareInvoiceLine

    line = _add(
        world,
        CareInvoiceLine(
            invoice_id=world.ids["care_invoices"],
            kind="adjustment",
            amount=Decimal("10.00"),
            reason="Mileage",
        ),
    )
    with db.tenant_scope(world.agency.id):
        db.session.execute(
            update(CareInvoice)
            .where(CareInvoice.id == world.ids["care_invoices"])
            .values(status="issued", number=1, issued_at=db.utcnow())
        )
        db.session.commit()
    return line


@sample("care_invoice_counters")
def _counter(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.backoffice.models import CareInvoiceCounter

    return _add(world, CareInvoiceCounter(kind="invoice", last_number=1))


@sample("timesheets")
def _timesheet(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.backoffice.models import Timesheet

    return _add(
        world,
        Timesheet(
            staff_file_id=world.ids["staff_files"],
            period_start=date(2026, 1, 5),
            period_end=date(2026, 1, 18),
        ),
    )


@sample("timesheet_entries")
def _entry(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.backoffice.models import TimesheetEntry

    return _add(
        world,
        TimesheetEntry(
            timesheet_id=world.ids["timesheets"], kind="time_off", day=date(2026, 1, 6), minutes=240
        ),
    )
