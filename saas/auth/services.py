"""Account rules shared by the pages, the CLI and the demo seed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from saas import audit, db, mail
from saas.auth import tokens
from saas.auth.passwords import hash_password, verify_password
from saas.errors import DomainError, register_messages
from saas.jobs import enqueue, job
from saas.models import Agency, Invitation, Membership, PasswordReset, Role, User

RESET_VALID = timedelta(hours=1)
INVITATION_VALID = timedelta(days=7)


class AccountError(DomainError):
    """A rule refused the change to an account or a membership."""


register_messages(
    {
        "already_member": _l("This person is already a member of the agency."),
        "password_wrong": _l("This is not your current password."),
    },
    error=AccountError,
)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = db.utcnow()


def change_password(user: User, current: str, new: str) -> None:
    """The signed-in person's new password, once they gave the one they have."""
    if not verify_password(user.password_hash, current):
        raise AccountError("password_wrong", "current")
    set_password(user, new)


# -- password reset ------------------------------------------------------------


def request_password_reset(email: str, locale: str) -> None:
    """Only queues the work: the request does the same, in the same time,
    whether an account has that address or not (nothing to enumerate)."""
    enqueue("auth.send_password_reset", queue="high", email=email.strip().lower()[:254], locale=locale)


@job("auth.send_password_reset")
def send_password_reset(email: str, locale: str) -> None:
    """The job behind a reset request: a link only to an active account."""
    user = user_by_email(email)
    if user is None or not user.is_active:
        return
    secret = tokens.new_secret()
    reset = PasswordReset(
        user_id=user.id, token_hash=tokens.digest(secret), expires_at=db.utcnow() + RESET_VALID
    )
    db.session.add(reset)
    db.session.flush()
    link = public_link("auth.reset_password", token=tokens.compose(reset.id, secret))
    mail.send(user.email, "password_reset", locale=user.locale or locale, kind="password_reset", link=link)
    audit.record_platform("password.reset_requested", user.email, actor_id=user.id)


def public_link(endpoint: str, **values: object) -> str:
    """A link for an email, always on BASE_URL: never on the Host a request
    happened to name, and the same from a job (no request there)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def use_password_reset(reset: PasswordReset, password: str) -> User:
    """The new password from a reset link, which then works no more."""
    user = db.session.get(User, reset.user_id)
    assert user is not None
    set_password(user, password)
    reset.used_at = db.utcnow()
    audit.record_platform("password.reset", user.email, actor_id=user.id)
    return user


def reset_for_token(token: str) -> PasswordReset | None:
    parsed = tokens.split(token, 1)
    if parsed is None:
        return None
    (reset_id,), secret = parsed
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.id == reset_id).with_for_update())
    if (
        reset is None
        or reset.used_at is not None
        or reset.expires_at < db.utcnow()
        or not tokens.same(secret, reset.token_hash)
    ):
        return None
    return reset


# -- invitations -----------------------------------------------------------------


# An invitation whose link the job has not made yet: no secret hashes to this.
NOT_YET_SENT = ""


def invite(agency: Agency, email: str, role: Role | str, *, invited_by: User | None) -> Invitation:
    """Invite someone into the agency in scope. Only records the invitation and
    queues the job that makes its single-use link and mails it: the request
    does the same work whoever the address belongs to."""
    email = email.strip().lower()
    role = Role(role)
    existing = db.session.scalar(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(User.email == email, Membership.active.is_(True))
    )
    if existing is not None:
        raise AccountError("already_member", "email")
    # A new invitation replaces any earlier one still pending for that address.
    db.session.execute(
        update(Invitation)
        .where(Invitation.email == email, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=db.utcnow())
    )
    invitation = Invitation(
        email=email,
        role=role,
        invited_by_id=invited_by.id if invited_by else None,
        token_hash=NOT_YET_SENT,
        expires_at=db.utcnow() + INVITATION_VALID,
    )
    db.session.add(invitation)
    db.session.flush()
    enqueue("auth.send_invitation", agency_id=agency.id, queue="high", invitation_id=invitation.id)
    audit.record("member.invited", email, actor_id=invited_by.id if invited_by else None, role=str(role))
    return invitation


def is_being_sent(invitation: Invitation) -> bool:
    """Recorded, but its link not made and mailed yet (the job has not run)."""
    return invitation.token_hash == NOT_YET_SENT


@job("auth.send_invitation")
def send_invitation(invitation_id: str) -> None:
    """The job behind an invitation: makes its link (valid from now) and mails
    it, once; nothing for an invitation withdrawn or replaced meanwhile."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.id == uuid.UUID(invitation_id)).with_for_update()
    )
    if (
        invitation is None
        or not is_being_sent(invitation)
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
    ):
        return
    agency = db.session.get(Agency, invitation.tenant_id)
    assert agency is not None
    inviter = db.session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    secret = tokens.new_secret()
    invitation.token_hash = tokens.digest(secret)
    invitation.expires_at = db.utcnow() + INVITATION_VALID
    link = public_link("auth.accept_invitation", token=tokens.compose(agency.id, invitation.id, secret))
    mail.send(
        invitation.email,
        "invitation",
        locale=agency.locale,
        kind="invitation",
        agency_id=agency.id,
        dedupe_key=f"invitation:{invitation.id}",
        link=link,
        agency_name=agency.name,
        role=invitation.role,
        inviter=inviter.name if inviter else "",
        valid_days=INVITATION_VALID.days,
    )


def invitation_for_token(token: str) -> tuple[Agency, Invitation] | None:
    """Resolve a link; puts its agency in scope. None for anything not usable."""
    parsed = tokens.split(token, 2)
    if parsed is None:
        return None
    (agency_id, invitation_id), secret = parsed
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.is_suspended:
        return None
    db.set_tenant(agency.id)
    invitation = db.session.scalar(select(Invitation).where(Invitation.id == invitation_id).with_for_update())
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at < db.utcnow()
        or not tokens.same(secret, invitation.token_hash)
    ):
        return None
    return agency, invitation


def accept_invitation(invitation: Invitation, user: User) -> Membership:
    """Join (or re-join) the agency with the invited role."""
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    if membership is None:
        membership = Membership(user_id=user.id, role=invitation.role)
        db.session.add(membership)
    else:
        membership.role = invitation.role
        membership.active = True
        membership.deactivated_at = None
    invitation.accepted_at = db.utcnow()
    db.session.flush()
    audit.record("member.joined", user.email, actor_id=user.id, role=invitation.role)
    return membership


def pending_two_factor_user(user_id: uuid.UUID | None) -> User | None:
    """The person between their password and their code, locked for the
    check, so a code is never accepted twice at once."""
    if user_id is None:
        return None
    return db.session.scalar(select(User).where(User.id == user_id).with_for_update())


def join_with_new_account(
    invitation: Invitation, agency: Agency, existing: User | None, name: str, password: str
) -> User:
    """An invitation accepted by someone with no password yet: their account
    (made now, or the one a former invitation left without a password), then
    the membership."""
    user = existing or User(email=invitation.email)
    user.name = name
    set_password(user, password)
    db.session.add(user)
    db.session.flush()
    accept_invitation(invitation, user)
    audit.record_platform("auth.account_created", user.email, actor_id=user.id, agency_id=agency.id)
    return user


def memberships_of(user_id: uuid.UUID) -> list[tuple[Agency, Membership]]:
    """Every agency a person belongs to: a read across agencies, so it goes
    through the platform reader."""
    with db.platform_reader() as reader:
        rows = reader.execute(
            select(Agency, Membership)
            .join(Membership, Membership.tenant_id == Agency.id)
            .where(Membership.user_id == user_id, Membership.active.is_(True))
            .order_by(Agency.name)
        ).all()
        for agency, membership in rows:
            reader.expunge(agency)
            reader.expunge(membership)
        return [(a, m) for a, m in rows]
