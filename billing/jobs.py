"""Billing jobs: the periodic sweep (declared in saas/schedule.py) and the
jobs it and the pages enqueue through the outbox."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update

from billing import exports, lifecycle, purge, services, stripe_client
from billing.models import DataExport
from saas import db
from saas.jobs import enqueue, job, periodic
from saas.models import Agency

log = logging.getLogger(__name__)


@job("billing.sync_quantity")
def sync_quantity_job(marker: str) -> None:
    """Runs in the agency's scope (the outbox row names it)."""
    agency_id = db.current_tenant_id()
    agency = db.session.get(Agency, agency_id) if agency_id else None
    if agency is None:
        return
    outcome = services.sync_quantity(agency, marker)
    log.info("billing quantity sync: %s", outcome)


def dispatch_quantity_syncs(now: Any = None) -> int:
    """Agencies whose staff changed and have been quiet for a minute: one sync
    job each. The request is claimed here, so the next sweep does not repeat it."""
    now = now or db.utcnow()
    due = list(
        db.session.scalars(
            select(Agency)
            .where(Agency.billing_sync_requested_at <= now - services.SYNC_DEBOUNCE)
            .order_by(Agency.id)
            .with_for_update(skip_locked=True)
        )
    )
    stripe_mode = stripe_client.enabled()
    for agency in due:
        marker = agency.billing_sync_requested_at.strftime("%Y%m%dT%H%M%S%f")
        agency.billing_sync_requested_at = None
        if stripe_mode and agency.stripe_customer_id:
            enqueue("billing.sync_quantity", agency_id=agency.id, marker=marker)
    return len(due)


def expire_exports(now: Any = None) -> int:
    now = now or db.utcnow()
    with db.platform_reader() as reader:
        agency_ids = list(
            reader.scalars(
                select(DataExport.tenant_id)
                .where(DataExport.status == "ready", DataExport.expires_at <= now)
                .distinct()
            )
        )
    expired = 0
    for agency_id in agency_ids:
        with db.tenant_scope(agency_id):
            expired += exports.expire_old(now)
    return expired


def run_sweep() -> dict[str, Any]:
    """One pass: every step idempotent, each committed on its own."""
    done: dict[str, Any] = {}
    with db.unit_of_work():
        done.update(lifecycle.due_transitions())
    with db.unit_of_work():
        done["quantity_syncs"] = dispatch_quantity_syncs()
    with db.unit_of_work():
        done["exports_expired"] = expire_exports()
    purged = 0
    for agency_id in purge.due_agencies():
        try:
            with db.unit_of_work():
                purge.purge_agency(agency_id)
            purged += 1
        except Exception:  # noqa: BLE001 - one agency's failure must not stop the others
            log.exception("purge failed for an agency")
    done["purged"] = purged
    # as the owner, after the purges above committed: the app role cannot
    done["audit_logs_purged"] = purge.purge_audit_logs()
    return done


@periodic
def sweep() -> dict[str, Any]:
    """Scheduled by rq cron every minute."""
    return run_sweep()


@periodic
def reconcile_quantities() -> int:
    """Daily: ask every Stripe-billed agency to check its quantity, so a sync
    lost on the way heals itself."""
    n = (
        db.session.execute(
            update(Agency)
            .where(
                Agency.stripe_customer_id.is_not(None),
                Agency.billing_sync_requested_at.is_(None),
                Agency.billing_state.in_(["active", "past_due", "restricted", "trial"]),
            )
            .values(billing_sync_requested_at=db.utcnow())
        ).rowcount
        or 0
    )
    return n
