"""Read models of the quality pages: the archive's columns (not the stored
figures behind them), and the summary's position among comparable agencies,
kept for a short while so that the page does not open a second transaction
(the platform reader's) on every view.

The position only changes when another comparable agency builds or rebuilds
the same month; it is read again at most every PEERS_KEPT per process and
summary, an answer of "too few peers yet" included: a new peer shows within
PEERS_KEPT.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select

from saas import db
from tenants.quality import services
from tenants.quality.models import QualitySummary

ARCHIVE_MONTHS = 60
PEERS_KEPT = 60.0  # seconds
PEERS_KEPT_MAX = 4096  # summaries per process


@dataclass(frozen=True, slots=True)
class ArchiveRow:
    """One month of the archive, as its list shows it."""

    id: uuid.UUID
    month: date
    state: str
    built_at: datetime | None
    rebuilds: int
    score: Any  # the overall score as stored (a number or None)


def archive() -> list[ArchiveRow]:
    """The latest ARCHIVE_MONTHS summaries, newest first, without their figures."""
    rows = db.session.execute(
        select(
            QualitySummary.id,
            QualitySummary.month,
            QualitySummary.state,
            QualitySummary.built_at,
            QualitySummary.rebuilds,
            QualitySummary.figures["score"].label("score"),
        )
        .order_by(QualitySummary.month.desc())
        .limit(ARCHIVE_MONTHS)
    ).all()
    return [ArchiveRow(**r._asdict()) for r in rows]


_peers: OrderedDict[tuple[Any, ...], tuple[float, dict[str, int]]] = OrderedDict()
_peers_lock = threading.Lock()


def peer_positions(summary: QualitySummary) -> dict[str, int] | None:
    """`services.peer_percentiles` of a built summary, kept PEERS_KEPT seconds,
    "too few peers" too: an agency without peers (the largest, the smallest)
    would otherwise read every comparable summary of the month on each view."""
    figures = summary.figures or {}
    if not figures or figures.get("empty"):
        return None
    key = (summary.tenant_id, summary.id, summary.built_at, summary.rebuilds)
    now = time.monotonic()
    with _peers_lock:
        kept = _peers.get(key)
        if kept is not None and kept[0] > now:
            _peers.move_to_end(key)
            return kept[1]
    found = services.peer_percentiles(summary.tenant_id, summary.month, figures)
    with _peers_lock:
        _peers[key] = (now + PEERS_KEPT, found)
        _peers.move_to_end(key)
        while len(_peers) > PEERS_KEPT_MAX:
            _peers.popitem(last=False)
    return found


def forget_peer_positions() -> None:
    """Drop what is kept (tests, and a process that must read afresh)."""
    with _peers_lock:
        _peers.clear()


# -- the admin's home dashboard ------------------------------------------------------------------

# the months of built summaries drawn before this month's figure
TREND_MONTHS = 5


@dataclass(frozen=True, slots=True)
class MonthKpis:
    """This month's KPIs so far against the agency's targets
    (`targets.evaluate`), and each KPI's value in the summaries of the months
    before, oldest first."""

    month: date
    kpis: dict[str, dict[str, Any]]
    score: float | None
    history: dict[str, list[float | None]]


def month_kpis(agency: Any, now: datetime) -> MonthKpis:
    """Two statements: the month's figures so far (`kpis.compute`, the
    statement the monthly summary runs) and the KPIs stored with the last
    TREND_MONTHS summaries."""
    from tenants.quality import kpis, targets
    from tenants.quality.models import BuildState

    month = now.astimezone(agency.zone).date().replace(day=1)
    goals = targets.targets_of(agency)
    window = kpis.Window.of(month, agency.zone, now)
    figures = kpis.compute(db.session(), window, services.build_settings(agency, goals))
    evaluated = targets.evaluate(figures, goals)
    earlier = db.session.execute(
        select(QualitySummary.month, QualitySummary.figures["kpis"])
        .where(
            QualitySummary.state == BuildState.DONE,
            QualitySummary.month < month,
            QualitySummary.month >= kpis.add_months(month, -TREND_MONTHS),
        )
        .order_by(QualitySummary.month)
    ).all()
    history: dict[str, list[float | None]] = {key: [] for key in evaluated}
    for _month, stored in earlier:
        for key in history:
            history[key].append(((stored or {}).get(key) or {}).get("value"))
    return MonthKpis(month, evaluated, targets.score(evaluated), history)


def api_summaries() -> Select[Any]:
    """The archive's summaries (one per month), for the API's paged list."""
    return select(QualitySummary)
