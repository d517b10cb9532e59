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

from flask_babel import gettext as _
from sqlalchemy import (
    Date,
    Integer,
    Row,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import aliased

from saas import db
from saas.links import UrlPattern
from saas.models import Membership, Role, User
from saas.pagination import Keyset
from saas.permissions import can
from tenants.clients.models import Client
from tenants.clients.signals import TimelineEntry, TimelineLine, TimelineWanted
from tenants.feedback import HANDLE_COMPLAINTS, READ_CONFIDENTIAL_FEEDBACK
from tenants.feedback.labels import kind_label, status_label
from tenants.feedback.models import (
    DIMENSIONS,
    FeedbackItem,
    FeedbackKind,
    FeedbackStatus,
    FeedbackTransition,
    FollowUpTask,
    Rectification,
    RectificationStatus,
    ReInspection,
    VisitRating,
)
from tenants.feedback.services import deadline_state, is_overdue
from tenants.outreach.models import BoxLog
from tenants.scheduling.models import Visit
from tenants.staffing.models import StaffFile, Team
from tenants.staffing.settings import agency_in_scope
from tenants.staffing.signals import ComplaintAgainst

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
    # who sent it through the portal, and the client it is about
    submitted_by: str | None
    client: str | None
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
    # read for the page's rows only: a subquery each, never a join that
    # could change how the page is found
    select(User.name)
    .join(Membership, Membership.user_id == User.id)
    .where(Membership.tenant_id == FeedbackItem.tenant_id, Membership.id == FeedbackItem.membership_id)
    .scalar_subquery()
    .label("submitted_by"),
    select(Client.full_name)
    .where(Client.tenant_id == FeedbackItem.tenant_id, Client.id == FeedbackItem.client_id)
    .scalar_subquery()
    .label("client"),
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


@dataclass(frozen=True, slots=True)
class NamedPeople:
    """Whom an item names, as its page shows them."""

    submitted_by: str | None
    client: str | None
    visit_starts_at: datetime | None
    carer: str | None
    box_day: date | None


def named_people(item: FeedbackItem) -> NamedPeople:
    """The portal member who sent it, its client, visit, carer and opinion-box
    day: one statement."""
    sender_user = aliased(User)
    carer_user = aliased(User)
    sender = aliased(Membership)
    carer_member = aliased(Membership)
    row = db.session.execute(
        select(
            select(sender_user.name)
            .join(sender, sender.user_id == sender_user.id)
            .where(sender.id == item.membership_id)
            .scalar_subquery(),
            select(Client.full_name).where(Client.id == item.client_id).scalar_subquery(),
            select(Visit.starts_at).where(Visit.id == item.visit_id).scalar_subquery(),
            select(carer_user.name)
            .join(carer_member, carer_member.user_id == carer_user.id)
            .join(
                StaffFile,
                and_(
                    StaffFile.tenant_id == carer_member.tenant_id, StaffFile.membership_id == carer_member.id
                ),
            )
            .where(StaffFile.id == item.staff_file_id)
            .scalar_subquery(),
            select(BoxLog.day).where(BoxLog.id == item.box_log_id).scalar_subquery(),
        )
    ).one()
    return NamedPeople(*row)


@dataclass(frozen=True, slots=True)
class PortalItem:
    received_at: datetime
    kind: str
    status: str
    description: str
    response: str
    responded_at: datetime | None


def portal_items(membership_id: uuid.UUID, limit: int = 50) -> list[PortalItem]:
    """What this portal member told the agency, the latest first, with the
    answers: ix_feedback_items_member."""
    rows = db.session.execute(
        select(
            FeedbackItem.received_at,
            FeedbackItem.kind,
            FeedbackItem.status,
            FeedbackItem.description,
            FeedbackItem.response,
            FeedbackItem.responded_at,
        )
        .where(FeedbackItem.membership_id == membership_id)
        .order_by(FeedbackItem.received_at.desc(), FeedbackItem.id.desc())
        .limit(limit)
    ).all()
    return [PortalItem(*r) for r in rows]


def client_name(client_id: uuid.UUID) -> str:
    return db.session.scalar(select(Client.full_name).where(Client.id == client_id)) or ""


def slips_entered(box_log_id: uuid.UUID) -> int:
    """How many slips of an opinion-box day have been entered as feedback."""
    return int(
        db.session.scalar(
            select(func.count()).select_from(FeedbackItem).where(FeedbackItem.box_log_id == box_log_id)
        )
        or 0
    )


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


def api_items(
    *,
    kind: str | None = None,
    status: str | None = None,
    with_closed: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[Any]:
    """The API's list of opinions and complaints, filtered (saas.api.paging
    adds the cursor, the order by deadline and the limit): without a status
    or `with_closed`, those not yet closed, as the inbox shows them."""
    stmt = select(FeedbackItem)
    if status:
        stmt = stmt.where(FeedbackItem.status == status)
    elif not with_closed:
        stmt = stmt.where(FeedbackItem.status != FeedbackStatus.CLOSED)
    if kind:
        stmt = stmt.where(FeedbackItem.kind == kind)
    if since is not None:
        stmt = stmt.where(FeedbackItem.received_at >= since)
    if until is not None:
        stmt = stmt.where(FeedbackItem.received_at < until)
    return stmt


@dataclass(frozen=True, slots=True)
class RatingFilters:
    """What the ratings list (page and API) is narrowed to."""

    client_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    first: date | None = None  # the visits' local days, both included
    last: date | None = None
    low_only: bool = False
    low_threshold: int = 2


def ratings(filters: RatingFilters) -> Select[Any]:
    """Visit ratings, each with its visit's start and local day, leading
    with (visit start, rating id), the keys the list pages by, newest
    visit first. Names are left to `rating_names`, for readers who may
    see them."""
    stmt = select(Visit.starts_at, VisitRating.id, VisitRating, Visit.local_day).join(
        Visit, and_(Visit.tenant_id == VisitRating.tenant_id, Visit.id == VisitRating.visit_id)
    )
    if filters.client_id is not None:
        stmt = stmt.where(VisitRating.client_id == filters.client_id)
    if filters.staff_id is not None:
        stmt = stmt.where(VisitRating.staff_file_id == filters.staff_id)
    if filters.first is not None:
        stmt = stmt.where(Visit.local_day >= filters.first)
    if filters.last is not None:
        stmt = stmt.where(Visit.local_day <= filters.last)
    if filters.low_only:
        stmt = stmt.where(or_(*(getattr(VisitRating, d) <= filters.low_threshold for d in DIMENSIONS)))
    return stmt


def rating_names(ratings: list[VisitRating]) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    """The clients' and the carers' names of a page of ratings: two
    statements, whatever the page's length."""
    client_ids = {r.client_id for r in ratings}
    staff_ids = {r.staff_file_id for r in ratings if r.staff_file_id is not None}
    clients_named: dict[uuid.UUID, str] = {}
    carers_named: dict[uuid.UUID, str] = {}
    if client_ids:
        clients_named = dict(
            db.session.execute(select(Client.id, Client.full_name).where(Client.id.in_(client_ids))).all()
        )
    if staff_ids:
        carers_named = dict(
            db.session.execute(
                select(StaffFile.id, User.name)
                .join(
                    Membership,
                    and_(
                        Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id
                    ),
                )
                .join(User, User.id == Membership.user_id)
                .where(StaffFile.id.in_(staff_ids))
            ).all()
        )
    return clients_named, carers_named


# a filter's choices are a list to pick from, never the whole history
CHOICES_LIMIT = 2000


def rating_filter_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The ratings page's client and carer choices: those who have ratings,
    by name (two statements)."""
    rated_clients = select(VisitRating.client_id).distinct().scalar_subquery()
    clients_rows = db.session.execute(
        select(Client.id, Client.full_name)
        .where(Client.id.in_(rated_clients))
        .order_by(Client.full_name)
        .limit(CHOICES_LIMIT)
    ).all()
    rated_staff = select(VisitRating.staff_file_id).where(VisitRating.staff_file_id.isnot(None))
    carers_rows = db.session.execute(
        select(StaffFile.id, User.name)
        .join(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .join(User, User.id == Membership.user_id)
        .where(StaffFile.id.in_(rated_staff.distinct().scalar_subquery()))
        .order_by(User.name)
        .limit(CHOICES_LIMIT)
    ).all()
    return [(str(i), n) for i, n in clients_rows], [(str(i), n) for i, n in carers_rows]


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


# -- what other areas read of feedback -------------------------------------------------------

# the client's file and a review show a description cut to this length
SHORT_DESCRIPTION = 300


def client_file_feedback(wanted: TimelineWanted) -> Select[Any]:
    """A page of the opinions and complaints about a client, newest first:
    ix_feedback_items_client read backwards from where the page starts. A
    confidential item says what it is, never what was said."""
    detail = func.left(FeedbackItem.description, SHORT_DESCRIPTION)
    return (
        select(
            FeedbackItem.received_at.label("at"),
            cast(func.timezone(wanted.timezone, FeedbackItem.received_at), Date).label("on"),
            FeedbackItem.id.label("ref"),
            FeedbackItem.id.label("link"),
            literal("feedback", String).label("kind"),
            func.concat(FeedbackItem.kind, " ", FeedbackItem.status).cast(String).label("label"),
            null().cast(Integer).label("number"),
            case((FeedbackItem.confidential.is_(True), null()), else_=detail).cast(Text).label("detail"),
        )
        .where(
            FeedbackItem.client_id == wanted.client_id,
            FeedbackItem.received_at < wanted.now,
            *wanted.older(FeedbackItem.received_at, FeedbackItem.id),
        )
        .order_by(FeedbackItem.received_at.desc(), FeedbackItem.id.desc())
        .limit(wanted.limit)
    )


def feedback_entries(lines: list[TimelineLine]) -> list[TimelineEntry]:
    """The file's words for its opinion and complaint lines: labels and the
    link made once per page."""
    kinds = {k.value: kind_label(k) for k in FeedbackKind}
    statuses = {s.value: status_label(s) for s in FeedbackStatus}
    item_url = UrlPattern("feedback.item", "feedback_id")
    out = []
    for line in lines:
        kind, _space, status = (line.label or "").partition(" ")
        title = _("%(kind)s (%(status)s)", kind=kinds.get(kind, kind), status=statuses.get(status, status))
        detail = line.detail if line.detail is not None else _("confidential")
        out.append(TimelineEntry(line.on, "feedback", title, detail, item_url(line.link)))
    return out


def complaints_against(staff_id: uuid.UUID, start: date, end: date) -> list[ComplaintAgainst]:
    """The complaints naming this worker received on the agency's days from
    `start` to `end`, latest first (ix_feedback_items_staff). Who complained
    is never said; what they said only to those who may read it."""
    zone = agency_in_scope().zone
    since = datetime.combine(start, datetime.min.time(), tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    rows = db.session.execute(
        select(
            FeedbackItem.id,
            FeedbackItem.received_at,
            FeedbackItem.status,
            FeedbackItem.confidential,
            func.left(FeedbackItem.description, SHORT_DESCRIPTION),
        )
        .where(
            FeedbackItem.staff_file_id == staff_id,
            FeedbackItem.kind == FeedbackKind.COMPLAINT,
            FeedbackItem.received_at >= since,
            FeedbackItem.received_at < until,
        )
        .order_by(FeedbackItem.received_at.desc())
        .limit(200)
    ).all()
    handles = can(HANDLE_COMPLAINTS)
    confidential_too = can(READ_CONFIDENTIAL_FEEDBACK)
    item_url = UrlPattern("feedback.item", "feedback_id")
    statuses = {s.value: str(status_label(s)) for s in FeedbackStatus}
    return [
        ComplaintAgainst(
            received_at=received_at,
            status=statuses.get(status, status),
            description=text if not confidential or confidential_too else _("confidential"),
            link=item_url(item_id) if handles else None,
        )
        for item_id, received_at, status, confidential, text in rows
    ]


# -- the home dashboards -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedbackFigures:
    """Opinions and complaints past their deadline without an answer (the
    inbox's "overdue"), low ratings to follow up, rectifications past their
    deadline."""

    overdue_opinions: int
    overdue_complaints: int
    tasks: int
    rectifications_overdue: int

    @classmethod
    def of(cls, row: Any) -> FeedbackFigures:
        return cls(row["opinions"], row["complaints"], row["tasks"], row["rectifications"])


def feedback_figures(now: datetime, today: date) -> Select[Any]:
    """One row of scalar counts (`FeedbackFigures.of` reads it)."""

    def count(*conditions: Any, of: Any) -> Any:
        return select(func.count()).select_from(of).where(*conditions).scalar_subquery()

    unanswered = and_(
        FeedbackItem.responded_at.is_(None),
        FeedbackItem.status.notin_((FeedbackStatus.RESPONDED, FeedbackStatus.CLOSED)),
        FeedbackItem.due_at < now,
    )
    complaint = FeedbackItem.kind == FeedbackKind.COMPLAINT
    return select(
        count(unanswered, ~complaint, of=FeedbackItem).label("opinions"),
        count(unanswered, complaint, of=FeedbackItem).label("complaints"),
        count(FollowUpTask.done_at.is_(None), of=FollowUpTask).label("tasks"),
        count(
            Rectification.status == RectificationStatus.OPEN,
            Rectification.deadline < today,
            of=Rectification,
        ).label("rectifications"),
    )


# how far back the portal's home offers the last visit to rate
RATE_WITHIN = timedelta(days=30)


def last_visit_to_rate(client_ids: list[uuid.UUID], now: datetime) -> Any:
    """The clients' latest completed visit of the last 30 days that has no
    rating yet: (visit id, starts_at), or None. One statement."""
    if not client_ids:
        return None
    rated = (
        select(VisitRating.id)
        .where(VisitRating.tenant_id == Visit.tenant_id, VisitRating.visit_id == Visit.id)
        .exists()
    )
    return db.session.execute(
        select(Visit.id, Visit.starts_at)
        .where(
            Visit.client_id.in_(client_ids),
            Visit.status == "completed",
            Visit.starts_at >= now - RATE_WITHIN,
            Visit.starts_at < now,
            ~rated,
        )
        .order_by(Visit.starts_at.desc())
        .limit(1)
    ).first()


# -- the office's list of visit ratings -----------------------------------------------------------

RATINGS_PAGE = 50


@dataclass(frozen=True, slots=True)
class RatingRow:
    """One line of the ratings page."""

    starts_at: datetime
    id: uuid.UUID
    rating: VisitRating
    local_day: date
    client: str | None
    carer: str | None
    low: bool = False

    @property
    def scores(self) -> list[int]:
        return [getattr(self.rating, d) for d in DIMENSIONS]


@dataclass(frozen=True, slots=True)
class RatingsPage:
    rows: list[RatingRow]
    next: str | None  # the Keyset token where the next page starts


def ratings_page(filters: RatingFilters, start: str | None) -> RatingsPage:
    """A page of the ratings, the latest visit first, with the client's and
    the carer's names: one statement, bounded by the page. `start` is the
    `next` of the page before (a malformed one starts from the beginning)."""
    carer = (
        select(User.name)
        .join(Membership, Membership.user_id == User.id)
        .join(
            StaffFile,
            and_(StaffFile.tenant_id == Membership.tenant_id, StaffFile.membership_id == Membership.id),
        )
        .where(StaffFile.tenant_id == VisitRating.tenant_id, StaffFile.id == VisitRating.staff_file_id)
        .scalar_subquery()
    )
    client = (
        select(Client.full_name)
        .where(Client.tenant_id == VisitRating.tenant_id, Client.id == VisitRating.client_id)
        .scalar_subquery()
    )
    stmt = ratings(filters).add_columns(client.label("client"), carer.label("carer"))
    cursor = Keyset.parse(start)
    if cursor is not None:
        stmt = stmt.where(tuple_(Visit.starts_at, VisitRating.id) < tuple_(cursor.at, cursor.id))
    found = db.session.execute(
        stmt.order_by(Visit.starts_at.desc(), VisitRating.id.desc()).limit(RATINGS_PAGE + 1)
    ).all()
    rows = [
        RatingRow(*r, low=min(getattr(r.VisitRating, d) for d in DIMENSIONS) <= filters.low_threshold)
        for r in found[:RATINGS_PAGE]
    ]
    following = Keyset(rows[-1].starts_at, rows[-1].id).token() if len(found) > RATINGS_PAGE else None
    return RatingsPage(rows, following)
