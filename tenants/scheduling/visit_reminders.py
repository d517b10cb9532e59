"""The visit and service-record reminders and their scheduled sweeps.

Each sweep (`rq cron`, declared in this area's `AREA`) finds the agencies with something
due through `db.platform_reader()` (one set-based query), then per agency
selects what is due with one indexed query and hands it to `send_due` in
batches. Nothing is scheduled per row ahead of time: what is due is derived
from the visits as they are now, and the reminder's key (kind, subject, due
moment) makes a re-run, a second cron process or a killed worker harmless.

- visit.tomorrow: to the assigned carer; subject "<staff_file_id>:<day>", due at
  today's `reminder_evening_time` (default 18:00, agency time zone); one per
  carer with visits tomorrow, listing their times.
- visit.no_check_in: to the assigned carer; subject the visit id, due
  `no_check_in_minutes` (default 15) before the start; until the visit ends.
- visit.late: to coordinators and admins; subject the visit id, due at the
  late flag (`services.flag_late_and_missed`), still no check-in.
- visit.missed: the same for the missed flag; mandatory (cannot be turned off).
- visit.unassigned: to coordinators and admins; one per agency per day (subject
  the local day, due at `reminder_morning_time`, default 08:00) with the number
  of visits in the next `unassigned_horizon_days` (7) that have no carer.
- record.attention: mandatory; to coordinators and admins at check-out, when
  the carer marks the record as needing attention (sent in the check-out's
  own transaction by `services.check_out`, subject the visit id).
- record.needs_attention: to coordinators and admins; subject the record id,
  due `attention_reminder_hours` (24) after a record asked for attention and
  nobody resolved it.

Late/missed/attention reminders only look back a bounded window
(`LOOKBACK`), so turning the centre on never floods anyone with old flags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Select, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import InstrumentedAttribute

from saas import db
from saas.agencies import sweep_agencies
from saas.jobs import periodic
from saas.models import Agency, Role
from saas.notifications.kinds import Kind, register
from saas.notifications.reminders import Due, local_moment, recipients, send_due
from saas.settings import settings_of
from tenants.scheduling.models import ServiceRecord, Visit, VisitStatus
from tenants.staffing.models import StaffFile

LOOKBACK = timedelta(days=2)
COORDINATORS = (Role.COORDINATOR, Role.ADMIN)


# -- kinds -------------------------------------------------------------------------------------

VISIT_TOMORROW = register(
    Kind(
        "visit.tomorrow",
        _l("Your visits tomorrow (the evening before)"),
        title=lambda p: _tomorrow_title(p),
        body=lambda p: (
            _("Your visits for today are on your schedule: %(times)s.", times=p["times"])
            if p.get("today")
            else _("Your visits for tomorrow are on your schedule: %(times)s.", times=p["times"])
        ),
    )
)


def _tomorrow_title(p: dict[str, str]) -> str:
    # sent on the day itself when the evening's run was missed (an outage)
    if p.get("today"):
        return ngettext(
            "Today, %(date)s: %(num)d visit, at %(first)s",
            "Today, %(date)s: %(num)d visits, the first at %(first)s",
            int(p["count"]),
            date=p["date"],
            first=p["first"],
        )
    return ngettext(
        "Tomorrow, %(date)s: %(num)d visit, at %(first)s",
        "Tomorrow, %(date)s: %(num)d visits, the first at %(first)s",
        int(p["count"]),
        date=p["date"],
        first=p["first"],
    )


VISIT_NO_CHECK_IN = register(
    Kind(
        "visit.no_check_in",
        _l("A visit of yours starts soon and you have not checked in"),
        title=lambda p: _("Visit at %(start)s: not checked in yet", start=p["start"]),
        body=lambda p: _(
            "Your visit on %(date)s starts at %(start)s and you have not checked in. "
            "Check in when you arrive.",
            date=p["date"],
            start=p["start"],
        ),
    )
)
VISIT_LATE = register(
    Kind(
        "visit.late",
        _l("A visit is late (no check-in)"),
        title=lambda p: _("Late visit: no check-in for %(date)s %(start)s", date=p["date"], start=p["start"]),
        body=lambda p: _(
            "The visit on %(date)s at %(start)s has no check-in yet. Contact the carer or the client.",
            date=p["date"],
            start=p["start"],
        ),
    )
)
VISIT_MISSED = register(
    Kind(
        "visit.missed",
        _l("A visit was missed"),
        mandatory=True,
        title=lambda p: _("Missed visit: %(date)s %(start)s", date=p["date"], start=p["start"]),
        body=lambda p: _(
            "The visit on %(date)s at %(start)s ended with no check-in. Resolve it on the visits board.",
            date=p["date"],
            start=p["start"],
        ),
    )
)
VISIT_UNASSIGNED = register(
    Kind(
        "visit.unassigned",
        _l("Visits in the coming days without a carer (daily)"),
        title=lambda p: ngettext(
            "%(num)d visit in the next %(days)s days has no carer",
            "%(num)d visits in the next %(days)s days have no carer",
            int(p["count"]),
            days=p["days"],
        ),
        body=lambda p: _("Assign them on the visits board; the first is on %(first)s.", first=p["first"]),
    )
)
RECORD_NEEDS_ATTENTION = register(
    Kind(
        "record.needs_attention",
        _l("A service record still needs attention"),
        title=lambda p: _("A service record from %(date)s still needs attention", date=p["date"]),
        body=lambda p: _(
            "The carer asked for attention after the visit on %(date)s and nobody has resolved it yet.",
            date=p["date"],
        ),
    )
)

RECORD_ATTENTION = register(
    Kind(
        "record.attention",
        _l("A carer asked for attention at check-out"),
        # the first alert about a possible incident: it replaces the email that
        # always went at check-out, so it cannot be turned off either
        mandatory=True,
        mail_kind="visit.attention",
        title=lambda p: _("A service record from %(date)s needs attention", date=p["date"]),
        body=lambda p: _(
            "The carer marked the service record of the visit on %(date)s as needing attention. "
            "Open the visit to read it.",
            date=p["date"],
        ),
    )
)

# -- settings ----------------------------------------------------------------------------------


def _hhmm(agency: Agency, moment: datetime) -> str:
    return moment.astimezone(agency.zone).strftime("%H:%M")


def _day(agency: Agency, moment: datetime) -> str:
    return moment.astimezone(agency.zone).date().isoformat()


# -- what is due, per agency (inside its tenant scope) -----------------------------------------


def tomorrow_dues(agency: Agency, now: datetime) -> Iterator[Due]:
    """From the evening hour, each carer's visits of the next day. If last
    evening's run was missed (the scheduler was down), the same occurrence
    (same subject and due moment, so never twice) goes in the morning with
    "today" wording, listing the visits not started yet."""
    local = now.astimezone(agency.zone)
    evening = settings_of(agency).get("reminder_evening_time")
    send_at = local_moment(agency, local.date(), evening)
    last_evening = local_moment(agency, local.date() - timedelta(days=1), evening)
    today, tomorrow = local.date(), local.date() + timedelta(days=1)
    days = {today: last_evening}
    if now >= send_at:
        days[tomorrow] = send_at
    rows = db.session.execute(
        select(
            Visit.local_day,
            Visit.staff_file_id,
            StaffFile.membership_id,
            func.array_agg(aggregate_order_by(Visit.starts_at, Visit.starts_at.asc())),
        )
        .join(StaffFile, StaffFile.id == Visit.staff_file_id)
        .where(
            Visit.local_day.in_(list(days)),
            Visit.status == VisitStatus.SCHEDULED,
            or_(Visit.local_day != today, Visit.starts_at > now),
        )
        .group_by(Visit.local_day, Visit.staff_file_id, StaffFile.membership_id)
        .order_by(Visit.local_day, Visit.staff_file_id)
    ).all()
    for day, staff_file_id, membership_id, starts in rows:
        params = {
            "count": str(len(starts)),
            "date": day.isoformat(),
            "first": _hhmm(agency, starts[0]),
            "times": ", ".join(_hhmm(agency, s) for s in starts),
        }
        if day == today:
            params["today"] = "1"
        yield Due(
            kind=VISIT_TOMORROW.name,
            subject=f"{staff_file_id}:{day.isoformat()}",
            due_at=days[day],
            membership_ids=(membership_id,),
            params=params,
            link=f"/a/{agency.slug}/my/schedule",
        )


def no_check_in_dues(agency: Agency, now: datetime) -> Iterator[Due]:
    ahead = timedelta(minutes=settings_of(agency).get("no_check_in_minutes"))
    rows = db.session.execute(
        select(Visit.id, Visit.starts_at, StaffFile.membership_id)
        .join(StaffFile, StaffFile.id == Visit.staff_file_id)
        .where(
            Visit.status == VisitStatus.SCHEDULED,
            Visit.checked_in_at.is_(None),
            Visit.starts_at <= now + ahead,
            Visit.starts_at > now - LOOKBACK,
            Visit.ends_at > now,
        )
        .order_by(Visit.starts_at, Visit.id)
    ).all()
    for visit_id, starts_at, membership_id in rows:
        yield Due(
            kind=VISIT_NO_CHECK_IN.name,
            subject=str(visit_id),
            due_at=starts_at - ahead,
            membership_ids=(membership_id,),
            params={"start": _hhmm(agency, starts_at), "date": _day(agency, starts_at)},
            link=f"/a/{agency.slug}/my/schedule",
        )


def _flag_dues(agency: Agency, now: datetime, kind: Kind, flagged: InstrumentedAttribute) -> Iterator[Due]:
    """Visits with this flag (late or missed), unresolved and never checked in
    (ix_visits_open_flags), to the coordinators; due at the flag's moment."""
    rows = db.session.execute(
        select(Visit.id, Visit.starts_at, flagged)
        .where(
            flagged.isnot(None),
            Visit.flag_resolved_at.is_(None),
            Visit.checked_in_at.is_(None),
            Visit.starts_at > now - LOOKBACK,
        )
        .order_by(Visit.starts_at, Visit.id)
    ).all()
    if not rows:
        return
    to = recipients(*COORDINATORS)
    for visit_id, starts_at, flagged_at in rows:
        yield Due(
            kind=kind.name,
            subject=str(visit_id),
            due_at=flagged_at,
            membership_ids=to,
            params={"start": _hhmm(agency, starts_at), "date": _day(agency, starts_at)},
            link=f"/a/{agency.slug}/visits/{visit_id}",
        )


def late_dues(agency: Agency, now: datetime) -> Iterator[Due]:
    return _flag_dues(agency, now, VISIT_LATE, Visit.late_flagged_at)


def missed_dues(agency: Agency, now: datetime) -> Iterator[Due]:
    return _flag_dues(agency, now, VISIT_MISSED, Visit.missed_flagged_at)


def unassigned_dues(agency: Agency, now: datetime) -> Iterator[Due]:
    local = now.astimezone(agency.zone)
    morning = settings_of(agency).get("reminder_morning_time")
    send_at = local_moment(agency, local.date(), morning)
    if now < send_at:
        return
    days = settings_of(agency).get("unassigned_horizon_days")
    count, first = db.session.execute(
        select(func.count(), func.min(Visit.starts_at)).where(
            Visit.staff_file_id.is_(None),
            Visit.status == VisitStatus.SCHEDULED,
            Visit.starts_at >= now,
            Visit.starts_at < now + timedelta(days=days),
        )
    ).one()
    if not count:
        return
    yield Due(
        kind=VISIT_UNASSIGNED.name,
        subject=local.date().isoformat(),
        due_at=send_at,
        membership_ids=recipients(*COORDINATORS),
        params={"count": str(count), "days": str(days), "first": _day(agency, first)},
        link=f"/a/{agency.slug}/visits",
    )


def needs_attention_dues(agency: Agency, now: datetime) -> Iterator[Due]:
    after = timedelta(hours=settings_of(agency).get("attention_reminder_hours"))
    rows = db.session.execute(
        select(ServiceRecord.id, ServiceRecord.visit_id, ServiceRecord.created_at, Visit.starts_at)
        .join(Visit, Visit.id == ServiceRecord.visit_id)
        .where(
            ServiceRecord.needs_attention.is_(True),
            ServiceRecord.attention_resolved_at.is_(None),
            ServiceRecord.created_at <= now - after,
            ServiceRecord.created_at > now - after - LOOKBACK,
        )
        .order_by(ServiceRecord.created_at, ServiceRecord.id)
    ).all()
    if not rows:
        return
    to = recipients(*COORDINATORS)
    for record_id, visit_id, created_at, starts_at in rows:
        yield Due(
            kind=RECORD_NEEDS_ATTENTION.name,
            subject=str(record_id),
            due_at=created_at + after,
            membership_ids=to,
            params={"date": _day(agency, starts_at)},
            link=f"/a/{agency.slug}/visits/{visit_id}",
        )


# -- sweeps ------------------------------------------------------------------------------------


def _sweep(candidates: Select, dues: Callable[[Agency, datetime], Iterator[Due]]) -> int:
    """Agencies with candidate rows (one cross-agency query), then per agency
    its dues through send_due (which commits per batch); one agency's failure
    does not stop the others (`sweep_agencies`)."""
    now = db.utcnow()
    return sweep_agencies(candidates, lambda agency: send_due(dues(agency, now)))


def _visits_between(start: datetime, end: datetime) -> Select:
    return select(Visit.tenant_id).where(
        Visit.starts_at >= start, Visit.starts_at < end, Visit.status == VisitStatus.SCHEDULED
    )


@periodic
def tomorrow_all() -> int:
    """Every few minutes; each agency's evening comes in its own time zone."""
    now = db.utcnow()
    # tomorrow, in any time zone, starts within the next 2 days
    return _sweep(
        _visits_between(now, now + timedelta(days=2)).where(Visit.staff_file_id.isnot(None)), tomorrow_dues
    )


@periodic
def no_check_in_all() -> int:
    now = db.utcnow()
    return _sweep(
        _visits_between(now - LOOKBACK, now + timedelta(hours=4)).where(
            Visit.checked_in_at.is_(None), Visit.staff_file_id.isnot(None)
        ),
        no_check_in_dues,
    )


@periodic
def late_and_missed_all() -> int:
    now = db.utcnow()
    candidates = select(Visit.tenant_id).where(
        (Visit.late_flagged_at.isnot(None)) | (Visit.missed_flagged_at.isnot(None)),
        Visit.flag_resolved_at.is_(None),
        Visit.checked_in_at.is_(None),
        Visit.starts_at > now - LOOKBACK,
    )

    def both(agency: Agency, at: datetime) -> Iterator[Due]:
        yield from late_dues(agency, at)
        yield from missed_dues(agency, at)

    return _sweep(candidates, both)


@periodic
def unassigned_all() -> int:
    now = db.utcnow()
    return _sweep(
        _visits_between(now, now + timedelta(days=60)).where(Visit.staff_file_id.is_(None)), unassigned_dues
    )


@periodic
def needs_attention_all() -> int:
    candidates = select(ServiceRecord.tenant_id).where(
        ServiceRecord.needs_attention.is_(True), ServiceRecord.attention_resolved_at.is_(None)
    )
    return _sweep(candidates, needs_attention_dues)
