"""Server-side sessions behind Flask-Login: the cookie carries only the id of a
`UserSession` row, so sessions time out, rotate at sign-in and can be revoked."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import login_user, logout_user
from sqlalchemy import select, update

from saas import db
from saas.extensions import login_manager
from saas.models import User, UserSession

TOUCH_EVERY = timedelta(seconds=60)


def start_session(user: User, *, two_factor_passed: bool) -> UserSession:
    """Sign in: a fresh session id every time (no fixation)."""
    keep_locale = session.get("locale")
    session.clear()
    if keep_locale:
        session["locale"] = keep_locale
    us = UserSession(
        user_id=user.id,
        two_factor_passed=two_factor_passed,
        user_agent=(request.user_agent.string or "")[:200],
    )
    db.session.add(us)
    db.session.flush()
    user.current_session = us  # type: ignore[attr-defined]
    login_user(user)
    session.permanent = True
    return us


def end_session() -> None:
    sid = session.get("_user_id")
    if sid:
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == _as_uuid(sid), UserSession.revoked_at.is_(None))
            .values(revoked_at=db.utcnow())
        )
    logout_user()
    session.clear()


def revoke_other_sessions(user: User, keep: uuid.UUID | None) -> int:
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=db.utcnow())
    )
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep)
    return db.session.execute(stmt).rowcount or 0


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None


@login_manager.user_loader
def load_user(sid: str) -> User | None:
    session_id = _as_uuid(sid)
    if session_id is None:
        return None
    row = db.session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None), User.is_active.is_(True))
    ).first()
    if row is None:
        return None
    us, user = row
    now = db.utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    if now - us.last_seen_at > idle or now - us.created_at > absolute:
        us.revoked_at = now
        db.session.commit()
        return None
    g.session_last_seen = us.last_seen_at
    g.session_created = us.created_at
    if now - us.last_seen_at > TOUCH_EVERY:
        us.last_seen_at = now
    user.current_session = us  # type: ignore[attr-defined]
    return user


def session_expired_for_agency(idle_minutes: int | None, absolute_hours: int | None) -> bool:
    """Agencies may shorten the platform's timeouts for their own pages."""
    now = db.utcnow()
    last_seen = g.get("session_last_seen")
    created = g.get("session_created")
    if idle_minutes and last_seen and now - last_seen > timedelta(minutes=idle_minutes):
        return True
    return bool(absolute_hours and created and now - created > timedelta(hours=absolute_hours))
