"""Incidents through the API: a carer (any staff) reports from their phone,
and reads the incidents they see."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import abort, g, jsonify, request
from flask_babel import gettext as _

from saas.api import filters
from saas.api.body import json_object, page_limit, refuse, text
from saas.api.conditional import respond
from saas.api.paging import PARAMETERS, cursor_page, page_schema
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


INCIDENT_EXAMPLE = {
    "id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b",
    "type": "fall",
    "severity": "moderate",
    "status": "reported",
    "occurred_at": "2026-12-07T09:40:00+00:00",
    "reported_at": "2026-12-07T09:52:00+00:00",
    "place": "Bathroom",
    "client_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a60",
    "visit_id": None,
}
LIST_SCHEMA = page_schema(INCIDENT_SCHEMA)
LIST_SCHEMA["required"] = [*LIST_SCHEMA["required"], "incidents"]
LIST_SCHEMA["properties"]["incidents"] = {
    "type": "array",
    "items": INCIDENT_SCHEMA,
    "deprecated": True,
    "description": "The same as `items`, for the phone apps that read the list before it was paged",
}
LIST_PARAMETERS = [
    *PARAMETERS,
    filters.choice_param("status", [s.value for s in IncidentStatus], "Only incidents at this step"),
    filters.param("open", filters.BOOLEAN, "Only those not closed (true), as the page's filter"),
    filters.param("client_id", filters.ID, "Only incidents about this client"),
    filters.choice_param("type", [t.value for t in IncidentType], "Only incidents of this kind"),
    filters.choice_param("severity", [s.value for s in Severity], "Only incidents this serious"),
    *filters.date_range_params("incidents reported"),
]


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
        "summary": "The incidents I see, the latest reported first, paged and filtered",
        "description": "A carer sees the incidents they reported or are named on; abuse and neglect "
        "reports only where they may read them.",
        "tags": ["incidents"],
        "parameters": LIST_PARAMETERS,
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": LIST_SCHEMA,
                        "example": {
                            "items": [INCIDENT_EXAMPLE],
                            "next_cursor": None,
                            "incidents": [INCIDENT_EXAMPLE],
                        },
                    }
                },
            }
        },
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
        return _list()
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


def _list() -> Any:
    open_only = filters.bool_arg("open")
    since, until = filters.moment_range(g.agency.zone)
    stmt = queries.api_incidents(
        g.membership,
        status=filters.choice_arg("status", [s.value for s in IncidentStatus]),
        open_only=bool(open_only),
        client_id=filters.uuid_arg("client_id"),
        kind=filters.choice_arg("type", [t.value for t in IncidentType]),
        severity=filters.choice_arg("severity", [s.value for s in Severity]),
        since=since,
        until=until,
    )
    page = cursor_page(stmt, [Incident.reported_at, Incident.id], descending=True)
    document = page.document(_json)
    return respond({**document, "incidents": document["items"]})


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
