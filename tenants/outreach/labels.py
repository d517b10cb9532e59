"""Translated labels of stored codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.labels import Labels

group_label = Labels(
    {
        "clients": _l("Clients"),
        "funders": _l("Funders"),
        "partners": _l("Partner organisations"),
    }
)
method_label = Labels(
    {
        "meeting": _l("Meeting"),
        "survey": _l("Survey"),
        "interviews": _l("Interviews"),
        "visit": _l("Visit"),
        "phone": _l("Phone calls"),
        "other": _l("Other"),
    }
)
