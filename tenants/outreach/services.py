"""Rules of the opinion box log, stakeholder opinion rounds and funder
return visits. Views, jobs and other areas (the reminder centre) call these.

Services check everything before writing and raise `OutreachError` with every
problem found (field, code); views put each message next to its field.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Date, DateTime, and_, cast, func, literal, literal_column, select
from sqlalchemy.exc import IntegrityError

from saas import audit, db
from saas.models import STAFF_ROLES, Agency, Membership, Role, User
from tenants.outreach.models import (
    BoxLocation,
    BoxLog,
    Funder,
    FunderVisit,
    RoundMethod,
    StakeholderGroup,
    StakeholderRound,
)
from tenants.staffing.models import Team

# Every number is the agency's own setting; these are the defaults of the domain.
DEFAULTS: dict[str, Any] = {
    "opinion_box_enabled": True,
    # carers may log the box when the agency allows it; by default only admins
    # and coordinators (the people who answer the slips) do
    "opinion_box_carers_may_log": False,
    "opinion_box_reminder_hour": 8,  # local hour from which yesterday's gaps are mailed
    "stakeholder_round_months": 2,
    "funder_visits_per_month": 1,
}
GROUPS = tuple(g.value for g in StakeholderGroup)
METHODS = tuple(m.value for m in RoundMethod)
SUPERVISORS = (Role.ADMIN, Role.COORDINATOR)
# counts are stored as PostgreSQL integers: a larger number is refused with a
# message, never left to fail the insert
MAX_COUNT = 1_000_000


def setting(agency: Agency, key: str) -> Any:
    return agency.setting(key, DEFAULTS[key])


def _agency(agency: Agency | None) -> Agency:
    """The agency given, or the one in scope (jobs and other areas call with ids only)."""
    if agency is not None:
        return agency
    tenant_id = db.current_tenant_id()
    if tenant_id is None:
        raise db.TenantNotSet("outreach")
    found = db.session.get(Agency, tenant_id)
    assert found is not None
    return found


class OutreachError(ValueError):
    """Refused; `problems` lists (field, code) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(", ".join(f"{f}:{c}" for f, c in problems))
        self.problems = problems

    def codes(self) -> set[str]:
        return {c for _, c in self.problems}


def _raise_if(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise OutreachError(problems)


def _text(value: str | None) -> str:
    # PostgreSQL text cannot hold NUL: drop it rather than fail the insert
    return (value or "").replace("\x00", "").strip()


def _count_problem(name: str, value: int | None) -> tuple[str, str] | None:
    if value is None:
        return (name, "required")
    if value < 0:
        return (name, "negative")
    if value > MAX_COUNT:
        return (name, "too_large")
    return None


def staff_choices(keep: uuid.UUID | None = None) -> list[tuple[uuid.UUID, str]]:
    """Active staff members (admins, coordinators, carers), by name, and `keep`
    (who an entry already names, though they may have left): one statement."""
    is_staff = Membership.active.is_(True) & Membership.role.in_([str(r) for r in STAFF_ROLES])
    rows = db.session.execute(
        select(Membership.id, User.name, User.email)
        .join(User, User.id == Membership.user_id)
        .where(is_staff | (Membership.id == keep) if keep is not None else is_staff)
        .order_by(User.name, User.email)
    ).all()
    return [(mid, name or email) for mid, name, email in rows]


def _is_staff(membership_id: uuid.UUID | None, kept: uuid.UUID | None = None) -> bool:
    """An active staff member, or `kept`: the person an entry already names
    stays valid when they leave, so an old entry can still be corrected."""
    if membership_id is None:
        return False
    if membership_id == kept:
        return True
    return (
        db.session.scalar(
            select(Membership.id).where(
                Membership.id == membership_id,
                Membership.active.is_(True),
                Membership.role.in_([str(r) for r in STAFF_ROLES]),
            )
        )
        is not None
    )


def may_log_box(agency: Agency, role: str) -> bool:
    if role in (Role.ADMIN, Role.COORDINATOR):
        return True
    return role == Role.CARER and bool(setting(agency, "opinion_box_carers_may_log"))


def _flush_unique(problem: tuple[str, str]) -> None:
    """Flush inside a savepoint: a unique clash (two people logging the same
    box at once) becomes a message, and nothing else of the request is lost."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise OutreachError([problem]) from None


# -- opinion box: locations -------------------------------------------------------------------


def locations(*, active_only: bool = False) -> list[BoxLocation]:
    stmt = select(BoxLocation).order_by(BoxLocation.active.desc(), BoxLocation.name)
    if active_only:
        stmt = stmt.where(BoxLocation.active.is_(True))
    return list(db.session.scalars(stmt))


def add_location(agency: Agency, name: str) -> BoxLocation:
    name = _text(name)
    problems: list[tuple[str, str]] = []
    if not name:
        problems.append(("name", "required"))
    elif len(name) > 120:
        problems.append(("name", "too_long"))
    elif db.session.scalar(select(BoxLocation.id).where(func.lower(BoxLocation.name) == name.lower())):
        problems.append(("name", "location_taken"))
    _raise_if(problems)
    row = BoxLocation(name=name, since=agency.today(), active=True)
    db.session.add(row)
    _flush_unique(("name", "location_taken"))
    audit.record("opinion_box.location_added", str(row.id), name=name)
    return row


def set_location_active(agency: Agency, row: BoxLocation, active: bool) -> None:
    if row.active == active:
        return
    row.active = active
    if active:
        # logging starts again from today: the days it was down are not gaps
        row.since = agency.today()
    audit.record("opinion_box.location_changed", str(row.id), name=row.name, active=active)


# -- opinion box: the daily log ---------------------------------------------------------------


@dataclass
class BoxLogData:
    location_id: uuid.UUID | None
    day: date | None
    opened: bool | None
    slips: int | None = 0
    opened_by_membership_id: uuid.UUID | None = None
    not_opened_reason: str = ""
    notes: str = ""


def _log_problems(
    agency: Agency, data: BoxLogData, *, new: bool, kept: uuid.UUID | None = None
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if new:
        if data.location_id is None or not db.session.scalar(
            select(BoxLocation.id).where(BoxLocation.id == data.location_id, BoxLocation.active.is_(True))
        ):
            problems.append(("location", "location_unknown"))
        if data.day is None:
            problems.append(("day", "required"))
        elif data.day > agency.today():
            problems.append(("day", "future"))
    if data.opened is None:
        problems.append(("opened", "required"))
    elif data.opened:
        if problem := _count_problem("slips", data.slips):
            problems.append(problem)
    else:
        if not _text(data.not_opened_reason):
            problems.append(("not_opened_reason", "reason_required"))
        if data.slips:
            problems.append(("slips", "slips_unopened"))
    if not _is_staff(data.opened_by_membership_id, kept):
        problems.append(("opened_by", "staff_unknown"))
    return problems


def _log_values(data: BoxLogData) -> dict[str, Any]:
    return {
        "opened": bool(data.opened),
        "slips": (data.slips or 0) if data.opened else 0,
        "not_opened_reason": "" if data.opened else _text(data.not_opened_reason),
        "opened_by_membership_id": data.opened_by_membership_id,
        "notes": _text(data.notes),
    }


def find_log(location_id: uuid.UUID, day: date) -> BoxLog | None:
    return db.session.scalar(select(BoxLog).where(BoxLog.location_id == location_id, BoxLog.day == day))


def log_box(agency: Agency, data: BoxLogData, *, by: User | None) -> BoxLog:
    """Log one box for one day. Today or a past day (marked as backfilled, with
    who entered it and when); never a day still to come."""
    problems = _log_problems(agency, data, new=True)
    if not problems and find_log(data.location_id, data.day) is not None:  # type: ignore[arg-type]
        problems.append(("day", "already_logged"))
    _raise_if(problems)
    assert data.day is not None and data.location_id is not None
    row = BoxLog(
        location_id=data.location_id,
        day=data.day,
        backfilled=data.day < agency.today(),
        recorded_by_user_id=by.id if by else None,
        recorded_at=db.utcnow(),
        **_log_values(data),
    )
    db.session.add(row)
    _flush_unique(("day", "already_logged"))
    audit.record(
        "opinion_box.logged",
        str(row.id),
        location=str(row.location_id),
        day=row.day.isoformat(),
        opened=row.opened,
        slips=row.slips,
        backfilled=row.backfilled,
    )
    return row


def update_box_log(agency: Agency, row: BoxLog, data: BoxLogData, *, by: User | None) -> None:
    _raise_if(_log_problems(agency, data, new=False, kept=row.opened_by_membership_id))
    values = _log_values(data)
    changed = {k: str(v) for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = db.utcnow()
    audit.record("opinion_box.log_changed", str(row.id), day=row.day.isoformat(), **changed)


@dataclass(frozen=True)
class MissedDay:
    location_id: uuid.UUID
    location_name: str
    day: date


def missed_days(start: date, end: date, agency: Agency | None = None) -> list[MissedDay]:
    """Days in [start, end] on which an active box was not logged, from the day
    it was set up, up to yesterday (today is not over). One statement."""
    agency = _agency(agency)
    if not setting(agency, "opinion_box_enabled"):
        return []
    end = min(end, agency.today() - timedelta(days=1))
    if end < start:
        return []
    series = (
        func.generate_series(
            cast(literal(start), DateTime()),
            cast(literal(end), DateTime()),
            literal_column("interval '1 day'"),
        )
        .table_valued("d")
        .render_derived()
    )
    day = cast(series.c.d, Date)
    rows = db.session.execute(
        select(BoxLocation.id, BoxLocation.name, day.label("day"))
        .select_from(BoxLocation)
        .join(series, day >= BoxLocation.since)
        .outerjoin(BoxLog, and_(BoxLog.location_id == BoxLocation.id, BoxLog.day == day))
        .where(BoxLocation.active.is_(True), BoxLog.id.is_(None))
        .order_by(day, BoxLocation.name)
    ).all()
    return [MissedDay(loc_id, name, d) for loc_id, name, d in rows]


@dataclass
class BoxMonth:
    month: date
    days: list[date]
    locations: list[BoxLocation]
    logs: dict[tuple[uuid.UUID, date], BoxLog]
    missed: set[tuple[uuid.UUID, date]]
    today: date

    def state(self, location: BoxLocation, day: date) -> str:
        if (location.id, day) in self.logs:
            log = self.logs[(location.id, day)]
            return "opened" if log.opened else "not_opened"
        if (location.id, day) in self.missed:
            return "missed"
        if day == self.today and location.active:
            return "due"
        return "none"


def box_month(agency: Agency, month: date) -> BoxMonth:
    """One month of every box: three statements whatever the number of days and boxes."""
    first = month.replace(day=1)
    last = first + relativedelta(months=1) - timedelta(days=1)
    rows = list(db.session.scalars(select(BoxLog).where(BoxLog.day.between(first, last))))
    missed = missed_days(first, last, agency)
    return BoxMonth(
        month=first,
        days=[first + timedelta(days=i) for i in range((last - first).days + 1)],
        locations=locations(),
        logs={(r.location_id, r.day): r for r in rows},
        missed={(m.location_id, m.day) for m in missed},
        today=agency.today(),
    )


# -- stakeholder opinion rounds ---------------------------------------------------------------


@dataclass
class RoundData:
    team_id: uuid.UUID | None
    stakeholder_group: str | None
    held_on: date | None
    method: str | None
    participants: int | None
    opinions: int | None
    summary: str
    led_by_membership_id: uuid.UUID | None


def _round_problems(
    agency: Agency, data: RoundData, current_team: uuid.UUID | None, kept: uuid.UUID | None = None
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if data.team_id is None or (
        data.team_id != current_team
        and not db.session.scalar(select(Team.id).where(Team.id == data.team_id, Team.active.is_(True)))
    ):
        problems.append(("team", "team_unknown"))
    if data.stakeholder_group not in GROUPS:
        problems.append(("stakeholder_group", "bad_choice"))
    if data.held_on is None:
        problems.append(("held_on", "required"))
    elif data.held_on > agency.today():
        problems.append(("held_on", "future"))
    if data.method not in METHODS:
        problems.append(("method", "bad_choice"))
    for name in ("participants", "opinions"):
        if problem := _count_problem(name, getattr(data, name)):
            problems.append(problem)
    if not _text(data.summary):
        problems.append(("summary", "required"))
    if not _is_staff(data.led_by_membership_id, kept):
        problems.append(("led_by", "staff_unknown"))
    return problems


def _round_values(data: RoundData) -> dict[str, Any]:
    return {
        "team_id": data.team_id,
        "stakeholder_group": data.stakeholder_group,
        "held_on": data.held_on,
        "method": data.method,
        "participants": data.participants,
        "opinions": data.opinions,
        "summary": _text(data.summary),
        "led_by_membership_id": data.led_by_membership_id,
    }


def record_round(agency: Agency, data: RoundData, *, by: User | None) -> StakeholderRound:
    _raise_if(_round_problems(agency, data, None))
    row = StakeholderRound(recorded_by_user_id=by.id if by else None, **_round_values(data))
    db.session.add(row)
    db.session.flush()
    audit.record(
        "stakeholder_round.recorded",
        str(row.id),
        team=str(row.team_id),
        group=row.stakeholder_group,
        held_on=row.held_on.isoformat(),
    )
    return row


def update_round(agency: Agency, row: StakeholderRound, data: RoundData, *, by: User | None) -> None:
    _raise_if(_round_problems(agency, data, row.team_id, row.led_by_membership_id))
    values = _round_values(data)
    changed = {k: str(v) for k, v in values.items() if getattr(row, k) != v and k != "summary"}
    if row.summary != values["summary"]:
        changed["summary"] = "changed"
    if not changed:
        return
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = db.utcnow()
    audit.record("stakeholder_round.changed", str(row.id), **changed)


@dataclass(frozen=True)
class RoundCell:
    team_id: uuid.UUID
    team_name: str
    stakeholder_group: str
    last_held: date | None
    due: date | None  # None: never held, due now
    overdue: bool


def round_grid(agency: Agency, today: date | None = None) -> list[list[RoundCell]]:
    """Active team x stakeholder group: the last round and the next due date
    (last + the agency's months). A team that never held one is overdue.
    Two statements whatever the number of teams and rounds."""
    today = today or agency.today()
    months = int(setting(agency, "stakeholder_round_months"))
    teams = db.session.execute(
        select(Team.id, Team.name).where(Team.active.is_(True)).order_by(Team.name)
    ).all()
    last = {
        (team_id, group): held
        for team_id, group, held in db.session.execute(
            select(
                StakeholderRound.team_id,
                StakeholderRound.stakeholder_group,
                func.max(StakeholderRound.held_on),
            )
            .join(Team, Team.id == StakeholderRound.team_id)
            .where(Team.active.is_(True))
            .group_by(StakeholderRound.team_id, StakeholderRound.stakeholder_group)
        ).all()
    }
    grid = []
    for team_id, name in teams:
        row = []
        for group in GROUPS:
            held = last.get((team_id, group))
            due = held + relativedelta(months=months) if held else None
            row.append(RoundCell(team_id, name, group, held, due, due is None or due < today))
        grid.append(row)
    return grid


def overdue_rounds(today: date | None = None, agency: Agency | None = None) -> list[RoundCell]:
    """(team, group, due date) of every round overdue on `today` in the agency
    in scope; `due` is None for a team that never held one."""
    agency = _agency(agency)
    return [cell for row in round_grid(agency, today) for cell in row if cell.overdue]


# -- funders and their return visits ----------------------------------------------------------


@dataclass
class FunderData:
    name: str
    contact_person: str = ""
    phone: str = ""
    email: str = ""
    active: bool = True


def _funder_problems(data: FunderData, exclude: uuid.UUID | None = None) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    name = _text(data.name)
    if not name:
        problems.append(("name", "required"))
    elif len(name) > 200:
        problems.append(("name", "too_long"))
    else:
        taken = select(Funder.id).where(func.lower(Funder.name) == name.lower())
        if exclude is not None:
            taken = taken.where(Funder.id != exclude)
        if db.session.scalar(taken):
            problems.append(("name", "funder_taken"))
    email = _text(data.email)
    if email and ("@" not in email or " " in email or len(email) > 254):
        problems.append(("email", "bad_email"))
    if len(_text(data.phone)) > 40:
        problems.append(("phone", "too_long"))
    if len(_text(data.contact_person)) > 200:
        problems.append(("contact_person", "too_long"))
    return problems


def _funder_values(data: FunderData) -> dict[str, Any]:
    return {
        "name": _text(data.name),
        "contact_person": _text(data.contact_person),
        "phone": _text(data.phone),
        "email": _text(data.email),
        "active": bool(data.active),
    }


def create_funder(data: FunderData) -> Funder:
    _raise_if(_funder_problems(data))
    row = Funder(**_funder_values(data))
    db.session.add(row)
    _flush_unique(("name", "funder_taken"))
    audit.record("funder.created", str(row.id), name=row.name)
    return row


def update_funder(row: Funder, data: FunderData) -> None:
    _raise_if(_funder_problems(data, exclude=row.id))
    values = _funder_values(data)
    # contact details are personal data: the log says which fields changed, not their values
    changed = [k for k, v in values.items() if getattr(row, k) != v]
    if not changed:
        return
    for key, value in values.items():
        setattr(row, key, value)
    _flush_unique(("name", "funder_taken"))
    audit.record("funder.changed", str(row.id), name=row.name, active=row.active, fields=changed)


def funders(*, active_only: bool = False) -> list[Funder]:
    stmt = select(Funder).order_by(Funder.active.desc(), Funder.name)
    if active_only:
        stmt = stmt.where(Funder.active.is_(True))
    return list(db.session.scalars(stmt))


@dataclass
class VisitData:
    funder_id: uuid.UUID | None
    visited_on: date | None
    visited_by_membership_id: uuid.UUID | None
    attendees: str = ""
    topics: str = ""
    findings: str = ""
    follow_up: str = ""


def _visit_problems(
    agency: Agency, data: VisitData, current: uuid.UUID | None, kept: uuid.UUID | None = None
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if data.funder_id is None or (
        data.funder_id != current
        and not db.session.scalar(
            select(Funder.id).where(Funder.id == data.funder_id, Funder.active.is_(True))
        )
    ):
        problems.append(("funder", "funder_unknown"))
    if data.visited_on is None:
        problems.append(("visited_on", "required"))
    elif data.visited_on > agency.today():
        problems.append(("visited_on", "future"))
    if not _is_staff(data.visited_by_membership_id, kept):
        problems.append(("visited_by", "staff_unknown"))
    if not _text(data.topics):
        problems.append(("topics", "required"))
    return problems


def _visit_values(data: VisitData) -> dict[str, Any]:
    return {
        "funder_id": data.funder_id,
        "visited_on": data.visited_on,
        "visited_by_membership_id": data.visited_by_membership_id,
        "attendees": _text(data.attendees),
        "topics": _text(data.topics),
        "findings": _text(data.findings),
        "follow_up": _text(data.follow_up),
    }


def record_visit(agency: Agency, data: VisitData, *, by: User | None) -> FunderVisit:
    _raise_if(_visit_problems(agency, data, None))
    row = FunderVisit(recorded_by_user_id=by.id if by else None, **_visit_values(data))
    db.session.add(row)
    db.session.flush()
    audit.record(
        "funder_visit.recorded", str(row.id), funder=str(row.funder_id), visited_on=row.visited_on.isoformat()
    )
    return row


def update_visit(agency: Agency, row: FunderVisit, data: VisitData, *, by: User | None) -> None:
    _raise_if(_visit_problems(agency, data, row.funder_id, row.visited_by_membership_id))
    values = _visit_values(data)
    changed = [k for k, v in values.items() if getattr(row, k) != v]
    if not changed:
        return
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = db.utcnow()
    audit.record("funder_visit.changed", str(row.id), fields=changed)


def _month_counts(first: date, last: date) -> dict[tuple[uuid.UUID, date], int]:
    month = cast(func.date_trunc("month", FunderVisit.visited_on), Date)
    rows = db.session.execute(
        select(FunderVisit.funder_id, month, func.count())
        .where(FunderVisit.visited_on.between(first, last))
        .group_by(FunderVisit.funder_id, month)
    ).all()
    return {(funder_id, m): n for funder_id, m, n in rows}


def _started(funder: Funder, agency: Agency) -> date:
    return funder.created_at.astimezone(agency.zone).date().replace(day=1)


@dataclass(frozen=True)
class FunderMonth:
    month: date
    visits: int
    state: str  # "ok", "missed", "due" (the current month, until its end), "before" (not a funder yet)


def funder_overview(agency: Agency, today: date | None = None) -> list[tuple[Funder, list[FunderMonth]]]:
    """Each active funder, visits per month for the last 12 months (this one
    included). Two statements whatever the number of funders and visits."""
    today = today or agency.today()
    required = int(setting(agency, "funder_visits_per_month"))
    current = today.replace(day=1)
    months = [current - relativedelta(months=i) for i in range(11, -1, -1)]
    counts = _month_counts(months[0], current + relativedelta(months=1) - timedelta(days=1))
    result = []
    for funder in funders(active_only=True):
        started = _started(funder, agency)
        cells = []
        for m in months:
            n = counts.get((funder.id, m), 0)
            if m < started:
                state = "before"
            elif n >= required:
                state = "ok"
            elif m == current:
                state = "due"
            else:
                state = "missed"
            cells.append(FunderMonth(m, n, state))
        result.append((funder, cells))
    return result


def funders_without_visit(month: date, agency: Agency | None = None) -> list[Funder]:
    """Active funders with fewer return visits in `month` than the agency asks
    (1 by default), counting only funders already on the list that month."""
    agency = _agency(agency)
    first = month.replace(day=1)
    last = first + relativedelta(months=1) - timedelta(days=1)
    required = int(setting(agency, "funder_visits_per_month"))
    counts = _month_counts(first, last)
    return [
        f
        for f in funders(active_only=True)
        if _started(f, agency) <= first and counts.get((f.id, first), 0) < required
    ]
