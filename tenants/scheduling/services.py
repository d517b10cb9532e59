"""Visits: generation from plans, assignment checks and suggestions,
rescheduling, check-in and out, the service record, late and missed flags,
monthly return visits."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from saas import audit, db
from saas.agencies import setting_int
from saas.models import Agency, Membership, Role, User
from saas.notifications.reminders import Due, recipients, send_now
from tenants.clients.models import Case, CaseStatus, Client, PlanStatus, ServicePlan, ServicePlanItem
from tenants.scheduling.models import ReturnVisit, ServiceRecord, Visit, VisitStatus
from tenants.scheduling.signals import VisitCompleted, visit_completed
from tenants.scheduling.visit_reminders import RECORD_ATTENTION

DEFAULT_WINDOW_DAYS = 28
DEFAULT_TRAVEL_BUFFER = 15
DEFAULT_LATE_GRACE = 15
COORDINATING_ROLES = (Role.ADMIN, Role.COORDINATOR)
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class VisitError(ValueError):
    def __init__(self, code: str, field: str | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params


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


def at_local(agency: Agency, day: date, hhmm: str) -> datetime:
    """A local wall-clock time on a day, as an aware UTC datetime. zoneinfo
    resolves the hour skipped or repeated by daylight saving (fold=0)."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=tz_of(agency)).astimezone(UTC)


# -- generation -------------------------------------------------------------------------


def _terms_by_item(item_ids: Iterable[uuid.UUID], until: date) -> dict[uuid.UUID, list[Any]]:
    from tenants.catalogue.models import ItemTerms

    rows = db.session.scalars(
        select(ItemTerms)
        .where(ItemTerms.item_id.in_(set(item_ids)), ItemTerms.effective_from <= until)
        .order_by(ItemTerms.item_id, ItemTerms.effective_from)
    ).all()
    out: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        out[row.item_id].append(row)
    return out


def terms_for_day(terms: list[Any], day: date) -> Any | None:
    """The row in effect on `day`: the latest effective_from not after it."""
    current = None
    for row in terms:
        if row.effective_from <= day:
            current = row
    return current


def _visit_values(
    agency: Agency,
    item: ServicePlanItem,
    plan: ServicePlan,
    client_id: uuid.UUID,
    day: date,
    terms: Any | None,
) -> dict[str, Any]:
    starts = at_local(agency, day, item.start_time)
    return {
        "tenant_id": agency.id,
        "id": db.new_id(),
        "client_id": client_id,
        "plan_id": plan.id,
        "plan_item_id": item.id,
        "service_item_id": item.service_item_id,
        "local_day": day,
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=item.duration_minutes),
        "status": VisitStatus.SCHEDULED,
        "terms_id": terms.id if terms else None,
        "price": terms.price if terms else Decimal(0),
        "unit": terms.unit if terms else "per_visit",
        "checklist": list(terms.checklist) if terms else [],
        "required_certificate_type_id": terms.required_certificate_type_id if terms else None,
        "checkin_outside_radius": False,
        "flag_resolution": "",
        "cancel_reason": "",
        "reschedule_reason": "",
        "created_at": db.utcnow(),
    }


def generate_visits(agency: Agency, *, today: date | None = None, plan_id: uuid.UUID | None = None) -> int:
    """Create the visits of active plans for the rolling window (default four
    weeks), in the agency's time zone. Idempotent: a plan line has at most one
    visit per local day, so running it again, or twice at once, adds nothing.
    A time of today already past is not booked: nobody could keep it, and the
    late and missed sweep would report it at once (a plan activated, or a new
    version replacing the visits not started, in the afternoon)."""
    now = db.utcnow()
    today = today or local_now(agency).date()
    until = today + timedelta(days=setting_int(agency, "visit_window_days", DEFAULT_WINDOW_DAYS, 1, 120))
    stmt = (
        select(ServicePlanItem, ServicePlan, Case.client_id)
        .join(ServicePlan, ServicePlan.id == ServicePlanItem.plan_id)
        .join(Case, Case.id == ServicePlan.case_id)
        .where(ServicePlan.status == PlanStatus.ACTIVE, Case.status == CaseStatus.ACTIVE)
    )
    if plan_id is not None:
        stmt = stmt.where(ServicePlan.id == plan_id)
    lines = db.session.execute(stmt).all()
    if not lines:
        return 0
    terms = _terms_by_item({line[0].service_item_id for line in lines}, until)
    rows = []
    for item, plan, client_id in lines:
        first = max(today, plan.starts_on or today)
        last = min(until, plan.ends_on) if plan.ends_on else until
        day = first
        while day <= last:
            if day.isoweekday() in item.weekdays:
                values = _visit_values(
                    agency, item, plan, client_id, day, terms_for_day(terms[item.service_item_id], day)
                )
                if values["starts_at"] > now:
                    rows.append(values)
            day += timedelta(days=1)
    created = 0
    for start in range(0, len(rows), 1000):
        result = db.session.execute(
            insert(Visit)
            .values(rows[start : start + 1000])
            .on_conflict_do_nothing(index_elements=["tenant_id", "plan_item_id", "local_day"])
            .returning(Visit.id)
        )
        created += len(result.all())
    return created


def replace_plan_visits(agency: Agency, plan: ServicePlan, case: Case) -> None:
    """A new plan version replaces the visits the earlier versions had booked
    from now on (those not started); then the new version's are generated."""
    now = db.utcnow()
    db.session.execute(
        update(Visit)
        .where(
            Visit.client_id == case.client_id,
            Visit.plan_id.isnot(None),
            Visit.plan_id != plan.id,
            Visit.status == VisitStatus.SCHEDULED,
            Visit.checked_in_at.is_(None),
            Visit.starts_at > now,
        )
        .values(
            status=VisitStatus.CANCELLED, cancelled_at=now, cancel_reason=f"replaced by plan v{plan.version}"
        )
    )
    generate_visits(agency, plan_id=plan.id)


def add_one_off_visit(
    agency: Agency,
    client: Client,
    *,
    service_item_id: uuid.UUID,
    day: date,
    start: str,
    duration_minutes: int,
    by: User | None,
) -> Visit:
    from tenants.catalogue.models import ServiceItem

    item = db.session.scalar(select(ServiceItem).where(ServiceItem.id == service_item_id))
    if item is None or not item.active:
        raise VisitError("item_unknown", "service_item_id")
    if not 5 <= duration_minutes <= 1440:
        raise VisitError("duration_range", "duration_minutes")
    check_visit_start(agency, day, start)
    try:
        starts = at_local(agency, day, start)
    except ValueError:
        raise VisitError("time_format", "start_time") from None
    if starts <= db.utcnow():
        raise VisitError("in_past", "day")
    terms = terms_for_day(_terms_by_item([item.id], day)[item.id], day)
    visit = Visit(
        client_id=client.id,
        service_item_id=item.id,
        local_day=day,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=duration_minutes),
        status=VisitStatus.SCHEDULED,
        terms_id=terms.id if terms else None,
        price=terms.price if terms else Decimal(0),
        unit=terms.unit if terms else "per_visit",
        checklist=list(terms.checklist) if terms else [],
        required_certificate_type_id=terms.required_certificate_type_id if terms else None,
    )
    db.session.add(visit)
    db.session.flush()
    audit.record("visit.booked", str(visit.id), client=str(client.id))
    return visit


# -- assignment -----------------------------------------------------------------------------


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


def check_assignment(
    agency: Agency, visits: list[Visit], staff_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], Check]:
    """Every reason each worker cannot take each visit, for many of both in a
    fixed number of queries: assignable (the workforce rule, with the visit's
    required qualification), availability, time off, no overlap with their
    other visits including the travel buffer, and the caseload limit."""
    from tenants.staffing import services as staffing
    from tenants.staffing.models import CaseloadAssignment, StaffFile, StaffTimeOff

    results: dict[tuple[uuid.UUID, uuid.UUID], Check] = {}
    if not visits or not staff_ids:
        return results
    buffer = timedelta(minutes=setting_int(agency, "travel_buffer_minutes", DEFAULT_TRAVEL_BUFFER, 0, 240))
    staff = {s.id: s for s in db.session.scalars(select(StaffFile).where(StaffFile.id.in_(staff_ids)))}
    lo = min(v.starts_at for v in visits) - buffer
    hi = max(v.ends_at for v in visits) + buffer
    visit_ids = {v.id for v in visits}
    busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
    for sid, s, e in db.session.execute(
        select(Visit.staff_file_id, Visit.starts_at, Visit.ends_at).where(
            Visit.staff_file_id.in_(staff_ids),
            Visit.status.in_([VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS]),
            Visit.starts_at < hi,
            Visit.ends_at > lo,
            Visit.id.not_in(visit_ids),
        )
    ):
        busy[sid].append((s, e))
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
                or_(CaseloadAssignment.ends_on.is_(None), CaseloadAssignment.ends_on > min(days)),
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
    # visits of this batch already given to a worker count against each other
    taken: dict[uuid.UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
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
            window = (visit.starts_at - buffer, visit.ends_at + buffer)
            clash = [(s, e) for s, e in busy[sid] + taken[sid] if s < window[1] and e > window[0]]
            if clash:
                check.refusals.append(
                    Refusal(
                        "overlap",
                        _(
                            "Another visit at %(time)s leaves no travel time (%(m)d minutes).",
                            time=clash[0][0].astimezone(tz_of(agency)).strftime("%H:%M"),
                            m=int(buffer.total_seconds() // 60),
                        ),
                    )
                )
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
    from tenants.staffing import services as staffing
    from tenants.staffing.models import CaseloadAssignment, StaffFile

    exists = db.session.scalar(
        select(CaseloadAssignment.id).where(
            CaseloadAssignment.staff_file_id == staff_id,
            CaseloadAssignment.kind == "individual",
            CaseloadAssignment.reference == str(visit.client_id),
            or_(CaseloadAssignment.ends_on.is_(None), CaseloadAssignment.ends_on > visit.local_day),
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
    def __init__(self, refusals: list[Refusal]) -> None:
        super().__init__("refused")
        self.refusals = refusals


def assign(
    agency: Agency,
    visit: Visit,
    staff_id: uuid.UUID,
    *,
    by: User | None,
    role: str,
    override_reason: str = "",
) -> None:
    """Give a visit to a worker. A refusal names every reason; a coordinator
    or admin may override the overridable ones with a written reason."""
    if visit.status != VisitStatus.SCHEDULED or visit.checked_in_at is not None:
        raise VisitError("not_open")
    # one assignment at a time per worker, so two cannot both take the same slot
    from tenants.staffing.models import StaffFile

    db.session.execute(select(StaffFile.id).where(StaffFile.id == staff_id).with_for_update())
    check = check_assignment(agency, [visit], [staff_id])[(visit.id, staff_id)]
    reason = override_reason.strip()
    if not check.ok:
        if not reason or role not in {r.value for r in COORDINATING_ROLES}:
            raise AssignmentRefused(check.refusals)
        blocking = [r for r in check.refusals if not r.overridable]
        if blocking:
            raise AssignmentRefused(blocking)
        visit.assignment_override_reason = reason
        visit.assignment_override_by = by.id if by else None
        audit.record(
            "visit.assignment_override",
            str(visit.id),
            staff=str(staff_id),
            reason=reason,
            refusals=[r.code for r in check.refusals],
        )
    else:
        visit.assignment_override_reason = None
        visit.assignment_override_by = None
    _ensure_caseload(agency, visit, staff_id, by, reason or None)
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
    assigned = 0
    for visit in visits:
        if checks[(visit.id, staff_id)].ok:
            visit.staff_file_id = staff_id
            assigned += 1
    if assigned:
        _ensure_caseload(agency, next(v for v in visits if v.staff_file_id == staff_id), staff_id, by, None)
        audit.record("visit.bulk_assigned", str(plan.id), staff=str(staff_id), count=assigned)
    return assigned, len(visits) - assigned


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
    from tenants.staffing.models import StaffFile

    candidates = db.session.execute(
        select(StaffFile.id, User.name, StaffFile.contracted_hours)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True), Membership.role == Role.CARER)
        .where(or_(StaffFile.employment_end.is_(None), StaffFile.employment_end >= visit.local_day))
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


# -- changes, check-in and check-out -----------------------------------------------------------


def _notify_change(agency: Agency, visit: Visit, kind: str, carer: uuid.UUID | None = None) -> None:
    """Tell the carer (the one booked before the change, if given) and the
    client's portal members, after commit (outbox)."""
    from saas import mail
    from tenants.clients.models import PortalLink
    from tenants.staffing.models import StaffFile

    recipients = []
    carer = carer or visit.staff_file_id
    if carer:
        row = db.session.execute(
            select(User.email, User.locale)
            .join(Membership, Membership.user_id == User.id)
            .join(StaffFile, StaffFile.membership_id == Membership.id)
            .where(StaffFile.id == carer)
        ).first()
        if row:
            recipients.append(row)
    recipients += db.session.execute(
        select(User.email, User.locale)
        .join(Membership, Membership.user_id == User.id)
        .join(PortalLink, PortalLink.membership_id == Membership.id)
        .where(PortalLink.client_id == visit.client_id, Membership.active.is_(True))
    ).all()
    when = visit.starts_at.astimezone(tz_of(agency))
    for email, locale in recipients:
        mail.send(
            email,
            f"visit_{kind}",
            locale=locale or agency.locale,
            kind=f"visit.{kind}",
            agency_id=agency.id,
            dedupe_key=f"{agency.id}:visit.{kind}:{visit.id}:{visit.starts_at.isoformat()}:{email}",
            agency_name=agency.name,
            when=when.strftime("%Y-%m-%d %H:%M"),
            reason=visit.cancel_reason or visit.reschedule_reason,
        )


def reschedule(agency: Agency, visit: Visit, *, day: date, start: str, reason: str, by: User | None) -> None:
    if visit.status != VisitStatus.SCHEDULED or visit.checked_in_at is not None:
        raise VisitError("not_open")
    if not reason.strip():
        raise VisitError("reason_required", "reason")
    check_visit_start(agency, day, start)
    try:
        starts = at_local(agency, day, start)
    except ValueError:
        raise VisitError("time_format", "start_time") from None
    if starts <= db.utcnow():
        raise VisitError("in_past", "day")
    length = visit.ends_at - visit.starts_at
    visit.rescheduled_from = visit.rescheduled_from or visit.starts_at
    visit.starts_at, visit.ends_at = starts, starts + length
    visit.reschedule_reason = reason.strip()
    previous = visit.staff_file_id
    if visit.staff_file_id:
        # the carer keeps it only if the new time passes the checks too
        check = check_assignment(agency, [visit], [visit.staff_file_id])[(visit.id, visit.staff_file_id)]
        if not check.ok:
            visit.staff_file_id = None
    audit.record("visit.rescheduled", str(visit.id), reason=reason.strip())
    _notify_change(agency, visit, "rescheduled", carer=previous)


def cancel(agency: Agency, visit: Visit, *, reason: str, by: User | None) -> None:
    if visit.status != VisitStatus.SCHEDULED or visit.checked_in_at is not None:
        raise VisitError("not_open")
    if not reason.strip():
        raise VisitError("reason_required", "reason")
    visit.status = VisitStatus.CANCELLED
    visit.cancelled_at = db.utcnow()
    visit.cancel_reason = reason.strip()
    audit.record("visit.cancelled", str(visit.id), reason=reason.strip())
    _notify_change(agency, visit, "cancelled")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    """Great-circle distance (haversine), metres."""
    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return int(round(2 * r * math.asin(math.sqrt(a))))


def parse_position(latitude: Any, longitude: Any) -> tuple[Decimal, Decimal] | None:
    if latitude in (None, "") and longitude in (None, ""):
        return None
    try:
        lat, lon = Decimal(str(latitude)), Decimal(str(longitude))
    except ArithmeticError:
        raise VisitError("position_invalid", "latitude") from None
    if not (lat.is_finite() and lon.is_finite() and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise VisitError("position_invalid", "latitude")
    return lat.quantize(Decimal("0.000001")), lon.quantize(Decimal("0.000001"))


def _own_visit(visit: Visit, staff_id: uuid.UUID | None) -> None:
    if staff_id is None or visit.staff_file_id != staff_id:
        raise VisitError("not_yours")


def check_in(
    agency: Agency, visit: Visit, *, staff_id: uuid.UUID | None, latitude: Any = None, longitude: Any = None
) -> None:
    """Server time; the position, when the agency asks for it, is compared to
    the client's address and a check-in outside the radius is flagged, never
    refused (rural signal is poor)."""
    _own_visit(visit, staff_id)
    if visit.checked_in_at is not None:
        raise VisitError("already_checked_in")
    if visit.status not in (VisitStatus.SCHEDULED, VisitStatus.MISSED):
        raise VisitError("not_open")
    now = db.utcnow()
    early = timedelta(minutes=setting_int(agency, "checkin_early_minutes", 120, 0, 1440))
    if now < visit.starts_at - early:
        raise VisitError("too_early")
    position = parse_position(latitude, longitude)
    visit.checked_in_at = now
    visit.status = VisitStatus.IN_PROGRESS
    if position is not None:
        visit.checkin_latitude, visit.checkin_longitude = position
        client = db.session.scalar(select(Client).where(Client.id == visit.client_id))
        if client is not None and client.latitude is not None and client.longitude is not None:
            visit.checkin_distance_m = distance_m(
                float(position[0]), float(position[1]), float(client.latitude), float(client.longitude)
            )
            visit.checkin_outside_radius = visit.checkin_distance_m > client.checkin_radius_m
    elif agency.setting("checkin_location", False):
        visit.checkin_outside_radius = True  # asked for, not given: flagged for the coordinator
    audit.record("visit.checked_in", str(visit.id), outside=visit.checkin_outside_radius)


@dataclass
class RecordData:
    ticked: list[bool]
    what_was_done: str
    tools_used: str
    outcome: str
    notes: str
    needs_attention: bool


def check_out(
    agency: Agency, visit: Visit, record: RecordData, *, staff_id: uuid.UUID | None, by: User | None
) -> ServiceRecord:
    _own_visit(visit, staff_id)
    if visit.checked_in_at is None:
        raise VisitError("not_checked_in")
    if visit.checked_out_at is not None:
        raise VisitError("already_checked_out")
    if not record.what_was_done.strip():
        raise VisitError("required", "what_was_done")
    if len(record.ticked) != len(visit.checklist):
        raise VisitError("checklist_mismatch")
    now = db.utcnow()
    visit.checked_out_at = max(now, visit.checked_in_at + timedelta(seconds=1))
    visit.status = VisitStatus.COMPLETED
    row = ServiceRecord(
        visit_id=visit.id,
        checklist_done=[
            {"point": p, "done": bool(t)} for p, t in zip(visit.checklist, record.ticked, strict=True)
        ],
        what_was_done=record.what_was_done.strip(),
        tools_used=record.tools_used.strip(),
        outcome=record.outcome.strip(),
        notes=record.notes.strip(),
        needs_attention=record.needs_attention,
        written_by_user_id=by.id if by else None,
    )
    db.session.add(row)
    audit.record("visit.checked_out", str(visit.id), needs_attention=record.needs_attention)
    if record.needs_attention:
        _alert_coordinators(agency, visit)
    visit_completed.send(VisitCompleted(agency, visit, row))
    return row


def _alert_coordinators(agency: Agency, visit: Visit) -> None:
    """Through the notification centre (the mandatory `record.attention` kind):
    in the app and by email (quiet hours delay it), to the active coordinators
    and admins, once per visit, in the check-out's own transaction."""
    send_now(
        [
            Due(
                kind=RECORD_ATTENTION.name,
                subject=str(visit.id),
                due_at=visit.starts_at,
                membership_ids=recipients(Role.COORDINATOR, Role.ADMIN),
                params={"date": visit.starts_at.astimezone(agency.zone).date().isoformat()},
                link=f"/a/{agency.slug}/visits/{visit.id}",
            )
        ]
    )


# -- late and missed --------------------------------------------------------------------------


def flag_late_and_missed(agency: Agency, now: datetime | None = None) -> tuple[int, int]:
    """Set-based: late once the grace period passed without check-in, missed
    once the visit's time is over without one."""
    now = now or db.utcnow()
    grace = timedelta(minutes=setting_int(agency, "late_grace_minutes", DEFAULT_LATE_GRACE, 0, 240))
    late = db.session.execute(
        update(Visit)
        .where(
            Visit.status == VisitStatus.SCHEDULED,
            Visit.checked_in_at.is_(None),
            Visit.late_flagged_at.is_(None),
            Visit.starts_at < now - grace,
        )
        .values(late_flagged_at=now)
    ).rowcount
    missed = db.session.execute(
        update(Visit)
        .where(Visit.status == VisitStatus.SCHEDULED, Visit.checked_in_at.is_(None), Visit.ends_at < now)
        .values(status=VisitStatus.MISSED, missed_flagged_at=now)
    ).rowcount
    return late or 0, missed or 0


def resolve_flag(visit: Visit, reason: str, by: User | None) -> None:
    if not reason.strip():
        raise VisitError("reason_required", "reason")
    if visit.late_flagged_at is None and visit.missed_flagged_at is None:
        raise VisitError("not_flagged")
    visit.flag_resolved_at = db.utcnow()
    visit.flag_resolution = reason.strip()
    audit.record("visit.flag_resolved", str(visit.id), reason=reason.strip())


# -- monthly return visits -------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def record_return_visit(
    agency: Agency, *, staff_id: uuid.UUID, client_id: uuid.UUID, visited_on: date, notes: str
) -> ReturnVisit:
    today = local_now(agency).date()
    if visited_on > today:
        raise VisitError("in_future", "visited_on")
    month = month_start(visited_on)
    existing = db.session.scalar(
        select(ReturnVisit).where(
            ReturnVisit.staff_file_id == staff_id,
            ReturnVisit.client_id == client_id,
            ReturnVisit.month == month,
        )
    )
    if existing is not None:
        existing.visited_on, existing.notes = visited_on, notes.strip()
        return existing
    row = ReturnVisit(
        staff_file_id=staff_id, client_id=client_id, month=month, visited_on=visited_on, notes=notes.strip()
    )
    db.session.add(row)
    audit.record("return_visit.recorded", str(client_id), staff=str(staff_id), month=str(month))
    return row


@dataclass
class ReturnVisitRow:
    staff_file_id: uuid.UUID
    worker: str
    client_id: uuid.UUID
    client: str
    done_on: date | None
    due_on: date

    @property
    def overdue(self) -> bool:
        return self.done_on is None


RETURN_VISIT_DUE_DAY_KEY = "return_visit_due_day"
DEFAULT_RETURN_VISIT_DUE_DAY = 7
# the statuses that count a client as visited in a month (page, reminders)
RETURN_VISIT_VISITED = (VisitStatus.COMPLETED, VisitStatus.IN_PROGRESS, VisitStatus.SCHEDULED)


def return_visit_due_day(agency: Agency) -> int:
    """The day of the next month by which a month's return visits are due
    (the 7th by default; the page and the reminders)."""
    return setting_int(agency, RETURN_VISIT_DUE_DAY_KEY, DEFAULT_RETURN_VISIT_DUE_DAY, 1, 28)


def visited_pairs(month: date) -> Select:
    """Each (worker, client) pair with a visit in `month` (local days) that
    counts: what a return visit is owed for."""
    return (
        select(Visit.staff_file_id, Visit.client_id)
        .where(
            Visit.staff_file_id.isnot(None),
            Visit.local_day >= month,
            Visit.local_day < (month + timedelta(days=32)).replace(day=1),
            Visit.status.in_([s.value for s in RETURN_VISIT_VISITED]),
        )
        .distinct()
    )


def return_visits_for(month: date, agency: Agency | None = None) -> list[ReturnVisitRow]:
    """Each worker x each client they visited that month, with the return
    visit logged for it (due by the agency's day of the next month)."""
    from tenants.staffing.models import StaffFile

    lo, hi = month, (month + timedelta(days=32)).replace(day=1)
    pairs = visited_pairs(month).subquery()
    rows = db.session.execute(
        select(pairs.c.staff_file_id, User.name, pairs.c.client_id, Client.full_name, ReturnVisit.visited_on)
        .join(StaffFile, StaffFile.id == pairs.c.staff_file_id)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .join(Client, Client.id == pairs.c.client_id)
        .outerjoin(
            ReturnVisit,
            and_(
                ReturnVisit.staff_file_id == pairs.c.staff_file_id,
                ReturnVisit.client_id == pairs.c.client_id,
                ReturnVisit.month == lo,
            ),
        )
        .order_by(User.name, Client.full_name)
    ).all()
    due = hi.replace(day=return_visit_due_day(agency) if agency is not None else DEFAULT_RETURN_VISIT_DUE_DAY)
    return [ReturnVisitRow(r[0], r[1], r[2], r[3], r[4], due) for r in rows]
