"""The carer's own training transcript, for their phone (/api/v1/my/training);
sessions for those who run training: planning one (course managers), reading
one and recording its attendance, through the pages' forms and services."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal
from typing import Any

from flask import abort, g, jsonify, request
from flask_babel import gettext as _

from saas.api.body import body_id, check_types, form_from_json, json_object, query_date, refuse
from saas.api.conditional import respond
from saas.api.paging import cursor_page, list_parameters, page_response, query_param
from saas.api.views import bp, operation, uuid_path
from saas.fields import uuid_or_none
from saas.permissions import require
from saas.tenancy import get_or_404
from tenants.staffing.certificates import CERTIFICATE_SCHEMA
from tenants.staffing.staff_files import staff_of_membership
from tenants.training import MANAGE_COURSES, RUN_TRAINING, queries, services
from tenants.training.errors import Invalid
from tenants.training.forms import SessionForm
from tenants.training.models import ATTENDANCE, Enrolment, TrainingSession
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


SESSION_PROPERTIES: dict[str, Any] = {
    "course_id": {"type": "string", "format": "uuid", "description": "An offered course of the agency"},
    "held_on": {"type": "string", "format": "date"},
    "trainer": {"type": "string", "maxLength": 200},
    "location": {"type": "string", "maxLength": 300},
    "capacity": {"type": "integer", "minimum": 1, "maximum": 300},
    "notes": {"type": "string", "maxLength": 5000},
}
ATTENDANCE_PROPERTIES: dict[str, Any] = {
    "attendance": {
        "type": "array",
        "description": "One entry per trainee whose attendance is recorded; the others are left as they are",
        "items": {
            "type": "object",
            "required": ["enrolment_id", "status"],
            "properties": {
                "enrolment_id": {"type": "string", "format": "uuid"},
                "status": {"type": "string", "enum": list(ATTENDANCE)},
                "hours": {
                    "type": "number",
                    "nullable": True,
                    "minimum": 0,
                    "description": "Hours attended; completed without hours: the course's hours",
                },
            },
        },
    }
}


def _enrolment_json(e: Enrolment) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "staff_id": str(e.staff_file_id),
        "status": e.status,
        "attended_hours": _hours(e.attended_hours) if e.attended_hours is not None else None,
        "satisfaction": e.satisfaction,
        "knowledge_score": float(e.knowledge_score) if e.knowledge_score is not None else None,
    }


def _session_json(session: TrainingSession, course: str, enrolments: list[Enrolment]) -> dict[str, Any]:
    return {
        "id": str(session.id),
        "course_id": str(session.course_id),
        "course": course,
        "held_on": session.held_on.isoformat(),
        "trainer": session.trainer,
        "location": session.location,
        "capacity": session.capacity,
        "enrolments": [_enrolment_json(e) for e in enrolments if e.session_id == session.id],
    }


def _session_document(session: TrainingSession) -> dict[str, Any]:
    return _session_json(session, queries.course_of(session).title, queries.enrolments_of([session.id]))


@bp.route("/training/sessions", methods=["GET", "POST"])
@operation(
    get={
        "summary": "Training sessions by date, with each enrolment and its attendance",
        "tags": ["training"],
        "parameters": list_parameters(
            query_param("from", {"type": "string", "format": "date"}),
            query_param("to", {"type": "string", "format": "date"}),
            query_param("course_id", {"type": "string", "format": "uuid"}),
        ),
        "responses": page_response(SESSION_SCHEMA),
    },
    post={
        "summary": "Plan a session of an offered course (course managers)",
        "tags": ["training"],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["course_id", "held_on", "trainer", "capacity"],
                        "properties": SESSION_PROPERTIES,
                    },
                    "example": {
                        "course_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b",
                        "held_on": "2026-12-07",
                        "trainer": "Tess Trainer",
                        "location": "Training room 2",
                        "capacity": 12,
                    },
                }
            },
        },
        "responses": {
            "201": {
                "description": "The session planned",
                "content": {"application/json": {"schema": SESSION_SCHEMA}},
            }
        },
    },
)
@require(RUN_TRAINING, refuse=403)
@require(MANAGE_COURSES, refuse=403, methods=("POST",))
def training_sessions() -> Any:
    if request.method == "POST":
        body = json_object()
        check_types(body, SESSION_PROPERTIES)
        course_id = body_id(body, "course_id")
        course = queries.course_by_id(course_id) if course_id is not None else None
        if course is None:
            raise Invalid.one("course_unknown", "course_id")
        form = form_from_json(SessionForm, body)
        made = services.create_session(
            course,
            services.SessionInput(
                held_on=form.held_on.data,
                trainer=form.trainer.data or "",
                location=form.location.data or "",
                capacity=form.capacity.data,
                notes=form.notes.data or "",
            ),
        )
        return respond(_session_json(made, course.title, []), 201)
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
        return _session_json(session, course, enrolments)

    return respond(page.document(render))


@bp.route("/training/sessions/<uuid:session_id>")
@operation(
    get={
        "summary": "One training session, with each enrolment and its attendance",
        "tags": ["training"],
        "parameters": [uuid_path("session_id")],
        "responses": {
            "200": {"description": "The session", "content": {"application/json": {"schema": SESSION_SCHEMA}}}
        },
    }
)
@require(RUN_TRAINING)
def training_session(session_id: uuid.UUID) -> Any:
    return respond(_session_document(get_or_404(TrainingSession, session_id)))


@bp.route("/training/sessions/<uuid:session_id>/attendance", methods=["POST"])
@operation(
    post={
        "summary": "Record a held session's attendance: all the entries sent, or none",
        "description": "A trainee who completes a course granting a certificate is given it.",
        "tags": ["training"],
        "parameters": [uuid_path("session_id")],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["attendance"],
                        "properties": ATTENDANCE_PROPERTIES,
                    },
                    "example": {
                        "attendance": [
                            {"enrolment_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b", "status": "completed"},
                            {
                                "enrolment_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a60",
                                "status": "partial",
                                "hours": 2,
                            },
                        ]
                    },
                }
            },
        },
        "responses": {
            "200": {
                "description": "The session with its attendance",
                "content": {"application/json": {"schema": SESSION_SCHEMA}},
            }
        },
    }
)
@require(RUN_TRAINING)
def training_attendance(session_id: uuid.UUID) -> Any:
    session = get_or_404(TrainingSession, session_id)
    body = json_object()
    check_types(body, ATTENDANCE_PROPERTIES)
    entries = body.get("attendance")
    if entries is None:
        raise Invalid.one("required", "attendance")
    known = set(queries.enrolment_ids(session.id))
    wanted: dict[uuid.UUID, services.AttendanceInput] = {}
    where: dict[str, str] = {}  # the service's field of an entry -> the body's
    for i, entry in enumerate(entries):
        enrolment_id = uuid_or_none(entry.get("enrolment_id"))
        if enrolment_id is None or enrolment_id not in known:
            raise Invalid.one("enrolment_unknown", f"attendance-{i}-enrolment_id")
        if "status" not in entry or entry["status"] is None:
            raise Invalid.one("required", f"attendance-{i}-status")
        hours = entry.get("hours")
        wanted[enrolment_id] = services.AttendanceInput(
            status=entry["status"], hours=Decimal(str(hours)) if hours is not None else None
        )
        where[f"status_{enrolment_id}"] = f"attendance-{i}-status"
        where[f"hours_{enrolment_id}"] = f"attendance-{i}-hours"
    try:
        services.record_attendance(session, wanted, by=g.api_user)
    except Invalid as exc:
        raise Invalid(
            dataclasses.replace(p, field=where.get(p.field, p.field)) if p.field else p for p in exc.problems
        ) from None
    return respond(_session_document(session))
