"""Cursor pagination for every API list: ordered by a unique key (a moment
or a name, then the id), a page is the rows after the cursor, read in one
statement with one row more than shown to know whether there is a next.

The cursor is opaque to clients (URL-safe base64 of the last row's key);
a malformed one is a 400 naming `cursor`, a limit out of 1-200 a 422
naming `limit`."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from flask import request
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, tuple_

from saas import db
from saas.api.body import refuse

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

# the query parameters every list takes, for its OpenAPI operation
PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "cursor",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "The `next_cursor` of the previous page",
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
]


def query_param(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """An optional query parameter, for an operation's OpenAPI `parameters`."""
    param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def list_parameters(*filters: dict[str, Any]) -> list[dict[str, Any]]:
    """A list's parameters: the paging ones, then its filters (`query_param`)."""
    return [*PARAMETERS, *filters]


def page_response(item: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    """A list's `responses`: 200 with a page of these items."""
    return {
        "200": {"description": description, "content": {"application/json": {"schema": page_schema(item)}}}
    }


def page_schema(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": item},
            "next_cursor": {
                "type": "string",
                "nullable": True,
                "description": "Pass as `cursor` for the next page; null on the last page",
            },
        },
    }


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str | None

    def document(self, render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        return {"items": [render(r) for r in self.rows], "next_cursor": self.next_cursor}


def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        refuse(422, _("limit must be a whole number from 1 to %(max)d.", max=MAX_LIMIT), "limit")
    return int(raw)


def _encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime | date) else str(v) for v in values]
    return base64.urlsafe_b64encode(orjson.dumps(plain)).decode().rstrip("=")


def _decode(raw: str, keys: Sequence[ColumnElement[Any]]) -> list[Any]:
    try:
        plain = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(plain, list) or len(plain) != len(keys):
            raise ValueError
        values: list[Any] = []
        for key, value in zip(keys, plain, strict=True):
            kind = key.type.python_type
            if not isinstance(value, str):
                raise ValueError
            if kind is datetime:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    raise ValueError
                values.append(moment)
            elif kind is date:
                values.append(date.fromisoformat(value))
            elif kind is uuid.UUID:
                values.append(uuid.UUID(value))
            elif kind is int:
                values.append(int(value))
            else:
                if "\x00" in value:
                    raise ValueError
                values.append(value)
        return values
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError, NotImplementedError):
        refuse(400, _("cursor is not one this API gave: start again without it."), "cursor")


def cursor_page(
    stmt: Select[Any], keys: Sequence[ColumnElement[Any]], *, scalars: bool = True, descending: bool = False
) -> Page:
    """The request's page of `stmt`, ordered by `keys` (ascending, or all
    descending for a newest-first list; the last one unique, usually the
    id). `keys` must also be the row's attributes (for scalars) or its
    leading columns, to make the next cursor."""
    limit = _limit()
    raw = request.args.get("cursor")
    if raw:
        after = tuple_(*_decode(raw, keys))
        stmt = stmt.where(tuple_(*keys) < after if descending else tuple_(*keys) > after)
    order = [k.desc() for k in keys] if descending else list(keys)
    stmt = stmt.order_by(*order).limit(limit + 1)
    rows = list(db.session.scalars(stmt) if scalars else db.session.execute(stmt))
    shown = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = shown[-1]
        if scalars:
            values = [getattr(last, k.key) for k in keys]  # type: ignore[attr-defined]
        else:
            values = list(last[: len(keys)])
        next_cursor = _encode(values)
    return Page(shown, next_cursor)
