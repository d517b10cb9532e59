"""Billing in the demo platform: two plans, one agency paying, one on trial."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from billing import lifecycle, services
from billing.models import Plan
from saas import db
from saas.models import Agency

PLANS = (
    {"name": "Standard", "pricing": "per_carer", "price": Decimal("9.00"), "max_carers": None,
     "max_clients": None, "features": ["Visits and check-in", "Quality reports", "API"]},
    {"name": "Community", "pricing": "flat", "price": Decimal("149.00"), "max_carers": 15,
     "max_clients": 200, "features": ["Visits and check-in", "Quality reports"]},
)  # fmt: skip
# slug -> (plan, paying?)
AGENCIES = {"sunrise": ("Standard", True), "kangning": ("Community", False)}


def seed(agencies: Sequence[Agency] = ()) -> None:
    """The platform's plans and the demo agencies' subscriptions. Idempotent;
    the caller commits."""
    plans = {}
    for spec in PLANS:
        plan = db.session.scalar(select(Plan).where(Plan.name == spec["name"]))
        if plan is None:
            plan = services.save_plan(None, currency="GBP", trial_days=lifecycle.trial_days(), **spec)
        plans[plan.name] = plan
    for slug, (plan_name, paying) in AGENCIES.items():
        agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
        if agency is None or agency.plan_id is not None:
            continue
        services.onboard(agency, plan=plans[plan_name], trial_days=lifecycle.trial_days(), by=None)
        if paying:
            lifecycle.mark_paid(agency, reason="demo", period_end=db.utcnow() + timedelta(days=30))
