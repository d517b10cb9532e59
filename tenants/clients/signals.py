"""What the clients area tells the others, and what it asks of them.

- `plan_activated` (`PlanActivated`): a service plan became the active one, in
  the activating transaction (scheduling books its visits and gives them to
  their preferred carers, answering `PlanBooked`).
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
from sqlalchemy import DateTime, Select, String, Uuid, bindparam, tuple_
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
    by: Any = None  # the user who activated it, if any


@dataclass(frozen=True)
class PlanBooked:
    """A receiver's answer to `plan_activated`: the visits it booked, how
    many it gave to their preferred carer, how many with a preferred carer
    stay open, and why (each check that refused, worded, with its count)."""

    booked: int
    assigned: int
    left_open: int
    reasons: dict[str, int]


# What each part of the file selects, named so, in this order: the moment that
# orders the file (`at`, newest first, then `ref`), the day shown (`on`), the
# line's own id (`ref`, unique among the file's lines), the id its link points
# to (`link`), then what the part's `render` words: `kind`, `label` (text),
# `number` (integer) and `detail` (text).
TIMELINE_COLUMNS = ("at", "on", "ref", "link", "kind", "label", "number", "detail")


@dataclass(frozen=True)
class TimelineWanted:
    """A shape of page of one client's file: the first page or a later one
    (its lines older than where the page before stopped), newest first, at
    most `limit` lines. The parts are SQL built once per process and shape,
    so the client, the agency's zone, the moment of reading and where the
    page starts are bound parameters (`values()` gives a request's), never
    values baked into a part."""

    paged: bool
    limit: int

    @property
    def client_id(self) -> ColumnElement[uuid.UUID]:
        return bindparam("client_id", type_=Uuid)

    @property
    def timezone(self) -> ColumnElement[str]:
        # the agency's: a line with only a day is placed at its start
        return bindparam("timezone", type_=String)

    @property
    def user_id(self) -> ColumnElement[uuid.UUID]:
        # who reads the file (the file's own statement binds it for its access
        # log): a part whose lines only some may see (safeguarding) asks it
        return bindparam("user_id", type_=Uuid)

    @property
    def now(self) -> ColumnElement[datetime]:
        # the moment of reading: what is still to come is not in the file
        return bindparam("now", type_=DateTime(timezone=True))

    def older(self, at: ColumnElement[Any], ref: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        """The conditions keeping a part's lines on this page: `at` no later
        than where the page starts (an index bound, for a part with an index
        on its moment), then strictly older in the file's order."""
        if not self.paged:
            return []
        before_at = bindparam("before_at", type_=DateTime(timezone=True))
        before_ref = bindparam("before_ref", type_=Uuid)
        return [at <= before_at, tuple_(at, ref) < tuple_(before_at, before_ref)]

    @staticmethod
    def values(client_id: uuid.UUID, timezone: str, now: datetime, before: Keyset | None) -> dict[str, Any]:
        """A request's values for the parameters of a page's parts."""
        values: dict[str, Any] = {"client_id": client_id, "timezone": timezone, "now": now}
        if before is not None:
            values.update(before_at=before.at, before_ref=before.id)
        return values


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
