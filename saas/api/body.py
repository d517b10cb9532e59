"""Reading a JSON API request's body and query: one place that turns anything
but a JSON object, a value of the wrong type or text over the page's limit
into a clear 400 or 422 naming the field, before a handler touches it.

400: the request could not be understood (not JSON, not an object, a date
that is not a date). 422: understood, but outside what the agency's pages
accept (too long, a date out of range), with the field named.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, NoReturn

from flask import abort, request
from flask_babel import gettext as _
from wtforms.validators import Length

from saas.api.views import api_error


def refuse(status: int, message: str) -> NoReturn:
    """End the request with the API's error shape (the app's HTTP error
    pages are not used: the response is complete)."""
    abort(api_error(status, message))


def json_object(*, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object. `optional`: an empty body is `{}`."""
    raw = request.get_data(cache=True)
    if not raw.strip() and optional:
        return {}
    if not request.is_json:
        refuse(400, _("Send a JSON object as the body, with Content-Type: application/json."))
    try:
        # json.loads, not request.get_json: a deeply nested body raises
        # RecursionError, which Flask's parser lets through as a 500
        body = json.loads(raw)
    except (ValueError, RecursionError):
        refuse(400, _("The body is not valid JSON: send a JSON object."))
    if not isinstance(body, dict):
        refuse(400, _("The body must be a JSON object, not a list, number, text or null."))
    return body


def page_limit(form: type, name: str) -> int:
    """The longest text a form field of the pages takes (its Length
    validator), so the API refuses exactly what the page refuses."""
    unbound = getattr(form, name)
    for validator in unbound.kwargs.get("validators", ()):
        if isinstance(validator, Length) and validator.max >= 0:
            return validator.max
    raise LookupError(f"{form.__name__}.{name} has no length limit")


def text(body: dict[str, Any], key: str, limit: int, *, default: str = "") -> str:
    """A text field: absent or null gives `default`; not text, or longer
    than `limit` once trimmed (as the page measures it), is a 422."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        refuse(422, _("%(field)s must be text.", field=key))
    if len(value.strip()) > limit:
        refuse(422, _("%(field)s is longer than %(limit)d characters.", field=key, limit=limit))
    return value


def boolean(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        refuse(422, _("%(field)s must be true or false.", field=key))
    return value


def booleans(body: dict[str, Any], key: str) -> list[bool]:
    value = body.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, bool) for x in value):
        refuse(422, _("%(field)s must be a list of true or false.", field=key))
    return value


def query_date(name: str, default: date) -> date:
    """A YYYY-MM-DD query parameter; anything else is a 400 naming it."""
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        refuse(400, _("%(field)s must be a date as YYYY-MM-DD.", field=name))
