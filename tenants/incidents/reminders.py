"""Incidents through the notification centre: the agency head is told of each
report at once, and what is left undone escalates to the head, once each
(the reminder's key: kind, incident or action, due moment).

- `incident.reported`: mandatory, to the admins, in the reporting transaction.
- `incident.unacknowledged`: mandatory, to the admins, once a serious incident
  is still unacknowledged at its `acknowledge_by`.
- `incident.investigation_overdue`: mandatory, to the admins and the
  investigator, once the deadline day has ended without findings.
- `incident.action_overdue`: mandatory, to the admins and the action's owner,
  once its due day has ended with the action not done.

The sweep (`escalation_sweep`, every 15 minutes) reads what is due with one
SELECT per step and agency. No description, place or name in the messages:
only the type, the severity and the dates.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, union

from saas import db
from saas.agencies import sweep_agencies
from saas.jobs import periodic
from saas.models import Agency, Role
from saas.notifications.kinds import Kind, register
from saas.notifications.reminders import Due, recipients, send_due
from tenants.incidents.labels import severity_label, type_label
from tenants.incidents.models import Incident, IncidentAction, IncidentStatus
from tenants.staffing.reminders import date_param, local_midnight

INCIDENT_REPORTED = register(
    Kind(
        name="incident.reported",
        label=_l("Incidents reported"),
        mandatory=True,
        title=lambda p: _(
            "Incident reported: %(type)s (%(severity)s)",
            type=type_label(p["type"]),
            severity=severity_label(p["severity"]),
        ),
        body=lambda p: _(
            "Reported on %(date)s %(time)s. Open it to see what was done at once.",
            date=date_param(p["date"]),
            time=p["time"],
        ),
    )
)
INCIDENT_UNACKNOWLEDGED = register(
    Kind(
        name="incident.unacknowledged",
        label=_l("Serious incidents not acknowledged in time (escalation)"),
        mandatory=True,
        title=lambda p: _(
            "Not acknowledged: %(type)s (%(severity)s) reported on %(date)s %(time)s",
            type=type_label(p["type"]),
            severity=severity_label(p["severity"]),
            date=date_param(p["date"]),
            time=p["time"],
        ),
        body=lambda p: _("Escalated to the agency head: this serious incident awaits acknowledgement."),
    )
)
INVESTIGATION_OVERDUE = register(
    Kind(
        name="incident.investigation_overdue",
        label=_l("Incident investigations past their deadline (escalation)"),
        mandatory=True,
        title=lambda p: _(
            "Investigation overdue: %(type)s, due by %(date)s",
            type=type_label(p["type"]),
            date=date_param(p["date"]),
        ),
        body=lambda p: _("Escalated to the agency head: the findings were not recorded by the deadline."),
    )
)
ACTION_OVERDUE = register(
    Kind(
        name="incident.action_overdue",
        label=_l("Incident actions past their due date (escalation)"),
        mandatory=True,
        title=lambda p: _(
            "Incident action overdue: %(type)s, due by %(date)s",
            type=type_label(p["type"]),
            date=date_param(p["date"]),
        ),
        body=lambda p: _("Escalated to the agency head: an action of prevention is not done yet."),
    )
)


def link(agency: Agency, incident_id: object) -> str:
    return f"/a/{agency.slug}/incidents/{incident_id}"


def _moment(agency: Agency, at: datetime) -> dict[str, str]:
    local = at.astimezone(agency.zone)
    return {"date": local.date().isoformat(), "time": local.strftime("%H:%M")}


def reported_dues(agency: Agency, incident: Incident) -> list[Due]:
    """The head's notice of a new report."""
    return [
        Due(
            kind=INCIDENT_REPORTED.name,
            subject=str(incident.id),
            due_at=incident.reported_at,
            membership_ids=recipients(Role.ADMIN),
            params={
                "type": incident.type,
                "severity": incident.severity,
                **_moment(agency, incident.reported_at),
            },
            link=link(agency, incident.id),
        )
    ]


def _open() -> Any:
    return Incident.status != IncidentStatus.CLOSED


def escalation_dues(agency: Agency, now: datetime | None = None) -> list[Due]:
    """Everything overdue in the agency in scope (three SELECTs): the serious
    incidents not acknowledged, the investigations and the actions past their
    day. Each occurrence is keyed by its due moment, so it goes once."""
    now = now or db.utcnow()
    today = now.astimezone(agency.zone).date()
    heads = recipients(Role.ADMIN)
    dues: list[Due] = []
    for row in db.session.execute(
        select(Incident.id, Incident.type, Incident.severity, Incident.reported_at, Incident.acknowledge_by)
        .where(
            _open(),
            Incident.acknowledged_at.is_(None),
            Incident.acknowledge_by.isnot(None),
            Incident.acknowledge_by <= now,
        )
        .order_by(Incident.acknowledge_by, Incident.id)
    ):
        dues.append(
            Due(
                kind=INCIDENT_UNACKNOWLEDGED.name,
                subject=str(row.id),
                due_at=row.acknowledge_by,
                membership_ids=heads,
                params={"type": row.type, "severity": row.severity, **_moment(agency, row.reported_at)},
                link=link(agency, row.id),
            )
        )
    for row in db.session.execute(
        select(
            Incident.id, Incident.type, Incident.investigation_deadline, Incident.investigator_membership_id
        )
        .where(Incident.status == IncidentStatus.INVESTIGATING, Incident.investigation_deadline < today)
        .order_by(Incident.investigation_deadline, Incident.id)
    ):
        people = tuple(dict.fromkeys((*heads, row.investigator_membership_id)))
        dues.append(
            Due(
                kind=INVESTIGATION_OVERDUE.name,
                subject=str(row.id),
                due_at=local_midnight(agency, row.investigation_deadline + timedelta(days=1)),
                membership_ids=tuple(m for m in people if m),
                params={"type": row.type, "date": row.investigation_deadline.isoformat()},
                link=link(agency, row.id),
            )
        )
    for row in db.session.execute(
        select(
            IncidentAction.id,
            IncidentAction.incident_id,
            IncidentAction.due_on,
            IncidentAction.owner_membership_id,
            Incident.type,
        )
        .join(
            Incident,
            (Incident.tenant_id == IncidentAction.tenant_id) & (Incident.id == IncidentAction.incident_id),
        )
        .where(IncidentAction.done_at.is_(None), IncidentAction.due_on < today, _open())
        .order_by(IncidentAction.due_on, IncidentAction.id)
    ):
        dues.append(
            Due(
                kind=ACTION_OVERDUE.name,
                subject=str(row.id),
                due_at=local_midnight(agency, row.due_on + timedelta(days=1)),
                membership_ids=tuple(dict.fromkeys((*heads, row.owner_membership_id))),
                params={"type": row.type, "date": row.due_on.isoformat()},
                link=link(agency, row.incident_id),
            )
        )
    return dues


def escalate(agency: Agency, now: datetime | None = None) -> int:
    """Send the agency's escalations not sent before; how many were new."""
    return send_due(escalation_dues(agency, now))


@periodic
def escalation_sweep() -> int:
    """Every 15 minutes: the agencies with something possibly overdue (by
    UTC's date, a day early at most: each agency's own day decides), each
    escalated on its own."""
    now = db.utcnow()
    # no agency's local date is later than UTC's next day
    horizon = (now + timedelta(days=1)).date()
    candidates = union(
        select(Incident.tenant_id).where(
            _open(),
            Incident.acknowledged_at.is_(None),
            Incident.acknowledge_by.isnot(None),
            Incident.acknowledge_by <= now,
        ),
        select(Incident.tenant_id).where(
            Incident.status == IncidentStatus.INVESTIGATING, Incident.investigation_deadline < horizon
        ),
        select(IncidentAction.tenant_id).where(
            IncidentAction.done_at.is_(None), IncidentAction.due_on < horizon
        ),
    )
    return sweep_agencies(candidates.subquery().select(), lambda agency: escalate(agency, now))
