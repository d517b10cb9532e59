"""This month's KPIs on the admin's home dashboard (`saas.dashboard`): the
month so far against the agency's targets, with the months before as a trend."""

from __future__ import annotations

from collections.abc import Iterator

from flask import url_for
from flask_babel import gettext as _

from saas.dashboard import DashboardWanted, Figure, sparkline
from tenants.quality import BUILD_QUALITY_SUMMARIES, queries, services

# the KPIs the dashboard shows, in this order (the summary page has them all)
SHOWN = ("visits_delivered", "visits_on_time", "coverage", "complaints_on_time", "satisfaction", "training")


def kpi_figures(wanted: DashboardWanted) -> Iterator[Figure]:
    if wanted.role not in BUILD_QUALITY_SUMMARIES:
        return
    found = queries.month_kpis(wanted.agency, wanted.now)
    link = url_for("quality.index")
    if found.score is not None:
        yield Figure(
            "quality.score",
            "quality",
            1,
            _("Targets achieved (weighted)"),
            f"{found.score:g}%",
            link,
        )
    for order, key in enumerate(SHOWN, start=10):
        k = found.kpis[key]
        label = services.kpi_label(key)
        yield Figure(
            f"quality.{key}",
            "quality",
            order,
            label,
            services.format_value(key, k["value"]),
            link,
            tone="" if k["met"] is None else ("ok" if k["met"] else "bad"),
            note=_("target %(target)s", target=services.format_value(key, k["target"])),
            trend=sparkline(
                [*found.history.get(key, []), k["value"]],
                label=_("%(kpi)s, the last months and this one", kpi=label),
            ),
        )
