"""Housekeeping jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_

from saas import db
from saas.jobs import periodic
from saas.models import PasswordReset, UserSession


@periodic
def purge_expired_sessions() -> int:
    """Drop sessions and reset links that can no longer be used."""
    cutoff = db.utcnow() - timedelta(days=2)
    n = db.session.execute(
        delete(UserSession).where(or_(UserSession.revoked_at < cutoff, UserSession.last_seen_at < cutoff))
    ).rowcount
    db.session.execute(delete(PasswordReset).where(PasswordReset.expires_at < cutoff))
    return n or 0
