"""Read models of the carer's schedule: the columns a list shows, read in one
statement whose cost is bounded by the days asked for, never by a client's or
an agency's history.

`week_statement` is what the schedule page, the API and the calendar feed
run; `client_file_visits` is the visits' part of a page of the client's file;
tests/test_performance.py reads their plans.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Integer, Select, String, Text, and_, bindparam, cast, func, literal, null, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from saas import db
from saas.links import UrlPattern
from saas.models import Agency
from tenants.catalogue.models import ServiceItem
from tenants.clients.models import Client
from tenants.clients.signals import TimelineEntry, TimelineLine, TimelineWanted
from tenants.scheduling import services
from tenants.scheduling.labels import visit_status_label
from tenants.scheduling.models import ServiceRecord, Visit, VisitStatus
from tenants.staffing.models import StaffFile

# the most visits one schedule shows (62 days of a full-time carer fit)
MAX_ROWS = 500


@dataclass(slots=True)  # not frozen: a frozen dataclass costs three times as much to make
class ScheduleRow:
    """One visit on a carer's schedule, as the page, the API and the feed show it."""

    id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    starts: datetime  # in the agency's time zone
    ends: datetime
    status: str
    client: str
    address: str | None
    service: str
    checklist: list[str]
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    # what the last service record of this client before this visit says
    last_notes: str | None


def last_record_before(visit: Any) -> Any:
    """The latest service record of the visit's client before the visit: a
    LATERAL read backwards on ix_visits_client_completed, stopping at the first."""
    earlier = aliased(Visit, name="earlier")
    return (
        select(ServiceRecord.notes, ServiceRecord.what_was_done)
        .select_from(earlier)
        .join(
            ServiceRecord,
            and_(ServiceRecord.tenant_id == earlier.tenant_id, ServiceRecord.visit_id == earlier.id),
        )
        .where(
            earlier.client_id == visit.client_id,
            earlier.status == VisitStatus.COMPLETED,
            earlier.starts_at < visit.starts_at,
        )
        .order_by(earlier.starts_at.desc())
        .limit(1)
        .lateral("last_record")
    )


def _week(staff_id: ColumnElement[Any]) -> Select[Any]:
    last = last_record_before(Visit)
    return (
        select(  # `_rows` reads these by position
            Visit.id,
            Visit.starts_at,
            Visit.ends_at,
            Visit.status,
            # as text: a week's visits share a few checklists, each parsed once (`_checklist`)
            cast(Visit.checklist, Text).label("checklist"),
            Visit.checked_in_at,
            Visit.checked_out_at,
            Client.full_name,
            Client.preferred_name,
            Client.address,
            ServiceItem.name.label("service"),
            last.c.notes,
            last.c.what_was_done,
        )
        .join(Client, and_(Client.tenant_id == Visit.tenant_id, Client.id == Visit.client_id))
        .join(
            ServiceItem,
            and_(ServiceItem.tenant_id == Visit.tenant_id, ServiceItem.id == Visit.service_item_id),
        )
        .outerjoin(last, true())
        .where(
            Visit.staff_file_id == staff_id,
            Visit.starts_at >= bindparam("lo"),
            Visit.starts_at < bindparam("hi"),
            Visit.status != VisitStatus.CANCELLED,
        )
        .order_by(Visit.starts_at)
        .limit(MAX_ROWS)
    )


# The statements are built once per process (building one costs more than
# running it): each request binds only its own values.
@cache
def _member_week() -> Select[Any]:
    week = _week(StaffFile.id).lateral("week")
    return (
        select(week, StaffFile.id.label("staff_id"))
        .select_from(StaffFile)
        .outerjoin(week, true())
        .where(StaffFile.membership_id == bindparam("membership_id"))
        .order_by(week.c.starts_at)
    )


@cache
def _staff_week() -> Select[Any]:
    return _week(bindparam("staff_id"))


def _bounds(agency: Agency, first: date, last: date) -> dict[str, datetime]:
    return {"lo": services.at_local(agency, first, "00:00"), "hi": services.at_local(agency, last, "00:00")}


def week_statement(agency: Agency, membership_id: uuid.UUID, first: date, last: date) -> Select[Any]:
    """A member's staff file and its visits between two local days: one row
    per visit, one row with no visit when there is none, no row without a
    staff file."""
    return _member_week().params(membership_id=membership_id, **_bounds(agency, first, last))


def _rows(agency: Agency, result: Any) -> list[ScheduleRow]:
    tz = services.tz_of(agency)
    # by position, in `_week`'s order (a row's lookup by name costs more than
    # making the row); the member's statement adds its staff file's id last
    return [
        ScheduleRow(
            id=id_,
            starts_at=starts_at,
            ends_at=ends_at,
            starts=starts_at.astimezone(tz),
            ends=ends_at.astimezone(tz),
            status=status,
            client=preferred_name or full_name,
            address=address,
            service=service,
            checklist=_checklist(checklist),
            checked_in_at=checked_in_at,
            checked_out_at=checked_out_at,
            last_notes=(notes or what_was_done) if notes is not None else None,
        )
        for (
            id_,
            starts_at,
            ends_at,
            status,
            checklist,
            checked_in_at,
            checked_out_at,
            full_name,
            preferred_name,
            address,
            service,
            notes,
            what_was_done,
            *_staff_id,
        ) in result
        if id_ is not None
    ]


@lru_cache(maxsize=512)
def _parsed(checklist: str) -> tuple[Any, ...]:
    return tuple(json.loads(checklist) or ())


def _checklist(checklist: str | None) -> list[Any]:
    return list(_parsed(checklist)) if checklist else []


def member_schedule(
    agency: Agency, membership_id: uuid.UUID, first: date, last: date
) -> list[ScheduleRow] | None:
    """The member's visits from local day `first` up to (not including) `last`,
    or None when they have no staff file in this agency."""
    values = {"membership_id": membership_id, **_bounds(agency, first, last)}
    result = db.session.execute(_member_week(), values).all()
    if not result:
        return None
    return _rows(agency, result)


def staff_schedule(agency: Agency, staff_id: uuid.UUID, first: date, last: date) -> list[ScheduleRow]:
    """A staff file's visits from local day `first` up to (not including) `last`."""
    values = {"staff_id": staff_id, **_bounds(agency, first, last)}
    return _rows(agency, db.session.execute(_staff_week(), values).all())


# -- the client's file -----------------------------------------------------------------------


def client_file_visits(wanted: TimelineWanted) -> Select[Any]:
    """A page of a client's past visits (not those still only booked), newest
    first, each with what its record says was done or why it was cancelled:
    ix_visits_client_start read backwards from where the page starts."""
    return (
        select(
            Visit.starts_at.label("at"),
            Visit.local_day.label("on"),
            Visit.id.label("ref"),
            Visit.id.label("link"),
            literal("visit", String).label("kind"),
            Visit.status.label("label"),
            null().cast(Integer).label("number"),
            func.coalesce(func.nullif(ServiceRecord.what_was_done, ""), Visit.cancel_reason).label("detail"),
        )
        .outerjoin(
            ServiceRecord,
            and_(ServiceRecord.tenant_id == Visit.tenant_id, ServiceRecord.visit_id == Visit.id),
        )
        .where(
            Visit.client_id == wanted.client_id,
            Visit.starts_at < db.utcnow(),
            Visit.status != VisitStatus.SCHEDULED,
            *wanted.older(Visit.starts_at, Visit.id),
        )
        .order_by(Visit.starts_at.desc(), Visit.id.desc())
        .limit(wanted.limit)
    )


def visit_entries(lines: Sequence[TimelineLine]) -> list[TimelineEntry]:
    """The file's words for its visit lines: labels and the link made once per page."""
    titles = {s.value: _("Visit (%(status)s)", status=visit_status_label(s)) for s in VisitStatus}
    visit_url = UrlPattern("scheduling.visit", "visit_id")
    return [
        TimelineEntry(
            line.on,
            "visit",
            titles.get(line.label or "", line.label or ""),
            line.detail or "",
            visit_url(line.link),
        )
        for line in lines
    ]
