"""Housekeeping jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_

from saas import db
from saas.models import PasswordReset, UserSession


def purge_expired_sessions() -> int:
    """Drop sessions and reset links that can no longer be used."""
    from saas.app import job_app

    with job_app().app_context():
        try:
            cutoff = db.utcnow() - timedelta(days=2)
            n = db.session.execute(
                delete(UserSession).where(
                    or_(UserSession.revoked_at < cutoff, UserSession.last_seen_at < cutoff)
                )
            ).rowcount
            db.session.execute(delete(PasswordReset).where(PasswordReset.expires_at < cutoff))
            db.session.commit()
            return n or 0
        finally:
            db.session.remove()
