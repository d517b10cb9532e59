"""The API's error document: `application/problem+json` (RFC 9457).

`detail` is the message in the caller's language, `field` names the body or
query field it is about (null when it is about the request or the object's
state), `errors` lists every refused field when there are several. The
`error` member keeps the shape the phone apps read since the first release
(`error.message`), so they go on working."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, json
from werkzeug.http import HTTP_STATUS_CODES

MEDIA_TYPE = "application/problem+json"


def problem(
    status: int,
    detail: str,
    field: str | None = None,
    errors: Sequence[tuple[str | None, str]] = (),
    extra: dict[str, Any] | None = None,
) -> Response:
    listed = [{"field": f, "message": m} for f, m in errors] or [{"field": field, "message": detail}]
    document: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "field": field,
        "errors": listed,
        # the phone apps' shape, with the refused field's name when there is one
        "error": {"status": status, "message": detail, **({"field": field} if field else {})},
        **(extra or {}),
    }
    response = Response(json.dumps(document), status=status, mimetype=MEDIA_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "field", "errors", "error"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, in the caller's language"},
        "field": {"type": "string", "nullable": True, "description": "The field it is about, if any"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
            },
        },
        "error": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        },
    },
}
