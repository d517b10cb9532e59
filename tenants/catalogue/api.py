"""The service catalogue over the API: each item with the terms in effect on
a day (price, unit, duration, checklist), for the office; adding an item and
changing its name, category and scope for those who manage the catalogue,
through the pages' forms and services."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import g, request
from flask_babel import gettext as _

from saas.api.body import body_id, check_types, form_from_json, json_object, only_known, query_date, refuse
from saas.api.conditional import require_match, respond
from saas.api.paging import cursor_page, list_parameters, page_response, query_param
from saas.api.views import IF_MATCH, bp, operation, uuid_path
from saas.fields import uuid_or_none
from saas.permissions import require
from saas.tenancy import get_or_404
from tenants.catalogue import MANAGE_CATALOGUE, VIEW_CATALOGUE, queries, services
from tenants.catalogue.forms import ItemForm, NewItemForm
from tenants.catalogue.models import UNITS, ItemTerms, ServiceItem
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
                "required_certificate_type_id": {
                    "type": "string",
                    "format": "uuid",
                    "nullable": True,
                    "description": "The certificate a carer needs to be assigned it (null: none)",
                },
            },
        },
    },
}
# what changes on the item's edit page (its terms change from a date on, on their own page)
ITEM_PROPERTIES: dict[str, Any] = {
    "category_id": {"type": "string", "format": "uuid"},
    "name": {"type": "string", "maxLength": 200},
    "description": {"type": "string", "maxLength": 5000},
    "scope_included": {"type": "string", "maxLength": 5000},
    "scope_excluded": {"type": "string", "maxLength": 5000},
}
# what a new item is given besides: its first terms, in effect from today
NEW_ITEM_PROPERTIES: dict[str, Any] = {
    **ITEM_PROPERTIES,
    "price": {"type": "number", "minimum": 0, "maximum": 99999999.99},
    "unit": {"type": "string", "enum": list(UNITS)},
    "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
    "checklist": {
        "type": "array",
        "maxItems": services.MAX_POINTS,
        "items": {"type": "string", "maxLength": services.MAX_POINT_LENGTH},
        "description": "The quality standard: points the carer ticks on every visit",
    },
    "required_certificate_type_id": {"type": "string", "format": "uuid", "nullable": True},
}
NEW_ITEM_EXAMPLE = {
    "category_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b",
    "name": "Medication reminder",
    "description": "A visit to remind and check the client takes their medication.",
    "price": 18.5,
    "unit": "per_visit",
    "duration_minutes": 20,
    "checklist": ["Medication taken", "Box refilled"],
}


def _item_json(item: ServiceItem, t: ItemTerms | None) -> dict[str, Any]:
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
            "required_certificate_type_id": (
                str(t.required_certificate_type_id) if t.required_certificate_type_id else None
            ),
        }
        if t
        else None,
    }


def _item_document(item: ServiceItem, day: date | None = None) -> dict[str, Any]:
    return _item_json(item, services.terms_on([item.id], day or local_today()).get(item.id))


def _item_input(form: ItemForm) -> services.ItemInput:
    return services.ItemInput(
        category_id=uuid_or_none(form.category_id.data),
        name=form.name.data or "",
        description=form.description.data or "",
        scope_included=form.scope_included.data or "",
        scope_excluded=form.scope_excluded.data or "",
    )


@bp.route("/catalogue/items", methods=["GET", "POST"])
@operation(
    get={
        "summary": "The service catalogue's items, with the terms in effect on a day (default: today)",
        "tags": ["catalogue"],
        "parameters": list_parameters(
            query_param("on", {"type": "string", "format": "date"}),
            query_param("active", {"type": "boolean"}),
        ),
        "responses": page_response(ITEM_SCHEMA),
    },
    post={
        "summary": "Add an item to the catalogue with its first terms, in effect from today (admins)",
        "tags": ["catalogue"],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["category_id", "name", "price", "unit", "duration_minutes"],
                        "properties": NEW_ITEM_PROPERTIES,
                    },
                    "example": NEW_ITEM_EXAMPLE,
                }
            },
        },
        "responses": {
            "201": {"description": "The item added", "content": {"application/json": {"schema": ITEM_SCHEMA}}}
        },
    },
)
@require(VIEW_CATALOGUE, refuse=403)
@require(MANAGE_CATALOGUE, refuse=403, methods=("POST",))
def catalogue_items() -> Any:
    if request.method == "POST":
        body = json_object()
        check_types(body, NEW_ITEM_PROPERTIES)
        body_id(body, "required_certificate_type_id")  # optional, so no id is never taken for a bad one
        values = dict(body)
        if body.get("checklist") is not None:
            # the page's text area: one point per line
            values["checklist"] = "\n".join(body["checklist"])
        form = form_from_json(NewItemForm, values)
        terms = services.TermsInput(
            price=form.price.data,
            unit=form.unit.data,
            duration_minutes=form.duration_minutes.data,
            checklist=services.checklist_from_text(form.checklist.data or ""),
            required_certificate_type_id=uuid_or_none(form.required_certificate_type_id.data),
        )
        made = services.create_item(_item_input(form), terms, by=g.api_user)
        return respond(_item_document(made), 201)
    day = query_date("on", local_today())
    active = request.args.get("active") or None
    if active and active not in ("true", "false"):
        refuse(422, _("%(field)s must be true or false.", field="active"), "active")
    page = cursor_page(
        queries.items_statement(None if active is None else active == "true"),
        [ServiceItem.created_at, ServiceItem.id],
    )
    terms = services.terms_on([i.id for i in page.rows], day)
    return respond(page.document(lambda item: _item_json(item, terms.get(item.id))))


@bp.route("/catalogue/items/<uuid:item_id>", methods=["GET", "PATCH"])
@operation(
    get={
        "summary": "One item of the catalogue, with the terms in effect on a day (default: today)",
        "tags": ["catalogue"],
        "parameters": [
            uuid_path("item_id"),
            query_param("on", {"type": "string", "format": "date"}),
        ],
        "responses": {
            "200": {"description": "The item", "content": {"application/json": {"schema": ITEM_SCHEMA}}}
        },
    },
    patch={
        "summary": "Change an item's name, category, description or scope (admins)",
        "description": "The fields sent replace the item's. Its terms (price, duration, checklist) "
        "change from a date on, on the catalogue's pages.",
        "tags": ["catalogue"],
        "parameters": [uuid_path("item_id"), IF_MATCH],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": ITEM_PROPERTIES},
                    "example": {"description": "Tidying, dusting and the washing up."},
                }
            },
        },
        "responses": {
            "200": {
                "description": "The item as changed",
                "content": {"application/json": {"schema": ITEM_SCHEMA}},
            }
        },
    },
)
@require(VIEW_CATALOGUE)
@require(MANAGE_CATALOGUE, methods=("PATCH",))
def catalogue_item(item_id: uuid.UUID) -> Any:
    item = get_or_404(ServiceItem, item_id)
    if request.method == "GET":
        return respond(_item_document(item, query_date("on", local_today())))
    require_match(_item_document(item))
    body = json_object()
    only_known(body, ITEM_PROPERTIES)
    check_types(body, ITEM_PROPERTIES)
    current = {
        "category_id": str(item.category_id),
        "name": item.name,
        "description": item.description,
        "scope_included": item.scope_included,
        "scope_excluded": item.scope_excluded,
    }
    form = form_from_json(ItemForm, {**current, **body})
    services.update_item(item, _item_input(form))
    return respond(_item_document(item))
