"""The query parameters an API list filters by, read in one place: each bad
value is a problem document naming its parameter (400 for one that cannot
be read at all, an id or a date that is not one; 422 for one outside its
choices or a range the wrong way round), and each is documented the same way
in the OpenAPI document."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import request
from flask_babel import gettext as _

from saas.api.body import refuse

ID = {"type": "string", "format": "uuid"}
DAY = {"type": "string", "format": "date"}
BOOLEAN = {"type": "boolean"}


def param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional query parameter of a list, for its OpenAPI operation."""
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def choice_param(name: str, values: Iterable[str], description: str) -> dict[str, Any]:
    return param(name, {"type": "string", "enum": list(values)}, description)


def date_range_params(what: str) -> list[dict[str, Any]]:
    """`from` and `to`: the agency's local days, both included."""
    return [
        param("from", DAY, f"Only {what} on or after this local day (YYYY-MM-DD)"),
        param("to", DAY, f"Only {what} on or before this local day (YYYY-MM-DD)"),
    ]


def uuid_arg(name: str) -> uuid.UUID | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        refuse(400, _("%(field)s must be an id.", field=name), name)


def choice_arg(name: str, values: Iterable[str]) -> str | None:
    raw = request.args.get(name)
    if not raw:
        return None
    allowed = list(values)
    if raw not in allowed:
        refuse(422, _("%(field)s must be one of: %(values)s.", field=name, values=", ".join(allowed)), name)
    return raw


def bool_arg(name: str) -> bool | None:
    """true or false (as OpenAPI writes a boolean in a query); absent: None."""
    raw = request.args.get(name)
    if not raw:
        return None
    if raw not in ("true", "false"):
        refuse(422, _("%(field)s must be true or false.", field=name), name)
    return raw == "true"


def day_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        refuse(400, _("%(field)s must be a date as YYYY-MM-DD.", field=name), name)


def day_range() -> tuple[date | None, date | None]:
    """`from` and `to`, each optional; `to` before `from` is refused."""
    first, last = day_arg("from"), day_arg("to")
    if first and last and last < first:
        refuse(422, _("to must not be before from."), "to")
    return first, last


def moment_range(zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The local days `from`..`to` as moments: [start of `from`, start of
    the day after `to`), on the agency's clock."""
    first, last = day_range()
    # a day at the ends of the calendar bounds nothing (and its moment in UTC may not exist)
    since = datetime.combine(first, time.min, tzinfo=zone) if first and first > date.min else None
    until = (
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        if last and last < date.max
        else None
    )
    return since, until
