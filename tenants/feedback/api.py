"""Feedback through the API: a client rates a visit and reads their ratings;
any member submits an opinion or complaint; staff list and advance them."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, g, jsonify, request
from flask_babel import gettext as _

from saas.api import filters
from saas.api.body import boolean, json_object, page_limit, refuse, text
from saas.api.conditional import respond
from saas.api.paging import PARAMETERS, cursor_page, page_schema
from saas.api.views import api_error, bp, json_body, ok, operation, uuid_path
from saas.models import Role
from saas.permissions import USE_PORTAL, require
from saas.tenancy import current_membership
from tenants.clients.services import portal_client_ids
from tenants.feedback import HANDLE_COMPLAINTS, HANDLE_RATINGS, queries, services
from tenants.feedback.forms import FeedbackForm, RatingForm, TransitionForm
from tenants.feedback.models import (
    DIMENSIONS,
    FeedbackItem,
    FeedbackKind,
    FeedbackStatus,
    RatingChannel,
    VisitRating,
)
from tenants.feedback.services import FeedbackData, Scores
from tenants.scheduling.models import Visit

RATING_SCHEMA = {
    "type": "object",
    "properties": {
        "visit_id": {"type": "string", "format": "uuid"},
        **{d: {"type": "integer", "minimum": 1, "maximum": 5} for d in DIMENSIONS},
        "comment": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "can_amend": {"type": "boolean"},
    },
}
ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "kind": {"type": "string", "enum": ["opinion", "suggestion", "complaint", "praise"]},
        "status": {"type": "string", "enum": [s.value for s in FeedbackStatus]},
        "description": {"type": "string"},
        "received_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time"},
        "deadline": {"type": "string", "enum": ["answered", "overdue", "due_soon", "on_time"]},
        "client_id": {"type": "string", "format": "uuid", "nullable": True},
        "visit_id": {"type": "string", "format": "uuid", "nullable": True},
        "staff_id": {"type": "string", "format": "uuid", "nullable": True},
        "response": {"type": "string"},
    },
}

ITEM_EXAMPLE = {
    "id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b",
    "kind": "complaint",
    "status": "received",
    "description": "The carer arrived forty minutes late on Tuesday.",
    "received_at": "2026-12-07T09:00:00+00:00",
    "due_at": "2026-12-10T09:00:00+00:00",
    "deadline": "on_time",
    "client_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a60",
    "visit_id": None,
    "staff_id": None,
    "response": "",
}
OFFICE_RATING_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "visit_id": {"type": "string", "format": "uuid"},
        "visit_day": {"type": "string", "format": "date", "description": "The visit's local day"},
        "visit_starts_at": {"type": "string", "format": "date-time"},
        "client_id": {"type": "string", "format": "uuid"},
        "staff_id": {
            "type": "string",
            "format": "uuid",
            "nullable": True,
            "description": "The carer's staff file",
        },
        **{d: {"type": "integer", "minimum": 1, "maximum": 5} for d in DIMENSIONS},
        "low": {"type": "boolean", "description": "A score at or under the agency's low-rating threshold"},
        "comment": {"type": "string"},
        "channel": {"type": "string", "enum": [c.value for c in RatingChannel]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
OFFICE_RATING_EXAMPLE = {
    "id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a70",
    "visit_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a71",
    "visit_day": "2026-12-07",
    "visit_starts_at": "2026-12-07T09:00:00+00:00",
    "client_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a60",
    "staff_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a72",
    "attitude": 5,
    "process": 4,
    "effect": 4,
    "environment": 5,
    "timeliness": 2,
    "low": True,
    "comment": "A little late",
    "channel": "portal",
    "created_at": "2026-12-07T11:00:00+00:00",
    "updated_at": "2026-12-07T11:00:00+00:00",
}

# kind, about and to_status are checked against their choices by the services
CHOICE_LIMIT = 50


def _rating_json(rating: VisitRating) -> dict[str, Any]:
    return {
        "visit_id": str(rating.visit_id),
        **{d: getattr(rating, d) for d in DIMENSIONS},
        "comment": rating.comment,
        "created_at": rating.created_at.isoformat(),
        "can_amend": services.can_amend(rating),
    }


@bp.route("/visits/<uuid:visit_id>/rating", methods=["POST"])
@operation(
    post={
        "summary": "Rate a completed visit of one of my clients (or amend it within 7 days)",
        "tags": ["client"],
        "parameters": [uuid_path("visit_id")],
        "requestBody": json_body(
            {
                "type": "object",
                "required": list(DIMENSIONS),
                "properties": {
                    **{d: {"type": "integer", "minimum": 1, "maximum": 5} for d in DIMENSIONS},
                    "comment": {"type": "string"},
                },
            }
        ),
        "responses": ok(RATING_SCHEMA),
    }
)
@require(USE_PORTAL)
def api_rate(visit_id: uuid.UUID) -> Any:
    visit = queries.visit_of(visit_id)
    if visit is None or visit.client_id not in portal_client_ids(current_membership()):
        abort(404)
    body = json_object()
    values = {d: body.get(d) for d in DIMENSIONS}
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values.values()):
        return api_error(400, "Give each of attitude, process, effect, environment, timeliness as 1 to 5.")
    comment = text(body, "comment", page_limit(RatingForm, "comment"))
    # a refusal (FeedbackError) is answered by the core with its status and message
    rating = services.rate_visit(
        g.agency,
        visit,
        Scores(**values, comment=comment),
        channel=RatingChannel.PORTAL,
        membership_id=g.membership.id,
    )
    return jsonify(_rating_json(rating))


@bp.route("/my/ratings")
@operation(
    get={
        "summary": "The ratings given for my clients' visits",
        "tags": ["client"],
        "responses": ok(
            {"type": "object", "properties": {"ratings": {"type": "array", "items": RATING_SCHEMA}}}
        ),
    }
)
@require(USE_PORTAL, refuse=404)
def api_my_ratings() -> Any:
    rows = queries.ratings_of_clients(portal_client_ids(current_membership()))
    return jsonify(ratings=[_rating_json(r) for r in rows])


@bp.route("/feedback", methods=["GET", "POST"])
@operation(
    get={
        "summary": "Opinions and complaints by deadline, paged and filtered (admins and coordinators)",
        "description": "Without `status` or `closed`, those not yet closed, as the inbox shows them.",
        "tags": ["feedback"],
        "parameters": [
            *PARAMETERS,
            filters.choice_param("kind", [k.value for k in FeedbackKind], "Only feedback of this kind"),
            filters.choice_param("status", [s.value for s in FeedbackStatus], "Only feedback at this step"),
            filters.param("closed", filters.BOOLEAN, "With the closed ones too (true)"),
            *filters.date_range_params("feedback received"),
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": page_schema(ITEM_SCHEMA),
                        "example": {"items": [ITEM_EXAMPLE], "next_cursor": None},
                    }
                },
            }
        },
    },
    post={
        "summary": "Submit an opinion, suggestion, complaint or praise",
        "tags": ["feedback"],
        "requestBody": json_body(
            {
                "type": "object",
                "required": ["kind", "description"],
                "properties": {
                    "kind": {"type": "string"},
                    "category": {"type": "string"},
                    "about": {"type": "string", "enum": ["visit", "carer", "service_item", "agency"]},
                    "description": {"type": "string"},
                    "contact": {"type": "string"},
                    "confidential": {"type": "boolean"},
                    # a client names one of their recent visits and its carer
                    "client_id": {"type": "string", "format": "uuid"},
                    "visit_id": {"type": "string", "format": "uuid"},
                    "staff_id": {"type": "string", "format": "uuid"},
                },
            }
        ),
        "responses": ok(ITEM_SCHEMA),
    },
)
@require(HANDLE_COMPLAINTS, methods=("GET",))
def api_feedback() -> Any:
    if request.method == "GET":
        since, until = filters.moment_range(g.agency.zone)
        stmt = queries.api_items(
            kind=filters.choice_arg("kind", [k.value for k in FeedbackKind]),
            status=filters.choice_arg("status", [s.value for s in FeedbackStatus]),
            with_closed=bool(filters.bool_arg("closed")),
            since=since,
            until=until,
        )
        page = cursor_page(stmt, [FeedbackItem.due_at, FeedbackItem.id])
        return respond(page.document(_item_json))
    body = json_object()

    def field(key: str) -> str:
        # the page's limits: longer is refused, never cut
        return text(body, key, page_limit(FeedbackForm, key))

    data = FeedbackData(
        kind=text(body, "kind", CHOICE_LIMIT),
        category=field("category"),
        about=text(body, "about", CHOICE_LIMIT) or "agency",
        description=field("description"),
        contact_name=g.api_user.name if g.membership.role == Role.CLIENT else "",
        contact=field("contact"),
        confidential=boolean(body, "confidential"),
        client_id=_id(body, "client_id"),
        visit_id=_id(body, "visit_id"),
        staff_file_id=_id(body, "staff_id"),
    )
    if g.membership.role == Role.CLIENT:
        # as in the portal: about one of their clients, visits and carers
        item = services.submit_portal_feedback(g.agency, data, g.membership)
    else:
        item = services.submit_feedback(
            g.agency, data, channel="phone", membership_id=g.membership.id, by=g.api_user
        )
    return jsonify(_item_json(item))


def _id(body: dict[str, Any], key: str) -> uuid.UUID | None:
    """An optional id: absent, null or empty is None; anything else must be one."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    refuse(422, _("%(field)s must be an id.", field=key))


def _item_json(item: FeedbackItem) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "kind": item.kind,
        "status": item.status,
        "description": item.description,
        "received_at": item.received_at.isoformat(),
        "due_at": item.due_at.isoformat(),
        "deadline": services.deadline_state(item),
        "client_id": str(item.client_id) if item.client_id else None,
        "visit_id": str(item.visit_id) if item.visit_id else None,
        "staff_id": str(item.staff_file_id) if item.staff_file_id else None,
        "response": item.response,
    }


@bp.route("/feedback/<uuid:feedback_id>/transition", methods=["POST"])
@operation(
    post={
        "summary": "Move an opinion or complaint forward (acknowledged, investigating, responded, closed)",
        "tags": ["feedback"],
        "parameters": [uuid_path("feedback_id")],
        "requestBody": json_body(
            {
                "type": "object",
                "required": ["to_status"],
                "properties": {
                    "to_status": {"type": "string"},
                    "note": {"type": "string"},
                    "response": {"type": "string"},
                },
            }
        ),
        "responses": ok(ITEM_SCHEMA),
    }
)
@require(HANDLE_COMPLAINTS)
def api_feedback_transition(feedback_id: uuid.UUID) -> Any:
    item = queries.item_of(feedback_id)
    if item is None:
        abort(404)
    body = json_object()
    to_status = text(body, "to_status", CHOICE_LIMIT)
    note = text(body, "note", page_limit(TransitionForm, "note"))
    response = text(body, "response", page_limit(TransitionForm, "response"))
    services.transition(item, to_status, by=g.api_user, note=note, response=response)
    return jsonify(_item_json(item))


def _office_rating_json(row: Any, threshold: int) -> dict[str, Any]:
    rating: VisitRating = row.VisitRating
    return {
        "id": str(rating.id),
        "visit_id": str(rating.visit_id),
        "visit_day": row.local_day.isoformat(),
        "visit_starts_at": row.starts_at.isoformat(),
        "client_id": str(rating.client_id),
        "staff_id": str(rating.staff_file_id) if rating.staff_file_id else None,
        **{d: getattr(rating, d) for d in DIMENSIONS},
        "low": any(getattr(rating, d) <= threshold for d in DIMENSIONS),
        "comment": rating.comment,
        "channel": rating.channel,
        "created_at": rating.created_at.isoformat(),
        "updated_at": rating.updated_at.isoformat(),
    }


@bp.route("/ratings")
@operation(
    get={
        "summary": "Visit ratings for the office, the latest visit first, paged and filtered",
        "description": "For the roles that follow up ratings. Ids only: read a client or a staff file "
        "for their names, where your role may.",
        "tags": ["feedback"],
        "parameters": [
            *PARAMETERS,
            filters.param("client_id", filters.ID, "Only this client's ratings"),
            filters.param(
                "staff_id", filters.ID, "Only the ratings of this carer's visits (a staff file's id)"
            ),
            *filters.date_range_params("visits"),
            filters.param(
                "low", filters.BOOLEAN, "Only low ratings (true): a score at or under the threshold"
            ),
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": page_schema(OFFICE_RATING_SCHEMA),
                        "example": {"items": [OFFICE_RATING_EXAMPLE], "next_cursor": None},
                    }
                },
            }
        },
    }
)
@require(HANDLE_RATINGS, refuse=403)
def api_ratings() -> Any:
    threshold = services.low_threshold(g.agency)
    first, last = filters.day_range()
    wanted = queries.RatingFilters(
        client_id=filters.uuid_arg("client_id"),
        staff_id=filters.uuid_arg("staff_id"),
        first=first,
        last=last,
        low_only=bool(filters.bool_arg("low")),
        low_threshold=threshold,
    )
    page = cursor_page(
        queries.ratings(wanted), [Visit.starts_at, VisitRating.id], scalars=False, descending=True
    )
    return respond(page.document(lambda row: _office_rating_json(row, threshold)))
