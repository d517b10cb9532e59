"""Server-side sessions behind Flask-Login: the cookie carries only the id of a
`UserSession` row, so sessions time out, rotate at sign-in and can be revoked.

The idle clock moves on every request without writing to the database: the
signed session cookie carries the moment of the last request (`seen`), and
the row's `last_seen_at` catches up only inside a transaction that commits
anyway. A read-only request so sends no UPDATE and holds no row lock, and one
person's parallel requests never wait for each other.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app, g, request, session
from flask_login import login_user, logout_user
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from saas import db
from saas.extensions import login_manager
from saas.lifecycle import wrote
from saas.memberships import keep_membership, with_membership
from saas.models import ApiToken, User, UserSession

# how stale the row's last_seen_at may be before a committing request updates it
TOUCH_EVERY = timedelta(seconds=60)
SEEN_KEY = "seen"
_TOUCH = "touch_user_session"


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
    session[SEEN_KEY] = us.last_seen_at.timestamp()
    return us


DEVICE_TOKENS = "device_tokens"


def remember_device_token(agency_id: uuid.UUID, token_id: uuid.UUID) -> None:
    """An API token this session gave the device (the carer's phone app, for
    its offline queue): revoked when the session is signed out."""
    session[DEVICE_TOKENS] = [*session.get(DEVICE_TOKENS, []), [str(agency_id), str(token_id)]]


def _revoke_device_tokens() -> None:
    for agency_id, token_id in session.get(DEVICE_TOKENS, []):
        with db.tenant_scope(uuid.UUID(agency_id)):
            db.session.execute(
                update(ApiToken)
                .where(ApiToken.id == uuid.UUID(token_id), ApiToken.revoked_at.is_(None))
                .values(revoked_at=db.utcnow())
            )


def end_session() -> None:
    _revoke_device_tokens()
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


def pass_two_factor(session_id: uuid.UUID) -> None:
    """This signed-in session has now passed two-factor (just enrolled)."""
    db.session.execute(update(UserSession).where(UserSession.id == session_id).values(two_factor_passed=True))


def live_sessions(user: User, limit: int = 50) -> list[UserSession]:
    """The person's sessions not signed out, most recently used first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .order_by(UserSession.last_seen_at.desc())
            .limit(limit)
        )
    )


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
    stmt = (
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None), User.is_active.is_(True))
    )
    # inside an agency, the membership comes with the user: one round trip
    agency = g.get("agency")
    if agency is not None:
        stmt = with_membership(stmt, User.id, agency.id)
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    us, user, *membership = row
    now = db.utcnow()
    last_seen = max(us.last_seen_at, _cookie_seen() or us.last_seen_at)
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    if now - last_seen > idle or now - us.created_at > absolute:
        # kept with the request's commit (its answer sends them to sign in)
        us.revoked_at = now
        return None
    g.session_last_seen = last_seen
    g.session_created = us.created_at
    session[SEEN_KEY] = now.timestamp()
    if now - us.last_seen_at > TOUCH_EVERY:
        db.session.info[_TOUCH] = (us.id, now)
    user.current_session = us  # type: ignore[attr-defined]
    if agency is not None:
        keep_membership(agency, membership)
    return user


def _cookie_seen() -> datetime | None:
    value = session.get(SEEN_KEY)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


@event.listens_for(Session, "before_commit")
def _touch_on_commit(sess: Session) -> None:
    """The row's idle clock rides along with a commit that writes anyway (a
    page that changed nothing sends no UPDATE, and holds no row lock)."""
    touch = sess.info.pop(_TOUCH, None)
    if touch is None or not wrote(sess):
        return
    session_id, seen = touch
    sess.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.last_seen_at < seen)
        .values(last_seen_at=seen)
    )


def session_expired_for_agency(idle_minutes: int | None, absolute_hours: int | None) -> bool:
    """Agencies may shorten the platform's timeouts for their own pages."""
    now = db.utcnow()
    last_seen = g.get("session_last_seen")
    created = g.get("session_created")
    if idle_minutes and last_seen and now - last_seen > timedelta(minutes=idle_minutes):
        return True
    return bool(absolute_hours and created and now - created > timedelta(hours=absolute_hours))
