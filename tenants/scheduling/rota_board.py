"""The rota board's read model: a week (or a day) of visits, carers as rows
and days as columns, with a lane of the visits no carer has; each carer's
hours booked against contracted and caseload against limit. A fixed number
of statements whatever the number of carers and visits (tests/scheduling/
test_rota.py counts them, bench/rota.py times them at 200 carers)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, exists, func, select, union

from saas import db
from saas.models import Agency, Membership, Role, User
from tenants.catalogue.models import ServiceItem
from tenants.clients.models import Client, ServicePlanItem
from tenants.scheduling.models import Visit, VisitStatus
from tenants.scheduling.services import WEEKDAY_KEYS, tz_of, week_bounds
from tenants.staffing import services as staffing
from tenants.staffing.models import Certificate, CertificateType, StaffFile, StaffTimeOff, Team

# the most carers one board shows (the filters narrow a larger agency), and lane visits
MAX_CARERS = 500
MAX_LANE = 1000


@dataclass(frozen=True, slots=True)
class RotaFilters:
    team: uuid.UUID | None = None
    area: str = ""
    item: uuid.UUID | None = None
    qualification: uuid.UUID | None = None

    @property
    def any(self) -> bool:
        return bool(self.team or self.area or self.item or self.qualification)

    def args(self) -> dict[str, str]:
        """As the board's query string (only those set)."""
        out = {}
        if self.team:
            out["team"] = str(self.team)
        if self.area:
            out["area"] = self.area
        if self.item:
            out["item"] = str(self.item)
        if self.qualification:
            out["qualification"] = str(self.qualification)
        return out


@dataclass(slots=True)
class Chip:
    """One visit on the board."""

    id: uuid.UUID
    day: date
    starts: datetime  # agency time
    ends: datetime
    span: str  # "09:00–10:00"
    minutes: int
    status: str
    client: str
    service: str
    service_item_id: uuid.UUID
    staff_file_id: uuid.UUID | None
    plan_id: uuid.UUID | None
    open: bool  # may still change hands: scheduled, not checked in, to come


@dataclass(slots=True)
class CarerRow:
    id: uuid.UUID
    name: str
    team: str
    area: str
    contracted_hours: Decimal
    booked_minutes: int
    caseload: int
    caseload_limit: int
    days: dict[date, list[Chip]] = field(default_factory=dict)
    time_off: set[date] = field(default_factory=set)
    unavailable: set[date] = field(default_factory=set)

    @property
    def booked_hours(self) -> float:
        return self.booked_minutes / 60

    @property
    def booked_label(self) -> str:
        return _hours(Decimal(self.booked_minutes) / 60)

    @property
    def contracted_label(self) -> str:
        return _hours(self.contracted_hours)

    @property
    def over_hours(self) -> bool:
        return bool(self.contracted_hours) and self.booked_minutes > float(self.contracted_hours) * 60

    @property
    def caseload_full(self) -> bool:
        return self.caseload >= self.caseload_limit


def _hours(value: Decimal) -> str:
    """Hours with at most one decimal, none when whole: 20, 12.5."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True, slots=True)
class PlanChoice:
    """A plan with visits in the lane and a preferred carer on some line."""

    id: uuid.UUID
    client: str
    open_visits: int


@dataclass(slots=True)
class RotaBoard:
    days: list[date]
    carers: list[CarerRow]
    lane: dict[date, list[Chip]]
    lane_count: int
    plans: list[PlanChoice]
    teams: list[tuple[str, str]]
    areas: list[tuple[str, str]]
    items: list[tuple[str, str]]
    qualifications: list[tuple[str, str]]
    more_carers: bool
    more_lane: bool

    @property
    def lane_open(self) -> int:
        return sum(1 for chips in self.lane.values() for c in chips if c.open)


def _chip(tz: Any, r: Any, now: datetime) -> Chip:
    starts, ends = r.starts_at.astimezone(tz), r.ends_at.astimezone(tz)
    return Chip(
        id=r.id,
        day=r.local_day,
        starts=starts,
        ends=ends,
        span=f"{starts:%H:%M}–{ends:%H:%M}",
        minutes=int((r.ends_at - r.starts_at).total_seconds() // 60),
        status=r.status,
        client=r.client,
        service=r.service,
        service_item_id=r.service_item_id,
        staff_file_id=r.staff_file_id,
        plan_id=r.plan_id,
        open=r.status == VisitStatus.SCHEDULED and r.checked_in_at is None and r.starts_at > now,
    )


def _visit_columns() -> tuple[Any, ...]:
    return (
        Visit.id,
        Visit.local_day,
        Visit.starts_at,
        Visit.ends_at,
        Visit.status,
        Visit.checked_in_at,
        Visit.staff_file_id,
        Visit.plan_id,
        Visit.service_item_id,
        Client.full_name.label("client"),
        ServiceItem.name.label("service"),
    )


def _with_client_and_item(stmt: Any) -> Any:
    return stmt.join(Client, and_(Client.tenant_id == Visit.tenant_id, Client.id == Visit.client_id)).join(
        ServiceItem, and_(ServiceItem.tenant_id == Visit.tenant_id, ServiceItem.id == Visit.service_item_id)
    )


def rota_board(agency: Agency, first: date, days: int, filters: RotaFilters, now: datetime) -> RotaBoard:
    """`days` local days from `first` (7: a week, 1: a day); carers who are
    active and employed then, narrowed by the filters (team, home area,
    holding a valid certificate of the qualification); the lane's visits by
    the client's area, the service and the qualification it requires. Hours
    booked count the carer's whole week, whatever the filters show."""
    shown = [first + timedelta(days=i) for i in range(days)]
    monday = first - timedelta(days=first.weekday())
    week_lo, week_hi = week_bounds(agency, monday)
    lo, hi = week_bounds(agency, first, days)
    settings = staffing.workforce_settings(agency)
    tz = tz_of(agency)  # once: an agency's zone is built each time it is asked

    carers_stmt = (
        select(
            StaffFile.id,
            User.name,
            User.email,
            Team.name.label("team"),
            StaffFile.home_area,
            StaffFile.contracted_hours,
            StaffFile.caseload_limit,
            StaffFile.availability,
        )
        .join(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .join(User, User.id == Membership.user_id)
        .outerjoin(Team, and_(Team.tenant_id == StaffFile.tenant_id, Team.id == StaffFile.team_id))
        .order_by(User.name, StaffFile.id)
        .limit(MAX_CARERS + 1)
    )
    people = db.session.execute(_carers_where(carers_stmt, filters, shown[0], shown[-1])).all()
    more_carers = len(people) > MAX_CARERS
    people = people[:MAX_CARERS]
    ids = [p.id for p in people]

    booked: dict[uuid.UUID, int] = defaultdict(int)
    cells: dict[uuid.UUID, dict[date, list[Chip]]] = defaultdict(lambda: defaultdict(list))
    if ids:
        for r in db.session.execute(
            _with_client_and_item(select(*_visit_columns()))
            .where(
                Visit.staff_file_id.in_(ids),
                Visit.starts_at >= min(week_lo, lo),
                Visit.starts_at < max(week_hi, hi),
                Visit.status != VisitStatus.CANCELLED,
            )
            .order_by(Visit.starts_at)
        ):
            if week_lo <= r.starts_at < week_hi:
                booked[r.staff_file_id] += int((r.ends_at - r.starts_at).total_seconds() // 60)
            if lo <= r.starts_at < hi and (filters.item is None or r.service_item_id == filters.item):
                cells[r.staff_file_id][r.local_day].append(_chip(tz, r, now))
    loads = staffing.current_loads(ids, shown[0]) if ids else {}
    off: dict[uuid.UUID, set[date]] = defaultdict(set)
    if ids:
        for sid, a, b in db.session.execute(
            select(StaffTimeOff.staff_file_id, StaffTimeOff.starts_on, StaffTimeOff.ends_on).where(
                StaffTimeOff.staff_file_id.in_(ids),
                StaffTimeOff.starts_on <= shown[-1],
                StaffTimeOff.ends_on >= shown[0],
            )
        ):
            off[sid].update(d for d in shown if a <= d <= b)

    lane_stmt = (
        _with_client_and_item(select(*_visit_columns()))
        .where(
            Visit.staff_file_id.is_(None),
            Visit.status == VisitStatus.SCHEDULED,
            Visit.starts_at >= lo,
            Visit.starts_at < hi,
        )
        .order_by(Visit.starts_at, Visit.id)
        .limit(MAX_LANE + 1)
    )
    if filters.item:
        lane_stmt = lane_stmt.where(Visit.service_item_id == filters.item)
    if filters.area:
        lane_stmt = lane_stmt.where(Client.area == filters.area)
    if filters.qualification:
        lane_stmt = lane_stmt.where(Visit.required_certificate_type_id == filters.qualification)
    lane_rows = db.session.execute(lane_stmt).all()
    more_lane = len(lane_rows) > MAX_LANE
    lane_rows = lane_rows[:MAX_LANE]
    lane: dict[date, list[Chip]] = {d: [] for d in shown}
    for r in lane_rows:
        lane.setdefault(r.local_day, []).append(_chip(tz, r, now))

    plan_ids = {r.plan_id for r in lane_rows if r.plan_id}
    plans: list[PlanChoice] = []
    if plan_ids:
        with_preferred = set(
            db.session.scalars(
                select(ServicePlanItem.plan_id)
                .where(
                    ServicePlanItem.plan_id.in_(plan_ids),
                    func.jsonb_array_length(ServicePlanItem.preferred_staff_ids) > 0,
                )
                .distinct()
            )
        )
        counted: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for r in lane_rows:
            if r.plan_id in with_preferred:
                counted[r.plan_id].append(r)
        plans = sorted(
            (PlanChoice(pid, rows[0].client, len(rows)) for pid, rows in counted.items()),
            key=lambda p: (p.client, str(p.id)),
        )

    rows = []
    for p in people:
        availability = p.availability or {}
        limit = p.caseload_limit if p.caseload_limit is not None else settings.caseload_limit_individual
        row = CarerRow(
            id=p.id,
            name=p.name or p.email,
            team=p.team or "",
            area=p.home_area or "",
            contracted_hours=p.contracted_hours or Decimal(0),
            booked_minutes=booked.get(p.id, 0),
            caseload=loads.get(p.id, (0, 0))[0],
            caseload_limit=limit,
            days={d: cells[p.id].get(d, []) for d in shown} if p.id in cells else {d: [] for d in shown},
            time_off=off.get(p.id, set()),
            unavailable={
                d for d in shown if availability and not availability.get(WEEKDAY_KEYS[d.weekday()])
            },
        )
        rows.append(row)
    return RotaBoard(
        days=shown,
        carers=rows,
        lane=lane,
        lane_count=len(lane_rows),
        plans=plans,
        more_carers=more_carers,
        more_lane=more_lane,
        **filter_choices(),
    )


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The filters' options: active teams, the areas carers and clients are
    in, active services, active certificate types; four statements."""
    teams = [
        (str(i), n)
        for i, n in db.session.execute(
            select(Team.id, Team.name).where(Team.active.is_(True)).order_by(Team.name)
        )
    ]
    named = union(
        select(StaffFile.home_area.label("area")).where(StaffFile.home_area != ""),
        select(Client.area.label("area")).where(Client.area != "", Client.archived_at.is_(None)),
    ).subquery()
    areas = [(a, a) for (a,) in db.session.execute(select(named.c.area).order_by(named.c.area).limit(500))]
    items = [
        (str(i), n)
        for i, n in db.session.execute(
            select(ServiceItem.id, ServiceItem.name)
            .where(ServiceItem.active.is_(True))
            .order_by(ServiceItem.name)
        )
    ]
    qualifications = [
        (str(i), n)
        for i, n in db.session.execute(
            select(CertificateType.id, CertificateType.name)
            .where(CertificateType.active.is_(True))
            .order_by(CertificateType.name)
        )
    ]
    return {"teams": teams, "areas": areas, "items": items, "qualifications": qualifications}


@dataclass(frozen=True, slots=True)
class RotaVisit:
    """What the board's panel says of one visit."""

    id: uuid.UUID
    starts: datetime
    ends: datetime
    client: str
    service: str
    carer: str | None
    staff_file_id: uuid.UUID | None
    open: bool


def rota_visit(agency: Agency, visit: Visit, now: datetime) -> RotaVisit:
    tz = tz_of(agency)
    row = db.session.execute(
        select(Client.full_name, ServiceItem.name, User.name)
        .select_from(Client)
        .join(
            ServiceItem,
            and_(ServiceItem.tenant_id == Client.tenant_id, ServiceItem.id == visit.service_item_id),
        )
        .outerjoin(
            StaffFile, and_(StaffFile.tenant_id == Client.tenant_id, StaffFile.id == visit.staff_file_id)
        )
        .outerjoin(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .outerjoin(User, User.id == Membership.user_id)
        .where(Client.id == visit.client_id)
    ).one()
    return RotaVisit(
        visit.id,
        visit.starts_at.astimezone(tz),
        visit.ends_at.astimezone(tz),
        row[0],
        row[1],
        row[2] if visit.staff_file_id else None,
        visit.staff_file_id,
        visit.status == VisitStatus.SCHEDULED and visit.checked_in_at is None and visit.starts_at > now,
    )


def lane_visits(agency: Agency, first: date, days: int, filters: RotaFilters) -> list[Visit]:
    """The lane's visits as rows, for the fill's proposal (the board's filters)."""
    lo, hi = week_bounds(agency, first, days)
    stmt = (
        select(Visit)
        .join(Client, and_(Client.tenant_id == Visit.tenant_id, Client.id == Visit.client_id))
        .where(
            Visit.staff_file_id.is_(None),
            Visit.status == VisitStatus.SCHEDULED,
            Visit.checked_in_at.is_(None),
            Visit.starts_at >= max(lo, db.utcnow()),
            Visit.starts_at < hi,
        )
        .order_by(Visit.starts_at, Visit.id)
        .limit(MAX_LANE)
    )
    if filters.item:
        stmt = stmt.where(Visit.service_item_id == filters.item)
    if filters.area:
        stmt = stmt.where(Client.area == filters.area)
    if filters.qualification:
        stmt = stmt.where(Visit.required_certificate_type_id == filters.qualification)
    return list(db.session.scalars(stmt))


def board_carer_ids(first: date, days: int, filters: RotaFilters) -> list[uuid.UUID]:
    """The carers the board shows (the fill chooses among them)."""
    stmt = (
        select(StaffFile.id)
        .join(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .order_by(StaffFile.id)
        .limit(MAX_CARERS)
    )
    return list(db.session.scalars(_carers_where(stmt, filters, first, first + timedelta(days=days - 1))))


def _carers_where(stmt: Select[Any], filters: RotaFilters, first: date, last: date) -> Select[Any]:
    """Active carers employed on some day of [first, last], narrowed by the
    filters (a statement already joined to the membership)."""
    stmt = stmt.where(
        Membership.active.is_(True),
        Membership.role == Role.CARER,
        StaffFile.started_by(last),
        StaffFile.leaves_after(first),
    )
    if filters.team:
        stmt = stmt.where(StaffFile.team_id == filters.team)
    if filters.area:
        stmt = stmt.where(StaffFile.home_area == filters.area)
    if filters.qualification:
        stmt = stmt.where(
            exists().where(
                Certificate.tenant_id == StaffFile.tenant_id,
                Certificate.staff_file_id == StaffFile.id,
                Certificate.certificate_type_id == filters.qualification,
                Certificate.issued_on <= first,
                Certificate.valid_on(first),
            )
        )
    return stmt


__all__ = [
    "MAX_CARERS",
    "CarerRow",
    "Chip",
    "PlanChoice",
    "RotaBoard",
    "RotaFilters",
    "RotaVisit",
    "board_carer_ids",
    "filter_choices",
    "lane_visits",
    "rota_board",
    "rota_visit",
]
