"""Translated labels of stored codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from saas.labels import Labels

status_label = Labels(
    {
        "received": lazy_pgettext("feedback status", "Received"),
        "acknowledged": _l("Acknowledged"),
        "investigating": _l("Investigating"),
        "responded": _l("Responded"),
        "closed": _l("Closed"),
    }
)
kind_label = Labels(
    {
        "opinion": _l("Opinion"),
        "suggestion": _l("Suggestion"),
        "complaint": _l("Complaint"),
        "praise": _l("Praise"),
    }
)
dimension_label = Labels(
    {
        "attitude": _l("Attitude"),
        "process": _l("Process"),
        "effect": _l("Effect"),
        "environment": _l("Environment"),
        "timeliness": _l("Timeliness"),
    }
)
deadline_label = Labels(
    {
        "answered": _l("answered"),
        "overdue": _l("overdue"),
        "due_soon": _l("due soon"),
        "on_time": _l("on time"),
    }
)
