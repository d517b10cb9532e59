"""The workforce part of the office's home dashboard (`saas.dashboard`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from saas.dashboard import Counts, DashboardWanted, Figure
from tenants.staffing import VIEW_STAFF, queries


def workforce_figures(wanted: DashboardWanted) -> Iterator[Counts]:
    if wanted.role in VIEW_STAFF:
        yield Counts(queries.expiring_certificates(wanted.today), _worded)


def _worded(row: Mapping[str, Any]) -> Iterator[Figure]:
    expiring = row["expiring"]
    yield Figure(
        "staff.certificates_expiring",
        "workforce",
        10,
        _("Certificates expiring in %(days)d days", days=queries.EXPIRING_DAYS),
        expiring,
        url_for("staffing.index", status=queries.EXPIRING),
        tone="warn" if expiring else "ok",
    )
