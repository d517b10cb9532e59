"""Incidents through the API: a carer (any staff) reports from their phone,
and reads the incidents they see."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import abort, g, jsonify, request
from flask_babel import gettext as _

from saas.api.body import json_object, page_limit, refuse, text
from saas.api.views import bp, json_body, ok, operation, uuid_path
from saas.permissions import require
from tenants.incidents import REPORT_INCIDENTS, queries, services
from tenants.incidents.forms import ReportForm
from tenants.incidents.models import Incident, IncidentStatus, IncidentType, Severity

# type and severity are checked against their choices by the service
CHOICE_LIMIT = 50
# the most staff one report names
MAX_STAFF = 50

INCIDENT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "type": {"type": "string", "enum": [t.value for t in IncidentType]},
        "severity": {"type": "string", "enum": [s.value for s in Severity]},
        "status": {"type": "string", "enum": [s.value for s in IncidentStatus]},
        "occurred_at": {"type": "string", "format": "date-time"},
        "reported_at": {"type": "string", "format": "date-time"},
        "place": {"type": "string"},
        "client_id": {"type": "string", "format": "uuid", "nullable": True},
        "visit_id": {"type": "string", "format": "uuid", "nullable": True},
    },
}


def _json(incident: Incident) -> dict[str, Any]:
    return {
        "id": str(incident.id),
        "type": incident.type,
        "severity": incident.severity,
        "status": incident.status,
        "occurred_at": incident.occurred_at.isoformat(),
        "reported_at": incident.reported_at.isoformat(),
        "place": incident.place,
        "client_id": str(incident.client_id) if incident.client_id else None,
        "visit_id": str(incident.visit_id) if incident.visit_id else None,
    }


def _uuid(body: dict[str, Any], key: str) -> uuid.UUID | None:
    raw = text(body, key, 36)
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        refuse(422, _("%(field)s must be an id.", field=key))


def _uuids(body: dict[str, Any], key: str) -> list[uuid.UUID]:
    raw = body.get(key) or []
    if not isinstance(raw, list) or len(raw) > MAX_STAFF:
        refuse(422, _("%(field)s must be a list of ids.", field=key))
    return [
        _uuid({key: value}, key) or refuse(422, _("%(field)s must be a list of ids.", field=key))
        for value in raw
    ]


def _moment(body: dict[str, Any], key: str) -> datetime | None:
    raw = text(body, key, 40)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        refuse(422, _("%(field)s must be a date and time as ISO 8601, e.g. 2026-11-01T14:30.", field=key))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=g.agency.zone)  # the agency's wall clock
    return moment


@bp.route("/incidents", methods=["GET", "POST"])
@operation(
    get={
        "summary": "The incidents I see, newest first (at most 200)",
        "tags": ["incidents"],
        "responses": ok(
            {"type": "object", "properties": {"incidents": {"type": "array", "items": INCIDENT_SCHEMA}}}
        ),
    },
    post={
        "summary": "Report an incident (the agency head is told at once); a carer from one of their visits",
        "tags": ["incidents", "carer"],
        "requestBody": json_body(
            {
                "type": "object",
                "required": ["type", "severity", "occurred_at", "place", "description"],
                "properties": {
                    "type": {"type": "string", "enum": [t.value for t in IncidentType]},
                    "severity": {"type": "string", "enum": [s.value for s in Severity]},
                    "occurred_at": {
                        "type": "string",
                        "description": "ISO 8601; without an offset, the agency's local time",
                    },
                    "place": {"type": "string"},
                    "description": {"type": "string"},
                    "people_involved": {"type": "string"},
                    "immediate_response": {"type": "string"},
                    "visit_id": {"type": "string", "format": "uuid"},
                    "client_id": {"type": "string", "format": "uuid"},
                    "staff_ids": {
                        "type": "array",
                        "items": {"type": "string", "format": "uuid"},
                        "description": "staff files of the staff involved",
                    },
                },
            }
        ),
        "responses": ok(INCIDENT_SCHEMA),
    },
)
@require(REPORT_INCIDENTS)
def api_incidents() -> Any:
    if request.method == "GET":
        return jsonify(incidents=[_json(r[0]) for r in queries.incident_list(g.membership)])
    body = json_object()

    def field(key: str) -> str:
        # the page's limits: longer is refused, never cut
        return text(body, key, page_limit(ReportForm, key))

    data = services.ReportData(
        type=text(body, "type", CHOICE_LIMIT),
        severity=text(body, "severity", CHOICE_LIMIT),
        place=field("place"),
        occurred_at=_moment(body, "occurred_at"),
        description=field("description"),
        people_involved=field("people_involved"),
        immediate_response=field("immediate_response"),
        visit_id=_uuid(body, "visit_id"),
        client_id=_uuid(body, "client_id"),
        staff_file_ids=_uuids(body, "staff_ids"),
    )
    # a refusal (IncidentError) is answered by the core with its status and message
    incident = services.report(g.agency, data, by=g.membership)
    return jsonify(_json(incident))


@bp.route("/incidents/<uuid:incident_id>")
@operation(
    get={
        "summary": "One incident I see",
        "tags": ["incidents"],
        "parameters": [uuid_path("incident_id")],
        "responses": ok(INCIDENT_SCHEMA),
    }
)
@require(REPORT_INCIDENTS)
def api_incident(incident_id: uuid.UUID) -> Any:
    incident = queries.visible_incident(incident_id, g.membership)
    if incident is None:
        abort(404)
    return jsonify(_json(incident))
