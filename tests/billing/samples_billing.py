"""Sample rows of billing's agency-owned tables for the schema test and the
isolation walk."""

from __future__ import annotations

import uuid

from saas import db
from tests.samples import AgencyWorld, sample


@sample("subscriptions")
def _subscription(factory, world: AgencyWorld) -> uuid.UUID:
    from billing.models import Subscription

    with db.tenant_scope(world.agency.id):
        row = Subscription(provider="manual", status="manual")
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("invoices")
def _invoice(factory, world: AgencyWorld) -> uuid.UUID:
    from decimal import Decimal

    from billing import services

    invoice = services.record_invoice(
        world.agency, amount=Decimal("120.00"), currency="GBP", description="Sample invoice",
        period_start=None, period_end=None, due_at=None, by=None,
    )  # fmt: skip
    db.session.commit()
    return invoice.id


@sample("payments")
def _payment(factory, world: AgencyWorld) -> uuid.UUID:
    from decimal import Decimal

    from sqlalchemy import select

    from billing import services
    from billing.models import Invoice

    with db.tenant_scope(world.agency.id):
        invoice = db.session.scalar(select(Invoice).where(Invoice.id == world.ids["invoices"]))
    payment = services.record_payment(
        world.agency, invoice, amount=Decimal("20.00"), method="bank_transfer", reference="sample",
        paid_at=None, by=None,
    )  # fmt: skip
    db.session.commit()
    return payment.id


@sample("data_exports")
def _data_export(factory, world: AgencyWorld) -> uuid.UUID:
    from billing import exports

    export = exports.request_export(world.agency, by=None, by_operator=False)
    db.session.commit()
    return export.id


@sample("impersonation_sessions")
def _impersonation(factory, world: AgencyWorld) -> uuid.UUID:
    from datetime import timedelta

    from billing.models import ImpersonationSession

    operator = factory.user(operator=True, totp=True)
    with db.tenant_scope(world.agency.id):
        row = ImpersonationSession(
            operator_id=operator.id,
            user_session_id=uuid.uuid4(),
            reason="Sample: helping the agency with its settings",
            expires_at=db.utcnow() + timedelta(minutes=30),
        )
        db.session.add(row)
        db.session.commit()
        return row.id
