"""Reads of accounts for the API: the holder of a token, a member with their user."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from saas import db
from saas.auth import tokens
from saas.models import Agency, ApiToken, Membership, User


def token_holder(secret: str) -> tuple[ApiToken, Membership, User, Agency] | None:
    """The live token with this secret in the agency in scope, with its
    membership, user and agency (one query); None when any of them is not
    active (or the agency in scope is not the token's)."""
    row = db.session.execute(
        select(ApiToken, Membership, User, Agency)
        .join(Membership, Membership.id == ApiToken.membership_id)
        .join(User, User.id == ApiToken.user_id)
        .join(Agency, Agency.id == ApiToken.tenant_id)
        .where(
            ApiToken.token_hash == tokens.digest(secret),
            ApiToken.revoked_at.is_(None),
            Membership.active.is_(True),
            User.is_active.is_(True),
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


def member_with_user(membership_id: uuid.UUID) -> tuple[Membership, User] | None:
    """One member of the agency in scope and their user."""
    row = db.session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.id == membership_id)
    ).first()
    return None if row is None else (row[0], row[1])
