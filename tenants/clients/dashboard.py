"""The care part of the coordinator's home dashboard (`saas.dashboard`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from saas.dashboard import Counts, DashboardWanted, Figure
from tenants.clients import MANAGE_CASES, queries


def care_figures(wanted: DashboardWanted) -> Iterator[Counts]:
    if wanted.role in MANAGE_CASES:
        yield Counts(queries.care_figures(wanted.today), _worded)


def _worded(row: Mapping[str, Any]) -> Iterator[Figure]:
    found = queries.CareFigures.of(row)
    yield Figure(
        "care.plans_waiting",
        "care",
        10,
        _("Plans waiting for approval"),
        found.plans_waiting,
        url_for("clients.index", status=queries.PLAN_WAITING),
        tone="warn" if found.plans_waiting else "ok",
    )
    yield Figure(
        "care.follow_ups_due",
        "care",
        20,
        _("Follow-ups due"),
        found.follow_ups_due,
        url_for("clients.index", status=queries.FOLLOW_UP_DUE),
        tone="bad" if found.follow_ups_overdue else ("warn" if found.follow_ups_due else "ok"),
        note=_("%(n)d overdue", n=found.follow_ups_overdue) if found.follow_ups_overdue else "",
    )
