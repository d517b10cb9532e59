"""The carer's training due on their home dashboard (`saas.dashboard`)."""

from __future__ import annotations

from collections.abc import Iterator

from saas.dashboard import DashboardWanted, Panel
from saas.models import Role
from tenants.training import queries


def carer_panels(wanted: DashboardWanted) -> Iterator[Panel]:
    if wanted.role != Role.CARER:
        return
    yield Panel(
        "training.due",
        30,
        "training/_home_due.html",
        {"rows": queries.training_due(wanted.membership.id, wanted.today)},
        place="bottom",
    )
