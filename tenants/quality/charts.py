"""The summary's charts, the same SVG on its page, its public page and in its
PDF (`saas.charts.line_chart`): the mean satisfaction and the overall score
against the targets, each over the 6 months up to the summary's month, from
the figures stored with the summary."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup

from saas.charts import line_chart
from saas.i18n import format_month
from tenants.quality import kpis

MONTHS = 6


def months_to(month: date) -> list[date]:
    """The MONTHS months ending with `month`, oldest first."""
    start = kpis.add_months(month, -(MONTHS - 1))
    return [kpis.add_months(start, i) for i in range(MONTHS)]


def satisfaction_chart(month: date, trend: list[dict[str, Any]], chart_id: str) -> Markup:
    """The mean satisfaction of the 6 months up to `month`."""
    by_month = {t["month"]: t["mean"] for t in trend}
    months = months_to(month)
    return line_chart(
        [format_month(m, "yMMM") for m in months],
        {_("Average satisfaction"): [by_month.get(m.isoformat()) for m in months]},
        y_min=1,
        y_max=5,
        title=_("Satisfaction, last 6 months"),
        no_data_text=_("No ratings in these months."),
        chart_id=chart_id,
    )


def score_chart(month: date, trend: list[dict[str, Any]], chart_id: str) -> Markup:
    """The overall score against the targets, 0 to 100, over the 6 months up
    to `month` (the figures' `score_trend`, stored when the summary was built)."""
    by_month = {t["month"]: t["score"] for t in trend}
    months = months_to(month)
    return line_chart(
        [format_month(m, "yMMM") for m in months],
        {_("Overall score"): [by_month.get(m.isoformat()) for m in months]},
        y_min=0,
        y_max=100,
        title=_("Score against the targets, last 6 months"),
        no_data_text=_("No summaries in these months."),
        chart_id=chart_id,
    )
