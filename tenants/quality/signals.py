"""What the quality summary asks of the other areas.

- `summary_sections` (`SectionsWanted`): when a month's summary is shown (its
  page and its PDF), each receiver may answer a `SummarySection` of its own
  figures for that month, already worded in the reader's language; the page
  and the PDF show them after the summary's own. Receivers read with the
  agency in scope and a fixed number of statements each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from blinker import Namespace

from saas import db
from saas.models import Agency
from tenants.quality.models import QualitySummary

quality_signals = Namespace()


@dataclass(frozen=True)
class SectionsWanted:
    agency: Agency
    month: date


@dataclass
class SummarySection:
    key: str  # the area's name: the page's test id and anchor
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)  # (label, value), worded
    notes: list[str] = field(default_factory=list)


summary_sections = quality_signals.signal("summary-sections")


def sections_for(summary: QualitySummary) -> list[SummarySection]:
    """Every other area's section of this summary's month."""
    agency = db.session.get(Agency, summary.tenant_id)
    if agency is None:
        return []
    wanted = SectionsWanted(agency, summary.month)
    found = [section for _receiver, section in summary_sections.send(wanted) if section is not None]
    return sorted(found, key=lambda s: s.key)
