"""The build job and the monthly sweep: each active agency gets the summary of
its previous month once its own wall clock has passed the 1st, 00:00."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime

from sqlalchemy import select

from saas import db
from saas.jobs import job, periodic, relay_after_commit
from saas.models import Agency, AgencyStatus
from tenants.quality import services
from tenants.quality.models import QualitySummary

log = logging.getLogger(__name__)


@job("quality.build")
def build(summary_id: str, show_progress: bool = True) -> None:
    agency_id = db.current_tenant_id()
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        return
    try:
        services.build_summary(agency, uuid.UUID(summary_id), show_progress=show_progress)
    except Exception:
        db.session.rollback()
        services.mark_failed(agency.id, uuid.UUID(summary_id))
        raise


@job("quality.email")
def email(summary_id: str) -> None:
    """The admins' email of a summary the monthly sweep built (idempotent: each
    message has a dedupe key with the month and the rebuild number)."""
    agency = db.session.get(Agency, db.current_tenant_id())
    summary = db.session.scalar(select(QualitySummary).where(QualitySummary.id == uuid.UUID(summary_id)))
    if agency is None or summary is None:
        return
    services.send_summary(agency, summary)


def due_agencies(now: datetime | None = None) -> list[tuple[Agency, object]]:
    """Active agencies whose previous month (on their own clock) has no summary
    yet: one read of the agencies, one of that month's summaries across them."""
    now = now or db.utcnow()
    agencies = list(
        db.session.scalars(
            select(Agency).where(Agency.status == AgencyStatus.ACTIVE, Agency.billing_state != "closed")
        )
    )
    wanted = {}
    for agency in agencies:
        month = services.previous_month(agency, now)
        # an agency that did not exist before the end of that month has nothing to summarise
        if agency.created_at.astimezone(agency.zone).date() >= services.kpis.add_months(month, 1):
            continue
        wanted[agency.id] = (agency, month)
    if not wanted:
        return []
    months = {m for _, m in wanted.values()}
    with db.platform_reader() as reader:
        have = set(
            reader.execute(
                select(QualitySummary.tenant_id, QualitySummary.month).where(QualitySummary.month.in_(months))
            ).all()
        )
    return [(a, m) for a, m in wanted.values() if (a.id, m) not in have]


# agencies per transaction of the sweep: one commit each; a failure loses at
# most one batch, which falls back to one build job each
SWEEP_BATCH = 100
FALLBACK = "quality summaries: %s %d agencies failed; one build job each"


def queue_builds(due: list[tuple[Agency, date]]) -> int:
    """Queue each agency's build job, each in its own scope, committing in
    batches (the sweep's fallback when a batch could not be built at once)."""
    queued = 0
    for i, (agency, month) in enumerate(due, 1):
        with db.tenant_scope(agency.id):
            queued += services.ensure_build(agency, month)
        if i % SWEEP_BATCH == 0:
            db.session.commit()
    db.session.commit()
    return queued


def build_due(due: list[tuple[Agency, date]]) -> int:
    """Build the due agencies' summaries in transactions of `SWEEP_BATCH`:
    each agency's figures in one statement under its own scope, then the
    batch stored, each under its own scope (`services.build_batch`). A batch
    whose figures could not be read or whose transaction failed is rolled back
    whole and handed to the per-agency build jobs (with their retries and
    failed state) instead. Returns how many summaries were stored or queued."""
    done = 0
    for first in range(0, len(due), SWEEP_BATCH):
        batch = due[first : first + SWEEP_BATCH]
        try:
            done += services.build_batch(batch)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.warning(FALLBACK, "a batch of", len(batch), exc_info=True)
            done += queue_builds(batch)
        relay_after_commit(db.session())
    return done


@periodic
def monthly_sweep() -> int:
    return build_due(due_agencies())  # type: ignore[arg-type]
