"""Timesheets: each carer's pay period read in one SELECT for all carers
(visits worked from check-in to check-out, the travel between consecutive
visits of a day up to the agency's travel time, weekdays of time off at a
fifth of the contracted week), stored in bulk, approved, exported."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    and_,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
)

from saas import audit, db
from saas.models import Agency, User
from saas.settings import agency_setting
from tenants.backoffice.errors import BackOfficeError
from tenants.backoffice.models import EntryKind, Timesheet, TimesheetEntry, TimesheetStatus
from tenants.scheduling.models import Visit, VisitStatus
from tenants.staffing.models import StaffFile, StaffTimeOff

MAX_PERIOD_DAYS = 31
BATCH = 1000


def check_period(agency: Agency, start: date | None, end: date | None) -> tuple[date, date]:
    if start is None:
        raise BackOfficeError("required", "period_start")
    if end is None:
        raise BackOfficeError("required", "period_end")
    if end < start:
        raise BackOfficeError("period_order", "period_end")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise BackOfficeError("period_too_long", "period_end", days=MAX_PERIOD_DAYS)
    return start, end


def _minutes(interval: Any) -> Any:
    return cast(func.round(extract("epoch", interval) / 60), Integer)


def entry_rows(agency: Agency, start: date, end: date, staff_ids: list[uuid.UUID] | None) -> Any:
    """The period's entries of every carer (or those named), one SELECT:
    each visit worked (its booked and worked minutes), the travel before it
    from the carer's previous visit that day (the gap, at most the agency's
    travel time), and each weekday of time off."""
    buffer = int(agency_setting(agency, "travel_buffer_minutes"))
    worked = select(
        Visit.staff_file_id,
        Visit.id.label("visit_id"),
        Visit.local_day.label("day"),
        Visit.checked_in_at,
        Visit.checked_out_at,
        _minutes(Visit.ends_at - Visit.starts_at).label("booked"),
        _minutes(Visit.checked_out_at - Visit.checked_in_at).label("worked"),
        func.lag(Visit.checked_out_at)
        .over(partition_by=(Visit.staff_file_id, Visit.local_day), order_by=Visit.checked_in_at)
        .label("previous_out"),
    ).where(
        Visit.status == VisitStatus.COMPLETED,
        Visit.staff_file_id.isnot(None),
        Visit.checked_out_at.isnot(None),
        Visit.local_day >= start,
        Visit.local_day <= end,
    )
    if staff_ids is not None:
        worked = worked.where(Visit.staff_file_id.in_(staff_ids))
    worked = worked.subquery("worked")
    gap = _minutes(worked.c.checked_in_at - worked.c.previous_out)
    visits = select(
        worked.c.staff_file_id,
        literal(EntryKind.VISIT.value).label("kind"),
        worked.c.day,
        worked.c.visit_id,
        worked.c.checked_in_at.label("starts_at"),
        worked.c.checked_out_at.label("ends_at"),
        worked.c.booked.label("booked_minutes"),
        worked.c.worked.label("minutes"),
    )
    travel = select(
        worked.c.staff_file_id,
        literal(EntryKind.TRAVEL.value).label("kind"),
        worked.c.day,
        worked.c.visit_id,
        worked.c.previous_out.label("starts_at"),
        worked.c.checked_in_at.label("ends_at"),
        literal(0).label("booked_minutes"),
        func.least(func.greatest(gap, 0), buffer).label("minutes"),
    ).where(worked.c.previous_out.isnot(None), gap > 0, literal(buffer) > 0)
    days = select(
        StaffTimeOff.tenant_id,
        StaffTimeOff.staff_file_id,
        cast(
            func.generate_series(
                func.greatest(StaffTimeOff.starts_on, start),
                func.least(StaffTimeOff.ends_on, end),
                timedelta(days=1),
            ),
            Date,
        ).label("day"),
    ).where(StaffTimeOff.starts_on <= end, StaffTimeOff.ends_on >= start)
    if staff_ids is not None:
        days = days.where(StaffTimeOff.staff_file_id.in_(staff_ids))
    days = days.subquery("days")
    time_off = (
        select(
            days.c.staff_file_id,
            literal(EntryKind.TIME_OFF.value).label("kind"),
            days.c.day,
            null().label("visit_id"),
            null().label("starts_at"),
            null().label("ends_at"),
            literal(0).label("booked_minutes"),
            cast(func.round(StaffFile.contracted_hours * 12), Integer).label("minutes"),
        )
        .join(StaffFile, and_(StaffFile.tenant_id == days.c.tenant_id, StaffFile.id == days.c.staff_file_id))
        .where(extract("isodow", days.c.day) < 6)
    )
    return union_all(visits, travel, time_off)


def _overlapping(start: date, end: date, staff_ids: list[uuid.UUID] | None) -> dict[uuid.UUID, Timesheet]:
    stmt = select(Timesheet).where(Timesheet.period_start <= end, Timesheet.period_end >= start)
    if staff_ids is not None:
        stmt = stmt.where(Timesheet.staff_file_id.in_(staff_ids))
    return {t.staff_file_id: t for t in db.session.scalars(stmt)}


def build(
    agency: Agency, start: date | None, end: date | None, staff_id: uuid.UUID | None, *, by: User | None
) -> tuple[int, int]:
    """Draft timesheets for the period: for the carer named, or for every
    member of staff who worked or had time off in it. A draft of exactly the
    same period is built again; a carer with another timesheet overlapping
    the period is left alone (refused when named). Returns (built, skipped)."""
    start, end = check_period(agency, start, end)
    staff_ids = None
    if staff_id is not None:
        if db.session.scalar(select(StaffFile.id).where(StaffFile.id == staff_id)) is None:
            raise BackOfficeError("staff_unknown", "staff_id")
        staff_ids = [staff_id]
    existing = _overlapping(start, end, staff_ids)
    rebuilt = [
        t.id
        for t in existing.values()
        if t.status == TimesheetStatus.DRAFT and (t.period_start, t.period_end) == (start, end)
    ]
    if staff_id is not None and staff_id in existing and not rebuilt:
        raise BackOfficeError("timesheet_overlap", "period_start")
    rows = db.session.execute(entry_rows(agency, start, end, staff_ids)).mappings().all()
    by_staff: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        by_staff[row["staff_file_id"]].append(row)
    if staff_id is not None and not by_staff:
        raise BackOfficeError("nothing_worked", "period_start")
    if rebuilt:
        db.session.execute(delete(TimesheetEntry).where(TimesheetEntry.timesheet_id.in_(rebuilt)))
        db.session.execute(delete(Timesheet).where(Timesheet.id.in_(rebuilt)))
    skipped = {s for s, t in existing.items() if t.id not in rebuilt}
    sheets, entries = [], []
    now = db.utcnow()
    for staff, found in by_staff.items():
        if staff in skipped:
            continue
        sheet_id = db.new_id()
        totals = {k: 0 for k in ("visit_minutes", "booked_minutes", "travel_minutes", "time_off_minutes")}
        for row in found:
            kind = row["kind"]
            if kind == EntryKind.VISIT:
                totals["visit_minutes"] += row["minutes"]
                totals["booked_minutes"] += row["booked_minutes"]
            elif kind == EntryKind.TRAVEL:
                totals["travel_minutes"] += row["minutes"]
            else:
                totals["time_off_minutes"] += row["minutes"]
            entries.append(
                {
                    "tenant_id": agency.id,
                    "id": db.new_id(),
                    "timesheet_id": sheet_id,
                    "kind": kind,
                    "day": row["day"],
                    "visit_id": row["visit_id"],
                    "starts_at": row["starts_at"],
                    "ends_at": row["ends_at"],
                    "booked_minutes": row["booked_minutes"],
                    "minutes": row["minutes"],
                    "note": "",
                }
            )
        sheets.append(
            {
                "tenant_id": agency.id,
                "id": sheet_id,
                "staff_file_id": staff,
                "period_start": start,
                "period_end": end,
                "status": TimesheetStatus.DRAFT,
                "built_at": now,
                "built_by_user_id": by.id if by else None,
                "approved_at": None,
                "approved_by_user_id": None,
                **totals,
            }
        )
    for at in range(0, len(sheets), BATCH):
        db.session.execute(insert(Timesheet), sheets[at : at + BATCH])
    for at in range(0, len(entries), BATCH):
        db.session.execute(insert(TimesheetEntry), entries[at : at + BATCH])
    audit.record(
        "timesheets.built",
        f"{start.isoformat()}/{end.isoformat()}",
        actor_id=by.id if by else None,
        built=len(sheets),
        skipped=len(skipped & set(by_staff)),
    )
    return len(sheets), len(skipped & set(by_staff))


def approve(sheet: Timesheet, *, by: User | None) -> None:
    if sheet.status != TimesheetStatus.DRAFT:
        raise BackOfficeError("not_approvable")
    sheet.status = TimesheetStatus.APPROVED
    sheet.approved_at = db.utcnow()
    sheet.approved_by_user_id = by.id if by else None
    audit.record("timesheet.approved", str(sheet.id), actor_id=by.id if by else None)


def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


PAY_CODES = {EntryKind.VISIT: "VISIT", EntryKind.TRAVEL: "TRAVEL", EntryKind.TIME_OFF: "TIMEOFF"}
# the payroll import's columns, in this order (README and the timesheets page state them)
EXPORT_COLUMNS = (
    "employee_number",
    "employee_name",
    "period_start",
    "period_end",
    "work_date",
    "pay_code",
    "hours",
)
