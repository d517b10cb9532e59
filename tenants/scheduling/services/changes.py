"""A visit changing: rescheduled, cancelled, checked in and out with its
service record, flagged late or missed and the flag resolved."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from saas import audit, db, mail
from saas.models import Agency, Membership, Role, User
from saas.notifications.reminders import Due, recipients, send_now
from saas.settings import settings_of
from saas.signals import announce
from tenants.clients.models import Client, PortalLink
from tenants.scheduling.errors import VisitError
from tenants.scheduling.models import CancellationRequest, ServiceRecord, Visit, VisitStatus
from tenants.scheduling.services.assignment import check_assignment
from tenants.scheduling.services.phone import Moment, PhoneTime, moment_of, presence_of
from tenants.scheduling.services.timing import future_start, tz_of
from tenants.scheduling.signals import VisitCompleted, visit_completed
from tenants.scheduling.visit_reminders import RECORD_ATTENTION
from tenants.staffing import services as staffing
from tenants.staffing.models import StaffFile


def _notify_change(agency: Agency, visit: Visit, kind: str, carer: uuid.UUID | None = None) -> None:
    """Tell the carer (the one booked before the change, if given) and the
    client's portal members, after commit (outbox)."""

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
    starts = future_start(agency, day, start)
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
    # the client's request to cancel it, if any, is answered by this
    db.session.execute(
        CancellationRequest.__table__.update()
        .where(
            CancellationRequest.tenant_id == visit.tenant_id,
            CancellationRequest.visit_id == visit.id,
            CancellationRequest.handled_at.is_(None),
        )
        .values(handled_at=db.utcnow(), outcome="cancelled")
    )
    audit.record("visit.cancelled", str(visit.id), reason=reason.strip())
    _notify_change(agency, visit, "cancelled")


def may_request_cancellation(visit: Visit) -> bool:
    """A client may ask to cancel a visit still to come."""
    return visit.status == VisitStatus.SCHEDULED and visit.starts_at > db.utcnow()


def request_cancellation(visit: Visit, membership_id: uuid.UUID, reason: str) -> None:
    """A client (or family member) asks the agency to cancel a visit; one
    request waits at a time."""
    if not may_request_cancellation(visit):
        raise VisitError("not_open")
    pending = db.session.scalar(
        select(CancellationRequest.id).where(
            CancellationRequest.visit_id == visit.id, CancellationRequest.handled_at.is_(None)
        )
    )
    if pending is None:
        db.session.add(CancellationRequest(visit_id=visit.id, membership_id=membership_id, reason=reason))


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
    agency: Agency,
    visit: Visit,
    *,
    staff_id: uuid.UUID | None,
    latitude: Any = None,
    longitude: Any = None,
    phone: PhoneTime | None = None,
    presence_code: str | None = None,
) -> list[str]:
    """Server time; the position, when the agency asks for it, is compared to
    the client's address and a check-in outside the radius is flagged, never
    refused (rural signal is poor). Returns the warnings for the carer: a
    required certificate lapsed or training short since the visit was given
    to them. Care does not stop for it (the client is waiting), so it warns;
    the coordinators see the visit among those at risk, and the audit keeps it."""
    _own_visit(visit, staff_id)
    _still_open(agency, visit)
    moment = moment_of(agency, phone)
    now = moment.when
    early = timedelta(minutes=settings_of(agency).get("checkin_early_minutes"))
    if now < visit.starts_at - early:
        raise VisitError("too_early")
    position = parse_position(latitude, longitude)
    client = db.session.scalar(select(Client).where(Client.id == visit.client_id))
    visit.checkin_presence, visit.presence_missing = presence_of(
        client, position_given=position is not None, code=presence_code
    )
    visit.checked_in_at = now
    visit.checkin_phone_at, visit.checkin_received_at = moment.phone_at, moment.received
    _note_clock(visit, moment)
    visit.status = VisitStatus.IN_PROGRESS
    if position is not None:
        visit.checkin_latitude, visit.checkin_longitude = position
        if client is not None and client.latitude is not None and client.longitude is not None:
            visit.checkin_distance_m = distance_m(
                float(position[0]), float(position[1]), float(client.latitude), float(client.longitude)
            )
            visit.checkin_outside_radius = visit.checkin_distance_m > client.checkin_radius_m
    elif settings_of(agency).get("checkin_location") and visit.checkin_presence != "qr":
        visit.checkin_outside_radius = True  # asked for, not given: flagged for the coordinator
    lapsed = _lapsed_checks(visit)
    audit.record(
        "visit.checked_in",
        str(visit.id),
        outside=visit.checkin_outside_radius,
        **({"lapsed": [r.code for r in lapsed]} if lapsed else {}),
    )
    announce(
        "visit.checked_in",
        visit.id,
        client_id=str(visit.client_id),
        staff_id=str(visit.staff_file_id) if visit.staff_file_id else None,
        checked_in_at=visit.checked_in_at.isoformat() if visit.checked_in_at else None,
        outside_radius=visit.checkin_outside_radius,
    )
    return [r.message() for r in lapsed]


def _still_open(agency: Agency, visit: Visit) -> None:
    """A visit that can be checked in: the refusals say what happened to it
    meanwhile (a phone may send its check-in hours after it was made)."""
    if visit.status == VisitStatus.CANCELLED:
        raise VisitError("cancelled_meanwhile")
    if visit.checked_in_at is not None:
        at = visit.checked_in_at.astimezone(tz_of(agency)).strftime("%H:%M")
        raise VisitError("already_checked_in", time=at)
    if visit.status not in (VisitStatus.SCHEDULED, VisitStatus.MISSED):
        raise VisitError("not_open")


def _note_clock(visit: Visit, moment: Moment) -> None:
    """Keep how far the phone's clock was off (the larger of check-in and
    check-out) and flag it when further than the agency allows."""
    if moment.off_s is not None and (
        visit.phone_clock_off_s is None or abs(moment.off_s) > abs(visit.phone_clock_off_s)
    ):
        visit.phone_clock_off_s = moment.off_s
    visit.phone_clock_flagged = visit.phone_clock_flagged or moment.flagged


def _lapsed_checks(visit: Visit) -> list[Any]:
    """What the carer no longer meets on the visit's day (certificates,
    pre-service training), unless an admin's assignability override covers it."""
    if visit.staff_file_id is None:
        return []
    require = [visit.required_certificate_type_id] if visit.required_certificate_type_id else []
    fit = staffing.assignability([visit.staff_file_id], visit.local_day, require=require).get(
        visit.staff_file_id
    )
    if fit is None or fit.assignable:
        return []
    return [r for r in fit.reasons if r.overridable]


@dataclass
class RecordData:
    ticked: list[bool]
    what_was_done: str
    tools_used: str
    outcome: str
    notes: str
    needs_attention: bool
    # asked for when a checklist point is unticked or the stay was short (`reason_needed`)
    reason: str = ""


# a stay shorter than this share of the booked length needs a reason at check-out
SHORT_STAY_SHARE = 0.25


def reason_needed(visit: Visit, ticked: list[bool], at: datetime) -> list[str]:
    """Why a check-out at `at` must say why: "unticked" when a checklist point
    is not ticked, "short" when the stay since check-in is under a quarter of
    the visit's booked length. Empty when none applies."""
    why = []
    if not all(ticked):
        why.append("unticked")
    booked = visit.ends_at - visit.starts_at
    if visit.checked_in_at is not None and at - visit.checked_in_at < booked * SHORT_STAY_SHARE:
        why.append("short")
    return why


def check_out(
    agency: Agency,
    visit: Visit,
    record: RecordData,
    *,
    staff_id: uuid.UUID | None,
    by: User | None,
    phone: PhoneTime | None = None,
    presence_code: str | None = None,
) -> ServiceRecord:
    _own_visit(visit, staff_id)
    if visit.status == VisitStatus.CANCELLED:
        raise VisitError("cancelled_meanwhile")
    if visit.checked_in_at is None:
        raise VisitError("not_checked_in")
    if visit.checked_out_at is not None:
        raise VisitError("already_checked_out")
    if not record.what_was_done.strip():
        raise VisitError("required", "what_was_done")
    if len(record.ticked) != len(visit.checklist):
        raise VisitError("checklist_mismatch")
    moment = moment_of(agency, phone)
    if presence_code:
        client = db.session.scalar(select(Client).where(Client.id == visit.client_id))
        visit.checkout_presence, _missing = presence_of(client, position_given=False, code=presence_code)
    now = moment.when
    reason = record.reason.strip()
    why = reason_needed(visit, record.ticked, now)
    if why and not reason:
        code = "reason_unticked_and_short" if len(why) == 2 else f"reason_{why[0]}"
        raise VisitError(code, "reason", minutes=_quarter_minutes(visit))
    if len(reason) > REASON_MAX:
        raise VisitError("reason_too_long", "reason", max=REASON_MAX)
    visit.checked_out_at = max(now, visit.checked_in_at + timedelta(seconds=1))
    visit.checkout_phone_at, visit.checkout_received_at = moment.phone_at, moment.received
    _note_clock(visit, moment)
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
        checkout_reason=reason,
        written_by_user_id=by.id if by else None,
    )
    db.session.add(row)
    audit.record(
        "visit.checked_out",
        str(visit.id),
        needs_attention=record.needs_attention,
        **({"reason_for": why} if why else {}),
    )
    if record.needs_attention:
        _alert_coordinators(agency, visit)
    visit_completed.send(VisitCompleted(agency, visit, row))
    return row


REASON_MAX = 1000


def _quarter_minutes(visit: Visit) -> int:
    return math.ceil((visit.ends_at - visit.starts_at).total_seconds() * SHORT_STAY_SHARE / 60)


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
    grace = timedelta(minutes=settings_of(agency).get("late_grace_minutes"))
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
        .returning(Visit.id, Visit.client_id, Visit.staff_file_id, Visit.starts_at)
    ).all()
    for visit_id, client_id, staff_id, starts_at in missed:
        announce(
            "visit.missed",
            visit_id,
            client_id=str(client_id),
            staff_id=str(staff_id) if staff_id else None,
            starts_at=starts_at.isoformat(),
        )
    return late or 0, len(missed)


def resolve_attention(visit: Visit) -> ServiceRecord | None:
    """The coordinator dealt with what the visit's record asked attention for;
    None when the visit has no record."""
    record = db.session.scalar(select(ServiceRecord).where(ServiceRecord.visit_id == visit.id))
    if record is not None:
        record.attention_resolved_at = db.utcnow()
    return record


def resolve_flag(visit: Visit, reason: str, by: User | None) -> None:
    if not reason.strip():
        raise VisitError("reason_required", "reason")
    if visit.late_flagged_at is None and visit.missed_flagged_at is None:
        raise VisitError("not_flagged")
    visit.flag_resolved_at = db.utcnow()
    visit.flag_resolution = reason.strip()
    audit.record("visit.flag_resolved", str(visit.id), reason=reason.strip())
