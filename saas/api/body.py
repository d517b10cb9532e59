"""Reading a JSON API request's body and query: one place that turns anything
but a JSON object, a value of the wrong type or text over the page's limit
into a clear 400 or 422 naming the field, before a handler touches it.

400: the request could not be understood (not JSON, not an object, a date
that is not a date). 422: understood, but outside what the agency's pages
accept (too long, a date out of range), with the field named.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, NoReturn, TypeVar

from flask import abort, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from wtforms.validators import Length

from saas.api.views import api_error
from saas.problems import problem

F = TypeVar("F")


def refuse(status: int, message: str, field: str | None = None) -> NoReturn:
    """End the request with the API's problem document, naming the field at
    fault (the app's HTTP error pages are not used: the response is complete)."""
    abort(api_error(status, message, field))


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
        refuse(422, _("%(field)s must be text.", field=key), key)
    if len(value.strip()) > limit:
        refuse(422, _("%(field)s is longer than %(limit)d characters.", field=key, limit=limit), key)
    return value


def boolean(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        refuse(422, _("%(field)s must be true or false.", field=key), key)
    return value


def booleans(body: dict[str, Any], key: str) -> list[bool]:
    value = body.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, bool) for x in value):
        refuse(422, _("%(field)s must be a list of true or false.", field=key), key)
    return value


def query_date(name: str, default: date) -> date:
    """A YYYY-MM-DD query parameter; anything else is a 400 naming it."""
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        refuse(400, _("%(field)s must be a date as YYYY-MM-DD.", field=name), name)


def check_types(body: dict[str, Any], properties: dict[str, Any]) -> None:
    """Each value of the body of the JSON type its documented schema gives
    (null only where nullable, numbers finite, never true for a number),
    before the page's form reads it: a form would take a list for its first
    item, or "NaN" for a number. A value of another type is a 422 naming its
    field (dash paths into lists and objects: `attendance-0-hours`)."""
    for key, schema in properties.items():
        if key in body:
            _check_type(body[key], schema, key)


def _check_type(value: Any, schema: dict[str, Any], field: str) -> None:
    if value is None:
        if schema.get("nullable"):
            return
        _wrong_type(field)
    kind = schema.get("type")
    if kind in ("integer", "number") and isinstance(value, bool):
        _wrong_type(field)
    if kind == "string" and not isinstance(value, str):
        _wrong_type(field)
    if kind == "boolean" and not isinstance(value, bool):
        _wrong_type(field)
    if kind == "integer" and not isinstance(value, int):
        _wrong_type(field)
    if kind == "number" and not (
        isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    ):
        _wrong_type(field)
    if kind == "array":
        if not isinstance(value, list):
            _wrong_type(field)
        for i, item in enumerate(value):
            _check_type(item, schema.get("items", {}), f"{field}-{i}")
    if kind == "object":
        if not isinstance(value, dict):
            _wrong_type(field)
        named = schema.get("properties", {})
        others = schema.get("additionalProperties")
        for key, item in value.items():
            if key in named:
                _check_type(item, named[key], f"{field}-{key}")
            elif isinstance(others, dict):
                _check_type(item, others, f"{field}-{key}")


def _wrong_type(field: str) -> NoReturn:
    refuse(422, _("%(field)s has a value of the wrong type.", field=field), field)


def only_known(body: dict[str, Any], properties: dict[str, Any]) -> None:
    """An update names only what it may change: another field is a 422 naming it."""
    unknown = sorted(set(body) - set(properties))
    if unknown:
        refuse(422, _("%(field)s cannot be changed here.", field=unknown[0]), unknown[0])


def body_id(body: dict[str, Any], key: str) -> uuid.UUID | None:
    """An id in the body: absent or null is None; anything but an id is a 422 naming it."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    refuse(422, _("%(field)s must be an id.", field=key), key)


def _form_values(prefix: str, value: Any, into: MultiDict) -> str | None:
    """Put one JSON value into form data as a page's form would post it;
    the name of a field whose value has no form shape, else None."""
    if value is None or value is False:
        return None  # absent, as an unticked box or an empty field is
    if value is True:
        into.add(prefix, "y")
        return None
    if isinstance(value, int | float | str):
        into.add(prefix, str(value))
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                for key, sub in item.items():
                    bad = _form_values(f"{prefix}-{i}-{key}", sub, into)
                    if bad:
                        return bad
            elif isinstance(item, int | float | str) and not isinstance(item, bool):
                into.add(prefix, str(item))
            else:
                return prefix
        return None
    return prefix


def form_from_json(
    form_class: type[F], body: dict[str, Any], *, prepare: Callable[[F], None] | None = None, **kwargs: Any
) -> F:
    """The page's own form filled from a JSON object and validated: the API
    accepts exactly what the page accepts, and a refusal is a 422 naming each
    field (dash paths into lists: `contacts-0-phone`) with the page's message."""
    data = MultiDict()
    for key, value in body.items():
        bad = _form_values(key, value, data)
        if bad:
            refuse(422, _("%(field)s has a value of the wrong type.", field=bad), bad)
    form = form_class(formdata=data, meta={"csrf": False}, **kwargs)
    if prepare is not None:
        prepare(form)  # choices the view sets, as the page's view does
    if not form.validate():  # type: ignore[attr-defined]
        refuse_fields(422, list(_flatten(form.errors)))  # type: ignore[attr-defined]
    return form


def refuse_fields(status: int, errors: list[tuple[str, str]]) -> NoReturn:
    field, message = errors[0]
    abort(problem(status, message, field, errors))


def _flatten(errors: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = f"{prefix}-{key}" if prefix else str(key)
            yield from _flatten(value, name)
    elif isinstance(errors, list | tuple):
        for i, value in enumerate(errors):
            if isinstance(value, str):
                yield prefix or None, value  # type: ignore[misc]
            elif value:
                yield from _flatten(value, f"{prefix}-{i}")
