from __future__ import annotations

from flask_babel import gettext as _


def visit_status_label(status: str) -> str:
    labels = {
        "scheduled": _("Scheduled"),
        "in_progress": _("In progress"),
        "completed": _("Completed"),
        "cancelled": _("Cancelled"),
        "missed": _("Missed"),
    }
    return labels.get(status, status)
