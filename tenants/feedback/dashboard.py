"""Feedback's part of the home dashboards (`saas.dashboard`): what is overdue
for the office, the last visit a client may rate."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from saas.dashboard import Counts, DashboardWanted, Figure, Panel
from saas.permissions import USE_PORTAL
from tenants.clients.services import portal_client_ids
from tenants.feedback import HANDLE_COMPLAINTS, HANDLE_RATINGS, MANAGE_RECTIFICATIONS, queries


def office_figures(wanted: DashboardWanted) -> Iterator[Counts]:
    role = wanted.role
    if role in HANDLE_COMPLAINTS or role in HANDLE_RATINGS or role in MANAGE_RECTIFICATIONS:
        yield Counts(queries.feedback_figures(wanted.now, wanted.today), partial(_worded, role))


def _worded(role: str, row: Mapping[str, Any]) -> Iterator[Figure]:
    found = queries.FeedbackFigures.of(row)
    if role in HANDLE_COMPLAINTS:
        inbox = url_for("feedback.inbox")
        yield Figure(
            "feedback.overdue_complaints",
            "attention",
            40,
            _("Complaints past their deadline"),
            found.overdue_complaints,
            inbox,
            tone="bad" if found.overdue_complaints else "ok",
        )
        yield Figure(
            "feedback.overdue_opinions",
            "attention",
            41,
            _("Other opinions past their deadline"),
            found.overdue_opinions,
            inbox,
            tone="warn" if found.overdue_opinions else "ok",
        )
    if role in HANDLE_RATINGS:
        yield Figure(
            "feedback.tasks",
            "care",
            30,
            _("Low ratings to follow up"),
            found.tasks,
            url_for("feedback.tasks"),
            tone="warn" if found.tasks else "ok",
        )
    if role in MANAGE_RECTIFICATIONS:
        yield Figure(
            "feedback.rectifications_overdue",
            "care",
            40,
            _("Rectifications past their deadline"),
            found.rectifications_overdue,
            url_for("feedback.rectifications"),
            tone="bad" if found.rectifications_overdue else "ok",
        )


def client_panels(wanted: DashboardWanted) -> Iterator[Panel]:
    """The last visit the client has not rated yet, with its rating button."""
    if wanted.role not in USE_PORTAL:
        return
    found = queries.last_visit_to_rate(portal_client_ids(wanted.membership), wanted.now)
    yield Panel(
        "feedback.rate_last",
        20,
        "feedback/_home_rate.html",
        {"visit": found, "zone": wanted.agency.zone},
    )
