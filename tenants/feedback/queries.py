"""Read models of the feedback pages: the columns a list shows, read in one
statement bounded by the page, never by the agency's history.

The inbox lists what is still open by its deadline (the partial index
ix_feedback_items_open_due holds only open items), a page at a time; with the
closed ones, everything, the latest received first (ix_feedback_items_received),
a page at a time. tests/core/test_performance.py reads the plans.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, func, or_, select, tuple_
from sqlalchemy.orm import aliased

from saas import db
from saas.models import Membership, Role, User
from saas.pagination import Keyset
from tenants.clients.models import Client
from tenants.feedback.models import (
    FeedbackItem,
    FeedbackStatus,
    FeedbackTransition,
    FollowUpTask,
    Rectification,
    RectificationStatus,
    ReInspection,
    VisitRating,
)
from tenants.feedback.services import deadline_state, is_overdue
from tenants.scheduling.models import Visit
from tenants.staffing.models import StaffFile, Team

INBOX_PAGE = 100
# the inbox shows a description cut to 120 characters: read a few more, so that
# the cut (at a word, with a leeway of 5) falls where it would on the whole text
DESCRIPTION_READ = 126


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One line of the inbox, as it shows it."""

    id: uuid.UUID
    received_at: datetime
    kind: str
    contact_name: str
    contact: str
    confidential: bool
    description: str
    status: str
    due_at: datetime
    responded_at: datetime | None
    state: str  # answered, overdue, due_soon or on_time
    left: timedelta


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: list[InboxRow]
    # where the next page starts: the last row's Keyset token
    next: str | None


_COLUMNS = (
    FeedbackItem.id,
    FeedbackItem.received_at,
    FeedbackItem.kind,
    FeedbackItem.contact_name,
    FeedbackItem.contact,
    FeedbackItem.confidential,
    func.left(FeedbackItem.description, DESCRIPTION_READ).label("description"),
    FeedbackItem.status,
    FeedbackItem.due_at,
    FeedbackItem.responded_at,
)


def open_statement(after: Keyset | None) -> Select[Any]:
    """Open items by deadline, from `after` on: the partial index, in order."""
    stmt = select(*_COLUMNS).where(FeedbackItem.status != FeedbackStatus.CLOSED)
    if after is not None:
        stmt = stmt.where(
            FeedbackItem.due_at >= after.at,
            tuple_(FeedbackItem.due_at, FeedbackItem.id) > tuple_(after.at, after.id),
        )
    return stmt.order_by(FeedbackItem.due_at, FeedbackItem.id).limit(INBOX_PAGE + 1)


def everything_statement(before: Keyset | None) -> Select[Any]:
    """Every item, the latest received first, from `before` back:
    ix_feedback_items_received read backwards."""
    stmt = select(*_COLUMNS)
    if before is not None:
        stmt = stmt.where(
            FeedbackItem.received_at <= before.at,
            tuple_(FeedbackItem.received_at, FeedbackItem.id) < tuple_(before.at, before.id),
        )
    return stmt.order_by(FeedbackItem.received_at.desc(), FeedbackItem.id.desc()).limit(INBOX_PAGE + 1)


def inbox(*, with_closed: bool, start: str | None) -> InboxPage:
    """A page of the inbox. `start` is the `next` of the page before (a
    malformed one starts from the beginning)."""
    cursor = Keyset.parse(start)
    stmt = everything_statement(cursor) if with_closed else open_statement(cursor)
    found = db.session.execute(stmt).all()
    now = db.utcnow()
    rows = [
        InboxRow(
            **r._asdict(),
            state=deadline_state(r, now),  # type: ignore[arg-type]
            left=r.due_at - now,
        )
        for r in found[:INBOX_PAGE]
    ]
    following = None
    if len(found) > INBOX_PAGE:
        last = rows[-1]
        following = Keyset(last.received_at if with_closed else last.due_at, last.id).token()
    return InboxPage(rows, following)


# -- the pages' other reads --------------------------------------------------------------------


def carer_first_name(staff_file_id: uuid.UUID | None) -> str:
    """The first name of a visit's carer, as a client sees it."""
    if staff_file_id is None:
        return ""
    name = db.session.scalar(
        select(User.name)
        .join(Membership, Membership.user_id == User.id)
        .join(StaffFile, StaffFile.membership_id == Membership.id)
        .where(StaffFile.id == staff_file_id)
    )
    return (name or "").split(" ")[0]


def open_tasks(*, mine: uuid.UUID | None = None) -> list[Row[Any]]:
    """Open follow-ups, oldest first, with the rating, the visit's day, the
    client and whom each is for; with `mine`, the ones assigned to that member
    or to nobody."""
    assignee_user = aliased(User)
    assignee = aliased(Membership)
    query = (
        select(FollowUpTask, VisitRating, Visit.local_day, Client.full_name, assignee_user.name)
        .join(VisitRating, VisitRating.id == FollowUpTask.rating_id)
        .join(Visit, Visit.id == VisitRating.visit_id)
        .join(Client, Client.id == VisitRating.client_id)
        .outerjoin(assignee, assignee.id == FollowUpTask.assignee_membership_id)
        .outerjoin(assignee_user, assignee_user.id == assignee.user_id)
        .where(FollowUpTask.done_at.is_(None))
        .order_by(FollowUpTask.created_at)
        .limit(200)
    )
    if mine is not None:
        query = query.where(
            or_(FollowUpTask.assignee_membership_id == mine, FollowUpTask.assignee_membership_id.is_(None))
        )
    return list(db.session.execute(query).all())


def item_history(item_id: uuid.UUID) -> list[Row[Any]]:
    """An item's transitions in order, each with who made it."""
    return list(
        db.session.execute(
            select(FeedbackTransition, User.name)
            .outerjoin(User, User.id == FeedbackTransition.by_user_id)
            .where(FeedbackTransition.item_id == item_id)
            .order_by(FeedbackTransition.at)
        ).all()
    )


def open_items(limit: int = 500) -> list[FeedbackItem]:
    """Items not yet closed, by deadline (the API's list)."""
    return list(
        db.session.scalars(
            select(FeedbackItem)
            .where(FeedbackItem.status != FeedbackStatus.CLOSED)
            .order_by(FeedbackItem.due_at)
            .limit(limit)
        )
    )


def item_of(feedback_id: uuid.UUID) -> FeedbackItem | None:
    return db.session.scalar(select(FeedbackItem).where(FeedbackItem.id == feedback_id))


def visit_of(visit_id: uuid.UUID) -> Visit | None:
    return db.session.scalar(select(Visit).where(Visit.id == visit_id))


def ratings_of_clients(client_ids: list[uuid.UUID], limit: int = 200) -> list[VisitRating]:
    """The ratings given for these clients' visits, the latest first."""
    if not client_ids:
        return []
    return list(
        db.session.scalars(
            select(VisitRating)
            .where(VisitRating.client_id.in_(client_ids))
            .order_by(VisitRating.created_at.desc())
            .limit(limit)
        )
    )


def owner_choices() -> list[tuple[str, str]]:
    """Active staff who can own a rectification, by name."""
    rows = db.session.execute(
        select(Membership.id, User.name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True), Membership.role != Role.CLIENT)
        .order_by(User.name)
        .limit(2000)
    ).all()
    return [(str(i), n) for i, n in rows]


@dataclass
class TeamRectifications:
    name: str | None
    rows: list[tuple[Rectification, str, bool]] = field(default_factory=list)  # (rect, owner, overdue)
    overdue: int = 0


def open_rectifications_by_team(today: date) -> list[TeamRectifications]:
    """Open rectifications by the team of their owner (open ones count against
    the team), each with whether it is overdue on `today`."""
    rows = db.session.execute(
        select(Rectification, User.name, Team.id, Team.name)
        .join(Membership, Membership.id == Rectification.owner_membership_id)
        .join(User, User.id == Membership.user_id)
        .outerjoin(StaffFile, StaffFile.membership_id == Membership.id)
        .outerjoin(Team, Team.id == StaffFile.team_id)
        .where(Rectification.status == RectificationStatus.OPEN)
        .order_by(Team.name.nulls_last(), Rectification.deadline)
        .limit(500)
    ).all()
    teams: dict[uuid.UUID | None, TeamRectifications] = {}
    for rect, owner, team_id, team_name in rows:
        group = teams.setdefault(team_id, TeamRectifications(team_name))
        overdue = is_overdue(rect, today)
        group.rows.append((rect, owner, overdue))
        group.overdue += overdue
    return list(teams.values())


def member_name(membership_id: uuid.UUID) -> str | None:
    return db.session.scalar(
        select(User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.id == membership_id)
    )


def reinspections(rectification_id: uuid.UUID) -> list[Row[Any]]:
    """A rectification's re-inspections in order, each with the inspector's name."""
    return list(
        db.session.execute(
            select(ReInspection, User.name)
            .join(Membership, Membership.id == ReInspection.inspector_membership_id)
            .join(User, User.id == Membership.user_id)
            .where(ReInspection.rectification_id == rectification_id)
            .order_by(ReInspection.at)
        ).all()
    )
