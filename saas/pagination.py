"""Page through a query: one statement, fetching one row more than shown to
know whether there is a next page (no COUNT over the whole table)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import request
from sqlalchemy import Select

from saas import db


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.number > 1


def current_page_number() -> int:
    raw = request.args.get("page", "1")
    # ASCII digits only: isdigit() is also true for "²", which int() refuses
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 100_000 else 1


def paginate(stmt: Select, per_page: int = 50, *, scalars: bool = True) -> Page:
    """The request's page of the statement's rows (`?page=`), read in the
    request's session: a view hands it its read model's statement."""
    number = current_page_number()
    stmt = stmt.limit(per_page + 1).offset((number - 1) * per_page)
    rows = list(db.session.scalars(stmt) if scalars else db.session.execute(stmt))
    return Page(items=rows[:per_page], number=number, per_page=per_page, has_next=len(rows) > per_page)


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, literally: % and _ typed by a
    user are not wildcards. Use with `escape="\\\\"`."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Keyset:
    """Where a list ordered by (moment, id) stopped: the last row shown. Its
    token is URL-safe and exact to the microsecond, as PostgreSQL stores it."""

    at: datetime
    id: uuid.UUID

    def token(self) -> str:
        return f"{self.at.astimezone(UTC):%Y%m%dT%H%M%S%f}.{self.id.hex}"

    @classmethod
    def parse(cls, raw: str | None) -> Keyset | None:
        """The keyset a token names, or None for a missing or malformed one
        (the list then starts from its beginning)."""
        moment, _, hexid = (raw or "").partition(".")
        try:
            return cls(datetime.strptime(moment, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC), uuid.UUID(hex=hexid))
        except ValueError:
            return None
