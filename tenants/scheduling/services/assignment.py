"""Who may take a visit: every check, with its reasons; assignment with a
recorded override; bulk assignment; suggestions."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from saas import audit, db
from saas.models import Agency, Membership, Role, User
from saas.settings import agency_setting
from tenants.clients.models import Client, ServicePlan, ServicePlanItem
from tenants.scheduling import OVERRIDE_ASSIGNMENT
from tenants.scheduling.errors import VisitError
from tenants.scheduling.labels import refusal_label
from tenants.scheduling.models import AssignmentOverride, Visit, VisitStatus
from tenants.scheduling.services.timing import (
    WEEKDAY_KEYS,
    at_local,
    local_now,
    tz_of,
)
from tenants.staffing import services as staffing
from tenants.staffing.models import CaseloadAssignment, StaffFile, StaffTimeOff


@dataclass
class Refusal:
    code: str
    message: str
    overridable: bool = True


@dataclass
class Check:
    staff_file_id: uuid.UUID
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals


def _local_span(agency: Agency, visit: Visit) -> tuple[str, str, str]:
    tz = tz_of(agency)
    start, end = visit.starts_at.astimezone(tz), visit.ends_at.astimezone(tz)
    return WEEKDAY_KEYS[start.weekday()], start.strftime("%H:%M"), end.strftime("%H:%M")


def within_availability(availability: dict[str, Any] | None, weekday: str, start: str, end: str) -> bool:
    """No pattern recorded means no restriction; otherwise the visit must fit
    in one of the day's windows."""
    if not availability:
        return True
    return any(lo <= start and end <= hi for lo, hi in availability.get(weekday, []))


@dataclass(frozen=True, slots=True)
class Booked:
    """Another visit a worker has: its span and whose it is (the client's
    name, for the refusal's words)."""

    starts_at: datetime
    ends_at: datetime
    client: str


def clash_refusal(visit: Visit, others: list[Booked], buffer: timedelta, tz: Any) -> Refusal | None:
    """The refusal another of the worker's visits causes: an overlap (never
    overridable), or too little time between the two to travel; each names
    the other visit's time and client."""
    overlap = [b for b in others if b.starts_at < visit.ends_at and b.ends_at > visit.starts_at]
    if overlap:
        b = min(overlap, key=lambda b: b.starts_at)
        # a double booking is never allowed, whoever asks and whatever the reason
        return Refusal(
            "overlap",
            _(
                "Overlaps %(start)s–%(end)s with %(client)s.",
                start=b.starts_at.astimezone(tz).strftime("%H:%M"),
                end=b.ends_at.astimezone(tz).strftime("%H:%M"),
                client=b.client,
            ),
            False,
        )
    near = [
        b for b in others if b.starts_at < visit.ends_at + buffer and b.ends_at > visit.starts_at - buffer
    ]
    if not near:
        return None

    def gap(b: Booked) -> timedelta:
        return visit.starts_at - b.ends_at if b.ends_at <= visit.starts_at else b.starts_at - visit.ends_at

    b = min(near, key=gap)
    return Refusal(
        "travel_time",
        _(
            "Only %(gap)d minutes between this visit and %(start)s–%(end)s with %(client)s: "
            "travel needs %(m)d.",
            gap=int(gap(b).total_seconds() // 60),
            start=b.starts_at.astimezone(tz).strftime("%H:%M"),
            end=b.ends_at.astimezone(tz).strftime("%H:%M"),
            client=b.client,
            m=int(buffer.total_seconds() // 60),
        ),
    )


def check_assignment(
    agency: Agency, visits: list[Visit], staff_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], Check]:
    """Every reason each worker cannot take each visit, for many of both in a
    fixed number of queries: assignable (the workforce rule, with the visit's
    required qualification), availability, time off, no overlap with their
    other visits including the travel buffer, and the caseload limit."""

    results: dict[tuple[uuid.UUID, uuid.UUID], Check] = {}
    if not visits or not staff_ids:
        return results
    buffer = timedelta(minutes=agency_setting(agency, "travel_buffer_minutes"))
    staff = {s.id: s for s in db.session.scalars(select(StaffFile).where(StaffFile.id.in_(staff_ids)))}
    lo = min(v.starts_at for v in visits) - buffer
    hi = max(v.ends_at for v in visits) + buffer
    visit_ids = {v.id for v in visits}
    busy: dict[uuid.UUID, list[Booked]] = defaultdict(list)
    for sid, s, e, who in db.session.execute(
        select(Visit.staff_file_id, Visit.starts_at, Visit.ends_at, Client.full_name)
        .join(Client, and_(Client.tenant_id == Visit.tenant_id, Client.id == Visit.client_id))
        .where(
            Visit.staff_file_id.in_(staff_ids),
            Visit.status.in_([VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS]),
            Visit.starts_at < hi,
            Visit.ends_at > lo,
            Visit.id.not_in(visit_ids),
        )
    ):
        busy[sid].append(Booked(s, e, who))
    days = {v.local_day for v in visits}
    time_off: dict[uuid.UUID, list[tuple[date, date]]] = defaultdict(list)
    for sid, a, b in db.session.execute(
        select(StaffTimeOff.staff_file_id, StaffTimeOff.starts_on, StaffTimeOff.ends_on).where(
            StaffTimeOff.staff_file_id.in_(staff_ids),
            StaffTimeOff.starts_on <= max(days),
            StaffTimeOff.ends_on >= min(days),
        )
    ):
        time_off[sid].append((a, b))
    clients = {v.client_id for v in visits}
    serving = set(
        db.session.execute(
            select(CaseloadAssignment.staff_file_id, CaseloadAssignment.reference).where(
                CaseloadAssignment.staff_file_id.in_(staff_ids),
                CaseloadAssignment.kind == "individual",
                CaseloadAssignment.reference.in_([str(c) for c in clients]),
                CaseloadAssignment.ends_after(min(days)),
            )
        ).all()
    )
    loads = staffing.current_loads(staff_ids, min(days))
    by_day_type: dict[tuple[date, uuid.UUID | None], list[Visit]] = defaultdict(list)
    for v in visits:
        by_day_type[(v.local_day, v.required_certificate_type_id)].append(v)
    fitness: dict[tuple[date, uuid.UUID | None], dict[uuid.UUID, Any]] = {}
    for (day, cert_type), _group in by_day_type.items():
        fitness[(day, cert_type)] = staffing.assignability(
            staff_ids, day, require=[cert_type] if cert_type else []
        )
    settings = staffing.workforce_settings(agency)
    tz = tz_of(agency)
    for visit in sorted(visits, key=lambda v: v.starts_at):
        weekday, start, end = _local_span(agency, visit)
        for sid in staff_ids:
            check = Check(sid)
            worker = staff.get(sid)
            if worker is None:
                check.refusals.append(Refusal("unknown", _("Not a member of staff."), False))
                results[(visit.id, sid)] = check
                continue
            fit = fitness[(visit.local_day, visit.required_certificate_type_id)].get(sid)
            if fit is not None and not fit.assignable:
                for reason in fit.reasons:
                    check.refusals.append(Refusal(reason.code, reason.message(), reason.overridable))
            if not within_availability(worker.availability, weekday, start, end):
                check.refusals.append(
                    Refusal("unavailable", _("Not available at that time (weekly pattern)."))
                )
            if any(a <= visit.local_day <= b for a, b in time_off[sid]):
                check.refusals.append(Refusal("time_off", _("On time off that day.")))
            clash = clash_refusal(visit, busy[sid], buffer, tz)
            if clash is not None:
                check.refusals.append(clash)
            if (sid, str(visit.client_id)) not in serving:
                individual = loads.get(sid, (0, 0))[0]
                limit = staffing.caseload_limit(worker, "individual", settings)
                if individual >= limit:
                    check.refusals.append(
                        Refusal(
                            "caseload_full",
                            _("Caseload full: %(n)d of %(limit)d clients.", n=individual, limit=limit),
                        )
                    )
            results[(visit.id, sid)] = check
    return results


def _ensure_caseload(
    agency: Agency, visit: Visit, staff_id: uuid.UUID, by: User | None, override: str | None
) -> None:

    exists = db.session.scalar(
        select(CaseloadAssignment.id).where(
            CaseloadAssignment.staff_file_id == staff_id,
            CaseloadAssignment.kind == "individual",
            CaseloadAssignment.reference == str(visit.client_id),
            CaseloadAssignment.ends_after(visit.local_day),
        )
    )
    if exists:
        return
    worker = db.session.scalar(select(StaffFile).where(StaffFile.id == staff_id))
    name = db.session.scalar(select(Client.full_name).where(Client.id == visit.client_id)) or ""
    staffing.assign_caseload(
        worker,
        staffing.CaseloadInput(
            kind="individual",
            label=name,
            reference=str(visit.client_id),
            starts_on=min(visit.local_day, local_now(agency).date()),
        ),
        by=by,
        override_reason=override,
    )


class AssignmentRefused(VisitError):
    """Every reason a worker cannot take a visit; `overridable`: someone
    allowed to may still assign with a written reason."""

    def __init__(self, refusals: list[Refusal], *, overridable: bool = True) -> None:
        super().__init__("refused")
        self.refusals = refusals
        self.overridable = overridable and all(r.overridable for r in refusals)


OVERRIDE_REASON_MAX = 1000


def assign(
    agency: Agency,
    visit: Visit,
    staff_id: uuid.UUID,
    *,
    by: User | None,
    role: str,
    override_reason: str = "",
) -> None:
    """Give a visit to a worker. A refusal names every reason. Someone holding
    OVERRIDE_ASSIGNMENT may lift the overridable ones (caseload, training,
    certificates, availability, time off, travel time) with a written reason,
    which is kept with who, when and which; a double booking is never lifted."""
    if visit.status != VisitStatus.SCHEDULED or visit.checked_in_at is not None:
        raise VisitError("not_open")
    reason = override_reason.strip()
    if len(reason) > OVERRIDE_REASON_MAX:
        raise VisitError("override_too_long", "override_reason", max=OVERRIDE_REASON_MAX)
    # one assignment at a time per worker, so two cannot both take the same slot
    db.session.execute(select(StaffFile.id).where(StaffFile.id == staff_id).with_for_update())
    check = check_assignment(agency, [visit], [staff_id])[(visit.id, staff_id)]
    if not check.ok:
        blocking = [r for r in check.refusals if not r.overridable]
        if blocking:
            raise AssignmentRefused(blocking, overridable=False)
        if not reason:
            raise AssignmentRefused(check.refusals)
        if role not in OVERRIDE_ASSIGNMENT:
            raise VisitError("override_not_allowed", "override_reason")
        visit.assignment_override_reason = reason
        visit.assignment_override_by = by.id if by else None
        codes = [r.code for r in check.refusals]
        db.session.add(
            AssignmentOverride(
                visit_id=visit.id,
                staff_file_id=staff_id,
                refusals=codes,
                reason=reason,
                by_user_id=by.id if by else None,
            )
        )
        audit.record(
            "visit.assignment_override",
            str(visit.id),
            staff=str(staff_id),
            reason=reason,
            refusals=codes,
        )
    else:
        visit.assignment_override_reason = None
        visit.assignment_override_by = None
    overridden = not check.ok
    _ensure_caseload(agency, visit, staff_id, by, reason if overridden else None)
    previous = visit.staff_file_id
    visit.staff_file_id = staff_id
    audit.record(
        "visit.assigned", str(visit.id), staff=str(staff_id), previous=str(previous) if previous else None
    )


def unassign(visit: Visit) -> None:
    if visit.checked_in_at is not None:
        raise VisitError("not_open")
    visit.staff_file_id = None
    audit.record("visit.unassigned", str(visit.id))


def bulk_assign(
    agency: Agency, plan: ServicePlan, staff_id: uuid.UUID, *, by: User | None
) -> tuple[int, int]:
    """Give a plan's future unassigned visits to one worker where every check
    passes; returns (assigned, refused)."""
    now = db.utcnow()
    visits = db.session.scalars(
        select(Visit)
        .where(
            Visit.plan_id == plan.id,
            Visit.staff_file_id.is_(None),
            Visit.status == VisitStatus.SCHEDULED,
            Visit.starts_at > now,
        )
        .order_by(Visit.starts_at)
    ).all()
    if not visits:
        return 0, 0
    checks = check_assignment(agency, list(visits), [staff_id])
    buffer = timedelta(minutes=agency_setting(agency, "travel_buffer_minutes"))
    tz = tz_of(agency)
    # the checks read the visits booked before; these count against each other too
    given: list[Booked] = []
    assigned = 0
    for visit in visits:
        if checks[(visit.id, staff_id)].ok and clash_refusal(visit, given, buffer, tz) is None:
            visit.staff_file_id = staff_id
            given.append(Booked(visit.starts_at, visit.ends_at, ""))
            assigned += 1
    if assigned:
        _ensure_caseload(agency, next(v for v in visits if v.staff_file_id == staff_id), staff_id, by, None)
        audit.record("visit.bulk_assigned", str(plan.id), staff=str(staff_id), count=assigned)
    return assigned, len(visits) - assigned


@dataclass
class PreferredOutcome:
    """What giving a plan's new visits to their preferred carers did: how many
    were given, and why the others with a preferred carer stay open (each
    check that refused, with the number of visits it kept open)."""

    assigned: int = 0
    open: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def preferred_staff(plan_id: uuid.UUID) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each line of the plan -> its preferred carers' staff files, in the
    order chosen. The plan page stores a carer's membership; a staff file's
    own id is read as itself."""
    lines = db.session.execute(
        select(ServicePlanItem.id, ServicePlanItem.preferred_staff_ids).where(
            ServicePlanItem.plan_id == plan_id
        )
    ).all()
    wanted: set[uuid.UUID] = set()
    for _id, ids in lines:
        for raw in ids or []:
            try:
                wanted.add(uuid.UUID(str(raw)))
            except ValueError:
                continue
    if not wanted:
        return {}
    by_either: dict[uuid.UUID, uuid.UUID] = {}
    for sid, mid in db.session.execute(
        select(StaffFile.id, StaffFile.membership_id).where(
            or_(StaffFile.id.in_(wanted), StaffFile.membership_id.in_(wanted))
        )
    ):
        by_either[sid] = sid
        by_either[mid] = sid
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    for line_id, ids in lines:
        staff: list[uuid.UUID] = []
        for raw in ids or []:
            try:
                found = by_either.get(uuid.UUID(str(raw)))
            except ValueError:
                found = None
            if found is not None and found not in staff:
                staff.append(found)
        if staff:
            out[line_id] = staff
    return out


def assign_preferred(agency: Agency, plan: ServicePlan, *, by: User | None) -> PreferredOutcome:
    """Give the plan's future open visits to their line's preferred carer
    where every check passes (overlap, travel time, availability, time off,
    caseload, training, certificates), never by override: the first
    preferred carer who passes takes the visit; the rest stay open, counted
    by the checks that refused them (the first preferred carer's)."""
    outcome = PreferredOutcome()
    preferred = preferred_staff(plan.id)
    if not preferred:
        return outcome
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
    ).all()
    if not visits:
        return outcome
    staff_ids = list(dict.fromkeys(s for ids in preferred.values() for s in ids))
    checks = check_assignment(agency, list(visits), staff_ids)
    buffer = timedelta(minutes=agency_setting(agency, "travel_buffer_minutes"))
    # the checks read the visits booked before; these count against each other too
    given: dict[uuid.UUID, list[Visit]] = defaultdict(list)
    for visit in visits:
        candidates = preferred[visit.plan_item_id]
        chosen = None
        for sid in candidates:
            clash = any(
                v.starts_at - buffer < visit.ends_at and v.ends_at + buffer > visit.starts_at
                for v in given.get(sid, ())
            )
            if checks[(visit.id, sid)].ok and not clash:
                chosen = sid
                break
        if chosen is None:
            outcome.open += 1
            first = checks[(visit.id, candidates[0])]
            codes = [r.code for r in first.refusals]
            if not codes:  # one of this plan's own visits, given a moment ago
                same_time = any(
                    v.starts_at < visit.ends_at and v.ends_at > visit.starts_at
                    for v in given.get(candidates[0], ())
                )
                codes = ["overlap" if same_time else "travel_time"]
            outcome.reasons.update({refusal_label(c): 1 for c in codes})
            continue
        visit.staff_file_id = chosen
        given[chosen].append(visit)
        outcome.assigned += 1
    for sid, taken in given.items():
        try:
            with db.session.begin_nested():
                _ensure_caseload(agency, taken[0], sid, by, None)
        except staffing.Invalid:
            # full on a later day of the caseload: the visits stay open, never by override
            for visit in taken:
                visit.staff_file_id = None
            outcome.assigned -= len(taken)
            outcome.open += len(taken)
            outcome.reasons[refusal_label("caseload_full")] += len(taken)
            continue
        audit.record("visit.preferred_assigned", str(plan.id), staff=str(sid), count=len(taken))
    return outcome


@dataclass
class Suggestion:
    staff_file_id: uuid.UUID
    name: str
    score: float
    reasons: list[str]
    refusals: list[Refusal]


def suggest(agency: Agency, visit: Visit, limit: int = 5) -> list[Suggestion]:
    """The best carers for a visit: those who pass every check first, then by
    continuity (visits with this client in the last 90 days), then fairness
    (hours booked this week against contracted hours)."""

    candidates = db.session.execute(
        select(StaffFile.id, User.name, StaffFile.contracted_hours)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True), Membership.role == Role.CARER)
        # not gone by the visit's day (employment ends on its end day, exclusive)
        .where(StaffFile.leaves_after(visit.local_day))
    ).all()
    if not candidates:
        return []
    ids = [c.id for c in candidates]
    since = visit.starts_at - timedelta(days=90)
    continuity = dict(
        db.session.execute(
            select(Visit.staff_file_id, func.count())
            .where(
                Visit.client_id == visit.client_id,
                Visit.staff_file_id.in_(ids),
                Visit.starts_at >= since,
                Visit.status != VisitStatus.CANCELLED,
            )
            .group_by(Visit.staff_file_id)
        ).all()
    )
    week_start = visit.local_day - timedelta(days=visit.local_day.weekday())
    week_lo = at_local(agency, week_start, "00:00")
    week_hi = week_lo + timedelta(days=7)
    minutes = func.sum(func.extract("epoch", Visit.ends_at - Visit.starts_at) / 60)
    booked = dict(
        db.session.execute(
            select(Visit.staff_file_id, minutes)
            .where(
                Visit.staff_file_id.in_(ids),
                Visit.starts_at >= week_lo,
                Visit.starts_at < week_hi,
                Visit.status != VisitStatus.CANCELLED,
            )
            .group_by(Visit.staff_file_id)
        ).all()
    )
    checks = check_assignment(agency, [visit], ids)
    out = []
    for c in candidates:
        check = checks[(visit.id, c.id)]
        served = int(continuity.get(c.id, 0))
        hours = float(booked.get(c.id) or 0) / 60
        contracted = float(c.contracted_hours or 0)
        load = hours / contracted if contracted else 1.0
        reasons = []
        if served:
            reasons.append(_("Has visited this client %(n)d times lately.", n=served))
        if visit.required_certificate_type_id and not any(
            r.code.startswith("certificate") for r in check.refusals
        ):
            reasons.append(_("Holds the qualification this service needs."))
        if contracted:
            reasons.append(_("%(h).1f of %(c).0f contracted hours booked this week.", h=hours, c=contracted))
        score = (1000 if check.ok else 0) + min(served, 20) * 10 + (1 - min(load, 1.0)) * 50
        out.append(Suggestion(c.id, c.name, score, reasons, check.refusals))
    out.sort(key=lambda s: (-s.score, s.name))
    return out[:limit]
