"""Scheduled sweeps: keep the rolling window of visits generated, and flag
late and missed visits. Each opens its own app context and sets each agency."""

from __future__ import annotations

import logging

from sqlalchemy import select

from saas import db
from saas.models import Agency, AgencyStatus
from tenants.clients.models import PlanStatus, ServicePlan
from tenants.scheduling import services
from tenants.scheduling.models import Visit, VisitStatus

log = logging.getLogger(__name__)


def _agencies(ids: set) -> list[Agency]:
    if not ids:
        return []
    return list(
        db.session.scalars(select(Agency).where(Agency.id.in_(ids), Agency.status == AgencyStatus.ACTIVE))
    )


def generate_all() -> int:
    """Daily: extend every agency's visits to the end of its window."""
    from saas.app import job_app

    with job_app().app_context():
        try:
            with db.platform_reader() as reader:
                ids = set(
                    reader.scalars(
                        select(ServicePlan.tenant_id)
                        .where(ServicePlan.status == PlanStatus.ACTIVE)
                        .distinct()
                    )
                )
            total = 0
            for agency in _agencies(ids):
                with db.tenant_scope(agency.id):
                    total += services.generate_visits(agency)
                    db.session.commit()
            return total
        finally:
            db.session.remove()


def flag_all() -> int:
    """Every few minutes: late and missed flags, per agency, set-based."""
    from saas.app import job_app

    with job_app().app_context():
        try:
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
            for agency in _agencies(ids):
                with db.tenant_scope(agency.id):
                    late, missed = services.flag_late_and_missed(agency, now)
                    db.session.commit()
                    flagged += late + missed
            return flagged
        finally:
            db.session.remove()
