"""The operator's dashboard (`saas.dashboard`): agencies by billing state and
the monthly recurring revenue."""

from __future__ import annotations

from collections.abc import Iterator

from flask import url_for
from flask_babel import gettext as _

from billing import lifecycle
from billing.reports import platform_totals
from saas.dashboard import OPERATOR, DashboardWanted, Figure

WORRYING = {"past_due": "warn", "restricted": "bad", "cancelled": "bad"}


def operator_figures(wanted: DashboardWanted) -> Iterator[Figure]:
    if wanted.role != OPERATOR:
        return
    totals = platform_totals(wanted.now)
    for order, (state, count) in enumerate(totals["by_state"].items()):
        if state == "closed" and not count:
            continue
        yield Figure(
            f"agencies.{state}",
            "agencies",
            order,
            lifecycle.state_label(state),
            count,
            url_for("operator.index", state=state),
            tone=WORRYING.get(state, "") if count else "",
        )
    from flask_babel import format_currency

    mrr = totals["mrr"] or {}
    for order, (currency, amount) in enumerate(mrr.items()):
        yield Figure(
            f"revenue.mrr.{currency}",
            "revenue",
            order,
            _("Monthly recurring revenue"),
            format_currency(amount, currency),
            url_for("operator.index", state="active"),
        )
    if not mrr:
        yield Figure("revenue.mrr", "revenue", 0, _("Monthly recurring revenue"), "—")
    yield Figure(
        "revenue.churn",
        "revenue",
        10,
        _("Churn this month"),
        f"{totals['churn_rate']}%",
        url_for("operator.index", state="cancelled"),
        note=_("%(n)d agencies", n=totals["churned"]),
        tone="warn" if totals["churned"] else "",
    )
