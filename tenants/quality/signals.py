"""What the quality summary asks of the other areas.

- `summary_figures` (`FiguresWanted`): when summaries are built (one agency's
  job, or the monthly sweep's batch of agencies), each receiver answers a
  `SectionFigures`: its own figures of each agency's month (numbers only, as
  JSON), read with one statement across the agencies on the connection given
  (the agency's session, or the sweep's platform reader). They are stored
  with the summary's figures, under `sections`, so the archive keeps them.
- `summary_section` (`SectionWanted`): when a summary is shown (its page and
  its PDF), the receiver owning a stored section words it, in the reader's
  language, as a `SummarySection`; no database read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from blinker import Namespace

from saas.models import Agency
from tenants.quality.models import QualitySummary

quality_signals = Namespace()


@dataclass(frozen=True)
class MonthBounds:
    """One agency's month: from `lo` to `hi` (its wall clock), as of `as_of`."""

    agency: Agency
    month: date
    lo: datetime
    hi: datetime
    as_of: datetime


@dataclass(frozen=True)
class FiguresWanted:
    connection: Any  # a Session or Connection: the agency's, or the platform reader
    bounds: Sequence[MonthBounds]


@dataclass(frozen=True)
class SectionFigures:
    key: str  # the area's name
    by_agency: dict[uuid.UUID, dict[str, Any]]  # JSON-ready numbers


@dataclass(frozen=True)
class SectionWanted:
    key: str
    figures: dict[str, Any]


@dataclass
class SummarySection:
    key: str
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)  # (label, value), worded
    notes: list[str] = field(default_factory=list)


summary_figures = quality_signals.signal("summary-figures")
summary_section = quality_signals.signal("summary-section")


def section_figures(connection: Any, bounds: Sequence[MonthBounds]) -> dict[uuid.UUID, dict[str, Any]]:
    """Each agency's sections, {agency id: {key: figures}}."""
    found: dict[uuid.UUID, dict[str, Any]] = {b.agency.id: {} for b in bounds}
    if not bounds:
        return found
    for _receiver, answer in summary_figures.send(FiguresWanted(connection, bounds)):
        if answer is None:
            continue
        for agency_id, figures in answer.by_agency.items():
            found.setdefault(agency_id, {})[answer.key] = figures
    return found


def sections_for(summary: QualitySummary) -> list[SummarySection]:
    """The stored sections of a summary, worded by their areas."""
    stored = (summary.figures or {}).get("sections") or {}
    shown = []
    for key in sorted(stored):
        for _receiver, section in summary_section.send(SectionWanted(key, stored[key])):
            if section is not None:
                shown.append(section)
    return shown
