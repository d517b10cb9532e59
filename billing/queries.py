"""What the billing pages read, the agency's own and the operators': plans,
the subscription, invoices, payments, exports and view-as sessions. Each reads
the agency in scope (the operators' pages put it in scope first)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from billing.models import DataExport, ImpersonationSession, Invoice, Payment, Plan, Subscription
from saas import db
from saas.models import User


def plans_for_operators() -> list[Plan]:
    """Every plan, the offered ones first, cheapest first."""
    return list(db.session.scalars(select(Plan).order_by(Plan.active.desc(), Plan.price, Plan.name)))


def plan(plan_id: uuid.UUID | None) -> Plan | None:
    """A plan (one of the platform's, not the agency's); None for no id."""
    return db.session.get(Plan, plan_id) if plan_id else None


def subscription() -> Subscription | None:
    return db.session.scalar(select(Subscription))


def invoices(limit: int) -> list[Invoice]:
    return list(db.session.scalars(select(Invoice).order_by(Invoice.issued_at.desc()).limit(limit)))


def invoice(invoice_id: uuid.UUID) -> Invoice | None:
    return db.session.scalar(select(Invoice).where(Invoice.id == invoice_id))


def payments(limit: int) -> list[Payment]:
    return list(db.session.scalars(select(Payment).order_by(Payment.paid_at.desc()).limit(limit)))


def exports(limit: int) -> list[DataExport]:
    return list(db.session.scalars(select(DataExport).order_by(DataExport.created_at.desc()).limit(limit)))


def export(export_id: uuid.UUID) -> DataExport | None:
    return db.session.scalar(select(DataExport).where(DataExport.id == export_id))


def impersonation_sessions(limit: int) -> list[Any]:
    """(session, the operator's email), newest first."""
    return list(
        db.session.execute(
            select(ImpersonationSession, User.email)
            .join(User, User.id == ImpersonationSession.operator_id)
            .order_by(ImpersonationSession.started_at.desc())
            .limit(limit)
        ).all()
    )
