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
from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from flask_babel import gettext

from saas import db, problems
from saas.api import idempotency, scopes
from saas.api.conditional import etag_of_body
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
# 304: the representation named by If-None-Match has not changed (reads);
# 412: If-Match names a representation that is no longer current (updates)
NOT_MODIFIED = {"304": {"description": "Not modified: the ETag sent in If-None-Match is still current"}}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "An ETag from an earlier read: 304 when it is still current",
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag of the object as you read it: 412, and nothing changed, when it changed since",
}
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


EXAMPLE_VALUES: dict[str, Any] = {
    "uuid": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b",
    "date-time": "2026-12-07T09:00:00+00:00",
    "date": "2026-12-07",
}
# the components documented by name, for examples of the operations that use them
_USER_EXAMPLE = {
    "id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b",
    "email": "carer1@sunrise.example",
    "name": "Casey Carer",
    "locale": "en",
}
NAMED_EXAMPLES: dict[str, Any] = {
    "Me": {
        "user": _USER_EXAMPLE,
        "token_agency": {"slug": "sunrise", "name": "Sunrise Home Care", "role": "carer"},
        "memberships": [
            {
                "agency": {"slug": "sunrise", "name": "Sunrise Home Care"},
                "role": "carer",
                "membership_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a60",
            }
        ],
    },
    "Member": {
        "id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a60",
        "role": "carer",
        "active": True,
        "user": _USER_EXAMPLE,
    },
}


def example_of(schema: dict[str, Any]) -> Any:
    """An example value of a schema, for the operations whose writers gave
    none: every operation in the document then shows one."""
    if "example" in schema:
        return schema["example"]
    if "$ref" in schema:
        return NAMED_EXAMPLES.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_of(part)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if kind == "object":
        return {name: example_of(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example_of(schema.get("items", {}))]
    if kind == "string":
        return EXAMPLE_VALUES.get(schema.get("format", ""), "text")
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return schema.get("minimum", 1.5)
    if kind == "boolean":
        return True
    return None


def operation(*, scope: str | None = "", **spec: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document a view: `operation(get={...})` takes OpenAPI operation objects.
    The error statuses the API answers are added to each with the Error
    schema, so the document lists every status an operation can return.
    `scope`: the token scope the route needs besides read or write (by
    default, the area of the module declaring it; None: any token)."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        if scope != "":
            fn.api_scope = scope  # type: ignore[attr-defined]
        area_scope = scopes.scope_of(fn)
        for method, op in spec.items():
            # one name per operation, for generated clients (the view's endpoint is unique)
            op.setdefault("operationId", f"{method.lower()}_{fn.__name__}")
            op.setdefault("security", [{"bearerAuth": []}])
            kind = scopes.needed(method.upper())
            needs = f"`{kind}`" + (f" and `{area_scope}`" if area_scope else "")
            op["x-scopes"] = [kind, *([area_scope] if area_scope else [])]
            op["description"] = (op.get("description", "") + f"\n\nToken scopes: {needs}.").strip()
            responses = op.setdefault("responses", {})
            if method.lower() == "get":
                op["parameters"] = [*op.get("parameters", []), IF_NONE_MATCH]
                responses.update(NOT_MODIFIED)
            if any(p is IF_MATCH for p in op.get("parameters", [])):
                responses.setdefault("412", {"$ref": "#/components/responses/PreconditionFailed"})
            takes_input = "requestBody" in op or any(p.get("in") == "query" for p in op.get("parameters", []))
            refusals = {**ALWAYS, **(WITH_INPUT if takes_input else {})}
            if method.lower() in {"post", "put", "patch", "delete"}:
                # a rule of the service may refuse any change (422), or the object's state (409)
                refusals.update({**WITH_INPUT, **WRITES})
            if method.lower() == "post":
                # every POST is taken once per key (saas.api.idempotency); a key
                # reused for a different request is a 422
                op["parameters"] = [*op.get("parameters", []), dict(IDEMPOTENCY_KEY)]
            if "requestBody" in op:
                refusals.update(WITH_BODY)
            for status, name in refusals.items():
                responses.setdefault(status, {"$ref": f"#/components/responses/{name}"})
            for status, response in responses.items():
                if "$ref" not in response:
                    response.setdefault("description", "OK" if status.startswith("2") else status)
                if status.startswith("2"):
                    for content in response.get("content", {}).values():
                        every_property_required(content.get("schema", {}))
                        content.setdefault("example", example_of(content.get("schema", {})))
            for content in op.get("requestBody", {}).get("content", {}).values():
                content.setdefault("example", example_of(content.get("schema", {})))
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


def api_error(status: int, message: str, field: str | None = None) -> Any:
    return problems.problem(status, message, field)


@bp.before_request
def authenticate() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _sep, raw = header.partition(" ")
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
    g.api_user = user  # its language words the refusals below
    view = current_app.view_functions.get(request.endpoint or "")
    area_scope = scopes.scope_of(view) if view is not None else None
    for scope in (scopes.needed(request.method), area_scope):
        if scope and scope not in (token.scopes or ()):
            message = gettext("This token lacks the %(scope)s scope.", scope=scope)
            db.set_tenant(None)
            return api_error(403, message, "scope")
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


@bp.after_request
def conditional(response: Response) -> Response:
    """Every read answers with its ETag (a digest of the body) and 304 to an
    If-None-Match that names it."""
    if request.method == "GET" and response.status_code == 200 and response.is_json:
        if not response.headers.get("ETag"):
            response.set_etag(etag_of_body(response.get_data()))
        response.make_conditional(request)
    return response


@bp.route("/me")
@operation(
    scope=None,
    get={
        "summary": "The token's user: profile and agency memberships",
        "tags": ["account"],
        "responses": {
            "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}}}
        },
    },
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
    scope="members",
    get={
        "summary": "One member of the token's agency (admins and coordinators)",
        "tags": ["agency"],
        "parameters": [uuid_path("member_id")],
        "responses": {
            "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Member"}}}}
        },
    },
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


DESCRIPTION = """Personal API tokens: create them on your agency's Tokens page, choosing their
scopes: `read` (GET), `write` (everything else) and the areas the token reaches (`clients`,
`scheduling`, `staffing`, ...). A request needs its kind and its area's scope; one missing is a 403
naming the scope. Each operation lists its scopes in `x-scopes`.

Lists are paged by cursor: pass `next_cursor` from one page as `cursor` to get the next
(`limit`, 1-200, default 50). Reads answer with an `ETag`; send it back in `If-None-Match` for a
304, or in `If-Match` on an update (PATCH) to be refused with 412 if someone changed the object
since.

Errors are `application/problem+json`: `detail` in the caller's language, `field` naming the
field at fault (null when it is about the request or the object's state), `errors` every field.

Webhooks: each delivery is a POST of JSON `{"id", "event", "occurred_at", "agency", "data"}` with
the headers `CareHub-Event`, `CareHub-Delivery`, `CareHub-Timestamp` (Unix seconds) and
`CareHub-Signature: v1=<hex>`, the HMAC-SHA256 with the endpoint's secret of
`<timestamp>.<raw body>`. Compare it in constant time and refuse timestamps more than five
minutes old."""

ERROR_RESPONSES = {
    "BadRequest": "The request could not be understood (not JSON, a value of the wrong type)",
    "Unauthorized": "No valid token",
    "Forbidden": "Not for your role, or your agency's account is suspended or closed",
    "NotFound": "Not found in your agency, or not yours",
    "Conflict": "Not possible in the object's present state",
    "Unprocessable": "A value outside what the agency accepts; the message names the field",
    "TooLarge": "The body is larger than the server accepts",
    "PreconditionFailed": "If-Match names a version that is no longer current: read it again",
}


def build_spec() -> APISpec:
    spec = APISpec(
        title="CareHub API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[FlaskPlugin()],
        info={"description": DESCRIPTION},
        servers=[{"url": current_app.config["BASE_URL"]}],
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", problems.SCHEMA)
    for name, description in ERROR_RESPONSES.items():
        response: dict[str, Any] = {
            "description": description,
            "content": {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Error"}}},
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
