"""Clients (with their emergency contacts), cases, needs assessments and
service plans over the API, for the roles that manage cases: the same forms
check a body as check the pages, the same services make each change, and
each read of a client's file is logged as the pages log it."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, g, request
from flask_babel import gettext as _

from billing.lifecycle import can_grow, client_limit_refusal, restricted_message
from saas.api.body import boolean, form_from_json, json_object, refuse, text
from saas.api.conditional import require_match, respond
from saas.api.filters import choice_arg, param, uuid_arg
from saas.api.paging import PARAMETERS, cursor_page, page_schema
from saas.api.views import IF_MATCH, bp, operation, uuid_path
from saas.permissions import require
from saas.tenancy import get_or_404
from tenants.clients import MANAGE_CASES, queries, services
from tenants.clients.forms import (
    AssessmentForm,
    ClientForm,
    CloseCaseForm,
    FollowUpForm,
    OpenCaseForm,
    PlanForm,
    PlanItemForm,
    RiskForm,
)
from tenants.clients.models import (
    ASSESSMENT_DOMAINS,
    Case,
    CaseStatus,
    Client,
    EmergencyContact,
    FollowUp,
    FollowUpMethod,
    NeedsAssessment,
    PlanStatus,
    RiskAssessment,
    ServicePlan,
    ServicePlanItem,
)
from tenants.clients.queries import api as lists
from tenants.clients.read_log import log_reads

TAG = "clients"
ID = {"type": "string", "format": "uuid"}
DAY = {"type": "string", "format": "date"}
NULLABLE_DAY = {"type": "string", "format": "date", "nullable": True}
MOMENT = {"type": "string", "format": "date-time"}


def _choices(name: str, nullable: bool = False) -> dict[str, Any]:
    values = [value for value, _label in getattr(ClientForm, name).kwargs["choices"]() if value]
    return {"type": "string", "enum": values + ([None] if nullable else []), "nullable": nullable}


CONTACT_SCHEMA = {
    "type": "object",
    "required": ["name", "relationship", "phone"],
    "properties": {
        "name": {"type": "string", "maxLength": 200},
        "relationship": {"type": "string", "maxLength": 100},
        "phone": {"type": "string", "maxLength": 40},
    },
}
PROFILE_PROPERTIES: dict[str, Any] = {
    "full_name": {"type": "string", "maxLength": 200},
    "preferred_name": {"type": "string", "maxLength": 100},
    "date_of_birth": NULLABLE_DAY,
    "gender": _choices("gender"),
    "phone": {"type": "string", "maxLength": 40},
    "email": {"type": "string", "maxLength": 254},
    "address": {"type": "string", "maxLength": 1000},
    "latitude": {"type": "number", "nullable": True, "minimum": -90, "maximum": 90},
    "longitude": {"type": "number", "nullable": True, "minimum": -180, "maximum": 180},
    "checkin_radius_m": {"type": "integer", "minimum": 10, "maximum": 50000},
    "languages": {"type": "array", "items": {"type": "string"}},
    "family_status": _choices("family_status", True),
    "economic_status": _choices("economic_status", True),
    "health_status": _choices("health_status", True),
    "psychological_state": _choices("psychological_state", True),
    "consent_services": {"type": "boolean"},
    "consent_data": {"type": "boolean"},
    "contacts": {"type": "array", "maxItems": 5, "items": CONTACT_SCHEMA},
}
CLIENT_SCHEMA = {
    "type": "object",
    "properties": {"id": ID, **PROFILE_PROPERTIES, "archived": {"type": "boolean"}, "created_at": MOMENT},
}
CLIENT_LINE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": ID,
        "full_name": {"type": "string"},
        "preferred_name": {"type": "string"},
        "archived": {"type": "boolean"},
        "created_at": MOMENT,
    },
}
CLIENT_EXAMPLE = {
    "full_name": "Edith Carver",
    "preferred_name": "Edie",
    "date_of_birth": "1941-03-02",
    "gender": "female",
    "phone": "+44 20 7946 0001",
    "address": "12 Elm Road, London",
    "checkin_radius_m": 300,
    "languages": ["English"],
    "consent_services": True,
    "consent_data": True,
    "contacts": [{"name": "Ann Carver", "relationship": "daughter", "phone": "+44 20 7946 0002"}],
}
CASE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": ID,
        "client_id": ID,
        "number": {"type": "string"},
        "status": {"type": "string", "enum": [s.value for s in CaseStatus]},
        "intake_channel": {"type": "string"},
        "referrer": {"type": "string"},
        "materials_received": {"type": "string"},
        "opened_on": DAY,
        "closed_on": NULLABLE_DAY,
        "special_programme": {"type": "boolean"},
    },
}
ASSESSMENT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": ID,
        "case_id": ID,
        "method": {"type": "string"},
        "assessed_on": DAY,
        "summary": {"type": "string"},
        "domains": {
            "type": "object",
            "properties": {
                d: {
                    "type": "object",
                    "properties": {
                        "level": {"type": "integer", "minimum": 1, "maximum": 5},
                        "notes": {"type": "string"},
                    },
                }
                for d in ASSESSMENT_DOMAINS
            },
        },
    },
}
PLAN_ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "id": ID,
        "service_item_id": ID,
        "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7}},
        "start_time": {"type": "string", "example": "09:30"},
        "duration_minutes": {"type": "integer"},
        "preferred_staff": {"type": "array", "items": ID, "description": "Membership ids of carers"},
        "notes": {"type": "string"},
    },
}
PLAN_SCHEMA = {
    "type": "object",
    "properties": {
        "id": ID,
        "case_id": ID,
        "version": {"type": "integer"},
        "status": {"type": "string", "enum": [s.value for s in PlanStatus]},
        "goals": {"type": "string"},
        "budget": {"type": "string", "nullable": True, "description": "A decimal amount, as text"},
        "risk_plan": {"type": "string"},
        "review_on": NULLABLE_DAY,
        "starts_on": NULLABLE_DAY,
        "ends_on": NULLABLE_DAY,
        "approved_at": {"type": "string", "format": "date-time", "nullable": True},
        "items": {"type": "array", "items": PLAN_ITEM_SCHEMA},
    },
}
PLAN_BODY = {
    "type": "object",
    "properties": {
        "goals": {"type": "string", "maxLength": 4000},
        "budget": {"type": "number", "nullable": True, "minimum": 0},
        "risk_plan": {"type": "string", "maxLength": 4000},
        "starts_on": NULLABLE_DAY,
        "ends_on": NULLABLE_DAY,
        "review_on": NULLABLE_DAY,
    },
}


def _ok(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"200": {"description": "OK", "content": {"application/json": content}}}


def _body(schema: dict[str, Any], example: Any) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema, "example": example}}}


def _list_query(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [*PARAMETERS, *extra]


# -- clients ---------------------------------------------------------------------------


def _client_line(c: Client) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "full_name": c.full_name,
        "preferred_name": c.preferred_name,
        "archived": c.archived_at is not None,
        "created_at": c.created_at.isoformat(),
    }


def _client_json(c: Client, contacts: list[EmergencyContact]) -> dict[str, Any]:
    return {
        **_client_line(c),
        "date_of_birth": c.date_of_birth.isoformat() if c.date_of_birth else None,
        "gender": c.gender,
        "phone": c.phone,
        "email": c.email,
        "address": c.address,
        "latitude": float(c.latitude) if c.latitude is not None else None,
        "longitude": float(c.longitude) if c.longitude is not None else None,
        "checkin_radius_m": c.checkin_radius_m,
        "languages": list(c.languages or []),
        "family_status": c.family_status,
        "economic_status": c.economic_status,
        "health_status": c.health_status,
        "psychological_state": c.psychological_state,
        "consent_services": c.consent_services,
        "consent_data": c.consent_data,
        "contacts": [{"name": x.name, "relationship": x.relationship, "phone": x.phone} for x in contacts],
    }


def _client_document(client: Client) -> dict[str, Any]:
    return _client_json(client, lists.contacts_of([client.id]))


def _client_form(body: dict[str, Any]) -> ClientForm:
    """The page's form, filled from the body: languages as a list, contacts
    as objects; each contact needs both a name and a phone, as on the page."""
    body = dict(body)
    languages = body.get("languages")
    if languages is not None:
        if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
            refuse(422, _("%(field)s must be a list of text.", field="languages"), "languages")
        body["languages"] = ", ".join(languages)
    contacts = body.get("contacts")
    if contacts is not None:
        if not isinstance(contacts, list) or not all(isinstance(c, dict) for c in contacts):
            refuse(422, _("%(field)s must be a list of objects.", field="contacts"), "contacts")
        if len(contacts) > 5:
            refuse(422, _("Give at most %(n)d emergency contacts.", n=5), "contacts")
        for i, contact in enumerate(contacts):
            if bool(contact.get("name")) != bool(contact.get("phone")):
                missing = "phone" if contact.get("name") else "name"
                refuse(422, _("Give both a name and a phone number."), f"contacts-{i}-{missing}")
    form = form_from_json(ClientForm, body)
    return form


def _client_data(form: ClientForm) -> services.ClientData:
    from tenants.clients.views.clients import _client_data as page_data

    return page_data(form)


@bp.route("/clients", methods=["GET", "POST"])
@operation(
    get={
        "summary": "The agency's clients, by creation (names only: read one client for their file)",
        "tags": [TAG],
        "parameters": _list_query(
            param("q", {"type": "string", "maxLength": 100}, "Part of the name or preferred name"),
            param("archived", {"type": "boolean"}, "Only archived clients (true) or only the others (false)"),
        ),
        "responses": _ok(page_schema(CLIENT_LINE_SCHEMA)),
    },
    post={
        "summary": "Add a client with their emergency contacts",
        "description": "The agency's plan must allow one more client.",
        "tags": [TAG],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["full_name", "consent_services"],
                "properties": PROFILE_PROPERTIES,
            },
            CLIENT_EXAMPLE,
        ),
        "responses": {
            "201": {
                "description": "Created",
                "content": {"application/json": {"schema": CLIENT_SCHEMA}},
            }
        },
    },
)
@require(MANAGE_CASES, refuse=403)
def clients() -> Any:
    if request.method == "POST":
        refusal = client_limit_refusal(g.agency, queries.active_client_count())
        if refusal:
            refuse(403, refusal)
        form = _client_form(json_object())
        client = services.save_client(g.agency, _client_data(form))
        log_reads([client.id], "api", g.api_user.id)
        return respond(_client_document(client), 201)
    q = (request.args.get("q") or "").strip()
    if len(q) > 100:
        refuse(422, _("%(field)s is longer than %(limit)d characters.", field="q", limit=100), "q")
    archived = choice_arg("archived", ["true", "false"])
    stmt = lists.clients(q, None if archived is None else archived == "true")
    page = cursor_page(stmt, [Client.created_at, Client.id])
    return respond(page.document(_client_line))


@bp.route("/clients/<uuid:client_id>", methods=["GET", "PATCH"])
@operation(
    get={
        "summary": "A client's profile and emergency contacts (the read is logged in their file)",
        "tags": [TAG],
        "parameters": [uuid_path("client_id")],
        "responses": _ok(CLIENT_SCHEMA),
    },
    patch={
        "summary": "Change a client's profile: the fields sent replace theirs (contacts: the whole list)",
        "tags": [TAG],
        "parameters": [uuid_path("client_id"), IF_MATCH],
        "requestBody": _body(
            {"type": "object", "properties": PROFILE_PROPERTIES}, {"phone": "+44 20 7946 0009"}
        ),
        "responses": _ok(CLIENT_SCHEMA),
    },
)
@require(MANAGE_CASES)
def client(client_id: uuid.UUID) -> Any:
    found = get_or_404(Client, client_id)
    current = _client_document(found)
    log_reads([found.id], "api", g.api_user.id)
    if request.method == "PATCH":
        require_match(current)
        body = json_object()
        unknown = sorted(set(body) - set(PROFILE_PROPERTIES))
        if unknown:
            refuse(422, _("%(field)s cannot be changed here.", field=unknown[0]), unknown[0])
        merged = {k: v for k, v in current.items() if k in PROFILE_PROPERTIES}
        merged.update(body)
        form = _client_form(merged)
        services.save_client(g.agency, _client_data(form), found)
        current = _client_document(found)
    return respond(current)


# -- cases -----------------------------------------------------------------------------


def _case_json(c: Case) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "client_id": str(c.client_id),
        "number": c.number,
        "status": c.status,
        "intake_channel": c.intake_channel,
        "referrer": c.referrer,
        "materials_received": c.materials_received,
        "opened_on": c.opened_on.isoformat(),
        "closed_on": c.closed_on.isoformat() if c.closed_on else None,
        "special_programme": c.special_programme,
    }


@bp.route("/cases")
@operation(
    get={
        "summary": "Cases, newest first opened last (filter by client and stage)",
        "tags": [TAG],
        "parameters": _list_query(
            param("client_id", ID, "Only this client's cases"),
            param(
                "status",
                {"type": "string", "enum": [s.value for s in CaseStatus]},
                "Only cases at this stage",
            ),
        ),
        "responses": _ok(page_schema(CASE_SCHEMA)),
    }
)
@require(MANAGE_CASES, refuse=403)
def cases() -> Any:
    stmt = lists.cases(uuid_arg("client_id"), choice_arg("status", [s.value for s in CaseStatus]))
    page = cursor_page(stmt, [Case.created_at, Case.id])
    return respond(page.document(_case_json))


@bp.route("/clients/<uuid:client_id>/cases", methods=["POST"])
@operation(
    post={
        "summary": "Open a case for a client (intake)",
        "tags": [TAG],
        "parameters": [uuid_path("client_id")],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["intake_channel"],
                "properties": {
                    "intake_channel": {"type": "string", "enum": ["phone", "walk_in", "online", "referral"]},
                    "referrer": {"type": "string", "maxLength": 200},
                    "materials_received": {"type": "string", "maxLength": 2000},
                    "special_programme": {"type": "boolean"},
                },
            },
            {"intake_channel": "referral", "referrer": "Dr Patel, Elm Road surgery"},
        ),
        "responses": {
            "201": {"description": "Created", "content": {"application/json": {"schema": CASE_SCHEMA}}}
        },
    }
)
@require(MANAGE_CASES)
def open_case(client_id: uuid.UUID) -> Any:
    found = get_or_404(Client, client_id)
    form = form_from_json(OpenCaseForm, json_object())
    case = services.open_case(
        g.agency,
        found,
        channel=form.intake_channel.data,
        referrer=form.referrer.data or "",
        materials=form.materials_received.data or "",
        by=g.api_user,
        special_programme=bool(form.special_programme.data),
    )
    return respond(_case_json(case), 201)


@bp.route("/cases/<uuid:case_id>")
@operation(
    get={
        "summary": "One case (the read is logged in the client's file)",
        "tags": [TAG],
        "parameters": [uuid_path("case_id")],
        "responses": _ok(CASE_SCHEMA),
    }
)
@require(MANAGE_CASES)
def case(case_id: uuid.UUID) -> Any:
    found = get_or_404(Case, case_id)
    log_reads([found.client_id], "api", g.api_user.id)
    return respond(_case_json(found))


def _assessment_json(a: NeedsAssessment) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "case_id": str(a.case_id),
        "method": a.method,
        "assessed_on": a.assessed_on.isoformat(),
        "summary": a.summary,
        "domains": {
            d: {
                "level": int((a.domains or {}).get(d, {}).get("level") or 1),
                "notes": str((a.domains or {}).get(d, {}).get("notes") or ""),
            }
            for d in ASSESSMENT_DOMAINS
        },
    }


ASSESSMENT_EXAMPLE = {
    "method": "interview",
    "assessed_on": "2026-11-30",
    "summary": "Needs help with meals and a daily check.",
    **{f"{d}_level": 2 for d in ASSESSMENT_DOMAINS},
}


@bp.route("/cases/<uuid:case_id>/assessments", methods=["GET", "POST"])
@operation(
    get={
        "summary": "A case's needs assessments (the read is logged in the client's file)",
        "tags": [TAG],
        "parameters": [uuid_path("case_id"), *PARAMETERS],
        "responses": _ok(page_schema(ASSESSMENT_SCHEMA)),
    },
    post={
        "summary": "Record a needs assessment: a level from 1 to 5 (and notes) per domain",
        "tags": [TAG],
        "parameters": [uuid_path("case_id")],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["method", "assessed_on", *(f"{d}_level" for d in ASSESSMENT_DOMAINS)],
                "properties": {
                    "method": {
                        "type": "string",
                        "enum": ["questionnaire", "interview", "observation", "records"],
                    },
                    "assessed_on": DAY,
                    "summary": {"type": "string", "maxLength": 4000},
                    **{
                        f"{d}_level": {"type": "integer", "minimum": 1, "maximum": 5}
                        for d in ASSESSMENT_DOMAINS
                    },
                    **{f"{d}_notes": {"type": "string", "maxLength": 2000} for d in ASSESSMENT_DOMAINS},
                },
            },
            ASSESSMENT_EXAMPLE,
        ),
        "responses": {
            "201": {"description": "Created", "content": {"application/json": {"schema": ASSESSMENT_SCHEMA}}}
        },
    },
)
@require(MANAGE_CASES)
def assessments(case_id: uuid.UUID) -> Any:
    found = get_or_404(Case, case_id)
    log_reads([found.client_id], "api", g.api_user.id)
    if request.method == "POST":
        form = form_from_json(AssessmentForm, json_object())
        assessment = services.record_assessment(
            found,
            method=form.method.data,
            assessed_on=form.assessed_on.data,
            domains={
                d: {
                    "level": getattr(form, f"{d}_level").data,
                    "notes": getattr(form, f"{d}_notes").data or "",
                }
                for d in ASSESSMENT_DOMAINS
            },
            summary=form.summary.data or "",
            by=g.api_user,
            today=services.agency_today(g.agency),
        )
        return respond(_assessment_json(assessment), 201)
    page = cursor_page(lists.assessments(found.id), [NeedsAssessment.created_at, NeedsAssessment.id])
    return respond(page.document(_assessment_json))


# -- service plans ---------------------------------------------------------------------


def _item_json(i: ServicePlanItem) -> dict[str, Any]:
    return {
        "id": str(i.id),
        "service_item_id": str(i.service_item_id),
        "weekdays": list(i.weekdays or []),
        "start_time": i.start_time,
        "duration_minutes": i.duration_minutes,
        "preferred_staff": [str(s) for s in i.preferred_staff_ids or []],
        "notes": i.notes,
    }


def _plan_json(p: ServicePlan, items: list[ServicePlanItem]) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "case_id": str(p.case_id),
        "version": p.version,
        "status": p.status,
        "goals": p.goals,
        "budget": str(p.budget) if p.budget is not None else None,
        "risk_plan": p.risk_plan,
        "review_on": p.review_on.isoformat() if p.review_on else None,
        "starts_on": p.starts_on.isoformat() if p.starts_on else None,
        "ends_on": p.ends_on.isoformat() if p.ends_on else None,
        "approved_at": p.approved_at.isoformat() if p.approved_at else None,
        "items": [_item_json(i) for i in items if i.plan_id == p.id],
    }


def _plan_document(plan: ServicePlan) -> dict[str, Any]:
    return _plan_json(plan, lists.plan_items([plan.id]))


def _plans_page(rows: list[ServicePlan]) -> list[dict[str, Any]]:
    items = lists.plan_items([p.id for p in rows])
    return [_plan_json(p, items) for p in rows]


@bp.route("/plans")
@operation(
    get={
        "summary": "Service plans with their services (filter by case and status)",
        "tags": [TAG],
        "parameters": _list_query(
            param("case_id", ID, "Only this case's plans"),
            param(
                "status",
                {"type": "string", "enum": [s.value for s in PlanStatus]},
                "Only plans in this status",
            ),
        ),
        "responses": _ok(page_schema(PLAN_SCHEMA)),
    }
)
@require(MANAGE_CASES, refuse=403)
def plans() -> Any:
    stmt = lists.plans(uuid_arg("case_id"), choice_arg("status", [s.value for s in PlanStatus]))
    page = cursor_page(stmt, [ServicePlan.created_at, ServicePlan.id])
    return respond({"items": _plans_page(page.rows), "next_cursor": page.next_cursor})


@bp.route("/cases/<uuid:case_id>/plans", methods=["POST"])
@operation(
    post={
        "summary": "Start a service plan for a case (a draft, or the next version of the active one)",
        "tags": [TAG],
        "parameters": [uuid_path("case_id")],
        "responses": {
            "201": {"description": "Created", "content": {"application/json": {"schema": PLAN_SCHEMA}}}
        },
    }
)
@require(MANAGE_CASES)
def new_plan(case_id: uuid.UUID) -> Any:
    found = get_or_404(Case, case_id)
    if not can_grow(g.agency):
        refuse(403, restricted_message(g.agency))
    plan = services.new_plan(found, by=g.api_user)
    return respond(_plan_document(plan), 201)


@bp.route("/plans/<uuid:plan_id>", methods=["GET", "PATCH"])
@operation(
    get={
        "summary": "A service plan and its services (the read is logged in the client's file)",
        "tags": [TAG],
        "parameters": [uuid_path("plan_id")],
        "responses": _ok(PLAN_SCHEMA),
    },
    patch={
        "summary": "Change a draft plan's goals, budget, risk plan and dates",
        "tags": [TAG],
        "parameters": [uuid_path("plan_id"), IF_MATCH],
        "requestBody": _body(PLAN_BODY, {"goals": "Stay safely at home", "review_on": "2027-03-01"}),
        "responses": _ok(PLAN_SCHEMA),
    },
)
@require(MANAGE_CASES)
def plan(plan_id: uuid.UUID) -> Any:
    found = get_or_404(ServicePlan, plan_id)
    current = _plan_document(found)
    log_reads([lists.client_of_case(found.case_id)], "api", g.api_user.id)
    if request.method == "PATCH":
        require_match(current)
        body = json_object()
        unknown = sorted(set(body) - set(PLAN_BODY["properties"]))
        if unknown:
            refuse(422, _("%(field)s cannot be changed here.", field=unknown[0]), unknown[0])
        merged = {k: current[k] for k in PLAN_BODY["properties"]}
        merged.update(body)
        form = form_from_json(PlanForm, merged)
        services.update_plan(
            found,
            services.PlanFields(
                goals=form.goals.data or "",
                budget=form.budget.data,
                risk_plan=form.risk_plan.data or "",
                review_on=form.review_on.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
            ),
            by=g.api_user,
        )
        current = _plan_document(found)
    return respond(current)


@bp.route("/plans/<uuid:plan_id>/items", methods=["POST"])
@operation(
    post={
        "summary": "Add a service to a draft plan: which catalogue item, on which weekdays, when, how long",
        "tags": [TAG],
        "parameters": [uuid_path("plan_id")],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["service_item_id", "weekdays", "start_time", "duration_minutes"],
                "properties": {
                    "service_item_id": ID,
                    "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7}},
                    "start_time": {"type": "string", "example": "09:30"},
                    "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 1440},
                    "preferred_staff": {"type": "array", "items": ID},
                    "notes": {"type": "string", "maxLength": 2000},
                },
            },
            {
                "service_item_id": "0193a1b2-0000-7000-8000-000000000001",
                "weekdays": [1, 3, 5],
                "start_time": "09:30",
                "duration_minutes": 45,
            },
        ),
        "responses": {
            "201": {"description": "Created", "content": {"application/json": {"schema": PLAN_SCHEMA}}}
        },
    }
)
@require(MANAGE_CASES)
def add_plan_item(plan_id: uuid.UUID) -> Any:
    found = get_or_404(ServicePlan, plan_id)
    choices_items = [(str(i), n) for i, n in queries.active_service_items()]
    choices_staff = [(str(m), n) for m, n in queries.active_carers()]

    def prepare(made: PlanItemForm) -> None:
        made.service_item_id.choices = choices_items
        made.preferred_staff.choices = choices_staff

    filled = form_from_json(PlanItemForm, json_object(), prepare=prepare)
    services.add_plan_item(
        found,
        services.PlanItemData(
            service_item_id=uuid.UUID(filled.service_item_id.data),
            weekdays=filled.weekdays.data or [],
            start_time=filled.start_time.data,
            duration_minutes=filled.duration_minutes.data,
            preferred_staff_ids=[uuid.UUID(s) for s in filled.preferred_staff.data or []],
            notes=filled.notes.data or "",
        ),
        by=g.api_user,
    )
    return respond(_plan_document(found), 201)


@bp.route("/plans/<uuid:plan_id>/items/<uuid:plan_item_id>", methods=["DELETE"])
@operation(
    delete={
        "summary": "Remove a service from a draft plan",
        "tags": [TAG],
        "parameters": [uuid_path("plan_id"), uuid_path("plan_item_id")],
        "responses": _ok(PLAN_SCHEMA),
    }
)
@require(MANAGE_CASES)
def remove_plan_item(plan_id: uuid.UUID, plan_item_id: uuid.UUID) -> Any:
    found = get_or_404(ServicePlan, plan_id)
    item = get_or_404(ServicePlanItem, plan_item_id)
    if item.plan_id != found.id:
        abort(404)
    services.remove_plan_item(found, item, by=g.api_user)
    return respond(_plan_document(found))


def _plan_step(summary: str, description: str = "") -> dict[str, Any]:
    return {
        "summary": summary,
        "description": description,
        "tags": [TAG],
        "parameters": [uuid_path("plan_id")],
        "responses": _ok(PLAN_SCHEMA),
    }


def _move_plan(plan_id: uuid.UUID, action: str) -> Any:
    found = get_or_404(ServicePlan, plan_id)
    case = get_or_404(Case, found.case_id)
    if action == "submit":
        services.submit_plan(found, case, by=g.api_user, agency=g.agency)
    elif action == "approve":
        services.approve_plan(g.agency, found, case, by=g.api_user, role=g.membership.role)
    else:
        services.activate_plan(found, case, by=g.api_user)
    return respond(_plan_document(found))


@bp.route("/plans/<uuid:plan_id>/submit", methods=["POST"])
@operation(post=_plan_step("Submit a draft plan for approval"))
@require(MANAGE_CASES)
def submit_plan(plan_id: uuid.UUID) -> Any:
    return _move_plan(plan_id, "submit")


@bp.route("/plans/<uuid:plan_id>/approve", methods=["POST"])
@operation(post=_plan_step("Approve a submitted plan (never one's own, nor one changed by oneself)"))
@require(MANAGE_CASES)
def approve_plan(plan_id: uuid.UUID) -> Any:
    return _move_plan(plan_id, "approve")


@bp.route("/plans/<uuid:plan_id>/activate", methods=["POST"])
@operation(
    post=_plan_step(
        "Activate an approved plan",
        "Activation books the plan's visits, each given to its preferred carer where every check passes.",
    )
)
@require(MANAGE_CASES)
def activate_plan(plan_id: uuid.UUID) -> Any:
    return _move_plan(plan_id, "activate")


# the page keeps the first 500 characters of a return note; the API refuses a longer one
RETURN_NOTE_LIMIT = 500


@bp.route("/plans/<uuid:plan_id>/return", methods=["POST"])
@operation(
    post={
        **_plan_step("Return a submitted plan to its author as a draft, with a note"),
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"note": {"type": "string", "maxLength": RETURN_NOTE_LIMIT}},
                    },
                    "example": {"note": "Add the Friday shopping visit, then submit again."},
                }
            },
        },
    }
)
@require(MANAGE_CASES)
def return_plan(plan_id: uuid.UUID) -> Any:
    found = get_or_404(ServicePlan, plan_id)
    case = get_or_404(Case, found.case_id)
    note = text(json_object(optional=True), "note", RETURN_NOTE_LIMIT)
    services.return_plan(found, case, by=g.api_user, note=note)
    return respond(_plan_document(found))


# -- the case's other steps: its stage, special programme, risks, closure, follow-ups --------

STAGE_NOTE_LIMIT = 500
# the stages a case is moved to by hand; closing has its own step (a reason and a date)
MOVABLE_STAGES = [s.value for s in CaseStatus if s != CaseStatus.CLOSED]

RISK_SCHEMA = {
    "type": "object",
    "properties": {
        "id": ID,
        "case_id": ID,
        "assessed_on": DAY,
        "hazards": {
            "type": "array",
            "description": "The hazards, the highest score (likelihood x impact) first",
            "items": {
                "type": "object",
                "properties": {
                    "hazard": {"type": "string"},
                    "likelihood": {"type": "integer", "minimum": 1, "maximum": 5},
                    "impact": {"type": "integer", "minimum": 1, "maximum": 5},
                    "mitigation": {"type": "string"},
                    "score": {"type": "integer", "minimum": 1, "maximum": 25},
                },
            },
        },
    },
}
FOLLOW_UP_SCHEMA = {
    "type": "object",
    "properties": {
        "id": ID,
        "case_id": ID,
        "label": {"type": "string", "description": "When after closure: 1w, 2w, 1m, ..."},
        "due_on": DAY,
        "done_on": NULLABLE_DAY,
        "method": {"type": "string", "nullable": True, "enum": [m.value for m in FollowUpMethod] + [None]},
        "outcome": {"type": "string"},
        "new_intervention_needed": {"type": "boolean", "nullable": True},
    },
}
CLOSED_SCHEMA = {
    "type": "object",
    "properties": {
        "case": CASE_SCHEMA,
        "follow_ups": {"type": "array", "items": FOLLOW_UP_SCHEMA},
    },
}
CASE_EXAMPLE = {
    "id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b",
    "client_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a60",
    "number": "2026-0007",
    "status": "planning",
    "intake_channel": "referral",
    "referrer": "Dr Patel, Elm Road surgery",
    "materials_received": "",
    "opened_on": "2026-11-02",
    "closed_on": None,
    "special_programme": False,
}
FOLLOW_UP_EXAMPLE = {
    "id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a61",
    "case_id": CASE_EXAMPLE["id"],
    "label": "1w",
    "due_on": "2026-12-14",
    "done_on": None,
    "method": None,
    "outcome": "",
    "new_intervention_needed": None,
}


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


def _risk_json(r: RiskAssessment) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "case_id": str(r.case_id),
        "assessed_on": r.assessed_on.isoformat(),
        "hazards": [
            {
                "hazard": str(h.get("hazard") or ""),
                "likelihood": int(h["likelihood"]),
                "impact": int(h["impact"]),
                "mitigation": str(h.get("mitigation") or ""),
                "score": services.risk_score(h),
            }
            for h in r.hazards or []
        ],
    }


def _follow_up_json(f: FollowUp) -> dict[str, Any]:
    return {
        "id": str(f.id),
        "case_id": str(f.case_id),
        "label": f.label,
        "due_on": f.due_on.isoformat(),
        "done_on": f.done_on.isoformat() if f.done_on else None,
        "method": f.method,
        "outcome": f.outcome,
        "new_intervention_needed": f.new_intervention_needed,
    }


def _case_step(case_id: uuid.UUID) -> Case:
    """A case named by a step: 404 for another agency's; its client's file
    is logged as read, as each case page logs it."""
    found = get_or_404(Case, case_id)
    log_reads([found.client_id], "api", g.api_user.id)
    return found


@bp.route("/cases/<uuid:case_id>/stage", methods=["POST"])
@operation(
    post={
        "summary": "Move a case to another stage (intake, assessment, planning, active)",
        "description": "The stages follow one another as on the case page; closing is its own step "
        "(`/close`), with a reason and a date.",
        "tags": [TAG],
        "parameters": [uuid_path("case_id")],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["to"],
                "properties": {
                    "to": {"type": "string", "enum": MOVABLE_STAGES},
                    "note": {"type": "string", "maxLength": STAGE_NOTE_LIMIT},
                },
            },
            {"to": "planning", "note": "Assessment agreed with the family"},
        ),
        "responses": _ok_example(CASE_SCHEMA, CASE_EXAMPLE),
    }
)
@require(MANAGE_CASES)
def move_case(case_id: uuid.UUID) -> Any:
    found = _case_step(case_id)
    body = json_object()
    target = text(body, "to", 20)
    if target not in MOVABLE_STAGES:
        refuse(
            422,
            _("%(field)s must be one of: %(values)s.", field="to", values=", ".join(MOVABLE_STAGES)),
            "to",
        )
    services.transition(found, target, by=g.api_user, note=text(body, "note", STAGE_NOTE_LIMIT).strip())
    return respond(_case_json(found))


@bp.route("/cases/<uuid:case_id>/special-programme", methods=["POST"])
@operation(
    post={
        "summary": "Mark a case as part of a special programme, or no longer",
        "description": "A special programme's file is kept for the longer retention period.",
        "tags": [TAG],
        "parameters": [uuid_path("case_id")],
        "requestBody": _body(
            {"type": "object", "required": ["special"], "properties": {"special": {"type": "boolean"}}},
            {"special": True},
        ),
        "responses": _ok_example(CASE_SCHEMA, {**CASE_EXAMPLE, "special_programme": True}),
    }
)
@require(MANAGE_CASES)
def special_programme(case_id: uuid.UUID) -> Any:
    found = _case_step(case_id)
    body = json_object()
    if "special" not in body:
        refuse(422, _("%(field)s must be true or false.", field="special"), "special")
    services.set_special_programme(found, boolean(body, "special"), by=g.api_user)
    return respond(_case_json(found))


RISK_EXAMPLE = {
    "assessed_on": "2026-11-30",
    "hazards": [
        {"hazard": "Loose rug in the hall", "likelihood": 4, "impact": 4, "mitigation": "Remove the rug"},
        {"hazard": "Steep stairs", "likelihood": 2, "impact": 5, "mitigation": "Second handrail"},
    ],
}


@bp.route("/cases/<uuid:case_id>/risks", methods=["GET", "POST"])
@operation(
    get={
        "summary": "A case's risk assessments (the read is logged in the client's file)",
        "tags": [TAG],
        "parameters": [uuid_path("case_id"), *PARAMETERS],
        "responses": _ok_example(
            page_schema(RISK_SCHEMA),
            {
                "items": [{"id": CASE_EXAMPLE["id"], "case_id": CASE_EXAMPLE["id"], **RISK_EXAMPLE}],
                "next_cursor": None,
            },
        ),
    },
    post={
        "summary": "Record a risk assessment: hazards scored by likelihood and impact, 1 to 5",
        "description": "Hazards without a name are left out, as on the page; at least one is needed.",
        "tags": [TAG],
        "parameters": [uuid_path("case_id")],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["assessed_on", "hazards"],
                "properties": {
                    "assessed_on": DAY,
                    "hazards": {
                        "type": "array",
                        "maxItems": 20,
                        "items": {
                            "type": "object",
                            "required": ["hazard", "likelihood", "impact"],
                            "properties": {
                                "hazard": {"type": "string", "maxLength": 300},
                                "likelihood": {"type": "integer", "minimum": 1, "maximum": 5},
                                "impact": {"type": "integer", "minimum": 1, "maximum": 5},
                                "mitigation": {"type": "string", "maxLength": 500},
                            },
                        },
                    },
                },
            },
            RISK_EXAMPLE,
        ),
        "responses": _created(
            RISK_SCHEMA, {"id": CASE_EXAMPLE["id"], "case_id": CASE_EXAMPLE["id"], **RISK_EXAMPLE}
        ),
    },
)
@require(MANAGE_CASES)
def risks(case_id: uuid.UUID) -> Any:
    found = _case_step(case_id)
    if request.method == "POST":
        body = json_object()
        hazards = body.get("hazards")
        if not isinstance(hazards, list) or not all(isinstance(h, dict) for h in hazards):
            refuse(422, _("%(field)s must be a list of objects.", field="hazards"), "hazards")
        if len(hazards) > RiskForm.hazards.kwargs["max_entries"]:
            refuse(422, _("Give at most %(n)d hazards.", n=RiskForm.hazards.kwargs["max_entries"]), "hazards")
        form = form_from_json(RiskForm, body)
        risk = services.record_risks(
            found,
            assessed_on=form.assessed_on.data,
            hazards=[
                {
                    "hazard": h.form.hazard.data,
                    "likelihood": h.form.likelihood.data,
                    "impact": h.form.impact.data,
                    "mitigation": h.form.mitigation.data,
                }
                for h in form.hazards
            ],
            by=g.api_user,
            today=services.agency_today(g.agency),
        )
        return respond(_risk_json(risk), 201)
    page = cursor_page(lists.risks(found.id), [RiskAssessment.created_at, RiskAssessment.id])
    return respond(page.document(_risk_json))


@bp.route("/cases/<uuid:case_id>/close", methods=["POST"])
@operation(
    post={
        "summary": "Close a case, with its reason and date: its follow-ups are scheduled",
        "description": "Its active or approved plan closes with it; the follow-ups come from the agency's "
        "follow-up schedule, counted from the closing date.",
        "tags": [TAG],
        "parameters": [uuid_path("case_id")],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["closed_on", "reason"],
                "properties": {"closed_on": DAY, "reason": {"type": "string", "maxLength": 2000}},
            },
            {"closed_on": "2026-12-07", "reason": "Goals met: manages at home with family support."},
        ),
        "responses": _ok_example(
            CLOSED_SCHEMA,
            {
                "case": {**CASE_EXAMPLE, "status": "closed", "closed_on": "2026-12-07"},
                "follow_ups": [FOLLOW_UP_EXAMPLE],
            },
        ),
    }
)
@require(MANAGE_CASES)
def close_case(case_id: uuid.UUID) -> Any:
    found = _case_step(case_id)
    form = form_from_json(CloseCaseForm, json_object())
    services.close_case(
        g.agency, found, reason=form.reason.data, closed_on=form.closed_on.data, by=g.api_user
    )
    return respond(
        {"case": _case_json(found), "follow_ups": [_follow_up_json(f) for f in lists.follow_ups(found.id)]}
    )


@bp.route("/cases/<uuid:case_id>/follow-ups")
@operation(
    get={
        "summary": "A closed case's follow-ups, by due date (the read is logged in the client's file)",
        "tags": [TAG],
        "parameters": [uuid_path("case_id"), *PARAMETERS],
        "responses": _ok_example(
            page_schema(FOLLOW_UP_SCHEMA), {"items": [FOLLOW_UP_EXAMPLE], "next_cursor": None}
        ),
    }
)
@require(MANAGE_CASES)
def follow_ups(case_id: uuid.UUID) -> Any:
    found = _case_step(case_id)
    page = cursor_page(lists.follow_ups_of(found.id), [FollowUp.due_on, FollowUp.id])
    return respond(page.document(_follow_up_json))


@bp.route("/follow-ups/<uuid:follow_up_id>", methods=["POST"])
@operation(
    post={
        "summary": "Record a follow-up after closure: when, how, the outcome",
        "description": "With `new_intervention` and `reopen`, the case goes back to assessment.",
        "tags": [TAG],
        "parameters": [uuid_path("follow_up_id")],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["done_on", "method", "outcome"],
                "properties": {
                    "done_on": DAY,
                    "method": {"type": "string", "enum": [m.value for m in FollowUpMethod]},
                    "outcome": {"type": "string", "maxLength": 4000},
                    "new_intervention": {"type": "boolean"},
                    "reopen": {"type": "boolean"},
                },
            },
            {"done_on": "2026-12-14", "method": "phone", "outcome": "Managing well; no new needs."},
        ),
        "responses": _ok_example(
            FOLLOW_UP_SCHEMA,
            {**FOLLOW_UP_EXAMPLE, "done_on": "2026-12-14", "method": "phone", "outcome": "Managing well"},
        ),
    }
)
@require(MANAGE_CASES)
def record_follow_up(follow_up_id: uuid.UUID) -> Any:
    item = get_or_404(FollowUp, follow_up_id)
    found = _case_step(item.case_id)
    form = form_from_json(FollowUpForm, json_object())
    services.record_follow_up(
        item,
        found,
        done_on=form.done_on.data,
        method=form.method.data,
        outcome=form.outcome.data,
        new_intervention=bool(form.new_intervention.data),
        reopen=bool(form.reopen.data),
        by=g.api_user,
        today=services.agency_today(g.agency),
    )
    return respond(_follow_up_json(item))
