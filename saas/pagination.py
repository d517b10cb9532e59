"""Page through a query: one statement, fetching one row more than shown to
know whether there is a next page (no COUNT over the whole table)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select
from sqlalchemy.orm import Session


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


def paginate(sess: Session, stmt: Select, per_page: int = 50, *, scalars: bool = True) -> Page:
    number = current_page_number()
    stmt = stmt.limit(per_page + 1).offset((number - 1) * per_page)
    rows = list(sess.scalars(stmt) if scalars else sess.execute(stmt))
    return Page(items=rows[:per_page], number=number, per_page=per_page, has_next=len(rows) > per_page)


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, literally: % and _ typed by a
    user are not wildcards. Use with `escape="\\\\"`."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
