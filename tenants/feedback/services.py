"""The rules of ratings, opinions and complaints, and rectifications."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from saas import audit, db, mail
from saas.auth import tokens
from saas.errors import FieldOrStateError, register_messages
from saas.models import Agency, MailMessage, Membership, Role, User
from saas.notifications.reminders import batch_size_setting, send_now
from saas.settings import agency_setting, settings_of
from saas.signals import announce
from saas.tenancy import open_personal_link
from tenants.clients.models import Client
from tenants.clients.services import portal_client_ids
from tenants.feedback import MANAGE_RECTIFICATIONS, people
from tenants.feedback.models import (
    DIMENSIONS,
    FeedbackAbout,
    FeedbackChannel,
    FeedbackItem,
    FeedbackKind,
    FeedbackStatus,
    FeedbackTransition,
    FollowUpTask,
    RatingChannel,
    RatingLink,
    Rectification,
    RectificationSource,
    RectificationStatus,
    ReInspection,
    VisitRating,
)
from tenants.feedback.reminders import DUE_SOON, overdue, overdue_dues
from tenants.outreach.models import BoxLog
from tenants.scheduling.models import Visit, VisitStatus
from tenants.staffing.models import StaffFile
from tenants.staffing.settings import agency_in_scope
from tenants.staffing.teams import supervisor_of

AMEND_DAYS = 7
LINK_DAYS = 14
STATUS_ORDER = [s.value for s in FeedbackStatus]


class FeedbackError(FieldOrStateError):
    """A rule of ratings, feedback or rectifications refused the change. The
    API answers 400 for a value of a field, 409 for the state of things."""


register_messages(
    {
        "not_completed": _l("Only a completed visit can be rated."),
        "score_range": _l("Choose a score from 1 to 5."),
        "already_rated": _l("This visit has already been rated."),
        "amend_closed": _l("A rating can only be changed within 7 days."),
        "link_used": _l("This link has already been used."),
        "recorded_by_required": _l("Say who took the rating."),
        "required": _l("This field is required."),
        "bad_choice": _l("Choose one of the options."),
        "not_forward": _l("Choose a later step."),
        "response_required": _l("Record the response given to the person first."),
        "owner_unknown": _l("Choose an active staff member."),
        "source_unknown": _l("The complaint or low rating was not found."),
        "not_supervisor": _l("Only an admin or a coordinator can re-inspect."),
        "owner_cannot_inspect": _l("The owner cannot re-inspect their own rectification."),
        "already_closed": _l("This rectification is already closed."),
        "client_unknown": _l("Choose one of your clients."),
        "visit_unknown": _l("Choose one of the visits in the list."),
        "carer_unknown": _l("Choose one of the carers in the list."),
        "visit_needed": _l("Say which visit it is about."),
        "carer_needed": _l("Say which carer it is about."),
        "box_log_unknown": _l("Choose an opened opinion box day."),
        "slips_all_entered": _l("Every slip of this opinion box day has been entered already."),
        "not_your_visit": _l("You can only log what a client told you on your own visits."),
    },
    error=FeedbackError,
)


# -- ratings ----------------------------------------------------------------------------------


@dataclass
class Scores:
    attitude: int
    process: int
    effect: int
    environment: int
    timeliness: int
    comment: str = ""

    def values(self) -> dict[str, int]:
        return {d: getattr(self, d) for d in DIMENSIONS}


def low_threshold(agency: Agency) -> int:
    return int(agency_setting(agency, "low_rating_threshold"))


def is_low(agency: Agency, rating: VisitRating) -> bool:
    return min(getattr(rating, d) for d in DIMENSIONS) <= low_threshold(agency)


def rating_of(visit_id: uuid.UUID) -> VisitRating | None:
    return db.session.scalar(select(VisitRating).where(VisitRating.visit_id == visit_id))


def can_amend(rating: VisitRating, now: datetime | None = None) -> bool:
    return (now or db.utcnow()) <= rating.created_at + timedelta(days=AMEND_DAYS)


def rate_visit(
    agency: Agency,
    visit: Visit,
    scores: Scores,
    *,
    channel: str,
    membership_id: uuid.UUID | None = None,
    by: User | None = None,
) -> VisitRating:
    """Rate a completed visit, or amend its rating within the window."""
    if visit.status != VisitStatus.COMPLETED:
        raise FeedbackError("not_completed")
    for dimension, value in scores.values().items():
        if not isinstance(value, int) or not 1 <= value <= 5:
            raise FeedbackError("score_range", dimension)
    if channel == RatingChannel.PHONE and by is None:
        raise FeedbackError("recorded_by_required")
    now = db.utcnow()
    rating = rating_of(visit.id)
    amended = rating is not None
    if rating is None:
        rating = VisitRating(visit_id=visit.id, client_id=visit.client_id, created_at=now, **scores.values())
        try:
            with db.session.begin_nested():
                db.session.add(rating)
                _fill(rating, scores, channel, membership_id, by, now)
                db.session.flush()
        except IntegrityError:
            raise FeedbackError("already_rated") from None
    else:
        if not can_amend(rating, now):
            raise FeedbackError("amend_closed")
        for dimension, value in scores.values().items():
            setattr(rating, dimension, value)
        _fill(rating, scores, channel, membership_id, by, now)
    rating.staff_file_id = visit.staff_file_id
    db.session.flush()
    audit.record("rating.amended" if amended else "rating.given", str(rating.id), channel=channel)
    if is_low(agency, rating):
        _low_rating_follow_up(agency, rating)
    return rating


def _fill(
    rating: VisitRating,
    scores: Scores,
    channel: str,
    membership_id: uuid.UUID | None,
    by: User | None,
    now: datetime,
) -> None:
    rating.comment = (scores.comment or "").strip()[:4000]
    rating.channel = channel
    rating.membership_id = membership_id
    rating.recorded_by_user_id = by.id if by is not None and channel == RatingChannel.PHONE else None
    rating.updated_at = now


def _low_rating_follow_up(agency: Agency, rating: VisitRating) -> None:
    """A task for the carer's team supervisor, or for the coordinators when
    the carer has no team supervisor; they are emailed."""
    supervisor = supervisor_of(rating.staff_file_id)
    if db.session.scalar(select(FollowUpTask.id).where(FollowUpTask.rating_id == rating.id)) is None:
        db.session.add(
            FollowUpTask(
                rating_id=rating.id,
                staff_file_id=rating.staff_file_id,
                assigned_role=Role.COORDINATOR,
                assignee_membership_id=supervisor,
                title="low_rating",
            )
        )
        db.session.flush()
    people = _people_by_membership(supervisor) if supervisor else []
    for email, locale in people or _people(Role.COORDINATOR):
        mail.send(
            email,
            "rating_low",
            locale=locale or agency.locale,
            kind="rating.low",
            agency_id=agency.id,
            dedupe_key=f"{agency.id}:rating.low:{rating.id}:{email}",
            agency_name=agency.name,
            to_supervisor=bool(people),
        )


def _people_by_membership(membership_id: uuid.UUID) -> list[Any]:
    return list(
        db.session.execute(
            select(User.email, User.locale)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.id == membership_id, Membership.active.is_(True))
        ).all()
    )


def _people(*roles: Role) -> list[Any]:
    return list(
        db.session.execute(
            select(User.email, User.locale)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.role.in_([str(r) for r in roles]), Membership.active.is_(True))
        ).all()
    )


def complete_task(task: FollowUpTask, *, by: User) -> None:
    if task.done_at is None:
        task.done_at = db.utcnow()
        task.done_by_user_id = by.id
        audit.record("rating.follow_up_done", str(task.id))


def issue_rating_link(agency: Agency, visit: Visit) -> str:
    """A personal link to rate one visit; the token is shown once."""
    if visit.status != VisitStatus.COMPLETED:
        raise FeedbackError("not_completed")
    secret = tokens.new_secret()
    now = db.utcnow()
    link = RatingLink(
        visit_id=visit.id,
        token_hash=tokens.digest(secret),
        created_at=now,
        expires_at=now + timedelta(days=LINK_DAYS),
    )
    db.session.add(link)
    db.session.flush()
    audit.record("rating.link_issued", str(link.id))
    return tokens.compose(agency.id, link.id, secret)


def open_rating_link(token: str) -> tuple[Agency, RatingLink, Visit] | None:
    """The agency, link and visit of a valid token (and the tenant in scope), or None."""
    opened = open_personal_link(token, RatingLink)
    if opened is None:
        return None
    agency, link = opened
    if link.used_at is not None or link.expires_at <= db.utcnow():
        return None
    visit = db.session.scalar(select(Visit).where(Visit.id == link.visit_id))
    if visit is None:
        return None
    return agency, link, visit


def rate_by_link(agency: Agency, link: RatingLink, visit: Visit, scores: Scores) -> VisitRating:
    claimed = db.session.execute(
        RatingLink.__table__.update()
        .where(RatingLink.__table__.c.id == link.id, RatingLink.__table__.c.used_at.is_(None))
        .values(used_at=db.utcnow())
    ).rowcount
    if claimed != 1:
        raise FeedbackError("link_used")
    return rate_visit(agency, visit, scores, channel=RatingChannel.LINK)


def client_ratings(staff_ids: list[uuid.UUID], start: date, end: date) -> dict[uuid.UUID, Decimal]:
    """Average of the five dimensions of the visits each carer did in the period."""
    if not staff_ids:
        return {}
    mean = sum((getattr(VisitRating, d) for d in DIMENSIONS), 0) / 5.0
    rows = db.session.execute(
        select(VisitRating.staff_file_id, func.avg(mean))
        .join(Visit, Visit.id == VisitRating.visit_id)
        .where(VisitRating.staff_file_id.in_(staff_ids), Visit.local_day.between(start, end))
        .group_by(VisitRating.staff_file_id)
    ).all()
    return {staff_id: Decimal(str(value)).quantize(Decimal("0.01")) for staff_id, value in rows}


def email_rating_link(agency: Agency, visit: Visit) -> bool:
    """After check-out, email the client a personal link to rate the visit,
    once, when the agency wants it (`rating_link_email`, on by default) and
    the client has an email address. Returns whether a mail was queued."""
    if not agency_setting(agency, "rating_link_email") or visit.status != VisitStatus.COMPLETED:
        return False
    address = db.session.scalar(select(Client.email).where(Client.id == visit.client_id))
    if not address:
        return False
    key = f"{agency.id}:rating.link:{visit.id}"
    if db.session.scalar(select(MailMessage.id).where(MailMessage.dedupe_key == key)) is not None:
        return False
    token = issue_rating_link(agency, visit)
    return (
        mail.send(
            address,
            "rating_link",
            locale=agency.locale,
            kind="rating.link",
            agency_id=agency.id,
            dedupe_key=key,
            agency_name=agency.name,
            link=url_for("rating_link.rate", token=token, _external=True),
            days=LINK_DAYS,
        )
        is not None
    )


# -- opinions and complaints ------------------------------------------------------------------


@dataclass
class FeedbackData:
    kind: str
    description: str
    category: str = ""
    about: str = FeedbackAbout.AGENCY
    contact_name: str = ""
    contact: str = ""
    confidential: bool = False
    # whom it concerns, where known (a visit names its client, and its carer
    # unless another is named)
    client_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    staff_file_id: uuid.UUID | None = None
    # the opinion-box day a slip came from (channel opinion_box)
    box_log_id: uuid.UUID | None = None


def response_days(agency: Agency, kind: str) -> int:
    if kind == FeedbackKind.COMPLAINT:
        return int(settings_of(agency).get("complaint_response_days"))
    return int(settings_of(agency).get("feedback_response_days"))


def submit_feedback(
    agency: Agency,
    data: FeedbackData,
    *,
    channel: str,
    membership_id: uuid.UUID | None = None,
    by: User | None = None,
) -> FeedbackItem:
    if data.kind not in {k.value for k in FeedbackKind}:
        raise FeedbackError("bad_choice", "kind")
    if data.about not in {a.value for a in FeedbackAbout}:
        raise FeedbackError("bad_choice", "about")
    if channel not in {c.value for c in FeedbackChannel}:
        raise FeedbackError("bad_choice", "channel")
    description = (data.description or "").strip()
    if not description:
        raise FeedbackError("required", "description")
    client_id, visit_id, staff_file_id = _named_people(data)
    box_log_id = _box_slip(data, channel)
    now = db.utcnow()
    item = FeedbackItem(
        kind=data.kind,
        category=(data.category or "").strip()[:100],
        about=data.about,
        description=description[:10000],
        contact_name=(data.contact_name or "").strip()[:200],
        contact=(data.contact or "").strip()[:254],
        confidential=bool(data.confidential),
        channel=channel,
        membership_id=membership_id,
        entered_by_user_id=by.id if by else None,
        client_id=client_id,
        visit_id=visit_id,
        staff_file_id=staff_file_id,
        box_log_id=box_log_id,
        status=FeedbackStatus.RECEIVED,
        received_at=now,
        due_at=now + timedelta(days=response_days(agency, data.kind)),
    )
    db.session.add(item)
    db.session.flush()
    db.session.add(
        FeedbackTransition(
            item_id=item.id,
            from_status=None,
            to_status=FeedbackStatus.RECEIVED,
            at=now,
            by_user_id=item.entered_by_user_id,
        )
    )
    audit.record("feedback.received", str(item.id), kind=item.kind, channel=channel)
    if item.kind == FeedbackKind.COMPLAINT:
        _notify_admins(agency, item)
        announce(
            "complaint.received",
            item.id,
            channel=channel,
            due_at=item.due_at.isoformat() if item.due_at else None,
        )
    return item


def _named_people(data: FeedbackData) -> tuple[uuid.UUID | None, uuid.UUID | None, uuid.UUID | None]:
    """The client, visit and carer the item names, checked to exist in the
    agency and to agree: a visit is its client's; an item about the visit or
    a carer names the visit's carer unless another is named."""
    client_id, visit_id, staff_file_id = data.client_id, data.visit_id, data.staff_file_id
    if visit_id is not None:
        visit = db.session.execute(
            select(Visit.client_id, Visit.staff_file_id).where(Visit.id == visit_id)
        ).first()
        if visit is None or (client_id is not None and visit.client_id != client_id):
            raise FeedbackError("visit_unknown", "visit_id")
        client_id = visit.client_id
        if staff_file_id is None and data.about in (FeedbackAbout.VISIT, FeedbackAbout.CARER):
            # about the visit, it is about whoever made it; about the agency, about nobody
            staff_file_id = visit.staff_file_id
    elif client_id is not None and db.session.scalar(select(Client.id).where(Client.id == client_id)) is None:
        raise FeedbackError("client_unknown", "client_id")
    if (
        data.staff_file_id is not None
        and db.session.scalar(select(StaffFile.id).where(StaffFile.id == data.staff_file_id)) is None
    ):
        raise FeedbackError("carer_unknown", "staff_file_id")
    return client_id, visit_id, staff_file_id


def _box_slip(data: FeedbackData, channel: str) -> uuid.UUID | None:
    """A slip taken from an opened opinion-box day, while that day has slips
    not yet entered: the day's row is locked, so two people entering its last
    slip at once cannot both succeed."""
    if data.box_log_id is None:
        return None
    log = db.session.execute(
        select(BoxLog.opened, BoxLog.slips).where(BoxLog.id == data.box_log_id).with_for_update()
    ).first()
    if channel != FeedbackChannel.BOX or log is None or not log.opened:
        raise FeedbackError("box_log_unknown", "box_log_id")
    entered = db.session.scalar(
        select(func.count()).select_from(FeedbackItem).where(FeedbackItem.box_log_id == data.box_log_id)
    )
    if entered >= log.slips:
        raise FeedbackError("slips_all_entered", "box_log_id")
    return data.box_log_id


def submit_portal_feedback(agency: Agency, data: FeedbackData, membership: Membership) -> FeedbackItem:
    """A portal member's opinion or complaint about one of their clients:
    the visit and the carer, when named, come from that client's recent
    visits (the ones the form offers)."""
    client_ids = portal_client_ids(membership)
    if data.client_id is None and len(client_ids) == 1:
        data.client_id = client_ids[0]
    if data.client_id is None or data.client_id not in client_ids:
        raise FeedbackError("client_unknown", "client_id")
    recent = people.recent_visits(
        [data.client_id], db.utcnow(), int(agency_setting(agency, "portal_feedback_visit_days"))
    )
    if data.visit_id is not None and data.visit_id not in {v.id for v in recent}:
        raise FeedbackError("visit_unknown", "visit_id")
    if data.staff_file_id is not None and data.staff_file_id not in {v.staff_file_id for v in recent}:
        raise FeedbackError("carer_unknown", "staff_file_id")
    if data.about == FeedbackAbout.VISIT and data.visit_id is None:
        raise FeedbackError("visit_needed", "visit_id")
    if data.about == FeedbackAbout.CARER and data.staff_file_id is None:
        raise FeedbackError("carer_needed", "staff_file_id")
    data.box_log_id = None
    return submit_feedback(agency, data, channel=FeedbackChannel.PORTAL, membership_id=membership.id)


def submit_on_site_feedback(
    agency: Agency,
    visit: Visit,
    data: FeedbackData,
    *,
    staff_id: uuid.UUID | None,
    by: User,
    office: bool = False,
) -> FeedbackItem:
    """What a client told their carer during a visit, logged by that carer (or
    by the office, `office`, for them): the client and the visit are the
    visit's, and so is the carer it names (about the visit or the carer)."""
    if not office and (staff_id is None or visit.staff_file_id != staff_id):
        raise FeedbackError("not_your_visit")
    data.client_id, data.visit_id, data.box_log_id = visit.client_id, visit.id, None
    data.staff_file_id = None  # the visit's carer, when it is about the visit or the carer
    return submit_feedback(agency, data, channel=FeedbackChannel.ON_SITE, by=by)


def _notify_admins(agency: Agency, item: FeedbackItem) -> None:
    for email, locale in _people(Role.ADMIN):
        mail.send(
            email,
            "complaint_received",
            locale=locale or agency.locale,
            kind="feedback.complaint",
            agency_id=agency.id,
            dedupe_key=f"{agency.id}:feedback.complaint:{item.id}:{email}",
            agency_name=agency.name,
        )


def is_anonymous(item: FeedbackItem) -> bool:
    return item.membership_id is None and not item.contact and not item.contact_name


def transition(
    item: FeedbackItem,
    to_status: str,
    *,
    by: User | None,
    note: str = "",
    response: str = "",
    agency: Agency | None = None,
) -> FeedbackTransition:
    """Move forward through the workflow, each step dated and attributed. The
    first response recorded goes to the complainant (`send_response`)."""
    if to_status not in STATUS_ORDER:
        raise FeedbackError("bad_choice", "to_status")
    if STATUS_ORDER.index(to_status) <= STATUS_ORDER.index(item.status):
        raise FeedbackError("not_forward", "to_status")
    now = db.utcnow()
    response = (response or "").strip()
    if response:
        item.response = response
        item.responded_at = now
    if to_status == FeedbackStatus.RESPONDED and not item.response:
        raise FeedbackError("response_required", "response")
    if to_status == FeedbackStatus.CLOSED:
        if not item.response and not is_anonymous(item):
            raise FeedbackError("response_required", "response")
        item.closed_at = now
    row = FeedbackTransition(
        item_id=item.id,
        from_status=item.status,
        to_status=to_status,
        at=now,
        by_user_id=by.id if by else None,
        note=(note or "").strip(),
    )
    item.status = to_status
    db.session.add(row)
    audit.record("feedback.transition", str(item.id), to_status=to_status)
    if item.response:
        send_response(agency or agency_in_scope(), item)
    return row


def response_address(item: FeedbackItem) -> tuple[str, str | None] | None:
    """Where the complainant is answered by email: their portal account, the
    email they left, or (told on site) the client's own address; None when
    they left only a phone number, or nothing."""
    if item.membership_id is not None and (found := people.member_address(item.membership_id)):
        return found
    if "@" in item.contact:
        return item.contact, None
    if item.channel == FeedbackChannel.ON_SITE and item.client_id is not None:
        address = people.client_email(item.client_id)
        if address:
            return address, None
    return None


def send_response(agency: Agency, item: FeedbackItem) -> bool:
    """Email the response to the complainant, once per item whatever the
    steps after it (a portal member also reads it, and any later change, in
    the portal). Returns whether a mail was queued."""
    found = response_address(item)
    if found is None or not item.response:
        return False
    address, locale = found
    queued = mail.send(
        address,
        "feedback_response",
        locale=locale or agency.locale,
        kind="feedback.response",
        agency_id=agency.id,
        dedupe_key=f"{agency.id}:feedback.response:{item.id}",
        agency_name=agency.name,
        received_on=item.received_at.astimezone(agency.zone).date(),
        response=item.response,
        portal=item.membership_id is not None,
    )
    if queued is not None:
        audit.record("feedback.response_sent", str(item.id))
    return queued is not None


def deadline_state(item: FeedbackItem, now: datetime | None = None) -> str:
    """answered, overdue, due_soon or on_time."""
    if item.responded_at is not None or item.status in (FeedbackStatus.RESPONDED, FeedbackStatus.CLOSED):
        return "answered"
    left = item.due_at - (now or db.utcnow())
    if left < timedelta(0):
        return "overdue"
    if left <= DUE_SOON:
        return "due_soon"
    return "on_time"


# -- rectifications ---------------------------------------------------------------------------


@dataclass
class RectificationData:
    source: str
    problem: str
    measures: str
    owner_membership_id: uuid.UUID | None
    deadline: date | None
    feedback_item_id: uuid.UUID | None = None
    rating_id: uuid.UUID | None = None
    finding: str = ""


def open_rectification(agency: Agency, data: RectificationData, *, by: User | None) -> Rectification:
    if data.source not in {s.value for s in RectificationSource}:
        raise FeedbackError("bad_choice", "source")
    for name in ("problem", "measures"):
        if not (getattr(data, name) or "").strip():
            raise FeedbackError("required", name)
    if data.deadline is None:
        raise FeedbackError("required", "deadline")
    owner = (
        db.session.scalar(select(Membership).where(Membership.id == data.owner_membership_id))
        if data.owner_membership_id
        else None
    )
    if owner is None or not owner.active or owner.role == Role.CLIENT:
        raise FeedbackError("owner_unknown", "owner")
    if data.source == RectificationSource.COMPLAINT:
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.id == data.feedback_item_id))
        if item is None or item.kind != FeedbackKind.COMPLAINT:
            raise FeedbackError("source_unknown", "feedback_item_id")
    if data.source == RectificationSource.LOW_RATING:
        rating = db.session.scalar(select(VisitRating).where(VisitRating.id == data.rating_id))
        if rating is None or not is_low(agency, rating):
            raise FeedbackError("source_unknown", "rating_id")
    if data.source == RectificationSource.INSPECTION and not (data.finding or "").strip():
        raise FeedbackError("required", "finding")
    row = Rectification(
        source=data.source,
        feedback_item_id=data.feedback_item_id if data.source == RectificationSource.COMPLAINT else None,
        rating_id=data.rating_id if data.source == RectificationSource.LOW_RATING else None,
        finding=(data.finding or "").strip(),
        problem=data.problem.strip(),
        measures=data.measures.strip(),
        owner_membership_id=owner.id,
        deadline=data.deadline,
        status=RectificationStatus.OPEN,
        opened_by_user_id=by.id if by else None,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("rectification.opened", str(row.id), source=data.source)
    return row


def reinspect(rect: Rectification, inspector: Membership, *, passed: bool, notes: str = "") -> ReInspection:
    """A supervisor who is not the owner re-inspects: a pass closes the
    rectification, a failure (re-)opens it."""
    if inspector.role not in MANAGE_RECTIFICATIONS:
        raise FeedbackError("not_supervisor", "outcome")
    if inspector.id == rect.owner_membership_id:
        raise FeedbackError("owner_cannot_inspect", "outcome")
    if passed and rect.status == RectificationStatus.CLOSED:
        raise FeedbackError("already_closed", "outcome")
    row = ReInspection(
        rectification_id=rect.id,
        inspector_membership_id=inspector.id,
        passed=passed,
        notes=(notes or "").strip(),
    )
    db.session.add(row)
    if passed:
        rect.status = RectificationStatus.CLOSED
        rect.closed_at = db.utcnow()
    else:
        rect.status = RectificationStatus.OPEN
        rect.closed_at = None
    audit.record("rectification.reinspected", str(rect.id), passed=passed)
    return row


def is_overdue(rect: Rectification, today: date) -> bool:
    return rect.status == RectificationStatus.OPEN and rect.deadline < today


# -- escalation ---------------------------------------------------------------------------


def escalate_overdue(agency: Agency, now: datetime | None = None) -> int:
    """Opinions and complaints past their deadline without an answer go to the
    agency head (its admins), once each, through the notification centre (the
    mandatory `feedback.overdue` kind: in-app and email, keyed by item and
    deadline). Each batch marks `escalated_at` and claims its reminders in one
    transaction (`send_now`, then commit), so a run cut short leaves no item
    marked but untold."""

    now = now or db.utcnow()
    due = list(
        db.session.scalars(
            select(FeedbackItem)
            .where(*overdue(now))
            .order_by(FeedbackItem.due_at)
            .with_for_update(skip_locked=True)
        )
    )
    size = batch_size_setting()
    for start in range(0, len(due), size):
        chunk = due[start : start + size]
        for item in chunk:
            item.escalated_at = now
            audit.record("feedback.escalated", str(item.id), kind=item.kind)
            if item.kind == FeedbackKind.COMPLAINT:
                announce(
                    "complaint.overdue", item.id, due_at=item.due_at.isoformat() if item.due_at else None
                )
        send_now(overdue_dues(agency, chunk))
        db.session.commit()
    return len(due)
