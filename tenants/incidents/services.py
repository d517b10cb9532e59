"""The rules of incidents: reporting (the head told at once), the immediate
response, the investigation, the actions of accountability and prevention
(one may open a rectification), the head's acknowledgement of a serious
incident, and the closure by someone other than the investigator. Abuse or
neglect reports are seen only by the admins and the people named on them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, false, func, or_, select, true
from sqlalchemy.sql import ColumnElement

from saas import audit, db
from saas.errors import FieldOrStateError, register_messages
from saas.models import Agency, Membership, Role, User
from saas.notifications.reminders import send_now
from saas.settings import agency_setting
from saas.signals import announce
from tenants.clients.models import Client
from tenants.feedback import MANAGE_RECTIFICATIONS
from tenants.feedback import services as feedback
from tenants.feedback.models import RectificationSource
from tenants.incidents import (
    ACKNOWLEDGE_INCIDENTS,
    MANAGE_INCIDENTS,
    READ_SAFEGUARDING_INCIDENTS,
)
from tenants.incidents.models import (
    SAFEGUARDING,
    SERIOUS_SEVERITIES,
    SERIOUS_TYPES,
    Incident,
    IncidentAction,
    IncidentStaff,
    IncidentStatus,
    IncidentType,
    Severity,
)
from tenants.incidents.reminders import reported_dues
from tenants.scheduling.models import Visit
from tenants.staffing.models import StaffFile
from tenants.staffing.staff_files import staff_of_membership

# a report's time of occurrence may be this much ahead of the server's clock
CLOCK_SKEW = timedelta(minutes=5)
# the latest deadline or due date, after the day it happened
HORIZON = timedelta(days=730)
EARLIEST_YEAR = 2000


class IncidentError(FieldOrStateError):
    """A rule of incidents refused the change. The API answers 400 for a
    value of a field, 409 for the state of things."""


register_messages(
    {
        "choose_type": _l("Choose what kind of incident it was."),
        "choose_severity": _l("Choose how serious it was."),
        "required": _l("This field is required."),
        "occurred_future": _l("The time it happened cannot be in the future."),
        "occurred_too_old": _l("Enter when it happened, this century."),
        "visit_unknown": _l("This visit was not found among yours."),
        "client_unknown": _l("Choose a client of the agency."),
        "client_not_visit": _l("The client is not the visit's client."),
        "staff_unknown": _l("Choose a member of staff."),
        "not_allowed": _l("You cannot do this on this incident."),
        "already_responded": _l("The immediate response is already recorded."),
        "respond_first": _l("Record the immediate response first."),
        "investigator_unknown": _l("Choose an active admin or coordinator."),
        "deadline_before_occurrence": _l("The deadline cannot be before the day it happened."),
        "not_investigating": _l("The investigation has not started, or its findings are recorded."),
        "not_investigated": _l("Record the investigation's findings first."),
        "owner_unknown": _l("Choose an active staff member."),
        "due_before_occurrence": _l("The due date cannot be before the day it happened."),
        "too_far": _l("Choose a date within two years of the incident."),
        "actions_closed": _l("Actions are added during or after the investigation, before closure."),
        "already_done": _l("This action is already done."),
        "already_acknowledged": _l("This incident is already acknowledged."),
        "acknowledge_first": _l("The agency head must acknowledge this serious incident first."),
        "closer_is_investigator": _l("The investigator cannot close the incident: someone else must."),
        "actions_open": _l("Every action must be done before closure."),
        "already_closed": _l("This incident is already closed."),
    },
    error=IncidentError,
)


def needs_acknowledgement(incident_type: str, severity: str) -> bool:
    return incident_type in SERIOUS_TYPES or severity in SERIOUS_SEVERITIES


def is_safeguarding(incident: Incident) -> bool:
    return incident.type == SAFEGUARDING


# -- who sees what ----------------------------------------------------------------------------


def _named(membership_id: Any) -> ColumnElement[bool]:
    """The member is named on the incident: reporter, investigator, an action's owner."""
    return or_(
        Incident.reporter_membership_id == membership_id,
        Incident.investigator_membership_id == membership_id,
        exists(
            select(IncidentAction.id).where(
                IncidentAction.tenant_id == Incident.tenant_id,
                IncidentAction.incident_id == Incident.id,
                IncidentAction.owner_membership_id == membership_id,
            )
        ),
    )


def visible_to(membership: Membership | None) -> ColumnElement[bool]:
    """The incidents a member sees: the managers every one but the abuse or
    neglect reports, which only the admins and the people named see; the
    others the ones naming them."""
    if membership is None or membership.role == Role.CLIENT:
        return false()
    if membership.role in READ_SAFEGUARDING_INCIDENTS:
        return true()
    if membership.role in MANAGE_INCIDENTS:
        return or_(Incident.type != SAFEGUARDING, _named(membership.id))
    return _named(membership.id)


def visible_to_user(user_id: Any) -> ColumnElement[bool]:
    """The same for the user reading a client's file (a bound parameter):
    an abuse or neglect report only for an admin or a person named on it."""
    member = select(Membership.id).where(
        Membership.tenant_id == Incident.tenant_id,
        Membership.user_id == user_id,
        Membership.active.is_(True),
    )
    return or_(
        Incident.type != SAFEGUARDING,
        exists(member.where(Membership.role.in_(READ_SAFEGUARDING_INCIDENTS.roles))),
        exists(member.where(_named(Membership.id))),
    )


def can_see(incident: Incident, membership: Membership | None) -> bool:
    if membership is None:
        return False
    return bool(
        db.session.scalar(select(Incident.id).where(Incident.id == incident.id, visible_to(membership)))
    )


def is_manager(membership: Membership) -> bool:
    return membership.role in MANAGE_INCIDENTS


# -- reporting --------------------------------------------------------------------------------


@dataclass
class ReportData:
    type: str
    severity: str
    place: str
    occurred_at: datetime | None
    description: str
    people_involved: str = ""
    client_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    staff_file_ids: list[uuid.UUID] = field(default_factory=list)
    immediate_response: str = ""


def _text(value: str | None, name: str, limit: int) -> str:
    """A required text, trimmed (the pages and the API refuse longer ones before)."""
    value = (value or "").strip()
    if not value:
        raise IncidentError("required", name)
    return value[:limit]


def report(agency: Agency, data: ReportData, *, by: Membership) -> Incident:
    """Record a report; the agency head is told at once (in this
    transaction). A carer reports only on their own visits."""
    if data.type not in {t.value for t in IncidentType}:
        raise IncidentError("choose_type", "type")
    if data.severity not in {s.value for s in Severity}:
        raise IncidentError("choose_severity", "severity")
    now = db.utcnow()
    if data.occurred_at is None:
        raise IncidentError("required", "occurred_at")
    if data.occurred_at.year < EARLIEST_YEAR:
        raise IncidentError("occurred_too_old", "occurred_at")
    if data.occurred_at > now + CLOCK_SKEW:
        raise IncidentError("occurred_future", "occurred_at")
    place = _text(data.place, "place", 300)
    description = _text(data.description, "description", 10_000)
    client_id = data.client_id
    if data.visit_id is not None:
        visit = db.session.scalar(select(Visit).where(Visit.id == data.visit_id))
        if visit is None or (not is_manager(by) and not _own_visit(visit, by)):
            raise IncidentError("visit_unknown", "visit_id")
        if client_id is not None and client_id != visit.client_id:
            raise IncidentError("client_not_visit", "client_id")
        client_id = visit.client_id
    elif client_id is not None and db.session.scalar(select(Client.id).where(Client.id == client_id)) is None:
        raise IncidentError("client_unknown", "client_id")
    staff_ids = list(dict.fromkeys(data.staff_file_ids or ()))
    if staff_ids and len(
        db.session.scalars(select(StaffFile.id).where(StaffFile.id.in_(staff_ids))).all()
    ) != len(staff_ids):
        raise IncidentError("staff_unknown", "staff_file_ids")
    response = (data.immediate_response or "").strip()
    incident = Incident(
        type=data.type,
        severity=data.severity,
        status=IncidentStatus.RESPONDED if response else IncidentStatus.REPORTED,
        client_id=client_id,
        visit_id=data.visit_id,
        people_involved=(data.people_involved or "").strip()[:4000],
        place=place,
        occurred_at=data.occurred_at,
        description=description,
        reporter_membership_id=by.id,
        reported_at=now,
        immediate_response=response[:10_000],
        responded_at=now if response else None,
        responded_by_membership_id=by.id if response else None,
        acknowledge_by=now + timedelta(hours=int(agency_setting(agency, "incident_acknowledge_hours")))
        if needs_acknowledgement(data.type, data.severity)
        else None,
    )
    db.session.add(incident)
    db.session.flush()
    db.session.add_all(IncidentStaff(incident_id=incident.id, staff_file_id=s) for s in staff_ids)
    audit.record("incident.reported", str(incident.id), type=incident.type, severity=incident.severity)
    announce("incident.reported", incident.id, type=incident.type, severity=incident.severity)
    send_now(reported_dues(agency, incident))
    return incident


def _own_visit(visit: Visit, by: Membership) -> bool:
    return reports_on(visit.staff_file_id, by)


def reports_on(visit_staff_file_id: uuid.UUID | None, by: Membership) -> bool:
    """Whether a member who is not a manager may report from this visit: their own."""
    staff = staff_of_membership(by.id)
    return staff is not None and visit_staff_file_id == staff.id


# -- the flow ---------------------------------------------------------------------------------


def _refuse_closed(incident: Incident) -> None:
    if incident.status == IncidentStatus.CLOSED:
        raise IncidentError("already_closed")


def respond(incident: Incident, text: str, *, by: Membership) -> None:
    """What was done at once, recorded by a manager or the reporter."""
    _refuse_closed(incident)
    if not is_manager(by) and by.id != incident.reporter_membership_id:
        raise IncidentError("not_allowed")
    if incident.responded_at is not None:
        raise IncidentError("already_responded", "immediate_response")
    incident.immediate_response = _text(text, "immediate_response", 10_000)
    incident.responded_at = db.utcnow()
    incident.responded_by_membership_id = by.id
    incident.status = IncidentStatus.RESPONDED
    audit.record("incident.responded", str(incident.id))


def occurred_on(agency: Agency, incident: Incident) -> date:
    return incident.occurred_at.astimezone(agency.zone).date()


def _active_member(membership_id: uuid.UUID | None) -> Membership | None:
    if membership_id is None:
        return None
    member = db.session.scalar(select(Membership).where(Membership.id == membership_id))
    return member if member is not None and member.active else None


def investigate(
    agency: Agency,
    incident: Incident,
    *,
    investigator_id: uuid.UUID | None,
    deadline: date | None,
    by: Membership,
) -> None:
    """Name the investigator (an admin or a coordinator) and the deadline;
    again while it runs, to hand it over or move the deadline."""
    _refuse_closed(incident)
    if not is_manager(by):
        raise IncidentError("not_allowed")
    if incident.status == IncidentStatus.REPORTED:
        raise IncidentError("respond_first")
    if incident.status == IncidentStatus.INVESTIGATED:
        raise IncidentError("not_investigating")
    investigator = _active_member(investigator_id)
    if investigator is None or investigator.role not in MANAGE_INCIDENTS:
        raise IncidentError("investigator_unknown", "investigator")
    if deadline is None:
        raise IncidentError("required", "deadline")
    if deadline < occurred_on(agency, incident):
        raise IncidentError("deadline_before_occurrence", "deadline")
    if deadline > occurred_on(agency, incident) + HORIZON:
        raise IncidentError("too_far", "deadline")
    incident.investigator_membership_id = investigator.id
    incident.investigation_deadline = deadline
    incident.status = IncidentStatus.INVESTIGATING
    audit.record(
        "incident.investigation_assigned",
        str(incident.id),
        investigator=str(investigator.id),
        deadline=deadline.isoformat(),
    )


def record_findings(incident: Incident, *, findings: str, root_cause: str, by: Membership) -> None:
    _refuse_closed(incident)
    if by.id != incident.investigator_membership_id and not is_manager(by):
        raise IncidentError("not_allowed")
    if incident.status != IncidentStatus.INVESTIGATING:
        raise IncidentError("not_investigating")
    incident.findings = _text(findings, "findings", 10_000)
    incident.root_cause = _text(root_cause, "root_cause", 10_000)
    incident.investigated_at = db.utcnow()
    incident.status = IncidentStatus.INVESTIGATED
    audit.record("incident.investigated", str(incident.id))


def add_action(
    agency: Agency,
    incident: Incident,
    *,
    description: str,
    owner_id: uuid.UUID | None,
    due_on: date | None,
    rectification: bool = False,
    by: Membership,
    user: User | None = None,
) -> IncidentAction:
    """An action of accountability or prevention, with its owner and due
    date; with `rectification`, it also opens a rectification (the feedback
    area's, closed by a re-inspection) from the investigation's findings."""
    _refuse_closed(incident)
    if not is_manager(by) or (rectification and by.role not in MANAGE_RECTIFICATIONS):
        raise IncidentError("not_allowed")
    if incident.status not in (IncidentStatus.INVESTIGATING, IncidentStatus.INVESTIGATED):
        raise IncidentError("actions_closed")
    text = _text(description, "description", 4000)
    owner = _active_member(owner_id)
    if owner is None or owner.role == Role.CLIENT:
        raise IncidentError("owner_unknown", "owner")
    if due_on is None:
        raise IncidentError("required", "due_on")
    if due_on < occurred_on(agency, incident):
        raise IncidentError("due_before_occurrence", "due_on")
    if due_on > occurred_on(agency, incident) + HORIZON:
        raise IncidentError("too_far", "due_on")
    action = IncidentAction(
        incident_id=incident.id,
        description=text,
        owner_membership_id=owner.id,
        due_on=due_on,
        created_by_membership_id=by.id,
    )
    if rectification:
        rect = feedback.open_rectification(
            agency,
            feedback.RectificationData(
                source=RectificationSource.INSPECTION,
                finding=incident.findings or incident.description,
                problem=incident.root_cause or incident.description,
                measures=text,
                owner_membership_id=owner.id,
                deadline=due_on,
            ),
            by=user,
        )
        action.rectification_id = rect.id
    db.session.add(action)
    db.session.flush()
    audit.record(
        "incident.action_added",
        str(incident.id),
        action_id=str(action.id),
        rectification=str(action.rectification_id) if action.rectification_id else None,
    )
    return action


def complete_action(incident: Incident, action: IncidentAction, *, by: Membership) -> None:
    _refuse_closed(incident)
    if by.id != action.owner_membership_id and not is_manager(by):
        raise IncidentError("not_allowed")
    if action.done_at is not None:
        raise IncidentError("already_done")
    action.done_at = db.utcnow()
    action.done_by_membership_id = by.id
    audit.record("incident.action_done", str(incident.id), action_id=str(action.id))


def acknowledge(incident: Incident, *, by: Membership) -> None:
    """The agency head (an admin) has seen the incident."""
    if by.role not in ACKNOWLEDGE_INCIDENTS:
        raise IncidentError("not_allowed")
    if incident.acknowledged_at is not None:
        raise IncidentError("already_acknowledged")
    incident.acknowledged_at = db.utcnow()
    incident.acknowledged_by_membership_id = by.id
    audit.record("incident.acknowledged", str(incident.id))


def open_actions(incident_id: uuid.UUID) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(IncidentAction)
            .where(IncidentAction.incident_id == incident_id, IncidentAction.done_at.is_(None))
        )
        or 0
    )


def close(incident: Incident, *, note: str, by: Membership) -> None:
    """Closed by a manager who is not the investigator, once the findings
    are recorded, every action is done and, for a serious incident, the
    head has acknowledged it."""
    _refuse_closed(incident)
    if not is_manager(by):
        raise IncidentError("not_allowed")
    if by.id == incident.investigator_membership_id:
        raise IncidentError("closer_is_investigator", "closing_note")
    if incident.status != IncidentStatus.INVESTIGATED:
        raise IncidentError("not_investigated", "closing_note")
    if incident.acknowledge_by is not None and incident.acknowledged_at is None:
        raise IncidentError("acknowledge_first", "closing_note")
    if open_actions(incident.id):
        raise IncidentError("actions_open", "closing_note")
    incident.closing_note = (note or "").strip()[:10_000]
    incident.closed_at = db.utcnow()
    incident.closed_by_membership_id = by.id
    incident.status = IncidentStatus.CLOSED
    audit.record("incident.closed", str(incident.id))
