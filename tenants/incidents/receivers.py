"""How incidents answer the other areas (connected when the app is made:
`Area.receivers`): their part of the client's file, and their section of the
monthly quality summary (figures stored when it is built, worded when shown)."""

from __future__ import annotations

from flask_babel import gettext as _

from tenants.clients.signals import TimelinePart, TimelineWanted, client_timeline
from tenants.incidents import queries
from tenants.incidents.labels import severity_label, type_label
from tenants.quality.signals import (
    FiguresWanted,
    SectionFigures,
    SectionWanted,
    SummarySection,
    summary_figures,
    summary_section,
)

KEY = "incidents"


def incidents_in_client_file(event: TimelineWanted) -> TimelinePart:
    return TimelinePart(queries.client_file_incidents(event), queries.incident_entries)


def incidents_figures(event: FiguresWanted) -> SectionFigures:
    return SectionFigures(KEY, queries.month_figures(event.connection, event.bounds))


def incidents_section(event: SectionWanted) -> SummarySection | None:
    """The month's incidents by type and severity, and the mean time from
    report to first response against the agency's target when it was built."""
    if event.key != KEY:
        return None
    f = event.figures
    target = int(f.get("target_minutes") or 0)
    rows = [(_("Incidents reported"), str(f.get("reported", 0)))]
    rows += [(type_label(k), str(n)) for k, n in (f.get("by_type") or {}).items() if n]
    rows += [(severity_label(k), str(n)) for k, n in (f.get("by_severity") or {}).items() if n]
    mean = f.get("mean_response_minutes")
    if mean is None:
        shown = "–"
    else:
        shown = _("%(minutes)s min", minutes=f"{mean:g}")
        if target and mean > target:
            shown += " · " + _("above the target")
    rows.append(
        (_("Mean time from report to first response (target ≤ %(target)d min)", target=target), shown)
    )
    notes = [
        _(
            "Incidents reported in the month; the first response is the immediate response "
            "recorded, at the report or after it."
        )
    ]
    return SummarySection(KEY, _("Incidents"), rows, notes)


client_timeline.connect(incidents_in_client_file)
summary_figures.connect(incidents_figures)
summary_section.connect(incidents_section)
