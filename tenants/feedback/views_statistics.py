"""The satisfaction page: ratings and complaint handling for a preset or a
custom range, with the 12-month trend. A route of the feedback blueprint
(`tenants.feedback.views.bp`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from saas.charts import line_chart
from saas.i18n import format_month
from saas.permissions import require
from saas.tenancy import current_agency
from tenants.clients.services import agency_today
from tenants.feedback import VIEW_SATISFACTION, labels
from tenants.feedback import statistics as stats
from tenants.feedback.forms import StatisticsRangeForm
from tenants.feedback.models import DIMENSIONS
from tenants.feedback.views import bp


@bp.route("/feedback/statistics")
@require(VIEW_SATISFACTION)
def statistics() -> Any:
    """Satisfaction and complaint handling for a preset or a custom date range (GET)."""
    agency = current_agency()
    custom = bool(request.args.keys() & {"start", "end"})
    form = StatisticsRangeForm(formdata=request.args if custom else None)
    selected = stats.preset_range(request.args.get("range", ""), agency_today(agency))
    status = 200
    if custom and form.validate():
        problem = stats.range_problem(form.start.data, form.end.data, agency)
        if problem is None:
            selected = stats.DateRange(form.start.data, form.end.data)
        else:
            form.end.errors = [_statistics_range_message(problem, stats.max_range_months(agency))]
    if form.errors:
        status = 422  # the message is next to the field; the page shows the default range meanwhile
    elif not custom:
        form.start.data, form.end.data = selected.start, selected.end
    figures = stats.page(agency, selected)
    months = figures.trend_range.months()
    chart = line_chart(
        [_month_label(m, "yM") for m in months],
        stats.trend_series(figures.trend, months, {m: _measure_label(m) for m in stats.MEASURES}),
        y_min=1,
        y_max=5,
        width=720,
        height=340,
        title=_("Mean score per month, last 12 months"),
        no_data_text=_("No ratings in these months."),
        chart_id="trend",
    )
    page = render_template(
        "feedback/statistics.html",
        form=form,
        figures=figures,
        months=figures.range.months(),
        trend_months=months,
        presets=stats.PRESETS,
        dimensions=DIMENSIONS,
        measures=stats.MEASURES,
        chart=chart,
        month_label=_month_label,
        measure_label=_measure_label,
    )
    return page, status


def _month_label(month: date, skeleton: str = "yMMM") -> str:
    return format_month(month, skeleton)


def _measure_label(measure: str) -> str:
    return _("Overall") if measure == "overall" else labels.dimension_label(measure)


def _statistics_range_message(problem: str, max_months: int) -> str:
    if problem == "end_before_start":
        return _("The last day must be on or after the first day.")
    if problem == "out_of_bounds":  # the form refuses such days first; kept for any other caller
        return _(
            "Enter a day between %(first)s and %(last)s.",
            first=stats.FIRST_DAY.isoformat(),
            last=stats.LAST_DAY.isoformat(),
        )
    return _("Choose a range of at most %(months)d months.", months=max_months)
