"""The carer's private calendar feed: issued, revoked."""

from __future__ import annotations

import uuid

from flask import url_for

from saas import db
from saas.auth import tokens
from tenants.scheduling.models import CalendarFeed


def revoke_feeds(staff_id: uuid.UUID) -> None:
    db.session.execute(
        CalendarFeed.__table__.update()
        .where(
            CalendarFeed.tenant_id == db.current_tenant_id(),
            CalendarFeed.staff_file_id == staff_id,
            CalendarFeed.revoked_at.is_(None),
        )
        .values(revoked_at=db.utcnow())
    )


def issue_feed(staff_id: uuid.UUID) -> str:
    """A new private feed URL (the previous one stops working)."""
    revoke_feeds(staff_id)
    secret = tokens.new_secret()
    db.session.add(CalendarFeed(staff_file_id=staff_id, token_hash=tokens.digest(secret)))
    return url_for("calendar_feed.ics", token=tokens.compose(db.current_tenant_id(), secret), _external=True)
