"""When a visit may be: the agency's time zone, its local day and clock,
the booking horizon."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from saas import db
from saas.models import Agency
from tenants.scheduling.errors import VisitError

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def tz_of(agency: Agency) -> ZoneInfo:
    return agency.zone


def local_now(agency: Agency) -> datetime:
    return agency.local_now()


# Visits are booked at most two years ahead (and a schedule read no further):
# a date beyond is a typing mistake, and near the end of the calendar the
# arithmetic on it (end time, time zone) would overflow.
VISIT_HORIZON_YEARS = 2
# the earliest day a schedule is read from: the ends of the calendar are not days of care
EARLIEST_DAY = date(2000, 1, 1)


def latest_visit_day(agency: Agency) -> date:
    """The last local day a visit may be booked on: two years from today
    (29 February gives 28 February two years on)."""
    today = agency.today()
    try:
        return today.replace(year=today.year + VISIT_HORIZON_YEARS)
    except ValueError:
        return today.replace(year=today.year + VISIT_HORIZON_YEARS, day=28)


def check_visit_start(agency: Agency, day: date, hhmm: str) -> None:
    """The rules for when a visit is booked or moved to (pages and API alike):
    a time as HH:MM, a day from today to two years ahead. Checked before any
    arithmetic on them, which overflows at the ends of the calendar."""
    try:
        hours, minutes = (int(x) for x in hhmm.split(":"))
        time(hours, minutes)
    except ValueError:
        raise VisitError("time_format", "start_time") from None
    check_visit_day(agency, day)


def check_visit_day(agency: Agency, day: date, field: str = "day") -> None:
    """The day a visit is booked or moved to: from today to two years ahead."""
    if day < agency.today():
        raise VisitError("in_past", field)
    if day > latest_visit_day(agency):
        raise VisitError("too_far_ahead", field, latest=latest_visit_day(agency).isoformat())


def future_start(agency: Agency, day: date, hhmm: str) -> datetime:
    """When a visit booked or moved to `hhmm` on `day` starts, as an aware UTC
    datetime: the rules of `check_visit_start`, and not a moment already past."""
    check_visit_start(agency, day, hhmm)
    try:
        starts = at_local(agency, day, hhmm)
    except ValueError:
        raise VisitError("time_format", "start_time") from None
    if starts <= db.utcnow():
        raise VisitError("in_past", "day")
    return starts


def at_local(agency: Agency, day: date, hhmm: str) -> datetime:
    """A local wall-clock time on a day, as an aware UTC datetime. zoneinfo
    resolves the hour skipped or repeated by daylight saving (fold=0)."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=tz_of(agency)).astimezone(UTC)
