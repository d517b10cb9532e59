"""Figures for the operator console: per agency and for the whole platform.

Each figure is one set-based query over all the agencies asked about (never a
query per agency); reads across agencies go through `db.platform_reader()`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from billing.models import BillingState, Plan
from billing.services import monthly_amount
from saas import db
from saas.models import Agency, AuditEvent, Membership, Role, UserSession

PAYING_STATES = (BillingState.ACTIVE, BillingState.PAST_DUE, BillingState.RESTRICTED)


@dataclass
class AgencyFigures:
    plan: Plan | None
    carers: int
    mrr: Decimal
    currency: str
    last_activity: datetime | None


def _carers(reader: Any, ids: list[uuid.UUID] | None) -> dict[uuid.UUID, int]:
    stmt = select(Membership.tenant_id, func.count()).where(
        Membership.role == Role.CARER, Membership.active.is_(True)
    )
    if ids is not None:
        stmt = stmt.where(Membership.tenant_id.in_(ids))
    return dict(reader.execute(stmt.group_by(Membership.tenant_id)).all())


def _plans(plan_ids: set[uuid.UUID | None]) -> dict[uuid.UUID, Plan]:
    wanted = [p for p in plan_ids if p is not None]
    if not wanted:
        return {}
    return {p.id: p for p in db.session.scalars(select(Plan).where(Plan.id.in_(wanted)))}


def agency_figures(agencies: list[Agency]) -> dict[uuid.UUID, AgencyFigures]:
    ids = [a.id for a in agencies]
    if not ids:
        return {}
    plans = _plans({a.plan_id for a in agencies})
    with db.platform_reader() as reader:
        carers = _carers(reader, ids)
        audited = dict(
            reader.execute(
                select(AuditEvent.tenant_id, func.max(AuditEvent.at))
                .where(AuditEvent.tenant_id.in_(ids))
                .group_by(AuditEvent.tenant_id)
            ).all()
        )
        seen = dict(
            reader.execute(
                select(Membership.tenant_id, func.max(UserSession.last_seen_at))
                .join(UserSession, UserSession.user_id == Membership.user_id)
                .where(Membership.tenant_id.in_(ids))
                .group_by(Membership.tenant_id)
            ).all()
        )
    figures = {}
    for agency in agencies:
        plan = plans.get(agency.plan_id) if agency.plan_id else None
        n = carers.get(agency.id, 0)
        paying = agency.billing_state in PAYING_STATES
        moments = [m for m in (audited.get(agency.id), seen.get(agency.id)) if m is not None]
        figures[agency.id] = AgencyFigures(
            plan=plan,
            carers=n,
            mrr=monthly_amount(plan, n) if paying else Decimal("0"),
            currency=plan.currency if plan else "GBP",
            last_activity=max(moments) if moments else None,
        )
    return figures


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def platform_totals(now: datetime | None = None) -> dict[str, Any]:
    now = now or db.utcnow()
    by_state = {state.value: 0 for state in BillingState}
    by_state.update(
        dict(
            db.session.execute(
                select(Agency.billing_state, func.count())
                .where(Agency.purged_at.is_(None))
                .group_by(Agency.billing_state)
            ).all()
        )
    )
    paying = db.session.execute(
        select(Agency.id, Agency.plan_id).where(Agency.billing_state.in_(PAYING_STATES))
    ).all()
    plans = _plans({plan_id for _, plan_id in paying})
    with db.platform_reader() as reader:
        carers = _carers(reader, None)
    mrr: dict[str, Decimal] = {}
    for agency_id, plan_id in paying:
        plan = plans.get(plan_id) if plan_id else None
        if plan is None:
            continue
        mrr[plan.currency] = mrr.get(plan.currency, Decimal("0")) + monthly_amount(
            plan, carers.get(agency_id, 0)
        )
    churned = (
        db.session.scalar(
            select(func.count()).select_from(Agency).where(Agency.cancelled_at >= month_start(now))
        )
        or 0
    )
    base = len(paying) + churned
    return {
        "by_state": by_state,
        "agencies": sum(by_state.values()),
        "mrr": dict(sorted(mrr.items())),
        "churned": churned,
        "churn_rate": (Decimal(churned) * 100 / base).quantize(Decimal("0.1")) if base else Decimal("0"),
    }
