"""Scheduled sweeps: keep the rolling window of visits generated, and flag
late and missed visits. Each opens its own app context and sets each agency."""

from __future__ import annotations

import logging

from sqlalchemy import select

from saas import db
from saas.agencies import active_agencies
from saas.jobs import periodic
from tenants.clients.models import PlanStatus, ServicePlan
from tenants.scheduling import services
from tenants.scheduling.models import Visit, VisitStatus

log = logging.getLogger(__name__)


@periodic
def generate_all() -> int:
    """Daily: extend every agency's visits to the end of its window."""
    with db.platform_reader() as reader:
        ids = set(
            reader.scalars(
                select(ServicePlan.tenant_id).where(ServicePlan.status == PlanStatus.ACTIVE).distinct()
            )
        )
    total = 0
    for agency in active_agencies(ids):
        with db.tenant_scope(agency.id):
            total += services.generate_visits(agency)
            db.session.commit()
    return total


@periodic
def flag_all() -> int:
    """Every few minutes: late and missed flags, per agency, set-based."""
    now = db.utcnow()
    with db.platform_reader() as reader:
        ids = set(
            reader.scalars(
                select(Visit.tenant_id)
                .where(
                    Visit.status == VisitStatus.SCHEDULED,
                    Visit.checked_in_at.is_(None),
                    Visit.late_flagged_at.is_(None) | (Visit.ends_at < now),
                    Visit.starts_at < now,
                )
                .distinct()
            )
        )
    flagged = 0
    for agency in active_agencies(ids):
        with db.tenant_scope(agency.id):
            late, missed = services.flag_late_and_missed(agency, now)
            db.session.commit()
            flagged += late + missed
    return flagged
