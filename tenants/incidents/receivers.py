"""How incidents answer the other areas (connected when the app is made:
`Area.receivers`): their part of the client's file, and their section of the
monthly quality summary."""

from __future__ import annotations

from flask_babel import gettext as _

from saas.settings import agency_setting
from tenants.clients.signals import TimelinePart, TimelineWanted, client_timeline
from tenants.incidents import queries
from tenants.incidents.labels import severity_label, type_label
from tenants.quality.signals import SectionsWanted, SummarySection, summary_sections


def incidents_in_client_file(event: TimelineWanted) -> TimelinePart:
    return TimelinePart(queries.client_file_incidents(event), queries.incident_entries)


def incidents_in_quality_summary(event: SectionsWanted) -> SummarySection:
    """The month's incidents by type and severity, and the mean time from
    report to first response against the agency's target."""
    figures = queries.month_figures(event.agency, event.month)
    target = int(agency_setting(event.agency, "incident_response_target_minutes"))
    rows = [(_("Incidents reported"), str(figures.reported))]
    rows += [(type_label(k), str(n)) for k, n in figures.by_type.items() if n]
    rows += [(severity_label(k), str(n)) for k, n in figures.by_severity.items() if n]
    if figures.mean_response_minutes is None:
        mean = "–"
    else:
        mean = _("%(minutes)s min", minutes=f"{figures.mean_response_minutes:g}")
        if figures.mean_response_minutes > target:
            mean += " · " + _("above the target")
    rows.append((_("Mean time from report to first response (target ≤ %(target)d min)", target=target), mean))
    notes = [
        _(
            "Incidents reported in the month; the first response is the immediate response "
            "recorded, at the report or after it."
        )
    ]
    return SummarySection("incidents", _("Incidents"), rows, notes)


client_timeline.connect(incidents_in_client_file)
summary_sections.connect(incidents_in_quality_summary)
