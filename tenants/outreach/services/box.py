"""The opinion box: its locations, the daily log (backfilled days marked) and
the month of every box with the days missed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Date, DateTime, and_, cast, func, literal, literal_column, select

from saas import audit, db
from saas.models import Agency, Role, User
from saas.settings import agency_setting
from tenants.feedback.queries import slips_entered
from tenants.outreach import MANAGE_OUTREACH
from tenants.outreach.models import (
    BoxLocation,
    BoxLog,
)
from tenants.outreach.services.common import (
    agency_or_current,
    clean_text,
    count_problem,
    flush_unique,
    is_staff,
    raise_if,
)


def may_log_box(agency: Agency, role: str) -> bool:
    if role in MANAGE_OUTREACH:
        return True
    return role == Role.CARER and bool(agency_setting(agency, "opinion_box_carers_may_log"))


# -- opinion box: locations -------------------------------------------------------------------


def locations(*, active_only: bool = False) -> list[BoxLocation]:
    stmt = select(BoxLocation).order_by(BoxLocation.active.desc(), BoxLocation.name)
    if active_only:
        stmt = stmt.where(BoxLocation.active.is_(True))
    return list(db.session.scalars(stmt))


def add_location(agency: Agency, name: str) -> BoxLocation:
    name = clean_text(name)
    problems: list[tuple[str, str]] = []
    if not name:
        problems.append(("name", "required"))
    elif len(name) > 120:
        problems.append(("name", "too_long"))
    elif db.session.scalar(select(BoxLocation.id).where(func.lower(BoxLocation.name) == name.lower())):
        problems.append(("name", "location_taken"))
    raise_if(problems)
    row = BoxLocation(name=name, since=agency.today(), active=True)
    db.session.add(row)
    flush_unique(("name", "location_taken"))
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
        if problem := count_problem("slips", data.slips):
            problems.append(problem)
    else:
        if not clean_text(data.not_opened_reason):
            problems.append(("not_opened_reason", "reason_required"))
        if data.slips:
            problems.append(("slips", "slips_unopened"))
    if not is_staff(data.opened_by_membership_id, kept):
        problems.append(("opened_by", "staff_unknown"))
    return problems


def _log_values(data: BoxLogData) -> dict[str, Any]:
    return {
        "opened": bool(data.opened),
        "slips": (data.slips or 0) if data.opened else 0,
        "not_opened_reason": "" if data.opened else clean_text(data.not_opened_reason),
        "opened_by_membership_id": data.opened_by_membership_id,
        "notes": clean_text(data.notes),
    }


def find_log(location_id: uuid.UUID, day: date) -> BoxLog | None:
    return db.session.scalar(select(BoxLog).where(BoxLog.location_id == location_id, BoxLog.day == day))


def log_box(agency: Agency, data: BoxLogData, *, by: User | None) -> BoxLog:
    """Log one box for one day. Today or a past day (marked as backfilled, with
    who entered it and when); never a day still to come."""
    problems = _log_problems(agency, data, new=True)
    if not problems and find_log(data.location_id, data.day) is not None:  # type: ignore[arg-type]
        problems.append(("day", "already_logged"))
    raise_if(problems)
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
    flush_unique(("day", "already_logged"))
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
    problems = _log_problems(agency, data, new=False, kept=row.opened_by_membership_id)
    # the slips already entered as feedback items stay counted against the day
    entered = slips_entered(row.id)
    if not problems and entered and (not data.opened or (data.slips or 0) < entered):
        problems.append(("slips", "slips_below_entered"))
    raise_if(problems)
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
    agency = agency_or_current(agency)
    if not agency_setting(agency, "opinion_box_enabled"):
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
