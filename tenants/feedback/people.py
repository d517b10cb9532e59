"""Whom an opinion or complaint can name: a portal member's clients, their
recent visits and those visits' carers (first names only, as the portal shows
carers), and where the complainant is answered. Read by the rules (what may
be named) and by the portal's form (what is offered), in one statement each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select

from saas import db
from saas.models import Membership, User
from tenants.clients.models import Client
from tenants.scheduling.models import Visit
from tenants.staffing.models import StaffFile

# the most visits the portal's form offers
RECENT_VISITS = 100


@dataclass(frozen=True, slots=True)
class RecentVisit:
    id: uuid.UUID
    client_id: uuid.UUID
    client: str
    starts_at: datetime
    staff_file_id: uuid.UUID | None
    carer: str  # first name, "" when nobody was assigned


def recent_visits(client_ids: list[uuid.UUID], now: datetime, days: int) -> list[RecentVisit]:
    """The clients' visits of the last `days` days (whatever became of them:
    a missed visit is what many complaints are about), the latest first."""
    if not client_ids:
        return []
    rows = db.session.execute(
        select(Visit.id, Visit.client_id, Client.full_name, Visit.starts_at, Visit.staff_file_id, User.name)
        .join(Client, and_(Client.tenant_id == Visit.tenant_id, Client.id == Visit.client_id))
        .outerjoin(
            StaffFile, and_(StaffFile.tenant_id == Visit.tenant_id, StaffFile.id == Visit.staff_file_id)
        )
        .outerjoin(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .outerjoin(User, User.id == Membership.user_id)
        .where(
            Visit.client_id.in_(client_ids),
            Visit.starts_at <= now,
            Visit.starts_at >= now - timedelta(days=days),
        )
        .order_by(Visit.starts_at.desc(), Visit.id)
        .limit(RECENT_VISITS)
    ).all()
    return [
        RecentVisit(vid, cid, client, starts, staff, (name or "").split(" ")[0])
        for vid, cid, client, starts, staff, name in rows
    ]


def client_names(client_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not client_ids:
        return {}
    rows = db.session.execute(
        select(Client.id, Client.full_name).where(Client.id.in_(client_ids)).order_by(Client.full_name)
    ).all()
    return dict(rows)


def member_address(membership_id: uuid.UUID) -> tuple[str, str | None] | None:
    """The email and language of an active member, or None."""
    row = db.session.execute(
        select(User.email, User.locale)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.id == membership_id, Membership.active.is_(True))
    ).first()
    return (row[0], row[1]) if row else None


def client_email(client_id: uuid.UUID) -> str:
    return db.session.scalar(select(Client.email).where(Client.id == client_id)) or ""
