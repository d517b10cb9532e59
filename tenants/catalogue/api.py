"""The service catalogue over the API: each item with the terms in effect on
a day (price, unit, duration, checklist), for the office."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _

from saas.api.body import query_date, refuse
from saas.api.conditional import respond
from saas.api.paging import PARAMETERS, cursor_page, page_schema
from saas.api.views import bp, operation
from saas.permissions import require
from tenants.catalogue import VIEW_CATALOGUE, queries, services
from tenants.catalogue.models import ServiceItem
from tenants.staffing.settings import local_today

ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "category_id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "scope_included": {"type": "string"},
        "scope_excluded": {"type": "string"},
        "active": {"type": "boolean"},
        "terms": {
            "type": "object",
            "nullable": True,
            "description": "The terms in effect on the day asked (null: none yet)",
            "properties": {
                "effective_from": {"type": "string", "format": "date"},
                "price": {"type": "string", "description": "A decimal amount, as text"},
                "unit": {"type": "string"},
                "duration_minutes": {"type": "integer"},
                "checklist": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}


@bp.route("/catalogue/items")
@operation(
    get={
        "summary": "The service catalogue's items, with the terms in effect on a day (default: today)",
        "tags": ["catalogue"],
        "parameters": [
            *PARAMETERS,
            {"name": "on", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
            {"name": "active", "in": "query", "required": False, "schema": {"type": "boolean"}},
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": page_schema(ITEM_SCHEMA)}},
            }
        },
    }
)
@require(VIEW_CATALOGUE, refuse=403)
def catalogue_items() -> Any:
    day = query_date("on", local_today())
    active = request.args.get("active") or None
    if active and active not in ("true", "false"):
        refuse(422, _("%(field)s must be true or false.", field="active"), "active")
    page = cursor_page(
        queries.items_statement(None if active is None else active == "true"),
        [ServiceItem.created_at, ServiceItem.id],
    )
    terms = services.terms_on([i.id for i in page.rows], day)

    def render(item: ServiceItem) -> dict[str, Any]:
        t = terms.get(item.id)
        return {
            "id": str(item.id),
            "category_id": str(item.category_id),
            "name": item.name,
            "description": item.description,
            "scope_included": item.scope_included,
            "scope_excluded": item.scope_excluded,
            "active": item.active,
            "terms": {
                "effective_from": t.effective_from.isoformat(),
                "price": str(t.price),
                "unit": t.unit,
                "duration_minutes": t.duration_minutes,
                "checklist": list(t.checklist or []),
            }
            if t
            else None,
        }

    return respond(page.document(render))
