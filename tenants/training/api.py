"""The carer's own training transcript, for their phone (/api/v1/my/training)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, g, jsonify, request
from flask_babel import gettext as _

from saas.api.body import query_date, refuse
from saas.api.conditional import respond
from saas.api.paging import PARAMETERS, cursor_page, page_schema
from saas.api.views import bp, operation
from saas.permissions import require
from tenants.staffing.certificates import CERTIFICATE_SCHEMA
from tenants.staffing.staff_files import staff_of_membership
from tenants.training import RUN_TRAINING, queries
from tenants.training.models import TrainingSession
from tenants.training.transcripts import transcript

NO_FILE = {"404": {"$ref": "#/components/responses/NotFound"}}

HOURS = {
    "type": "object",
    "properties": {"hours": {"type": "number"}, "required": {"type": "number"}},
}
LINE = {
    "type": "object",
    "properties": {
        "session_id": {"type": "string", "format": "uuid"},
        "course": {"type": "string"},
        "category": {"type": "string"},
        "counts_as": {"type": "string", "enum": ["pre_service", "annual"]},
        "held_on": {"type": "string", "format": "date"},
        "trainer": {"type": "string"},
        "location": {"type": "string"},
        "status": {"type": "string", "enum": ["enrolled", "completed", "partial", "absent"]},
        "attended_hours": {"type": "number", "nullable": True},
    },
}
TRANSCRIPT_SCHEMA = {
    "type": "object",
    "properties": {
        "year": {"type": "integer"},
        "pre_service": HOURS,
        "annual": HOURS,
        "sessions": {"type": "array", "items": LINE},
        "upcoming": {"type": "array", "items": LINE},
        "certificates": {"type": "array", "items": CERTIFICATE_SCHEMA},
        "due": {
            "type": "array",
            "items": {"type": "string"},
            "description": "What to do next, in your language",
        },
    },
}


def _hours(value: Any) -> float:
    return float(value)


@bp.route("/my/training")
@operation(
    get={
        "summary": "Your training: hours against the requirements, sessions, what is due",
        "tags": ["workforce"],
        "responses": {
            "200": {
                "description": "Your training transcript",
                "content": {"application/json": {"schema": TRANSCRIPT_SCHEMA}},
            },
            **NO_FILE,
        },
    }
)
def my_training() -> Any:
    staff = staff_of_membership(g.membership.id)
    if staff is None:  # no staff file (clients included)
        abort(404)
    t = transcript(staff)

    def line(item: Any) -> dict[str, Any]:
        return {
            "session_id": str(item.session.id),
            "course": item.course.title,
            "category": item.course.category,
            "counts_as": item.course.counts_as,
            "held_on": item.session.held_on.isoformat(),
            "trainer": item.session.trainer,
            "location": item.session.location,
            "status": item.enrolment.status,
            "attended_hours": _hours(item.enrolment.attended_hours)
            if item.enrolment.attended_hours is not None
            else None,
        }

    return jsonify(
        year=t.year,
        pre_service={"hours": _hours(t.pre_service_hours), "required": _hours(t.pre_service_required)},
        annual={"hours": _hours(t.annual_hours), "required": _hours(t.annual_required)},
        sessions=[line(x) for x in t.lines],
        upcoming=[line(x) for x in t.upcoming],
        certificates=[r.as_json() for r in t.certificates],
        due=t.due,
    )


# -- sessions and attendance, for those who run training --------------------------------------

SESSION_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "course_id": {"type": "string", "format": "uuid"},
        "course": {"type": "string"},
        "held_on": {"type": "string", "format": "date"},
        "trainer": {"type": "string"},
        "location": {"type": "string"},
        "capacity": {"type": "integer"},
        "enrolments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "staff_id": {"type": "string", "format": "uuid"},
                    "status": {"type": "string"},
                    "attended_hours": {"type": "number", "nullable": True},
                    "satisfaction": {"type": "integer", "nullable": True},
                    "knowledge_score": {"type": "number", "nullable": True},
                },
            },
        },
    },
}


@bp.route("/training/sessions")
@operation(
    get={
        "summary": "Training sessions by date, with each enrolment and its attendance",
        "tags": ["training"],
        "parameters": [
            *PARAMETERS,
            {
                "name": "from",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "format": "date"},
            },
            {"name": "to", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
            {
                "name": "course_id",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "format": "uuid"},
            },
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": page_schema(SESSION_SCHEMA)}},
            }
        },
    }
)
@require(RUN_TRAINING, refuse=403)
def training_sessions() -> Any:
    first, last = query_date("from", None), query_date("to", None)  # type: ignore[arg-type]
    raw = request.args.get("course_id")
    course_id = None
    if raw:
        try:
            course_id = uuid.UUID(raw)
        except ValueError:
            refuse(400, _("%(field)s must be an id.", field="course_id"), "course_id")
    page = cursor_page(
        queries.api_sessions(course_id, first, last),
        [TrainingSession.held_on, TrainingSession.id],
        scalars=False,
    )
    enrolments = queries.enrolments_of([row[2].id for row in page.rows])

    def render(row: Any) -> dict[str, Any]:
        _held, _id, session, course = row
        return {
            "id": str(session.id),
            "course_id": str(session.course_id),
            "course": course,
            "held_on": session.held_on.isoformat(),
            "trainer": session.trainer,
            "location": session.location,
            "capacity": session.capacity,
            "enrolments": [
                {
                    "id": str(e.id),
                    "staff_id": str(e.staff_file_id),
                    "status": e.status,
                    "attended_hours": _hours(e.attended_hours) if e.attended_hours is not None else None,
                    "satisfaction": e.satisfaction,
                    "knowledge_score": float(e.knowledge_score) if e.knowledge_score is not None else None,
                }
                for e in enrolments
                if e.session_id == session.id
            ],
        }

    return respond(page.document(render))
