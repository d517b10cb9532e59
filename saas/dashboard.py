"""Home dashboards: what needs doing today, in figures that link to their lists.

The core draws the page; the areas give the figures. An area names in
`AREA.dashboard` the functions ("module.function", relative to its package)
that answer a `DashboardWanted` (who is looking, the agency's today) with
`Counts` (a one-row SELECT of counts from its `queries.py`, and how to word
them as `Figure`s: a number, its words, the list behind it), ready `Figure`s,
and `Panel`s (a block the area renders itself, such as the carer's next
visit). Each function checks who may see its figures; every area's `Counts`
are run together in one statement, and a panel reads in a fixed number of
set-based statements, so a dashboard costs the same round trips however much
the agency holds.

The operator's console asks the same way with `role == OPERATOR` and no agency:
the areas with platform figures (billing, say) answer it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select, true

from saas import areas, db
from saas.charts import _finite, _num

OPERATOR = "operator"

# where a figure is shown, in this order, each under its heading
GROUPS: tuple[tuple[str, Any], ...] = (
    ("today", _l("Today")),
    ("attention", _l("Needs attention")),
    ("care", _l("Care")),
    ("workforce", _l("Workforce")),
    ("quality", _l("This month's quality")),
    ("agencies", _l("Agencies by state")),
    ("revenue", _l("Revenue")),
    ("platform", _l("Jobs and sweeps")),
)
GROUP_NAMES = frozenset(name for name, _label in GROUPS)


@dataclass(frozen=True)
class DashboardWanted:
    """Who is looking: the agency and the membership (None for the operator),
    the member's role (or OPERATOR), the person, the agency's today (the
    operator's: UTC) and now (UTC)."""

    agency: Any
    membership: Any
    role: str
    user_id: uuid.UUID | None
    today: date
    now: datetime


@dataclass(frozen=True)
class Figure:
    """One number on a dashboard. `tone`: "" (neutral), "ok", "warn" or "bad";
    `url`: the list behind the number; `note`: a short line under it (a
    target); `trend`: a sparkline (`sparkline()`)."""

    key: str
    group: str
    order: int
    label: str
    value: int | str
    url: str | None = None
    tone: str = ""
    note: str = ""
    trend: Markup | None = None

    def __post_init__(self) -> None:
        if self.group not in GROUP_NAMES:
            raise ValueError(f"unknown dashboard group {self.group!r}")


@dataclass(frozen=True)
class Panel:
    """A block an area renders itself (`template`, with `context`), placed by
    `order` above the figures (`place="top"`) or below them."""

    key: str
    order: int
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    place: str = "top"


@dataclass(frozen=True)
class Counts:
    """An area's figures read as one row of a SELECT (counts as FILTERs or
    scalar subqueries): the dashboard runs every area's in one statement, one
    round trip however many areas count, and hands each its row
    (`figures(row)`, the columns by their labels) to word."""

    statement: Any  # a sqlalchemy Select giving exactly one row
    figures: Callable[[Mapping[str, Any]], Iterable[Figure]]


@dataclass(frozen=True)
class Dashboard:
    top: list[Panel]
    groups: list[tuple[str, Any, list[Figure]]]  # (name, heading, figures)
    bottom: list[Panel]

    @property
    def empty(self) -> bool:
        return not (self.top or self.groups or self.bottom)


# the core's own figures (the operator's jobs and sweeps), asked like an area's
CORE_FIGURES = ("saas.operator.jobs.dashboard_figures",)


def collect(wanted: DashboardWanted) -> Dashboard:
    """Every area's figures and panels for this reader, grouped and ordered."""
    found: list[Figure | Panel] = []
    for name in CORE_FIGURES:
        found.extend(areas.resolve(name)(wanted))
    for area in areas.discover():
        for name in area.dashboard:
            answer: Iterable[Figure | Panel] = areas.resolve(area.qualified(name))(wanted)
            found.extend(answer)
    figures = [f for f in found if isinstance(f, Figure)]
    figures += _counted([c for c in found if isinstance(c, Counts)])
    panels = sorted((p for p in found if isinstance(p, Panel)), key=lambda p: p.order)
    groups = []
    for name, heading in GROUPS:
        mine = sorted((f for f in figures if f.group == name), key=lambda f: f.order)
        if mine:
            groups.append((name, heading, mine))
    return Dashboard(
        top=[p for p in panels if p.place == "top"],
        groups=groups,
        bottom=[p for p in panels if p.place != "top"],
    )


def _counted(counts: list[Counts]) -> list[Figure]:
    """Every area's counts in one statement: their one-row SELECTs side by
    side (each a subquery, its columns prefixed), then each worded."""
    if not counts:
        return []
    subqueries = [c.statement.subquery(f"d{i}") for i, c in enumerate(counts)]
    columns = [col.label(f"d{i}_{col.name}") for i, sub in enumerate(subqueries) for col in sub.c]
    statement = select(*columns).select_from(subqueries[0])
    for sub in subqueries[1:]:
        statement = statement.join(sub, true())
    row = db.session.execute(statement).one()._mapping
    out: list[Figure] = []
    for i, (c, sub) in enumerate(zip(counts, subqueries, strict=True)):
        out.extend(c.figures({col.name: row[f"d{i}_{col.name}"] for col in sub.c}))
    return out


def sparkline(values: Iterable[float | None], *, label: str, width: int = 96, height: int = 28) -> Markup:
    """A small line of the values (oldest first), scaled to their own range:
    the shape of a trend next to a figure. None is a gap; fewer than two
    values draw nothing."""
    points = [_finite(v) for v in values]
    known = [v for v in points if v is not None]
    if len(known) < 2:
        return Markup("")
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = (width - 4) / (len(points) - 1)
    segments: list[list[str]] = [[]]
    last_xy = ""
    for i, value in enumerate(points):
        if value is None:
            segments.append([])
            continue
        x = 2 + i * step
        y = height - 3 - (value - low) / span * (height - 6)
        last_xy = f"{_num(x)},{_num(y)}"
        segments[-1].append(last_xy)
    lines = "".join(
        f'<polyline points="{" ".join(seg)}" fill="none" stroke="currentColor" stroke-width="2"/>'
        for seg in segments
        if len(seg) > 1
    )
    x, y = last_xy.split(",")
    # numbers we computed and an escaped label
    return Markup(  # noqa: S704
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{Markup.escape(label)}">{lines}'
        f'<circle cx="{x}" cy="{y}" r="2.5" fill="currentColor"/></svg>'
    )


def operator_dashboard() -> Dashboard:
    """The operator's: every area's platform figures and the core's."""
    from flask_login import current_user

    from saas.db import utcnow

    now = utcnow()
    return collect(DashboardWanted(None, None, OPERATOR, current_user.id, now.date(), now))
