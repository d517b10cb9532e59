"""What the operators' pages read: an agency, its members, the mail outbox and
a message of it, and the platform audit log (the lists for `paginate`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from saas import db
from saas.models import Agency, MailMessage, Membership, PlatformAuditEvent, User

MEMBERS_SHOWN = 200


def agency(agency_id: uuid.UUID) -> Agency | None:
    return db.session.get(Agency, agency_id)


def mail_message(message_id: uuid.UUID) -> MailMessage | None:
    return db.session.get(MailMessage, message_id)


def members_of(agency: Agency) -> list[Any]:
    """(membership, user) of the agency, by role then email."""
    with db.tenant_scope(agency.id):
        return list(
            db.session.execute(
                select(Membership, User)
                .join(User, User.id == Membership.user_id)
                .order_by(Membership.role, User.email)
                .limit(MEMBERS_SHOWN)
            ).all()
        )


def outbox() -> Select:
    return select(MailMessage).order_by(MailMessage.created_at.desc())


def platform_audit() -> Select:
    return select(PlatformAuditEvent).order_by(PlatformAuditEvent.at.desc())
