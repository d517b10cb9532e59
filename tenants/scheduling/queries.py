"""Read models of the carer's schedule: the columns a list shows, read in one
statement whose cost is bounded by the days asked for, never by a client's or
an agency's history.

`week_statement` is what the schedule page, the API and the calendar feed
run; `client_file_visits` is the visits' part of a page of the client's file;
tests/core/test_performance.py reads their plans.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import (
    Integer,
    Select,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    cast,
    column,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union,
    values,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from saas import db
from saas.links import UrlPattern
from saas.models import Agency, Membership, Role, User
from tenants.catalogue.models import ServiceItem
from tenants.clients.models import Client, RiskAssessment, ServicePlan
from tenants.clients.read_log import log_reads
from tenants.clients.signals import TimelineEntry, TimelineLine, TimelineWanted
from tenants.scheduling import services
from tenants.scheduling.labels import refusal_labels, visit_status_label
from tenants.scheduling.models import (
    AssignmentOverride,
    CalendarFeed,
    CancellationRequest,
    ServiceRecord,
    Visit,
    VisitStatus,
)
from tenants.staffing.models import StaffFile
from tenants.staffing.services import names_of

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
    # what the latest service record of this client says
    last_notes: str | None


def latest_record(visit: Any) -> Any:
    """The client's latest service record: a LATERAL reading the client's
    completed visits backwards on ix_visits_client_completed, stopping at the
    first, and its record's words by the unique (tenant_id, visit_id), looked
    up for that one row (a subquery keyed on the visit, so the lookup is an
    index probe whatever the planner knows of the tables). The latest one, even
    when it is of this very visit or a later one: a carer back on the schedule
    after checking out reads what was just written, not the record before it."""
    earlier = aliased(Visit, name="earlier")

    def said(column: Any) -> Any:
        return (
            select(column)
            .where(ServiceRecord.tenant_id == earlier.tenant_id, ServiceRecord.visit_id == earlier.id)
            .correlate(earlier)
            .scalar_subquery()
        )

    return (
        select(
            said(ServiceRecord.notes).label("notes"), said(ServiceRecord.what_was_done).label("what_was_done")
        )
        .select_from(earlier)
        .where(
            earlier.tenant_id == visit.tenant_id,
            earlier.client_id == visit.client_id,
            earlier.status == VisitStatus.COMPLETED,
        )
        .order_by(earlier.starts_at.desc())
        .limit(1)
        .lateral("last_record")
    )


def _week(staff_id: ColumnElement[Any]) -> Select[Any]:
    last = latest_record(Visit)
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
            Visit.client_id,  # for the read log (`_run`)
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
    return _zone_bounds(services.tz_of(agency), first, last)


# keyed by the zone, not the agency: each request loads its own Agency object,
# which would make every request a new entry
@lru_cache(maxsize=1024)
def _zone_bounds(zone: ZoneInfo, first: date, last: date) -> dict[str, datetime]:
    midnight = time(0, 0)
    return {
        "lo": datetime.combine(first, midnight, tzinfo=zone).astimezone(UTC),
        "hi": datetime.combine(last, midnight, tzinfo=zone).astimezone(UTC),
    }


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
            *_client_and_staff_id,
        ) in result
        if id_ is not None
    ]


@lru_cache(maxsize=512)
def _parsed(checklist: str) -> tuple[Any, ...]:
    return tuple(json.loads(checklist) or ())


def _checklist(checklist: str | None) -> list[Any]:
    return list(_parsed(checklist)) if checklist else []


def _run(
    statement: Select[Any], values: dict[str, Any], section: str | None, reader: uuid.UUID | None
) -> Any:
    """Run a schedule statement; with a `section`, each client shown is logged
    as read by `reader` (one INSERT of the rows' clients). Not a data-modifying
    CTE in the same statement: Citus runs that INSERT ... SELECT through COPY,
    which it refuses under row-level security."""
    result = db.session.execute(statement, values).all()
    if section is not None:
        log_reads((row.client_id for row in result), section, reader)
    return result


def member_schedule(
    agency: Agency,
    membership_id: uuid.UUID,
    first: date,
    last: date,
    *,
    section: str | None = None,
    reader: uuid.UUID | None = None,
) -> list[ScheduleRow] | None:
    """The member's visits from local day `first` up to (not including) `last`,
    or None when they have no staff file in this agency. With a `section`, the
    read of each client shown is logged for `reader`."""
    values = {"membership_id": membership_id, **_bounds(agency, first, last)}
    result = _run(_member_week(), values, section, reader)
    if not result:
        return None
    return _rows(agency, result)


def staff_schedule(
    agency: Agency,
    staff_id: uuid.UUID,
    first: date,
    last: date,
    *,
    section: str | None = None,
    reader: uuid.UUID | None = None,
) -> list[ScheduleRow]:
    """A staff file's visits from local day `first` up to (not including) `last`
    (with a `section`, each client shown logged as read by `reader`)."""
    values = {"staff_id": staff_id, **_bounds(agency, first, last)}
    return _rows(agency, _run(_staff_week(), values, section, reader))


def feed_reader(staff_id: uuid.UUID) -> uuid.UUID | None:
    """Whose calendar feed it is: the staff file's person, named in the read log."""
    return db.session.scalar(
        select(Membership.user_id)
        .join(
            StaffFile,
            and_(StaffFile.tenant_id == Membership.tenant_id, StaffFile.membership_id == Membership.id),
        )
        .where(StaffFile.id == staff_id)
    )


# -- the client's file -----------------------------------------------------------------------


def client_file_visits(wanted: TimelineWanted) -> Select[Any]:
    """A page of a client's past visits (not those still only booked), newest
    first, each with what its record says was done or why it was cancelled:
    ix_visits_client_start read backwards from where the page starts."""
    # the record (one per visit) read by a subquery, not an outer join: inside
    # the file's statement Citus refuses the join on PostgreSQL 15 and 16
    # ("Distributed queries with outer joins and pseudoconstant quals")
    recorded = (
        select(ServiceRecord.what_was_done)
        .where(ServiceRecord.tenant_id == Visit.tenant_id, ServiceRecord.visit_id == Visit.id)
        .scalar_subquery()
    )
    return (
        select(
            Visit.starts_at.label("at"),
            Visit.local_day.label("on"),
            Visit.id.label("ref"),
            Visit.id.label("link"),
            literal("visit", String).label("kind"),
            Visit.status.label("label"),
            null().cast(Integer).label("number"),
            func.coalesce(func.nullif(recorded, ""), Visit.cancel_reason).label("detail"),
        )
        .where(
            Visit.client_id == wanted.client_id,
            Visit.starts_at < wanted.now,
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


# -- the coordinator's board and the visit sheet ---------------------------------------------

BOARD_ROWS = 200


@dataclass(frozen=True, slots=True)
class Board:
    """What needs the coordinator: flagged visits not resolved, visits of the
    next 7 days with nobody, records asking for attention, the clients'
    cancellation requests; each (row, ..., client name), oldest first."""

    flagged: list[Any]
    unassigned: list[Any]
    attention: list[Any]
    requests: list[Any]


def _visit_client() -> Any:
    return and_(Client.tenant_id == Visit.tenant_id, Client.id == Visit.client_id)


def board(now: datetime) -> Board:
    flagged = db.session.execute(
        select(Visit, Client.full_name)
        .join(Client, _visit_client())
        .where(
            or_(Visit.late_flagged_at.isnot(None), Visit.missed_flagged_at.isnot(None)),
            Visit.flag_resolved_at.is_(None),
            Visit.checked_in_at.is_(None),
        )
        .order_by(Visit.starts_at)
        .limit(BOARD_ROWS)
    ).all()
    unassigned = db.session.execute(
        select(Visit, Client.full_name)
        .join(Client, _visit_client())
        .where(
            Visit.staff_file_id.is_(None),
            Visit.status == VisitStatus.SCHEDULED,
            Visit.starts_at >= now,
            Visit.starts_at < now + timedelta(days=7),
        )
        .order_by(Visit.starts_at)
        .limit(BOARD_ROWS)
    ).all()
    attention = db.session.execute(
        select(ServiceRecord, Visit, Client.full_name)
        .join(Visit, and_(Visit.tenant_id == ServiceRecord.tenant_id, Visit.id == ServiceRecord.visit_id))
        .join(Client, _visit_client())
        .where(ServiceRecord.needs_attention.is_(True), ServiceRecord.attention_resolved_at.is_(None))
        .order_by(ServiceRecord.created_at)
        .limit(BOARD_ROWS)
    ).all()
    requests = db.session.execute(
        select(CancellationRequest, Visit, Client.full_name)
        .join(
            Visit,
            and_(Visit.tenant_id == CancellationRequest.tenant_id, Visit.id == CancellationRequest.visit_id),
        )
        .join(Client, _visit_client())
        .where(CancellationRequest.handled_at.is_(None))
        .order_by(CancellationRequest.created_at)
        .limit(BOARD_ROWS)
    ).all()
    return Board(list(flagged), list(unassigned), list(attention), list(requests))


@dataclass(frozen=True, slots=True)
class VisitSheet:
    """What the visit sheet shows besides the visit: the client, the service's
    name, the latest risk assessment of the plan's case, the client's last
    service record before this visit (record, starts_at), this visit's record,
    the carer's name."""

    client: Client | None
    item_name: str | None
    risk: RiskAssessment | None
    last: Any
    record: ServiceRecord | None
    carer: str | None
    overrides: list[OverrideRow]


@dataclass
class OverrideRow:
    """One assignment despite refusals: when, by whom, to whom, which checks, why."""

    at: datetime
    by: str | None
    carer: str | None
    refusals: list[str]
    reason: str
    visit_id: uuid.UUID
    visit_starts_at: datetime | None = None

    @property
    def checks(self) -> str:
        """The checks it lifted, in the reader's language."""
        return refusal_labels(self.refusals)


def overrides_of(
    *, visit_id: uuid.UUID | None = None, staff_id: uuid.UUID | None = None
) -> list[OverrideRow]:
    """The assignment overrides of one visit or of one worker (the last 20),
    newest first, in one statement."""
    by_user = aliased(User)
    carer_user = aliased(User)
    stmt = (
        select(AssignmentOverride, by_user.name, carer_user.name, Visit.starts_at)
        .join(
            Visit,
            and_(Visit.tenant_id == AssignmentOverride.tenant_id, Visit.id == AssignmentOverride.visit_id),
        )
        .join(
            StaffFile,
            and_(
                StaffFile.tenant_id == AssignmentOverride.tenant_id,
                StaffFile.id == AssignmentOverride.staff_file_id,
            ),
        )
        .join(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .join(carer_user, carer_user.id == Membership.user_id)
        .outerjoin(by_user, by_user.id == AssignmentOverride.by_user_id)
        .order_by(AssignmentOverride.created_at.desc())
        .limit(20)
    )
    if visit_id is not None:
        stmt = stmt.where(AssignmentOverride.visit_id == visit_id)
    if staff_id is not None:
        stmt = stmt.where(AssignmentOverride.staff_file_id == staff_id)
    return [
        OverrideRow(o.created_at, by, carer, list(o.refusals or []), o.reason, o.visit_id, starts)
        for o, by, carer, starts in db.session.execute(stmt)
    ]


def visit_sheet(visit: Visit, *, reader: uuid.UUID | None) -> VisitSheet:
    """In a fixed number of queries; the read of the client's part logged for `reader`."""
    client = db.session.scalar(select(Client).where(Client.id == visit.client_id))
    log_reads([visit.client_id], "visit", reader)
    item_name = db.session.scalar(select(ServiceItem.name).where(ServiceItem.id == visit.service_item_id))
    risk = db.session.scalar(
        select(RiskAssessment)
        .join(ServicePlan, ServicePlan.case_id == RiskAssessment.case_id, isouter=True)
        .where(RiskAssessment.case_id.in_(select(ServicePlan.case_id).where(ServicePlan.id == visit.plan_id)))
        .order_by(RiskAssessment.assessed_on.desc())
        .limit(1)
    )
    last = db.session.execute(
        select(ServiceRecord, Visit.starts_at)
        .join(Visit, and_(Visit.tenant_id == ServiceRecord.tenant_id, Visit.id == ServiceRecord.visit_id))
        .where(Visit.client_id == visit.client_id, Visit.starts_at < visit.starts_at)
        .order_by(Visit.starts_at.desc())
        .limit(1)
    ).first()
    record = record_of(visit.id)
    carer = names_of([visit.staff_file_id]).get(visit.staff_file_id) if visit.staff_file_id else None
    return VisitSheet(client, item_name, risk, last, record, carer, overrides_of(visit_id=visit.id))


def record_of(visit_id: uuid.UUID) -> ServiceRecord | None:
    return db.session.scalar(select(ServiceRecord).where(ServiceRecord.visit_id == visit_id))


def carer_choices() -> list[tuple[str, str]]:
    """(staff file id, name) of the active carers, by name: whom a visit may be given to."""
    rows = db.session.execute(
        select(StaffFile.id, User.name)
        .join(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True), Membership.role == Role.CARER)
        .order_by(User.name)
        .limit(2000)
    ).all()
    return [(str(i), n) for i, n in rows]


def service_choices() -> list[tuple[str, str]]:
    """(id, name) of the catalogue's active services, by name."""
    return [
        (str(i), n)
        for i, n in db.session.execute(
            select(ServiceItem.id, ServiceItem.name)
            .where(ServiceItem.active.is_(True))
            .order_by(ServiceItem.name)
        )
    ]


def feed_active_since(staff_id: uuid.UUID) -> datetime | None:
    """When the carer's calendar feed in use was issued (None: none is)."""
    return db.session.scalar(
        select(CalendarFeed.created_at).where(
            CalendarFeed.staff_file_id == staff_id, CalendarFeed.revoked_at.is_(None)
        )
    )


def live_feed(token_hash: str) -> CalendarFeed | None:
    """The calendar feed of this secret, not revoked, while its carer still
    belongs to the agency."""
    return db.session.scalar(
        select(CalendarFeed)
        .join(
            StaffFile,
            and_(StaffFile.tenant_id == CalendarFeed.tenant_id, StaffFile.id == CalendarFeed.staff_file_id),
        )
        .join(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .where(
            CalendarFeed.token_hash == token_hash,
            CalendarFeed.revoked_at.is_(None),
            Membership.active.is_(True),
        )
    )


# -- the client portal -----------------------------------------------------------------------


def portal_visits(client_ids: list[uuid.UUID], condition: Any, order: Any, limit: int = 30) -> list[Any]:
    """Visits for the portal: date, time, the carer's first name, the record
    summary; nothing else about the carer."""
    return list(
        db.session.execute(
            select(Visit, ServiceItem.name, User.name, ServiceRecord.what_was_done, CancellationRequest.id)
            .join(ServiceItem, ServiceItem.id == Visit.service_item_id)
            .outerjoin(StaffFile, StaffFile.id == Visit.staff_file_id)
            .outerjoin(Membership, Membership.id == StaffFile.membership_id)
            .outerjoin(User, User.id == Membership.user_id)
            .outerjoin(ServiceRecord, ServiceRecord.visit_id == Visit.id)
            .outerjoin(
                CancellationRequest,
                and_(CancellationRequest.visit_id == Visit.id, CancellationRequest.handled_at.is_(None)),
            )
            .where(Visit.client_id.in_(client_ids), condition)
            .order_by(order)
            .limit(limit)
        )
    )


def upcoming_portal_visits(client_ids: list[uuid.UUID], now: datetime, limit: int = 30) -> list[Any]:
    return portal_visits(
        client_ids,
        and_(Visit.starts_at >= now, Visit.status == VisitStatus.SCHEDULED),
        Visit.starts_at.asc(),
        limit,
    )


def past_portal_visits(client_ids: list[uuid.UUID], now: datetime, limit: int = 30) -> list[Any]:
    return portal_visits(client_ids, Visit.starts_at < now, Visit.starts_at.desc(), limit)


# -- visits at risk -----------------------------------------------------------------------------

AT_RISK_ROWS = 200


@dataclass(frozen=True, slots=True)
class AtRiskRow:
    """A visit to come whose carer would no longer pass a check on its day:
    a required certificate missing or expired by then, or pre-service
    training short of the agency's hours."""

    visit_id: uuid.UUID
    starts_at: datetime
    client: str
    carer: str
    staff_file_id: uuid.UUID
    code: str  # certificate_expired, certificate_missing, pre_service_hours
    type_name: str = ""
    expired_on: date | None = None
    hours: Decimal | None = None
    required: Decimal | None = None

    @property
    def reason(self) -> str:
        if self.code == "certificate_expired":
            return _(
                "A certificate expires before the visit (%(date)s): %(type)s.",
                type=self.type_name,
                date=format_date(self.expired_on, "medium") if self.expired_on else "",
            )
        if self.code == "certificate_missing":
            return _("No valid certificate on the day of the visit: %(type)s.", type=self.type_name)
        return _(
            "%(hours)s of the %(required)s hours of pre-service training done.",
            hours=f"{(self.hours or Decimal(0)).normalize():f}",
            required=f"{(self.required or Decimal(0)).normalize():f}",
        )


def visits_at_risk(agency: Agency, now: datetime, limit: int = AT_RISK_ROWS) -> list[AtRiskRow]:
    """The assigned visits to come whose carer fails, on the visit's day, a
    check that lets nobody through without an override: each required
    certificate (of the carer's role, and the service's own) valid that day,
    and the pre-service hours. Read when asked, never stored, so a certificate
    expiring or a rule changing shows at once; a worker an admin's
    assignability override covers that day is left out. Three statements
    whatever the number of visits."""
    from tenants.staffing.models import AssignabilityOverride, Certificate, CertificateType
    from tenants.staffing.settings import workforce_settings
    from tenants.training.models import Course, Enrolment, TrainingSession

    settings = workforce_settings(agency)
    covered = (
        select(AssignabilityOverride.id)
        .where(
            AssignabilityOverride.tenant_id == Visit.tenant_id,
            AssignabilityOverride.staff_file_id == Visit.staff_file_id,
            AssignabilityOverride.active_on(Visit.local_day),
        )
        .exists()
    )
    upcoming = (
        select(
            Visit.tenant_id,
            Visit.id.label("visit_id"),
            Visit.staff_file_id,
            Visit.local_day,
            Visit.starts_at,
            Visit.required_certificate_type_id,
            StaffFile.staff_role,
        )
        .join(StaffFile, and_(StaffFile.tenant_id == Visit.tenant_id, StaffFile.id == Visit.staff_file_id))
        .where(
            Visit.status == VisitStatus.SCHEDULED,
            Visit.checked_in_at.is_(None),
            Visit.starts_at > now,
            ~covered,
        )
        .cte("upcoming")
    )
    # each certificate type a visit's carer needs that day: the service's, and their role's
    needed_parts = [
        select(
            upcoming.c.tenant_id,
            upcoming.c.visit_id,
            upcoming.c.staff_file_id,
            upcoming.c.local_day,
            upcoming.c.starts_at,
            upcoming.c.required_certificate_type_id.label("type_id"),
        ).where(upcoming.c.required_certificate_type_id.isnot(None))
    ]
    pairs = [(role, type_id) for role, ids in settings.required_certificate_types.items() for type_id in ids]
    if pairs:
        by_role = values(column("role", String), column("type_id", Uuid), name="by_role").data(pairs)
        needed_parts.append(
            select(
                upcoming.c.tenant_id,
                upcoming.c.visit_id,
                upcoming.c.staff_file_id,
                upcoming.c.local_day,
                upcoming.c.starts_at,
                by_role.c.type_id,
            ).join(by_role, by_role.c.role == upcoming.c.staff_role)
        )
    needed = union(*needed_parts).subquery("needed") if len(needed_parts) > 1 else needed_parts[0].subquery()
    held = and_(
        Certificate.tenant_id == needed.c.tenant_id,
        Certificate.staff_file_id == needed.c.staff_file_id,
        Certificate.certificate_type_id == needed.c.type_id,
        Certificate.issued_on <= needed.c.local_day,
    )
    valid = select(Certificate.id).where(held, Certificate.valid_on(needed.c.local_day)).exists()
    latest = select(func.max(Certificate.expires_on)).where(held).scalar_subquery()
    found: dict[uuid.UUID, list[tuple[uuid.UUID, str, str, date | None]]] = {}
    certificate_rows = db.session.execute(
        select(needed.c.visit_id, needed.c.staff_file_id, CertificateType.name, latest.label("latest"))
        .join(
            CertificateType,
            and_(CertificateType.tenant_id == needed.c.tenant_id, CertificateType.id == needed.c.type_id),
        )
        .where(~valid)
        .order_by(needed.c.starts_at, needed.c.visit_id)
        .limit(limit * 4)
    ).all()
    for visit_id, staff_id, type_name, expired in certificate_rows:
        code = "certificate_expired" if expired is not None else "certificate_missing"
        found.setdefault(visit_id, []).append((staff_id, code, type_name, expired))
    training: dict[uuid.UUID, Decimal] = {}
    if settings.pre_service_hours > 0:
        hours = (
            select(func.coalesce(func.sum(Enrolment.attended_hours), 0))
            .join(
                TrainingSession,
                and_(
                    TrainingSession.tenant_id == Enrolment.tenant_id,
                    TrainingSession.id == Enrolment.session_id,
                ),
            )
            .join(
                Course,
                and_(Course.tenant_id == TrainingSession.tenant_id, Course.id == TrainingSession.course_id),
            )
            .where(
                Enrolment.tenant_id == upcoming.c.tenant_id,
                Enrolment.staff_file_id == upcoming.c.staff_file_id,
                Course.counts_as == "pre_service",
                TrainingSession.held_on <= upcoming.c.local_day,
                Enrolment.attended_hours.isnot(None),
            )
            .scalar_subquery()
        )
        for visit_id, staff_id, done in db.session.execute(
            select(upcoming.c.visit_id, upcoming.c.staff_file_id, hours.label("done"))
            .where(hours < settings.pre_service_hours)
            .order_by(upcoming.c.starts_at, upcoming.c.visit_id)
            .limit(limit)
        ):
            training[visit_id] = Decimal(done)
            found.setdefault(visit_id, []).append((staff_id, "pre_service_hours", "", None))
    if not found:
        return []
    carer_user = aliased(User)
    shown = db.session.execute(
        select(Visit.id, Visit.starts_at, Client.preferred_name, Client.full_name, carer_user.name)
        .join(Client, _visit_client())
        .join(StaffFile, and_(StaffFile.tenant_id == Visit.tenant_id, StaffFile.id == Visit.staff_file_id))
        .join(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .join(carer_user, carer_user.id == Membership.user_id)
        .where(Visit.id.in_(list(found)))
        .order_by(Visit.starts_at, Visit.id)
        .limit(limit)
    ).all()
    rows = []
    for visit_id, starts_at, preferred, full, carer in shown:
        for staff_id, code, type_name, expired in found[visit_id]:
            rows.append(
                AtRiskRow(
                    visit_id,
                    starts_at,
                    preferred or full,
                    carer,
                    staff_id,
                    code,
                    type_name,
                    expired,
                    training.get(visit_id) if code == "pre_service_hours" else None,
                    settings.pre_service_hours if code == "pre_service_hours" else None,
                )
            )
    return rows


# -- the home dashboards -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitFigures:
    """The coordinator's visit figures: today's visits (local day) by status,
    visits of the next 7 days with nobody, late and missed visits not dealt
    with, records asking for attention, clients' cancellation requests."""

    today: dict[str, int]
    unassigned: int
    late: int
    missed: int
    attention: int
    requests: int

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> VisitFigures:
        """From a row of `visit_figures`."""
        return cls(
            today={s.value: row[s.value] for s in VisitStatus},
            unassigned=row["unassigned"],
            late=row["flag_late"],
            missed=row["flag_missed"],
            attention=row["attention"],
            requests=row["requests"],
        )


def _count(*conditions: Any, of: Any = Visit) -> Any:
    # not correlated: a count of the whole table, beside today's
    return select(func.count()).select_from(of).where(*conditions).correlate(None).scalar_subquery()


def visit_figures(today: date, now: datetime) -> Select[Any]:
    """One row: today's visits counted by status, and the board's counts
    (`board`'s conditions) as scalar subqueries (`VisitFigures.of` reads it)."""
    open_flag = and_(Visit.flag_resolved_at.is_(None), Visit.checked_in_at.is_(None))
    return (
        select(
            *(func.count().filter(Visit.status == s).label(s.value) for s in VisitStatus),
            _count(
                Visit.staff_file_id.is_(None),
                Visit.status == VisitStatus.SCHEDULED,
                Visit.starts_at >= now,
                Visit.starts_at < now + timedelta(days=7),
            ).label("unassigned"),
            _count(Visit.late_flagged_at.isnot(None), Visit.missed_flagged_at.is_(None), open_flag).label(
                "flag_late"
            ),
            _count(Visit.missed_flagged_at.isnot(None), open_flag).label("flag_missed"),
            _count(
                ServiceRecord.needs_attention.is_(True),
                ServiceRecord.attention_resolved_at.is_(None),
                of=ServiceRecord,
            ).label("attention"),
            _count(CancellationRequest.handled_at.is_(None), of=CancellationRequest).label("requests"),
        )
        .select_from(Visit)
        .where(Visit.local_day == today)
    )


@dataclass(frozen=True, slots=True)
class DayRow:
    """One visit of a day's list on the board."""

    id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    status: str
    client: str
    carer: str | None
    service: str


def day_visits(day: date, status: str | None) -> list[DayRow]:
    """The visits of one local day (those of one status when given), by time,
    with the client's and the carer's names: one statement."""
    carer = (
        select(User.name)
        .join(Membership, and_(Membership.user_id == User.id))
        .join(
            StaffFile,
            and_(StaffFile.tenant_id == Membership.tenant_id, StaffFile.membership_id == Membership.id),
        )
        .where(StaffFile.tenant_id == Visit.tenant_id, StaffFile.id == Visit.staff_file_id)
        .correlate(Visit)
        .scalar_subquery()
    )
    stmt = (
        select(
            Visit.id,
            Visit.starts_at,
            Visit.ends_at,
            Visit.status,
            Client.full_name,
            carer.label("carer"),
            ServiceItem.name,
        )
        .join(Client, _visit_client())
        .join(
            ServiceItem,
            and_(ServiceItem.tenant_id == Visit.tenant_id, ServiceItem.id == Visit.service_item_id),
        )
        .where(Visit.local_day == day)
        .order_by(Visit.starts_at, Visit.id)
        .limit(BOARD_ROWS)
    )
    if status:
        stmt = stmt.where(Visit.status == status)
    return [DayRow(*row) for row in db.session.execute(stmt)]


# -- the API's visit list ----------------------------------------------------------------


def api_visits(
    first: date | None,
    last: date | None,
    *,
    staff_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
    status: str | None = None,
) -> Select[Any]:
    """Visits with their client's and carer's names and the service's, by
    local day range (inclusive), carer, client and status: one statement (the
    API's paging orders it by start and id). Starts with (starts_at, id)."""
    carer = aliased(User)
    stmt = (
        select(Visit.starts_at, Visit.id, Visit, Client.full_name, ServiceItem.name, carer.name)
        .join(Client, and_(Client.tenant_id == Visit.tenant_id, Client.id == Visit.client_id))
        .join(
            ServiceItem,
            and_(ServiceItem.tenant_id == Visit.tenant_id, ServiceItem.id == Visit.service_item_id),
        )
        .outerjoin(
            StaffFile, and_(StaffFile.tenant_id == Visit.tenant_id, StaffFile.id == Visit.staff_file_id)
        )
        .outerjoin(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .outerjoin(carer, carer.id == Membership.user_id)
    )
    if first is not None:
        stmt = stmt.where(Visit.local_day >= first)
    if last is not None:
        stmt = stmt.where(Visit.local_day <= last)
    if staff_id is not None:
        stmt = stmt.where(Visit.staff_file_id == staff_id)
    if client_id is not None:
        stmt = stmt.where(Visit.client_id == client_id)
    if status:
        stmt = stmt.where(Visit.status == status)
    return stmt


def api_visit(visit_id: uuid.UUID) -> Any | None:
    """One visit as the API's list shows it, or None."""
    return db.session.execute(api_visits(None, None).where(Visit.id == visit_id)).first()
