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
from saas.api.body import boolean, booleans, json_object, page_limit, query_date, refuse, text
from saas.api.views import bp, json_body, ok, operation, uuid_path
from saas.models import Role
from saas.permissions import USE_PORTAL, require
from saas.tenancy import get_or_404
from tenants.clients.read_log import log_reads
from tenants.clients.services import emergency_contacts_of, portal_client_ids
from tenants.scheduling import queries, services
from tenants.scheduling.forms import CheckOutForm
from tenants.scheduling.models import Visit, VisitStatus
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
