"""What the members pages read: the list, pending invitations, the audit
log's actors and a member's own API tokens."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, or_, select

from saas import db
from saas.models import ApiToken, AuditEvent, Invitation, Membership, Role, User
from saas.pagination import contains_pattern

PENDING_SHOWN = 100


def member_list(q: str, role: str) -> Select:
    """Members with their user, searched by email or name and one role,
    active first (for `paginate`, rows not scalars)."""
    stmt = select(Membership, User).join(User, User.id == Membership.user_id)
    if q:
        like = contains_pattern(q.lower())
        stmt = stmt.where(or_(User.email.like(like, escape="\\"), User.name.ilike(like, escape="\\")))
    if role in {r.value for r in Role}:
        stmt = stmt.where(Membership.role == role)
    return stmt.order_by(Membership.active.desc(), User.email)


def pending_invitations() -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > db.utcnow(),
            )
            .order_by(Invitation.created_at.desc())
            .limit(PENDING_SHOWN)
        )
    )


def audit_log() -> Select:
    """The agency's log, newest first (for `paginate`)."""
    return select(AuditEvent).order_by(AuditEvent.at.desc())


def emails_of(user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = db.session.execute(select(User.id, User.email).where(User.id.in_(user_ids))).all()
    return {user_id: email for user_id, email in rows}


def tokens_of(membership: Membership) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.membership_id == membership.id)
            .order_by(ApiToken.created_at.desc())
        )
    )
