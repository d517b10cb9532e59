"""Webhook endpoints over the API (admins): list, add (the secret is in the
answer, once), and an endpoint's delivery log."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, request
from flask_babel import gettext as _

from saas.api.body import form_from_json, json_object, refuse
from saas.api.conditional import respond
from saas.api.paging import PARAMETERS, cursor_page, page_schema
from saas.api.views import bp, operation, uuid_path
from saas.permissions import require
from saas.tenancy import get_or_404
from tenants.webhooks import MANAGE_WEBHOOKS, queries, services
from tenants.webhooks.forms import EndpointForm
from tenants.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

EVENT = {"type": "string", "enum": list(services.EVENTS)}
ENDPOINT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "url": {"type": "string"},
        "description": {"type": "string"},
        "events": {"type": "array", "items": EVENT},
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
NEW_ENDPOINT_SCHEMA = {
    **ENDPOINT_SCHEMA,
    "properties": {
        **ENDPOINT_SCHEMA["properties"],
        "secret": {"type": "string", "description": "The signing secret: shown only in this answer"},
    },
}
DELIVERY_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "event": EVENT,
        "status": {"type": "string", "enum": [s.value for s in DeliveryStatus]},
        "attempts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "at": {"type": "string", "format": "date-time"},
                    "status_code": {"type": "integer", "nullable": True},
                    "error": {"type": "string"},
                    "duration_ms": {"type": "integer"},
                },
            },
        },
        "next_attempt_at": {"type": "string", "format": "date-time", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "payload": {"type": "object"},
    },
}
EXAMPLE = {
    "url": "https://payroll.example.com/carehub/hooks",
    "description": "Payroll",
    "events": ["visit.checked_in", "visit.checked_out"],
}


def _endpoint_json(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "url": e.url,
        "description": e.description,
        "events": list(e.events or []),
        "active": e.active,
        "created_at": e.created_at.isoformat(),
    }


@bp.route("/webhooks", methods=["GET", "POST"])
@operation(
    get={
        "summary": "The agency's webhook endpoints",
        "tags": ["webhooks"],
        "parameters": list(PARAMETERS),
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": page_schema(ENDPOINT_SCHEMA)}},
            }
        },
    },
    post={
        "summary": "Add a webhook endpoint: its URL and the events it receives",
        "description": "A URL to a private, loopback or link-local address is refused (422 naming `url`) "
        "unless the platform's operators allow it.",
        "tags": ["webhooks"],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["url", "events"],
                        "properties": {
                            "url": {"type": "string", "maxLength": services.URL_MAX},
                            "description": {"type": "string", "maxLength": 200},
                            "events": {"type": "array", "items": EVENT, "minItems": 1},
                        },
                    },
                    "example": EXAMPLE,
                }
            },
        },
        "responses": {
            "201": {
                "description": "Created",
                "content": {
                    "application/json": {
                        "schema": NEW_ENDPOINT_SCHEMA,
                        "example": {**EXAMPLE, "secret": "whsec_..."},
                    }
                },
            }
        },
    },
)
@require(MANAGE_WEBHOOKS, refuse=403)
def webhooks() -> Any:
    if request.method == "POST":
        form = form_from_json(EndpointForm, json_object())
        endpoint, secret = services.create_endpoint(
            form.url.data, form.events.data or [], form.description.data or "", by=g.api_user
        )
        return respond({**_endpoint_json(endpoint), "secret": secret}, 201)
    page = cursor_page(queries.endpoints_statement(), [WebhookEndpoint.created_at, WebhookEndpoint.id])
    return respond(page.document(_endpoint_json))


@bp.route("/webhooks/<uuid:endpoint_id>/deliveries")
@operation(
    get={
        "summary": "An endpoint's delivery log, oldest first, with every attempt",
        "tags": ["webhooks"],
        "parameters": [
            uuid_path("endpoint_id"),
            *PARAMETERS,
            {
                "name": "status",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": [s.value for s in DeliveryStatus]},
            },
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": page_schema(DELIVERY_SCHEMA)}},
            }
        },
    }
)
@require(MANAGE_WEBHOOKS)
def deliveries(endpoint_id: uuid.UUID) -> Any:
    endpoint = get_or_404(WebhookEndpoint, endpoint_id)
    status = request.args.get("status") or None
    if status and status not in {s.value for s in DeliveryStatus}:
        refuse(
            422,
            _("%(field)s must be one of: %(values)s.", field="status", values=", ".join(DeliveryStatus)),
            "status",
        )
    page = cursor_page(
        queries.deliveries_statement(endpoint.id, status), [WebhookDelivery.created_at, WebhookDelivery.id]
    )
    attempts = queries.attempts_of([d.id for d in page.rows])
    return respond(
        {
            "items": [
                {
                    "id": str(d.id),
                    "event": d.event,
                    "status": d.status,
                    "attempts": [
                        {
                            "at": a.at.isoformat(),
                            "status_code": a.status_code,
                            "error": a.error,
                            "duration_ms": a.duration_ms,
                        }
                        for a in attempts.get(d.id, [])
                    ],
                    "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
                    "created_at": d.created_at.isoformat(),
                    "payload": d.payload,
                }
                for d in page.rows
            ],
            "next_cursor": page.next_cursor,
        }
    )
