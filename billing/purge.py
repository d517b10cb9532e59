"""Purging a closed agency's data, 30 days after it closed.

Every agency-owned table is emptied of that agency's rows, children before
parents (the metadata's dependency order, so tables added later are included).
The agency's audit log is append-only: the app role may not delete from it and
a trigger refuses it. It is removed by `purge_agency_audit(agency)`, a
SECURITY DEFINER function owned by the migrations' owner that deletes one
agency's entries and only for an agency closed for 30 days or more (checked in
PostgreSQL, against the database's own clock).

Accounts (platform users) that belonged to no other agency are anonymised
(name, email, password and two-factor removed); the agency's mail and outbox
rows are deleted; the agency row stays, marked purged, so its address is not
reused and the platform audit log keeps its history. What was removed, table
by table, is written to the platform audit log.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import String, cast, delete, func, select, text, update

from billing.exports import tenant_tables
from billing.lifecycle import EXPORT_WINDOW
from billing.models import BillingState
from saas import audit, db
from saas.models import Agency, MailMessage, Membership, OutboxEntry, User, UserSession


class NotDue(RuntimeError):
    pass


def due_agencies(now: Any = None) -> list[uuid.UUID]:
    now = now or db.utcnow()
    return list(
        db.session.scalars(
            select(Agency.id).where(
                Agency.billing_state == BillingState.CLOSED,
                Agency.closed_at <= now - EXPORT_WINDOW,
                Agency.purged_at.is_(None),
            )
        )
    )


def purge_agency(agency_id: uuid.UUID) -> dict[str, int]:
    """Remove everything the agency owns; the caller commits."""
    agency = db.session.scalar(select(Agency).where(Agency.id == agency_id).with_for_update())
    if (
        agency is None
        or agency.billing_state != BillingState.CLOSED
        or agency.closed_at is None
        or agency.closed_at > db.utcnow() - EXPORT_WINDOW
        or agency.purged_at is not None
    ):
        raise NotDue(str(agency_id))
    removed: dict[str, int] = {}
    with db.tenant_scope(agency.id):
        member_ids = set(db.session.scalars(select(Membership.user_id)))
        for table in reversed(tenant_tables()):
            if table.name == "audit_events":
                continue
            # Core statement on purpose: RLS scopes it, and so does the filter
            result = db.session.execute(delete(table).where(table.c.tenant_id == agency.id))
            removed[table.name] = result.rowcount or 0
        removed["audit_events"] = (
            db.session.execute(text("select purge_agency_audit(:a)"), {"a": agency.id}).scalar() or 0
        )
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
            email=func.concat("purged-", func.replace(cast(User.id, String), "-", ""), "@purged.invalid"),
            name="",
            password_hash=None,
            totp_secret=None,
            totp_last_counter=None,
            locale=None,
            is_active=False,
        )
    )
    return len(lone)
