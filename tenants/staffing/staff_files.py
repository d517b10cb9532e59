"""Staff files: opening and editing them (with the member's account and
invitation), who a file belongs to, employment, and time off."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from saas import audit, db
from saas.auth.services import invite
from saas.models import Membership, Role, User
from tenants.staffing.errors import Problem, raise_if, too_long
from tenants.staffing.models import (
    JOB_ROLES,
    WEEKDAYS,
    RecruitmentRecord,
    StaffFile,
    StaffTimeOff,
)
from tenants.staffing.settings import (
    agency_in_scope,
)

TIME_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*[-–~至]\s*([01]\d|2[0-4]):([0-5]\d)$")
MAX_CASELOAD_LIMIT = 100_000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def user_id_of(by: User | None) -> uuid.UUID | None:
    """Who acted, for the `*_by_id` columns (None for the system)."""
    return by.id if by is not None else None


def membership_role_for(staff_role: str) -> Role:
    return Role.COORDINATOR if staff_role == "coordinator" else Role.CARER


def clean_list(values: Iterable[str], *, limit: int = 30, length: int = 60) -> list[str]:
    cleaned = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    return [v[:length] for v in cleaned[:limit]]


def parse_availability(texts: dict[str, str]) -> dict[str, list[list[str]]]:
    """{"mon": "08:00-12:00, 14:00-18:00"} -> {"mon": [["08:00", "12:00"], ...]}.
    Raises ValueError on anything else."""
    result: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        text = (texts.get(day) or "").strip()
        if not text:
            continue
        ranges = []
        for part in re.split(r"[,;，；]+", text):
            part = part.strip()
            if not part:
                continue
            match = TIME_RANGE.match(part)
            if not match:
                raise ValueError(day)
            start, end = f"{match[1]}:{match[2]}", f"{match[3]}:{match[4]}"
            if end <= start or end > "24:00":
                raise ValueError(day)
            ranges.append([start, end])
        ranges.sort()
        for (_s1, e1), (s2, _e2) in zip(ranges, ranges[1:], strict=False):
            if s2 < e1:
                raise ValueError(day)
        if ranges:
            result[day] = ranges
    return result


def availability_texts(availability: dict[str, Any] | None) -> dict[str, str]:
    return {day: ", ".join(f"{a}-{b}" for a, b in (availability or {}).get(day, [])) for day in WEEKDAYS}


@dataclass
class StaffInput:
    staff_role: str
    employment_start: date | None
    employment_end: date | None = None
    staff_number: str | None = None
    contracted_hours: Decimal | None = Decimal(0)
    home_area: str = ""
    skills: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    availability: dict[str, str] = field(default_factory=dict)
    caseload_limit: int | None = None
    community_limit: int | None = None
    notes: str = ""


def staff_input_problems(data: StaffInput) -> tuple[list[Problem], dict[str, list[list[str]]]]:
    """Checks that need no database; returns the problems and the parsed availability."""
    problems: list[Problem] = []
    if data.staff_role not in JOB_ROLES:
        problems.append(Problem("role_unknown", "staff_role"))
    if data.employment_start is None:
        problems.append(Problem("required", "employment_start"))
    elif data.employment_end is not None and data.employment_end < data.employment_start:
        problems.append(Problem("employment_dates", "employment_end"))
    if data.contracted_hours is None:
        data.contracted_hours = Decimal(0)
    # a form's default is the number 0, an int
    data.contracted_hours = Decimal(data.contracted_hours)
    # "NaN" is a decimal a form accepts, and compares with nothing
    if not data.contracted_hours.is_finite() or not Decimal(0) <= data.contracted_hours <= Decimal(168):
        problems.append(Problem("range", "contracted_hours", {"min": 0, "max": 168}))
    for name in ("caseload_limit", "community_limit"):
        value = getattr(data, name)
        if value is not None and value < 0:
            problems.append(Problem("negative", name))
        elif value is not None and value > MAX_CASELOAD_LIMIT:
            # the column's integer; the agency's own settings stop at this too
            problems.append(Problem("range", name, {"min": 0, "max": MAX_CASELOAD_LIMIT}))
    too_long(problems, "staff_number", data.staff_number, 40)
    too_long(problems, "home_area", data.home_area, 120)
    too_long(problems, "notes", data.notes, 5000)
    try:
        availability = parse_availability(data.availability)
    except ValueError as exc:
        problems.append(Problem("availability_format", f"availability_{exc.args[0]}"))
        availability = {}
    return problems, availability


def _staff_number_taken(number: str | None, exclude: uuid.UUID | None = None) -> bool:
    if not number:
        return False
    stmt = select(StaffFile.id).where(StaffFile.staff_number == number)
    if exclude is not None:
        stmt = stmt.where(StaffFile.id != exclude)
    return db.session.scalar(stmt) is not None


def _apply(staff: StaffFile, data: StaffInput, availability: dict[str, list[list[str]]]) -> None:
    staff.staff_role = data.staff_role
    staff.employment_start = data.employment_start
    staff.employment_end = data.employment_end
    staff.staff_number = data.staff_number or None
    staff.contracted_hours = data.contracted_hours or Decimal(0)
    staff.home_area = (data.home_area or "").strip()
    staff.skills = clean_list(data.skills)
    staff.languages = clean_list(data.languages)
    staff.availability = availability
    staff.caseload_limit = data.caseload_limit
    staff.community_limit = data.community_limit
    staff.notes = data.notes or ""


def find_membership(email: str) -> tuple[User | None, Membership | None]:
    """The agency's own member with this address (active or not), in one
    statement: accounts elsewhere on the platform are not looked at, so
    whether an address has one changes nothing the admin sees."""
    row = db.session.execute(
        select(User, Membership).join(Membership, Membership.user_id == User.id).where(User.email == email)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def _account_for(email: str, name: str) -> User:
    """The person's account, made (without a password) when the address has
    none: the same statements either way, and an existing account keeps its
    own name. The invitation lets them set a password or sign in to join."""
    db.session.execute(
        pg_insert(User)
        .values(id=db.new_id(), email=email, name=name)
        .on_conflict_do_nothing(index_elements=[User.email])
    )
    return db.session.scalars(select(User).where(User.email == email)).one()


def add_staff(email: str, name: str, data: StaffInput, *, by: User | None) -> StaffFile:
    """Open a staff file. Someone who is not yet a member of the agency gets a
    membership (carer or coordinator, by their staff role) and an invitation
    to set their password; an existing member keeps their membership."""
    email = (email or "").strip().lower()
    name = (name or "").strip()
    problems, availability = staff_input_problems(data)
    if not EMAIL.match(email) or len(email) > 254:
        problems.append(Problem("bad_email", "email"))
    too_long(problems, "name", name, 200)
    user, membership = find_membership(email) if EMAIL.match(email) else (None, None)
    if membership is not None:
        if membership.role == Role.CLIENT:
            problems.append(Problem("member_is_client", "email"))
        elif db.session.scalar(select(StaffFile.id).where(StaffFile.membership_id == membership.id)):
            problems.append(Problem("staff_exists", "email"))
    elif not name:
        # asked of everyone new to the agency, whether or not the address has an account elsewhere
        problems.append(Problem("required", "name"))
    if _staff_number_taken(data.staff_number):
        problems.append(Problem("staff_number_taken", "staff_number"))
    raise_if(problems)

    if membership is None:
        role = membership_role_for(data.staff_role)
        invite(agency_in_scope(), email, role, invited_by=by)
        user = _account_for(email, name)
        membership = Membership(user_id=user.id, role=role)
        db.session.add(membership)
        db.session.flush()
    staff = StaffFile(membership_id=membership.id)
    _apply(staff, data, availability)
    db.session.add(staff)
    db.session.flush()
    db.session.add(RecruitmentRecord(staff_file_id=staff.id))
    db.session.flush()
    audit.record("staff.created", str(staff.id), role=data.staff_role)
    return staff


def update_staff(staff: StaffFile, data: StaffInput) -> None:
    problems, availability = staff_input_problems(data)
    if _staff_number_taken(data.staff_number, exclude=staff.id):
        problems.append(Problem("staff_number_taken", "staff_number"))
    raise_if(problems)
    _apply(staff, data, availability)
    audit.record("staff.updated", str(staff.id))


def staff_person(staff_id: uuid.UUID) -> tuple[StaffFile, Membership, User] | None:
    return db.session.execute(
        select(StaffFile, Membership, User)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(StaffFile.id == staff_id)
    ).first()


def staff_of_membership(membership_id: uuid.UUID) -> StaffFile | None:
    return db.session.scalar(select(StaffFile).where(StaffFile.membership_id == membership_id))


def names_of(staff_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = set(staff_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(StaffFile.id, User.name, User.email)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(StaffFile.id.in_(ids))
    ).all()
    return {r.id: r.name or r.email for r in rows}


def user_names(user_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return {
        r.id: r.name or r.email
        for r in db.session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    }


def is_employed(staff: StaffFile, membership: Membership, at: date) -> bool:
    return membership.active and staff.employed_on(at)


# -- time off ------------------------------------------------------------------------


def add_time_off(staff: StaffFile, starts_on: date | None, ends_on: date | None, reason: str) -> StaffTimeOff:
    problems = []
    if starts_on is None:
        problems.append(Problem("required", "starts_on"))
    if ends_on is None:
        problems.append(Problem("required", "ends_on"))
    if starts_on and ends_on and ends_on < starts_on:
        problems.append(Problem("dates_ordered", "ends_on"))
    too_long(problems, "reason", reason, 200)
    raise_if(problems)
    entry = StaffTimeOff(staff_file_id=staff.id, starts_on=starts_on, ends_on=ends_on, reason=reason or "")
    db.session.add(entry)
    db.session.flush()
    audit.record("staff.time_off_added", str(staff.id), starts_on=str(starts_on), ends_on=str(ends_on))
    return entry


def remove_time_off(entry: StaffTimeOff) -> None:
    db.session.delete(entry)
    audit.record("staff.time_off_removed", str(entry.staff_file_id))
