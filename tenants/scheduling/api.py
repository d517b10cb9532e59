"""What a carer's phone needs (schedule, a visit, check in, check out with the
record, the calendar URL) and a client's upcoming visits."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import orjson
from flask import Response, abort, g, jsonify, request
from flask_babel import gettext as _

from saas import db
from saas.api.body import boolean, booleans, form_from_json, json_object, page_limit, query_date, refuse, text
from saas.api.conditional import require_match, respond
from saas.api.filters import param, uuid_arg
from saas.api.paging import PARAMETERS, cursor_page, page_schema
from saas.api.views import IF_MATCH, bp, json_body, ok, operation, uuid_path
from saas.models import Role
from saas.permissions import USE_PORTAL, require
from saas.problems import problem
from saas.tenancy import get_or_404
from tenants.clients.models import Client
from tenants.clients.read_log import log_reads
from tenants.clients.services import emergency_contacts_of, portal_client_ids
from tenants.scheduling import MANAGE_VISITS, queries, services
from tenants.scheduling.forms import AssignForm, CheckOutForm, OneOffVisitForm, ReasonForm, RescheduleForm
from tenants.scheduling.models import Visit, VisitStatus
from tenants.scheduling.services.assignment import AssignmentRefused
from tenants.staffing.services import staff_of_membership

VISIT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": [s.value for s in VisitStatus]},
        "client": {"type": "string"},
        "address": {"type": "string"},
        "service": {"type": "string"},
        "checklist": {"type": "array", "items": {"type": "string"}},
        "last_notes": {"type": "string", "nullable": True},
        "checked_in_at": {"type": "string", "format": "date-time", "nullable": True},
        "checked_out_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}

# what check-in answers: the visit, and what the carer is warned of (a required
# certificate expired, training short: care goes on, the office is told)
CHECKED_IN_SCHEMA = {
    **VISIT_SCHEMA,
    "properties": {
        **VISIT_SCHEMA["properties"],
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
}

# one visit also says whom to call in an emergency (`tel:` links that call)
VISIT_DETAIL_SCHEMA = {
    **VISIT_SCHEMA,
    "properties": {
        **VISIT_SCHEMA["properties"],
        "emergency_contacts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "relationship": {"type": "string"},
                    "phone": {"type": "string"},
                    "tel": {"type": "string", "description": "the phone as a tel: link"},
                },
            },
        },
    },
}

# what a phone adds to a check-in or check-out it may have made offline
SENT_AT_HEADER = "X-Phone-Sent-At"
PHONE_WRITES = (
    "Made on the phone, perhaps offline: `phone_time` is when the carer acted (the phone's clock) and "
    "the X-Phone-Sent-At header the phone's clock when it sent the request; both times are kept, and "
    "a phone clock further off than the agency allows flags the visit. Send an Idempotency-Key: a "
    "request sent again is answered once. 409 says what happened to the visit meanwhile (cancelled, "
    "given to another carer, already checked in)."
)
PHONE_PROPERTIES: dict[str, Any] = {
    "phone_time": {"type": "string", "format": "date-time", "description": "ISO 8601 with its offset"},
    "presence_code": {"type": "string", "description": "the text of the client's QR code, scanned"},
}
SENT_AT_PARAMETER = {
    "name": SENT_AT_HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "format": "date-time"},
}

# the longest schedule one request reads
MAX_SCHEDULE_DAYS = 62


def _staff_id() -> uuid.UUID:
    staff = staff_of_membership(g.membership.id)
    if staff is None:
        abort(404)
    return staff.id


def _json(document: dict[str, Any]) -> Response:
    # orjson writes datetimes as isoformat() does and UUIDs as text, about ten
    # times as fast as the json module: a week's schedule is ~200 visits
    return Response(orjson.dumps(document), mimetype="application/json")


def _visit_json(row: queries.ScheduleRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "starts_at": row.starts,
        "ends_at": row.ends,
        "status": row.status,
        "client": row.client,
        "address": row.address or "",
        "service": row.service,
        "checklist": row.checklist,
        "last_notes": row.last_notes,
        "checked_in_at": row.checked_in_at,
        "checked_out_at": row.checked_out_at,
    }


@bp.route("/my/schedule")
@operation(
    get={
        "summary": "My visits between two local dates (default: today and the next 7 days)",
        "tags": ["carer"],
        "parameters": [
            {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
            {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
        ],
        "responses": ok(
            {"type": "object", "properties": {"visits": {"type": "array", "items": VISIT_SCHEMA}}}
        ),
    }
)
def my_schedule() -> Any:
    today = services.local_now(g.agency).date()
    first, last = query_date("from", today), query_date("to", today + timedelta(days=7))
    # no visit is booked beyond the horizon; the ends of the calendar would overflow
    latest = services.latest_visit_day(g.agency)
    for name, day in (("from", first), ("to", last)):
        if not services.EARLIEST_DAY <= day <= latest:
            message = _(
                "%(field)s must be between %(first)s and %(last)s.",
                field=name,
                first=services.EARLIEST_DAY.isoformat(),
                last=latest.isoformat(),
            )
            refuse(422, message)
    if last < first or (last - first).days > MAX_SCHEDULE_DAYS:
        refuse(422, _("Choose from and to at most %(days)d days apart, from first.", days=MAX_SCHEDULE_DAYS))
    rows = queries.member_schedule(
        g.agency, g.membership.id, first, last + timedelta(days=1), section="api", reader=g.membership.user_id
    )
    if rows is None:  # no staff file in this agency
        abort(404)
    return _json({"visits": [_visit_json(r) for r in rows]})


def _my_visit(visit_id: uuid.UUID) -> Visit:
    visit = get_or_404(Visit, visit_id)
    if visit.staff_file_id != _staff_id():
        abort(404)
    return visit


def _my_visit_to_record(visit_id: uuid.UUID) -> Visit:
    """The visit a carer's phone records: another carer's is a conflict with
    its reason (it was given to someone else while the phone was offline),
    told only to carers, whose phones held it; to anyone else, not found."""
    visit = get_or_404(Visit, visit_id)
    if visit.staff_file_id != _staff_id():
        if g.membership.role == Role.CARER:
            raise services.VisitError("reassigned")
        abort(404)
    return visit


def _phone_time(body: dict[str, Any]) -> services.PhoneTime | None:
    """The phone's time of the action (`phone_time`) and, in the
    `X-Phone-Sent-At` header, its clock when it sent the request (a header:
    the body of a request sent again stays the same)."""
    at = services.parse_phone_time(body.get("phone_time"), "phone_time")
    if at is None:
        return None
    sent = services.parse_phone_time(request.headers.get(SENT_AT_HEADER), SENT_AT_HEADER)
    return services.PhoneTime(at, sent)


def _presence_code(body: dict[str, Any]) -> str | None:
    return text(body, "presence_code", 200) or None


def _one(visit: Visit) -> dict[str, Any]:
    day = visit.starts_at.astimezone(services.tz_of(g.agency)).date()
    rows = [
        r
        for r in queries.staff_schedule(g.agency, visit.staff_file_id, day, day + timedelta(days=1))
        if r.id == visit.id
    ]
    if not rows:
        abort(404)
    log_reads([visit.client_id], "api", g.membership.user_id)
    return _visit_json(rows[0])


@bp.route("/visits/<uuid:visit_id>")
@operation(
    get={
        "summary": "One of my visits, with the client's emergency contacts (the read is logged)",
        "tags": ["carer"],
        "parameters": [uuid_path("visit_id")],
        "responses": ok(VISIT_DETAIL_SCHEMA),
    }
)
def visit_detail(visit_id: uuid.UUID) -> Any:
    visit = _my_visit(visit_id)
    document = _one(visit)
    contacts = emergency_contacts_of(visit.client_id)
    document["emergency_contacts"] = [
        {"name": c.name, "relationship": c.relationship, "phone": c.phone, "tel": c.tel} for c in contacts
    ]
    return _json(document)


@bp.route("/visits/<uuid:visit_id>/check-in", methods=["POST"])
@operation(
    post={
        "summary": "Check in; the position, the phone's time and the client's presence code optional",
        "description": PHONE_WRITES,
        "tags": ["carer"],
        "parameters": [uuid_path("visit_id"), SENT_AT_PARAMETER],
        "requestBody": json_body(
            {
                "type": "object",
                "properties": {
                    "latitude": {"type": "number"},
                    "longitude": {"type": "number"},
                    **PHONE_PROPERTIES,
                },
            },
            required=False,
        ),
        "responses": ok(CHECKED_IN_SCHEMA),
    }
)
def api_check_in(visit_id: uuid.UUID) -> Any:
    visit = _my_visit_to_record(visit_id)
    body = json_object(optional=True)
    # a refusal (VisitError) is answered with its message: 409, or 400 for a value
    warnings = services.check_in(
        g.agency,
        visit,
        staff_id=visit.staff_file_id,
        latitude=body.get("latitude"),
        longitude=body.get("longitude"),
        phone=_phone_time(body),
        presence_code=_presence_code(body),
    )
    return _json({**_one(visit), "warnings": list(warnings or [])})


@bp.route("/visits/<uuid:visit_id>/check-out", methods=["POST"])
@operation(
    post={
        "summary": "Check out with the service record",
        "description": PHONE_WRITES,
        "tags": ["carer"],
        "parameters": [uuid_path("visit_id"), SENT_AT_PARAMETER],
        "requestBody": json_body(
            {
                "type": "object",
                "required": ["what_was_done", "checklist"],
                "properties": {
                    "checklist": {"type": "array", "items": {"type": "boolean"}},
                    "what_was_done": {"type": "string"},
                    "tools_used": {"type": "string"},
                    "outcome": {"type": "string"},
                    "notes": {"type": "string"},
                    "needs_attention": {"type": "boolean"},
                    **PHONE_PROPERTIES,
                    "reason": {
                        "type": "string",
                        "description": "Required when a checklist point is false or the visit lasted"
                        " less than a quarter of its planned time (a 400 naming the field `reason`)",
                    },
                },
            }
        ),
        "responses": ok(VISIT_SCHEMA),
    }
)
def api_check_out(visit_id: uuid.UUID) -> Any:
    visit = _my_visit_to_record(visit_id)
    body = json_object()

    def record_text(key: str) -> str:
        # the page's limits: longer is refused, never cut
        return text(body, key, page_limit(CheckOutForm, key))

    record = services.RecordData(
        ticked=booleans(body, "checklist"),
        what_was_done=record_text("what_was_done"),
        tools_used=record_text("tools_used"),
        outcome=record_text("outcome"),
        notes=record_text("notes"),
        needs_attention=boolean(body, "needs_attention"),
        reason=record_text("reason"),
    )
    services.check_out(
        g.agency,
        visit,
        record,
        staff_id=visit.staff_file_id,
        by=g.api_user,
        phone=_phone_time(body),
        presence_code=_presence_code(body),
    )
    return _json(_one(visit))


@bp.route("/my/calendar", methods=["POST"])
@operation(
    post={
        "summary": "Issue my private iCalendar feed URL (the previous one stops working)",
        "tags": ["carer"],
        "responses": ok({"type": "object", "properties": {"url": {"type": "string"}}}),
    }
)
def api_calendar() -> Any:
    url = services.issue_feed(_staff_id())
    return jsonify(url=url)


@bp.route("/my/visits")
@operation(
    get={
        "summary": "A client's (or family member's) upcoming visits",
        "tags": ["client"],
        "responses": ok(
            {
                "type": "object",
                "properties": {
                    "visits": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "starts_at": {"type": "string", "format": "date-time"},
                                "service": {"type": "string"},
                                "carer": {"type": "string", "nullable": True},
                            },
                        },
                    }
                },
            }
        ),
    }
)
@require(USE_PORTAL)
def my_visits() -> Any:
    client_ids = portal_client_ids(g.membership)
    rows = []
    if client_ids:
        rows = queries.upcoming_portal_visits(client_ids, db.utcnow(), limit=100)
    tz = services.tz_of(g.agency)
    return jsonify(
        visits=[
            {
                "id": str(v.id),
                "starts_at": v.starts_at.astimezone(tz).isoformat(),
                "service": service,
                "carer": carer.split(" ")[0] if carer else None,
            }
            for v, service, carer, _summary, _pending in rows
        ]
    )


# -- the agency's visits, for those who manage them -------------------------------------------

BOOKING_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "client_id": {"type": "string", "format": "uuid"},
        "client": {"type": "string"},
        "plan_id": {"type": "string", "format": "uuid", "nullable": True},
        "service_item_id": {"type": "string", "format": "uuid"},
        "service": {"type": "string"},
        "staff_id": {
            "type": "string",
            "format": "uuid",
            "nullable": True,
            "description": "A staff file's id",
        },
        "carer": {"type": "string", "nullable": True},
        "local_day": {"type": "string", "format": "date"},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": [s.value for s in VisitStatus]},
        "price": {"type": "string", "description": "The price it was booked at, as a decimal"},
        "unit": {"type": "string"},
        "checked_in_at": {"type": "string", "format": "date-time", "nullable": True},
        "checked_out_at": {"type": "string", "format": "date-time", "nullable": True},
        "late": {"type": "boolean"},
        "missed": {"type": "boolean"},
        "cancel_reason": {"type": "string"},
        "rescheduled_from": {"type": "string", "format": "date-time", "nullable": True},
        "reschedule_reason": {"type": "string"},
        "assignment_override_reason": {"type": "string", "nullable": True},
    },
}
BOOKING_EXAMPLE = {
    "id": "0193a1b2-0000-7000-8000-0000000000aa",
    "client_id": "0193a1b2-0000-7000-8000-0000000000c1",
    "client": "Edith Carver",
    "plan_id": None,
    "service_item_id": "0193a1b2-0000-7000-8000-000000000001",
    "service": "Bathing",
    "staff_id": None,
    "carer": None,
    "local_day": "2026-12-07",
    "starts_at": "2026-12-07T09:00:00+00:00",
    "ends_at": "2026-12-07T10:00:00+00:00",
    "status": "scheduled",
    "price": "25.00",
    "unit": "per_visit",
    "checked_in_at": None,
    "checked_out_at": None,
    "late": False,
    "missed": False,
    "cancel_reason": "",
    "rescheduled_from": None,
    "reschedule_reason": "",
    "assignment_override_reason": None,
}
REASONS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "message", "overridable"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "overridable": {"type": "boolean"},
        },
    },
}


def _booking_json(row: Any) -> dict[str, Any]:
    _starts, _id, v, client, service, carer = row
    return {
        "id": str(v.id),
        "client_id": str(v.client_id),
        "client": client,
        "plan_id": str(v.plan_id) if v.plan_id else None,
        "service_item_id": str(v.service_item_id),
        "service": service,
        "staff_id": str(v.staff_file_id) if v.staff_file_id else None,
        "carer": carer,
        "local_day": v.local_day.isoformat(),
        "starts_at": v.starts_at.isoformat(),
        "ends_at": v.ends_at.isoformat(),
        "status": v.status,
        "price": str(v.price),
        "unit": v.unit,
        "checked_in_at": v.checked_in_at.isoformat() if v.checked_in_at else None,
        "checked_out_at": v.checked_out_at.isoformat() if v.checked_out_at else None,
        "late": v.late_flagged_at is not None,
        "missed": v.missed_flagged_at is not None,
        "cancel_reason": v.cancel_reason,
        "rescheduled_from": v.rescheduled_from.isoformat() if v.rescheduled_from else None,
        "reschedule_reason": v.reschedule_reason,
        "assignment_override_reason": v.assignment_override_reason,
    }


def _booking(visit_id: uuid.UUID) -> dict[str, Any]:
    db.session.flush()
    row = queries.api_visit(visit_id)
    if row is None:
        abort(404)
    return _booking_json(row)


def _created(schema: dict[str, Any], example: Any) -> dict[str, Any]:
    return {
        "201": {
            "description": "Created",
            "content": {"application/json": {"schema": schema, "example": example}},
        }
    }


def _ok_example(schema: dict[str, Any], example: Any) -> dict[str, Any]:
    return {
        "200": {"description": "OK", "content": {"application/json": {"schema": schema, "example": example}}}
    }


def _body(schema: dict[str, Any], example: Any) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema, "example": example}}}


@bp.route("/visits", methods=["GET", "POST"])
@operation(
    get={
        "summary": "The agency's visits by start: between two local dates, of a carer, a client, a status",
        "tags": ["visits"],
        "parameters": [
            *PARAMETERS,
            param("from", {"type": "string", "format": "date"}, "First local day (inclusive)"),
            param("to", {"type": "string", "format": "date"}, "Last local day (inclusive)"),
            param("staff_id", {"type": "string", "format": "uuid"}, "Only this carer's (a staff file's id)"),
            param("client_id", {"type": "string", "format": "uuid"}, "Only this client's"),
            param(
                "status", {"type": "string", "enum": [s.value for s in VisitStatus]}, "Only in this status"
            ),
        ],
        "responses": _ok_example(
            page_schema(BOOKING_SCHEMA), {"items": [BOOKING_EXAMPLE], "next_cursor": None}
        ),
    },
    post={
        "summary": "Book a one-off visit for a client (the catalogue item's terms on its day give its price)",
        "tags": ["visits"],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["client_id", "service_item_id", "day", "start_time", "duration_minutes"],
                "properties": {
                    "client_id": {"type": "string", "format": "uuid"},
                    "service_item_id": {"type": "string", "format": "uuid"},
                    "day": {"type": "string", "format": "date", "description": "The agency's local day"},
                    "start_time": {"type": "string", "example": "09:00", "description": "HH:MM, local"},
                    "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 1440},
                },
            },
            {
                "client_id": BOOKING_EXAMPLE["client_id"],
                "service_item_id": BOOKING_EXAMPLE["service_item_id"],
                "day": "2026-12-07",
                "start_time": "09:00",
                "duration_minutes": 60,
            },
        ),
        "responses": _created(BOOKING_SCHEMA, BOOKING_EXAMPLE),
    },
)
@require(MANAGE_VISITS, refuse=403)
def visits() -> Any:
    if request.method == "POST":
        body = json_object()
        client_id = body.get("client_id")
        try:
            client = get_or_404(Client, uuid.UUID(client_id)) if isinstance(client_id, str) else None
        except ValueError:
            client = None
        if client is None:
            refuse(422, _("Choose one of the agency's clients."), "client_id")
        form_body = {k: v for k, v in body.items() if k != "client_id"}

        def prepare(form: OneOffVisitForm) -> None:
            form.service_item_id.choices = queries.service_choices()

        form = form_from_json(OneOffVisitForm, form_body, prepare=prepare)
        visit = services.add_one_off_visit(
            g.agency,
            client,
            service_item_id=uuid.UUID(form.service_item_id.data),
            day=form.day.data,
            start=form.start_time.data,
            duration_minutes=form.duration_minutes.data,
            by=g.api_user,
        )
        return respond(_booking(visit.id), 201)
    first, last = query_date("from", None), query_date("to", None)  # type: ignore[arg-type]
    if first and last and last < first:
        refuse(422, _("to must not be before from."), "to")
    status = request.args.get("status") or None
    if status and status not in {s.value for s in VisitStatus}:
        refuse(
            422,
            _("%(field)s must be one of: %(values)s.", field="status", values=", ".join(VisitStatus)),
            "status",
        )
    stmt = queries.api_visits(
        first, last, staff_id=uuid_arg("staff_id"), client_id=uuid_arg("client_id"), status=status
    )
    page = cursor_page(stmt, [Visit.starts_at, Visit.id], scalars=False)
    return respond(page.document(_booking_json))


@bp.route("/visits/<uuid:visit_id>/booking")
@operation(
    get={
        "summary": "Any visit of the agency as the office sees it: client, carer, times, price, flags",
        "description": "The read is logged in the client's file, as the visit page's is.",
        "tags": ["visits"],
        "parameters": [uuid_path("visit_id")],
        "responses": _ok_example(BOOKING_SCHEMA, BOOKING_EXAMPLE),
    }
)
@require(MANAGE_VISITS)
def booking(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    log_reads([visit.client_id], "api", g.api_user.id)  # the visit sheet, as the page logs it
    return respond(_booking(visit.id))


ASSIGN_BODY = {
    "type": "object",
    "required": ["staff_id"],
    "properties": {
        "staff_id": {"type": "string", "format": "uuid", "description": "A carer's staff file id"},
        "override_reason": {
            "type": "string",
            "maxLength": 1000,
            "description": "Admins: assign despite the overridable refusals, for this written reason",
        },
    },
}


@bp.route("/visits/<uuid:visit_id>/assign", methods=["POST"])
@operation(
    post={
        "summary": "Give a visit to a carer, after every check the board makes",
        "description": "A refusal is a 422 whose `reasons` name every check that failed (qualification, "
        "pre-service training, availability, time off, travel time, caseload, double booking) and whether an "
        "admin may override it with `override_reason`.",
        "tags": ["visits"],
        "parameters": [uuid_path("visit_id"), IF_MATCH],
        "requestBody": _body(ASSIGN_BODY, {"staff_id": "0193a1b2-0000-7000-8000-0000000000f1"}),
        "responses": {
            **_ok_example(BOOKING_SCHEMA, BOOKING_EXAMPLE),
            "422": {
                "description": "Refused: every reason, in `reasons`",
                "content": {
                    "application/problem+json": {
                        "schema": {
                            "allOf": [
                                {"$ref": "#/components/schemas/Error"},
                                {"type": "object", "properties": {"reasons": REASONS_SCHEMA}},
                            ]
                        }
                    }
                },
            },
        },
    }
)
@require(MANAGE_VISITS)
def assign_visit(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    require_match(_booking(visit.id))

    def prepare(form: AssignForm) -> None:
        form.staff_id.choices = queries.carer_choices()

    body = json_object()
    if isinstance(body.get("staff_id"), str) and body["staff_id"] not in {
        c for c, _n in queries.carer_choices()
    }:
        refuse(422, _("Choose a carer from the list."), "staff_id")
    form = form_from_json(AssignForm, body, prepare=prepare)
    try:
        services.assign(
            g.agency,
            visit,
            uuid.UUID(form.staff_id.data),
            by=g.api_user,
            role=g.membership.role,
            override_reason=form.override_reason.data or "",
        )
    except AssignmentRefused as refused:
        reasons = [
            {"code": r.code, "message": r.message, "overridable": r.overridable} for r in refused.refusals
        ]
        detail = _(
            "This carer cannot take this visit: %(reasons)s",
            reasons="; ".join(r.message for r in refused.refusals),
        )
        abort(
            problem(
                422,
                detail,
                "staff_id",
                [("staff_id", r.message) for r in refused.refusals],
                {"reasons": reasons},
            )
        )
    return respond(_booking(visit.id))


@bp.route("/visits/<uuid:visit_id>/reschedule", methods=["POST"])
@operation(
    post={
        "summary": "Move a visit to another local day and time, with a reason (carer and client are told)",
        "description": "The carer keeps it only if the new time passes every check.",
        "tags": ["visits"],
        "parameters": [uuid_path("visit_id"), IF_MATCH],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["day", "start_time", "reason"],
                "properties": {
                    "day": {"type": "string", "format": "date"},
                    "start_time": {"type": "string", "example": "14:00"},
                    "reason": {"type": "string", "maxLength": 500},
                },
            },
            {"day": "2026-12-08", "start_time": "14:00", "reason": "Hospital appointment"},
        ),
        "responses": _ok_example(BOOKING_SCHEMA, BOOKING_EXAMPLE),
    }
)
@require(MANAGE_VISITS)
def reschedule_visit(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    require_match(_booking(visit.id))
    form = form_from_json(RescheduleForm, json_object())
    services.reschedule(
        g.agency, visit, day=form.day.data, start=form.start_time.data, reason=form.reason.data, by=g.api_user
    )
    return respond(_booking(visit.id))


@bp.route("/visits/<uuid:visit_id>/cancel", methods=["POST"])
@operation(
    post={
        "summary": "Cancel a visit with a reason (carer and client are told)",
        "tags": ["visits"],
        "parameters": [uuid_path("visit_id"), IF_MATCH],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["reason"],
                "properties": {"reason": {"type": "string", "maxLength": 500}},
            },
            {"reason": "The client is in hospital"},
        ),
        "responses": _ok_example(BOOKING_SCHEMA, {**BOOKING_EXAMPLE, "status": "cancelled"}),
    }
)
@require(MANAGE_VISITS)
def cancel_visit(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    require_match(_booking(visit.id))
    form = form_from_json(ReasonForm, json_object())
    services.cancel(g.agency, visit, reason=form.reason.data, by=g.api_user)
    return respond(_booking(visit.id))
