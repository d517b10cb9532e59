"""Rules for changing who belongs to an agency."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from saas import audit, db
from saas.api import scopes as api_scopes
from saas.auth import tokens
from saas.errors import DomainError, register_messages
from saas.models import ApiToken, Invitation, Membership, Role, User
from saas.signals import MembershipEnded, membership_ended


class MemberError(DomainError):
    """A rule refused a change of who belongs to the agency."""


register_messages(
    {
        "last_admin": _l("The agency must keep at least one active admin."),
        "self": _l("You cannot deactivate yourself."),
        "token_kind_needed": _l("Choose at least one of read and write."),
        "token_area_needed": _l("Choose at least one area the token reaches."),
    },
    error=MemberError,
)


def _active_admins() -> int:
    return (
        db.session.scalar(
            select(func.count()).where(Membership.role == Role.ADMIN, Membership.active.is_(True))
        )
        or 0
    )


def change_role(membership: Membership, role: str, *, by: User) -> None:
    role = Role(role)
    if membership.role == role:
        return
    if membership.role == Role.ADMIN and membership.active and _active_admins() <= 1:
        raise MemberError("last_admin")
    old = membership.role
    membership.role = role
    audit.record("member.role_changed", str(membership.id), old=old, new=str(role))


def deactivate(membership: Membership, *, by: User) -> None:
    if membership.user_id == by.id:
        raise MemberError("self")
    if membership.role == Role.ADMIN and membership.active and _active_admins() <= 1:
        raise MemberError("last_admin")
    membership.active = False
    membership.deactivated_at = db.utcnow()
    # their API tokens for this agency stop working at once
    for token in db.session.scalars(
        select(ApiToken).where(ApiToken.membership_id == membership.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = db.utcnow()
    audit.record("member.deactivated", str(membership.id))
    membership_ended.send(MembershipEnded(membership, by))


def reactivate(membership: Membership) -> None:
    membership.active = True
    membership.deactivated_at = None
    audit.record("member.reactivated", str(membership.id))


def create_token(membership: Membership, name: str, scopes: list[str] | None = None) -> str:
    """Returns the token once; only its hash is kept. The agency id is part of
    it so the API can put the agency in scope before looking it up. `scopes`:
    what it may do (saas.api.scopes); every scope when not given. A token
    that can neither read nor write, or reaches no area, is refused."""
    known = api_scopes.every_scope()
    chosen = known if scopes is None else [s for s in known if s in scopes]
    if not {api_scopes.READ, api_scopes.WRITE} & set(chosen):
        raise MemberError("token_kind_needed", "kinds")
    if not set(chosen) - {api_scopes.READ, api_scopes.WRITE}:
        raise MemberError("token_area_needed", "areas")
    secret = tokens.new_secret()
    token = ApiToken(
        membership_id=membership.id,
        user_id=membership.user_id,
        name=name,
        token_hash=tokens.digest(secret),
        scopes=chosen,
    )
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", str(token.id), name=name, scopes=chosen)
    return tokens.compose(membership.tenant_id, secret)


def revoke_invitation(invitation: Invitation) -> bool:
    """Withdraw an invitation not yet accepted; False when there was nothing to withdraw."""
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        return False
    invitation.revoked_at = db.utcnow()
    return True


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = db.utcnow()
        audit.record("api_token.revoked", str(token.id), name=token.name)
