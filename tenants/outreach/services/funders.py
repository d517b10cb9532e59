"""Funders and their return visits, counted per month against the agency's number."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Date, cast, func, select

from saas import audit, db
from saas.models import Agency, User
from saas.settings import agency_setting
from tenants.outreach.models import (
    Funder,
    FunderVisit,
)
from tenants.outreach.services.common import (
    agency_or_current,
    clean_text,
    flush_unique,
    is_staff,
    raise_if,
)


@dataclass
class FunderData:
    name: str
    contact_person: str = ""
    phone: str = ""
    email: str = ""
    active: bool = True


def _funder_problems(data: FunderData, exclude: uuid.UUID | None = None) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    name = clean_text(data.name)
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
    email = clean_text(data.email)
    if email and ("@" not in email or " " in email or len(email) > 254):
        problems.append(("email", "bad_email"))
    if len(clean_text(data.phone)) > 40:
        problems.append(("phone", "too_long"))
    if len(clean_text(data.contact_person)) > 200:
        problems.append(("contact_person", "too_long"))
    return problems


def _funder_values(data: FunderData) -> dict[str, Any]:
    return {
        "name": clean_text(data.name),
        "contact_person": clean_text(data.contact_person),
        "phone": clean_text(data.phone),
        "email": clean_text(data.email),
        "active": bool(data.active),
    }


def create_funder(data: FunderData) -> Funder:
    raise_if(_funder_problems(data))
    row = Funder(**_funder_values(data))
    db.session.add(row)
    flush_unique(("name", "funder_taken"))
    audit.record("funder.created", str(row.id), name=row.name)
    return row


def update_funder(row: Funder, data: FunderData) -> None:
    raise_if(_funder_problems(data, exclude=row.id))
    values = _funder_values(data)
    # contact details are personal data: the log says which fields changed, not their values
    changed = [k for k, v in values.items() if getattr(row, k) != v]
    if not changed:
        return
    for key, value in values.items():
        setattr(row, key, value)
    flush_unique(("name", "funder_taken"))
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
    if not is_staff(data.visited_by_membership_id, kept):
        problems.append(("visited_by", "staff_unknown"))
    if not clean_text(data.topics):
        problems.append(("topics", "required"))
    return problems


def _visit_values(data: VisitData) -> dict[str, Any]:
    return {
        "funder_id": data.funder_id,
        "visited_on": data.visited_on,
        "visited_by_membership_id": data.visited_by_membership_id,
        "attendees": clean_text(data.attendees),
        "topics": clean_text(data.topics),
        "findings": clean_text(data.findings),
        "follow_up": clean_text(data.follow_up),
    }


def record_visit(agency: Agency, data: VisitData, *, by: User | None) -> FunderVisit:
    raise_if(_visit_problems(agency, data, None))
    row = FunderVisit(recorded_by_user_id=by.id if by else None, **_visit_values(data))
    db.session.add(row)
    db.session.flush()
    audit.record(
        "funder_visit.recorded", str(row.id), funder=str(row.funder_id), visited_on=row.visited_on.isoformat()
    )
    return row


def update_visit(agency: Agency, row: FunderVisit, data: VisitData, *, by: User | None) -> None:
    raise_if(_visit_problems(agency, data, row.funder_id, row.visited_by_membership_id))
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
    required = int(agency_setting(agency, "funder_visits_per_month"))
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
    agency = agency_or_current(agency)
    first = month.replace(day=1)
    last = first + relativedelta(months=1) - timedelta(days=1)
    required = int(agency_setting(agency, "funder_visits_per_month"))
    counts = _month_counts(first, last)
    return [
        f
        for f in funders(active_only=True)
        if _started(f, agency) <= first and counts.get((f.id, first), 0) < required
    ]
