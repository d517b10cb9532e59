"""What the clients area tells the others, and what it asks of them.

- `plan_activated` (`PlanActivated`): a service plan became the active one, in
  the activating transaction (scheduling books its visits).
- `client_timeline` (`TimelineWanted`): the client's one-matter file asks each
  receiver for its part of a page of the file (`TimelinePart`: visits,
  ratings ...): a SELECT of `TIMELINE_COLUMNS` bounded by the page, which the
  file reads with its own lines in one statement, and how to word its rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from blinker import Namespace
from sqlalchemy import Select, tuple_
from sqlalchemy.sql import ColumnElement

from saas.pagination import Keyset
from tenants.clients.models import Case, ServicePlan

client_signals = Namespace()


@dataclass
class TimelineEntry:
    """One line of a client's file, whichever area it comes from."""

    on: date
    kind: str
    title: str
    detail: str = ""
    link: str | None = None


@dataclass(frozen=True)
class PlanActivated:
    plan: ServicePlan
    case: Case


# What each part of the file selects, named so, in this order: the moment that
# orders the file (`at`, newest first, then `ref`), the day shown (`on`), the
# line's own id (`ref`, unique among the file's lines), the id its link points
# to (`link`), then what the part's `render` words: `kind`, `label` (text),
# `number` (integer) and `detail` (text).
TIMELINE_COLUMNS = ("at", "on", "ref", "link", "kind", "label", "number", "detail")


@dataclass(frozen=True)
class TimelineWanted:
    """A page of one client's file: its lines older than `before` (the last
    line of the page before), newest first, at most `limit` of them."""

    client_id: uuid.UUID
    timezone: str  # the agency's: a line with only a day is placed at its start
    before: Keyset | None
    limit: int

    def older(self, at: ColumnElement[Any], ref: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        """The conditions keeping a part's lines on this page: `at` no later
        than where the page starts (an index bound, for a part with an index
        on its moment), then strictly older in the file's order."""
        if self.before is None:
            return []
        return [at <= self.before.at, tuple_(at, ref) < tuple_(self.before.at, self.before.id)]


@dataclass(frozen=True)
class TimelineLine:
    """One row of a part, as its `render` receives it."""

    at: datetime
    on: date
    ref: uuid.UUID
    link: uuid.UUID | None
    kind: str
    label: str | None
    number: int | None
    detail: str | None


@dataclass(frozen=True)
class TimelinePart:
    """A receiver's answer to `TimelineWanted`: `rows` selects TIMELINE_COLUMNS,
    newest first, at most `limit`, within `older()`; the file calls `render`
    once per page with the part's lines in order, for one entry each."""

    rows: Select[Any]
    render: Callable[[Sequence[TimelineLine]], list[TimelineEntry]]


plan_activated = client_signals.signal("plan-activated")
client_timeline = client_signals.signal("client-timeline")


def timeline_parts(wanted: TimelineWanted) -> list[TimelinePart]:
    """Every other area's part of a page of the client's file."""
    return [part for _receiver, part in client_timeline.send(wanted) if part is not None]
