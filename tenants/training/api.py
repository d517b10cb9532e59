"""The carer's own training transcript, for their phone (/api/v1/my/training)."""

from __future__ import annotations

from typing import Any

from flask import abort, g, jsonify

from saas.api.views import bp, operation
from tenants.staffing.certificates import CERTIFICATE_SCHEMA
from tenants.staffing.staff_files import staff_of_membership
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
