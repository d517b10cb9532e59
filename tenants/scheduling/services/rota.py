"""The rota board's changes: one visit given from the board (the visit
sheet's checks and override, and the carers told), and the bulk actions (a
plan's visits to their preferred carers, a carer's day to another carer, the
unassigned visits to the best-ranked carers), each through the same checks,
never by override, reporting what was done and what was refused and why."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from saas import audit, db
from saas.models import Agency, User
from saas.settings import agency_setting
from tenants.clients.models import Client, ServicePlan
from tenants.scheduling.assignment_notices import tell_carers
from tenants.scheduling.errors import VisitError
from tenants.scheduling.models import Visit, VisitStatus
from tenants.scheduling.services.assignment import (
    Booked,
    Refusal,
    _ensure_caseload,
    assign,
    check_assignment,
    clash_refusal,
    preferred_staff,
    unassign,
)
from tenants.scheduling.services.timing import at_local, tz_of
from tenants.staffing import services as staffing
from tenants.staffing.models import StaffFile

# the most visits one bulk action takes on (a month of a large agency's plan fits)
BULK_MAX = 2000
CONTINUITY_DAYS = 90


def assign_and_tell(
    agency: Agency,
    visit: Visit,
    staff_id: uuid.UUID,
    *,
    by: User | None,
    role: str,
    override_reason: str = "",
) -> None:
    """`assign` (every check, the override for those allowed), then the carer
    given the visit, and the one it was taken from, are told."""
    previous = visit.staff_file_id
    assign(agency, visit, staff_id, by=by, role=role, override_reason=override_reason)
    if previous == staff_id:
        return
    tell_carers(agency, {staff_id: [visit]}, {previous: [visit]} if previous else {})


def unassign_and_tell(agency: Agency, visit: Visit) -> None:
    previous = visit.staff_file_id
    unassign(visit)
    if previous:
        tell_carers(agency, {}, {previous: [visit]})


@dataclass(frozen=True, slots=True)
class Placed:
    visit_id: uuid.UUID
    starts_at: datetime
    client: str
    staff_file_id: uuid.UUID
    carer: str


@dataclass(frozen=True, slots=True)
class Left:
    """A visit a bulk action left as it was, and every reason why."""

    visit_id: uuid.UUID
    starts_at: datetime
    client: str
    staff_file_id: uuid.UUID | None  # the carer it was meant for (the best ranked, for the fill)
    carer: str
    reasons: list[str]


@dataclass
class BulkOutcome:
    placed: list[Placed] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)


def _open(visit: Visit, now: datetime) -> bool:
    return visit.status == VisitStatus.SCHEDULED and visit.checked_in_at is None and visit.starts_at > now


def _place(
    agency: Agency,
    wanted: list[tuple[Visit, list[uuid.UUID]]],
    *,
    by: User | None,
    how: str,
) -> BulkOutcome:
    """Give each visit to the first of its carers who passes every check,
    the visits this action gave a moment ago counting as booked; never by
    override. A visit nobody passes keeps its carer (or none), with the
    reasons of its first carer. Audited per carer; the carers concerned are
    told once each."""
    outcome = BulkOutcome()
    wanted = sorted(wanted, key=lambda pair: pair[0].starts_at)[:BULK_MAX]
    if not wanted:
        return outcome
    now = db.utcnow()
    visits = [v for v, _c in wanted]
    staff_ids = list(dict.fromkeys(s for _v, c in wanted for s in c))
    checks = check_assignment(agency, visits, staff_ids) if staff_ids else {}
    clients = dict(
        db.session.execute(
            select(Client.id, Client.full_name).where(Client.id.in_({v.client_id for v in visits}))
        ).all()
    )
    names = staffing.names_of(set(staff_ids) | {v.staff_file_id for v in visits if v.staff_file_id})
    buffer = timedelta(minutes=agency_setting(agency, "travel_buffer_minutes"))
    tz = tz_of(agency)
    batch: dict[uuid.UUID, list[Booked]] = defaultdict(list)
    served: set[tuple[uuid.UUID, uuid.UUID]] = set()
    given: dict[uuid.UUID, list[Visit]] = defaultdict(list)
    taken_off: dict[uuid.UUID, list[Visit]] = defaultdict(list)
    for visit, candidates in wanted:
        client = clients.get(visit.client_id, "")
        if not _open(visit, now):
            outcome.left.append(
                Left(visit.id, visit.starts_at, client, None, "", [_("This visit can no longer be changed.")])
            )
            continue
        first_reasons: list[Refusal] | None = None
        chosen = None
        for sid in candidates:
            if sid == visit.staff_file_id:
                continue
            refusals = list(checks[(visit.id, sid)].refusals)
            clash = clash_refusal(visit, batch[sid], buffer, tz)
            if clash is not None and not any(r.code == clash.code for r in refusals):
                refusals.append(clash)
            if not refusals and (sid, visit.client_id) not in served:
                try:
                    # a new client on their caseload, counted with those this action gave them
                    with db.session.begin_nested():
                        _ensure_caseload(agency, visit, sid, by, None)
                except staffing.Invalid as exc:
                    refusals.append(Refusal("caseload_full", " ".join(p.message() for p in exc.problems)))
            if not refusals:
                chosen = sid
                break
            if first_reasons is None:
                first_reasons = refusals
        if chosen is None:
            meant = next((s for s in candidates if s != visit.staff_file_id), None)
            reasons = [r.message for r in first_reasons or []] or [_("No carer to give it to.")]
            outcome.left.append(
                Left(visit.id, visit.starts_at, client, meant, names.get(meant, "") if meant else "", reasons)
            )
            continue
        served.add((chosen, visit.client_id))
        if visit.staff_file_id:
            taken_off[visit.staff_file_id].append(visit)
        visit.staff_file_id = chosen
        visit.assignment_override_reason = None
        visit.assignment_override_by = None
        batch[chosen].append(Booked(visit.starts_at, visit.ends_at, client))
        given[chosen].append(visit)
        outcome.placed.append(Placed(visit.id, visit.starts_at, client, chosen, names.get(chosen, "")))
    for sid, taken in given.items():
        audit.record("visit.bulk_assigned", str(sid), how=how, visits=[str(v.id) for v in taken])
    tell_carers(agency, given, taken_off)
    return outcome


def preferred_for_plan(agency: Agency, plan: ServicePlan, *, by: User | None) -> BulkOutcome:
    """The plan's open visits still to come, each to its line's preferred
    carers in the order chosen (the first who passes every check)."""
    preferred = preferred_staff(plan.id)
    if not preferred:
        raise VisitError("no_preferred_carer")
    visits = db.session.scalars(
        select(Visit)
        .where(
            Visit.plan_id == plan.id,
            Visit.plan_item_id.in_(list(preferred)),
            Visit.staff_file_id.is_(None),
            Visit.status == VisitStatus.SCHEDULED,
            Visit.starts_at > db.utcnow(),
        )
        .order_by(Visit.starts_at)
        .limit(BULK_MAX)
    ).all()
    return _place(agency, [(v, preferred[v.plan_item_id]) for v in visits], by=by, how="preferred")


def move_day(
    agency: Agency, from_staff: uuid.UUID, day: date, to_staff: uuid.UUID, *, by: User | None
) -> BulkOutcome:
    """A carer's open visits of one day (agency time) to another carer; each
    the other cannot take stays with the first, with the reasons."""
    if from_staff == to_staff:
        raise VisitError("same_carer", "to_staff")
    known = set(db.session.scalars(select(StaffFile.id).where(StaffFile.id.in_([from_staff, to_staff]))))
    if to_staff not in known:
        raise VisitError("unknown_carer", "to_staff")
    if from_staff not in known:
        raise VisitError("unknown_carer", "from_staff")
    visits = db.session.scalars(
        select(Visit)
        .where(
            Visit.staff_file_id == from_staff,
            Visit.local_day == day,
            Visit.status == VisitStatus.SCHEDULED,
            Visit.checked_in_at.is_(None),
            Visit.starts_at > db.utcnow(),
        )
        .order_by(Visit.starts_at)
    ).all()
    return _place(agency, [(v, [to_staff]) for v in visits], by=by, how="move_day")


@dataclass(frozen=True, slots=True)
class Proposal:
    """Who the fill would give a visit to (None: nobody passes every check,
    `reasons` then being the best-ranked carer's refusals)."""

    visit_id: uuid.UUID
    starts_at: datetime
    client: str
    staff_file_id: uuid.UUID | None
    carer: str
    why: list[str]
    reasons: list[str]


def propose_fill(agency: Agency, visits: list[Visit], staff_ids: list[uuid.UUID]) -> list[Proposal]:
    """The unassigned visits to come, each to the best-ranked carer among
    `staff_ids` who passes every check, as the visit sheet's suggestions rank
    them (continuity with the client, then fairness: hours booked that week
    against contracted hours), the visits proposed before counting as
    booked. Reads only: `fill` does it once confirmed."""
    now = db.utcnow()
    visits = sorted(
        [v for v in visits if _open(v, now) and v.staff_file_id is None], key=lambda v: v.starts_at
    )
    visits = visits[:BULK_MAX]
    staff_ids = list(dict.fromkeys(staff_ids))
    if not visits:
        return []
    clients = dict(
        db.session.execute(
            select(Client.id, Client.full_name).where(Client.id.in_({v.client_id for v in visits}))
        ).all()
    )
    if not staff_ids:
        return [
            Proposal(
                v.id, v.starts_at, clients.get(v.client_id, ""), None, "", [], [_("No carer to give it to.")]
            )
            for v in visits
        ]
    people = {
        r.id: r
        for r in db.session.execute(
            select(StaffFile.id, StaffFile.contracted_hours).where(StaffFile.id.in_(staff_ids))
        )
    }
    names = staffing.names_of(staff_ids)
    continuity: dict[tuple[uuid.UUID, uuid.UUID], int] = {
        (c, s): int(n)
        for c, s, n in db.session.execute(
            select(Visit.client_id, Visit.staff_file_id, func.count())
            .where(
                Visit.client_id.in_(set(clients)),
                Visit.staff_file_id.in_(staff_ids),
                Visit.starts_at >= visits[0].starts_at - timedelta(days=CONTINUITY_DAYS),
                Visit.status != VisitStatus.CANCELLED,
            )
            .group_by(Visit.client_id, Visit.staff_file_id)
        )
    }
    # minutes booked per carer and week (Monday, agency time), the weeks the visits fall in
    first_monday = visits[0].local_day - timedelta(days=visits[0].local_day.weekday())
    last_monday = visits[-1].local_day - timedelta(days=visits[-1].local_day.weekday())
    lo, hi = (
        at_local(agency, first_monday, "00:00"),
        at_local(agency, last_monday + timedelta(days=7), "00:00"),
    )
    week = func.date_trunc("week", Visit.local_day)
    booked: dict[tuple[uuid.UUID, date], float] = defaultdict(float)
    for sid, monday, minutes in db.session.execute(
        select(
            Visit.staff_file_id, week, func.sum(func.extract("epoch", Visit.ends_at - Visit.starts_at) / 60)
        )
        .where(
            Visit.staff_file_id.in_(staff_ids),
            Visit.starts_at >= lo,
            Visit.starts_at < hi,
            Visit.status != VisitStatus.CANCELLED,
        )
        .group_by(Visit.staff_file_id, week)
    ):
        booked[(sid, monday.date() if isinstance(monday, datetime) else monday)] += float(minutes or 0)
    checks = check_assignment(agency, visits, staff_ids)
    buffer = timedelta(minutes=agency_setting(agency, "travel_buffer_minutes"))
    tz = tz_of(agency)
    batch: dict[uuid.UUID, list[Booked]] = defaultdict(list)
    out = []
    for visit in visits:
        monday = visit.local_day - timedelta(days=visit.local_day.weekday())
        client = clients.get(visit.client_id, "")

        def rank(sid: uuid.UUID, visit: Visit = visit, monday: date = monday) -> tuple[float, str]:
            served = continuity.get((visit.client_id, sid), 0)
            contracted = float(people[sid].contracted_hours or 0) if sid in people else 0.0
            load = booked[(sid, monday)] / 60 / contracted if contracted else 1.0
            return (-(min(served, 20) * 10 + (1 - min(load, 1.0)) * 50), names.get(sid, ""))

        ranked = sorted((s for s in staff_ids if s in people), key=rank)
        chosen = None
        best_refusals: list[Refusal] = []
        for sid in ranked:
            refusals = list(checks[(visit.id, sid)].refusals)
            clash = clash_refusal(visit, batch[sid], buffer, tz)
            if clash is not None and not any(r.code == clash.code for r in refusals):
                refusals.append(clash)
            if not refusals:
                chosen = sid
                break
            if not best_refusals:
                best_refusals = refusals
        if chosen is None:
            meant = ranked[0] if ranked else None
            out.append(
                Proposal(
                    visit.id,
                    visit.starts_at,
                    client,
                    None,
                    names.get(meant, "") if meant else "",
                    [],
                    [r.message for r in best_refusals] or [_("No carer to give it to.")],
                )
            )
            continue
        served = continuity.get((visit.client_id, chosen), 0)
        why = []
        if served:
            why.append(_("Has visited this client %(n)d times lately.", n=served))
        contracted = float(people[chosen].contracted_hours or 0)
        if contracted:
            why.append(
                _(
                    "%(h).1f of %(c).0f contracted hours booked this week.",
                    h=booked[(chosen, monday)] / 60,
                    c=contracted,
                )
            )
        booked[(chosen, monday)] += (visit.ends_at - visit.starts_at).total_seconds() / 60
        batch[chosen].append(Booked(visit.starts_at, visit.ends_at, client))
        continuity[(visit.client_id, chosen)] = served + 1
        out.append(Proposal(visit.id, visit.starts_at, client, chosen, names.get(chosen, ""), why, []))
    return out


def fill(agency: Agency, pairs: list[tuple[uuid.UUID, uuid.UUID]], *, by: User | None) -> BulkOutcome:
    """The confirmed proposal: each (visit, carer) pair given where every
    check still passes (the board may have changed since it was proposed);
    a visit someone took meanwhile is left, with the reason."""
    wanted_by_visit = dict(pairs[:BULK_MAX])
    if not wanted_by_visit:
        raise VisitError("nothing_to_fill")
    visits = db.session.scalars(select(Visit).where(Visit.id.in_(list(wanted_by_visit)))).all()
    known = set(
        db.session.scalars(select(StaffFile.id).where(StaffFile.id.in_(set(wanted_by_visit.values()))))
    )
    wanted: list[tuple[Visit, list[uuid.UUID]]] = []
    taken: list[Visit] = []
    for v in visits:
        if v.staff_file_id is not None:
            taken.append(v)
        else:
            wanted.append((v, [wanted_by_visit[v.id]] if wanted_by_visit[v.id] in known else []))
    outcome = _place(agency, wanted, by=by, how="fill")
    if taken:
        clients = dict(
            db.session.execute(
                select(Client.id, Client.full_name).where(Client.id.in_({v.client_id for v in taken}))
            ).all()
        )
        for v in taken:
            outcome.left.append(
                Left(
                    v.id,
                    v.starts_at,
                    clients.get(v.client_id, ""),
                    None,
                    "",
                    [_("Someone gave this visit a carer meanwhile.")],
                )
            )
        outcome.left.sort(key=lambda left: left.starts_at)
    return outcome


def week_bounds(agency: Agency, monday: date, days: int = 7) -> tuple[datetime, datetime]:
    """The moments a span of local days starts and ends (daylight saving included)."""
    return at_local(agency, monday, "00:00"), at_local(agency, monday + timedelta(days=days), "00:00")


__all__ = [
    "BULK_MAX",
    "BulkOutcome",
    "Left",
    "Placed",
    "Proposal",
    "assign_and_tell",
    "fill",
    "move_day",
    "preferred_for_plan",
    "propose_fill",
    "unassign_and_tell",
    "week_bounds",
]
