"""The JSON API under /api/v1/, for the carers' phones and for integrations.

Authenticated by personal API tokens only (`Authorization: Bearer ...`); a
token belongs to one agency membership, so the agency is in scope before any
handler runs and another agency's ids are simply not found (404).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, abort, current_app, g, jsonify, request

from saas import db
from saas.api import idempotency
from saas.auth import queries, tokens
from saas.auth.services import memberships_of
from saas.models import Role, User
from saas.permissions import VIEW_MEMBERS, require

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# (view function, operations) for the OpenAPI document, filled by @operation.
_documented: list[tuple[Callable[..., Any], dict[str, Any]]] = []
PUBLIC_ENDPOINTS = {"api.openapi"}


# The refusals every operation can answer, each with the Error body. 400: a
# request that cannot be understood (a NUL character anywhere, a malformed
# query or body); 401: no valid token; 403: the agency is suspended or
# closed, or the role may not; 404: not found in the token's agency, or not
# the token's own (a carer's visit, a client's rating).
ALWAYS = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
}
# 422: understood but outside what the pages accept (a text too long, a date
# out of range), for operations taking a body or query parameters;
# 409: the object's state does not allow it now (already checked in...), for writes;
# 413: a body over MAX_CONTENT_LENGTH.
WITH_INPUT = {"422": "Unprocessable"}
WRITES = {"409": "Conflict"}
WITH_BODY = {"413": "TooLarge"}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique text (a UUID): the same POST sent again with it is answered with the "
    "first answer, without running again; the same key with a different request is a 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}


def every_property_required(schema: dict[str, Any]) -> dict[str, Any]:
    """An answer always carries every property it documents (null where
    nullable): say so, down the nested objects and arrays, so a client (and
    the schema checks) can rely on the shape."""
    if schema.get("type") == "object" and "properties" in schema:
        schema.setdefault("required", list(schema["properties"]))
        for child in schema["properties"].values():
            every_property_required(child)
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        every_property_required(schema["items"])
    return schema


def operation(**spec: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document a view: `operation(get={...})` takes OpenAPI operation objects.
    The error statuses the API answers are added to each with the Error
    schema, so the document lists every status an operation can return."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        for method, op in spec.items():
            op.setdefault("security", [{"bearerAuth": []}])
            responses = op.setdefault("responses", {})
            takes_input = "requestBody" in op or any(p.get("in") == "query" for p in op.get("parameters", []))
            refusals = {**ALWAYS, **(WITH_INPUT if takes_input else {})}
            if method.lower() in {"post", "put", "patch", "delete"}:
                refusals.update(WRITES)
            if method.lower() == "post":
                # every POST is taken once per key (saas.api.idempotency); a key
                # reused for a different request is a 422
                op.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
                refusals.update(WITH_INPUT)
            if "requestBody" in op:
                refusals.update(WITH_BODY)
            for status, name in refusals.items():
                responses.setdefault(status, {"$ref": f"#/components/responses/{name}"})
            for status, response in responses.items():
                if status.startswith("2"):
                    for content in response.get("content", {}).values():
                        every_property_required(content.get("schema", {}))
        _documented.append((fn, spec))
        return fn

    return decorator


def ok(schema: dict[str, Any]) -> dict[str, Any]:
    """An operation's `responses`: 200 with this JSON schema."""
    return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """An operation's `requestBody`: a JSON document of this schema."""
    content = {"application/json": {"schema": schema}}
    return {"required": True, "content": content} if required else {"content": content}


def uuid_path(name: str) -> dict[str, Any]:
    """The parameter of a `<uuid:name>` in the route."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}


def api_error(status: int, message: str) -> Any:
    response = jsonify(error={"status": status, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.before_request
def authenticate() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    parsed = tokens.split(raw.strip(), 1) if scheme.lower() == "bearer" else None
    if parsed is None:
        return api_error(401, "A valid API token is required.")
    (agency_id,), secret = parsed
    # the token names its agency: in scope first, the agency then comes with
    # the token, its membership and its user, in one query
    db.set_tenant(agency_id)
    row = queries.token_holder(secret)
    if row is None:  # an unknown agency too
        db.set_tenant(None)
        return api_error(401, "A valid API token is required.")
    token, membership, user, agency = row
    if agency.is_suspended:
        return api_error(403, "This agency's account is suspended.")
    if agency.is_closed:
        # closed (billing): only its admins' data export, on the web pages
        return api_error(403, "This agency's account is closed.")
    g.agency, g.membership, g.api_user = agency, membership, user
    now = db.utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        # kept with the request's commit (saas.lifecycle)
        token.last_used_at = now
    return None


@bp.before_request
def take_once() -> Any:
    """After `authenticate`: a POST with an `Idempotency-Key` is taken once
    (saas.api.idempotency); its stored answer is replayed to a repeat."""
    outcome = idempotency.begin()
    if isinstance(outcome, tuple):
        return api_error(*outcome)
    return outcome


@bp.after_request
def keep_answer(response: Any) -> Any:
    # blueprint hooks run before the app's, so this is kept by the request's commit
    return idempotency.remember(response)


def _user_json(user: User) -> dict[str, Any]:
    return {"id": str(user.id), "email": user.email, "name": user.name, "locale": user.locale}


@bp.route("/me")
@operation(
    get={
        "summary": "The token's user: profile and agency memberships",
        "tags": ["account"],
        "responses": {
            "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}}}
        },
    }
)
def me() -> Any:
    user: User = g.api_user
    return jsonify(
        user=_user_json(user),
        token_agency={"slug": g.agency.slug, "name": g.agency.name, "role": g.membership.role},
        memberships=[
            {"agency": {"slug": a.slug, "name": a.name}, "role": m.role, "membership_id": str(m.id)}
            for a, m in memberships_of(user.id)
        ],
    )


@bp.route("/members/<uuid:member_id>")
@operation(
    get={
        "summary": "One member of the token's agency (admins and coordinators)",
        "tags": ["agency"],
        "parameters": [uuid_path("member_id")],
        "responses": {
            "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Member"}}}}
        },
    }
)
@require(VIEW_MEMBERS, refuse=403)
def member(member_id: uuid.UUID) -> Any:
    row = queries.member_with_user(member_id)
    if row is None:
        abort(404)
    membership, user = row
    return jsonify(
        id=str(membership.id), role=membership.role, active=membership.active, user=_user_json(user)
    )


@bp.route("/openapi.json")
def openapi() -> Any:
    return jsonify(build_spec().to_dict())


ERROR_RESPONSES = {
    "BadRequest": "The request could not be understood (not JSON, a value of the wrong type)",
    "Unauthorized": "No valid token",
    "Forbidden": "Not for your role, or your agency's account is suspended or closed",
    "NotFound": "Not found in your agency, or not yours",
    "Conflict": "Not possible in the object's present state",
    "Unprocessable": "A value outside what the agency accepts; the message names the field",
    "TooLarge": "The body is larger than the server accepts",
}


def build_spec() -> APISpec:
    spec = APISpec(
        title="CareHub API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[FlaskPlugin()],
        info={"description": "Personal API tokens: create them on your agency's Tokens page."},
        servers=[{"url": current_app.config["BASE_URL"]}],
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    # a refused value: its name in the request body
                    "field": {"type": "string"},
                },
            }
        },
    }
    spec.components.schema("Error", error)
    for name, description in ERROR_RESPONSES.items():
        response: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        if name == "Unauthorized":
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}}
        spec.components.response(name, response)
    user = {
        "type": "object",
        "required": ["id", "email", "name", "locale"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "locale": {"type": "string", "nullable": True},
        },
    }
    spec.components.schema("User", user)
    spec.components.schema(
        "Me",
        {
            "type": "object",
            "required": ["user", "token_agency", "memberships"],
            "properties": {
                "user": {"$ref": "#/components/schemas/User"},
                "token_agency": every_property_required(
                    {
                        "type": "object",
                        "properties": {
                            "slug": {"type": "string"},
                            "name": {"type": "string"},
                            "role": {"type": "string", "enum": [r.value for r in Role]},
                        },
                    }
                ),
                "memberships": every_property_required(
                    {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "agency": {
                                    "type": "object",
                                    "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
                                },
                                "role": {"type": "string", "enum": [r.value for r in Role]},
                                "membership_id": {"type": "string", "format": "uuid"},
                            },
                        },
                    }
                ),
            },
        },
    )
    spec.components.schema(
        "Member",
        {
            "type": "object",
            "required": ["id", "role", "active", "user"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "role": {"type": "string", "enum": [r.value for r in Role]},
                "active": {"type": "boolean"},
                "user": {"$ref": "#/components/schemas/User"},
            },
        },
    )
    for view, operations in _documented:
        spec.path(view=view, app=current_app, operations=operations)
    return spec
