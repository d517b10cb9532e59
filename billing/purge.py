"""Purging a closed agency's data once the export window (an operator's
setting, default 30 days) has passed and every client file's retention has
ended (tenants.records: the latest end of retention of its files, cases still
open at the closing counted from it, and the review date of any kept file).

Every agency-owned table is emptied of that agency's rows, children before
parents (the metadata's dependency order, so tables added later are included).
Accounts (platform users) that belonged to no other agency are anonymised
(name, email, password and two-factor removed); the agency's mail and outbox
rows are deleted; the agency row stays, marked purged, so its address is not
reused and the platform audit log keeps its history. What was removed, table
by table, is written to the platform audit log.

The agency's audit log is append-only and the app's database role cannot
remove a line of it by any path. Once the rest is purged, `purge_audit_logs()`
connects as the owner (`DATABASE_URL`, on a connection used for nothing else)
and calls `purge_agency_audit(agency)`, which only the owner may execute and
which checks in PostgreSQL, against the database's own clock, that the agency
closed 30 days ago or more; the app cannot date a closing in the past (a
trigger on `agencies`). Without `DATABASE_URL` the logs are kept.
"""

from __future__ import annotations

import functools
import logging
import uuid
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import (
    Engine,
    String,
    cast,
    create_engine,
    delete,
    func,
    insert,
    literal,
    pool,
    select,
    text,
    update,
)

from billing.exports import tenant_tables
from billing.lifecycle import export_window
from billing.models import BillingState
from saas import audit, db
from saas.config import owner_url
from saas.models import Agency, MailMessage, Membership, OutboxEntry, PlatformAuditEvent, User, UserSession
from tenants.records import services as retention

log = logging.getLogger(__name__)

# purged agencies closed 30 days ago or more whose audit log was not yet
# removed, read by the owner (the function checks the closing again)
AUDIT_DUE = text(
    """
    select a.id, a.slug from agencies a
    where a.billing_state = 'closed' and a.closed_at <= now() - interval '30 days'
      and a.purged_at is not null
      and not exists (
        select 1 from platform_audit_events p where p.agency_id = a.id and p.action = 'agency.audit_purged'
      )
    order by a.closed_at
    """
)


class NotDue(RuntimeError):
    pass


def retention_held_until(agency: Agency) -> date | None:
    """The last day a file of this closed agency must still be kept, or None."""
    closed_on = (agency.closed_at or db.utcnow()).astimezone(agency.zone).date()
    with db.tenant_scope(agency.id):
        return retention.held_until(agency, closed_on)


def is_due(agency: Agency, now: datetime) -> bool:
    if (
        agency.billing_state != BillingState.CLOSED
        or agency.closed_at is None
        or agency.closed_at > now - export_window()
        or agency.purged_at is not None
    ):
        return False
    held = retention_held_until(agency)
    return held is None or held < now.astimezone(agency.zone).date()


def due_agencies(now: Any = None) -> list[uuid.UUID]:
    """Closed agencies past the export window whose files' retention is over
    (one read of the candidates, then one of each candidate's retention)."""
    now = now or db.utcnow()
    candidates = list(
        db.session.scalars(
            select(Agency).where(
                Agency.billing_state == BillingState.CLOSED,
                Agency.closed_at <= now - export_window(),
                Agency.purged_at.is_(None),
            )
        )
    )
    return [a.id for a in candidates if is_due(a, now)]


def purge_agency(agency_id: uuid.UUID) -> dict[str, int]:
    """Remove everything the agency owns; the caller commits."""
    agency = db.session.scalar(select(Agency).where(Agency.id == agency_id).with_for_update())
    if agency is None or not is_due(agency, db.utcnow()):
        raise NotDue(str(agency_id))
    removed: dict[str, int] = {}
    with db.tenant_scope(agency.id):
        member_ids = set(db.session.scalars(select(Membership.user_id)))
        for table in reversed(tenant_tables()):
            if table.name == "audit_events":
                continue  # only the owner removes it: purge_audit_logs()
            # Core statement on purpose: RLS scopes it, and so does the filter
            result = db.session.execute(delete(table).where(table.c.tenant_id == agency.id))
            removed[table.name] = result.rowcount or 0
    removed["mail_messages"] = (
        db.session.execute(delete(MailMessage).where(MailMessage.agency_id == agency.id)).rowcount or 0
    )
    removed["outbox"] = (
        db.session.execute(delete(OutboxEntry).where(OutboxEntry.agency_id == agency.id)).rowcount or 0
    )
    removed["users_anonymised"] = _anonymise_lone_users(agency.id, member_ids)
    agency.purged_at = db.utcnow()
    audit.record_platform(
        "agency.purged", agency.slug, agency_id=agency.id, removed={k: v for k, v in removed.items() if v}
    )
    return removed


def _anonymise_lone_users(agency_id: uuid.UUID, user_ids: set[uuid.UUID]) -> int:
    """People whose only agency this was: nothing personal is kept."""
    if not user_ids:
        return 0
    with db.platform_reader() as reader:
        elsewhere = set(
            reader.scalars(
                select(Membership.user_id).where(
                    Membership.user_id.in_(user_ids), Membership.tenant_id != agency_id
                )
            )
        )
    lone = [u for u in user_ids if u not in elsewhere]
    if not lone:
        return 0
    db.session.execute(delete(UserSession).where(UserSession.user_id.in_(lone)))
    db.session.execute(
        update(User)
        .where(User.id.in_(lone), User.is_operator.is_(False))
        .values(
            # `||`, not concat(): concat is STABLE, which Citus refuses on a column in an UPDATE
            email=literal("purged-", String)
            + func.replace(cast(User.id, String), "-", "")
            + "@purged.invalid",
            name="",
            password_hash=None,
            totp_secret_sealed=None,
            totp_last_counter=None,
            locale=None,
            is_active=False,
        )
    )
    return len(lone)


@functools.lru_cache(maxsize=2)
def _owner_engine(url: str) -> Engine:
    """The retention purge's own connection, as the owner: nothing else uses it."""
    return create_engine(owner_url(url), poolclass=pool.NullPool)


def purge_audit_logs() -> int:
    """As the owner, remove the audit log of every purged agency closed 30 days
    ago or more, each in its own transaction with a record of how many entries
    went. Idempotent; returns the number of agencies done."""
    url = current_app.config.get("DATABASE_URL")
    if not url:
        log.warning("audit logs of purged agencies are kept: DATABASE_URL (the owner) is not set")
        return 0
    done = 0
    with _owner_engine(url).connect() as conn:
        due = conn.execute(AUDIT_DUE).all()
        conn.rollback()
        for agency_id, slug in due:
            try:
                with conn.begin():
                    # set_config inside the function stays on this node; on a Citus
                    # cluster the shards' trigger and row-level security see only
                    # what SET LOCAL carries to the workers
                    conn.execute(text(f"SET LOCAL app.tenant_id = '{uuid.UUID(str(agency_id))}'"))
                    conn.execute(text(f"SET LOCAL app.audit_purge = '{uuid.UUID(str(agency_id))}'"))
                    n = conn.execute(text("select purge_agency_audit(:a)"), {"a": agency_id}).scalar()
                    conn.execute(
                        insert(PlatformAuditEvent).values(
                            action="agency.audit_purged",
                            subject=slug,
                            agency_id=agency_id,
                            details={"removed": {"audit_events": n or 0}},
                        )
                    )
                done += 1
            except Exception:  # noqa: BLE001 - one agency's failure must not stop the others
                log.exception("audit log purge failed for an agency")
    return done
