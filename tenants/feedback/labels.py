"""Translated labels of stored codes."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import pgettext


def status_label(status: str) -> str:
    return {
        "received": lambda: pgettext("feedback status", "Received"),
        "acknowledged": lambda: _("Acknowledged"),
        "investigating": lambda: _("Investigating"),
        "responded": lambda: _("Responded"),
        "closed": lambda: _("Closed"),
    }.get(status, lambda: status)()


def kind_label(kind: str) -> str:
    return {
        "opinion": lambda: _("Opinion"),
        "suggestion": lambda: _("Suggestion"),
        "complaint": lambda: _("Complaint"),
        "praise": lambda: _("Praise"),
    }.get(kind, lambda: kind)()


def dimension_label(dimension: str) -> str:
    return {
        "attitude": lambda: _("Attitude"),
        "process": lambda: _("Process"),
        "effect": lambda: _("Effect"),
        "environment": lambda: _("Environment"),
        "timeliness": lambda: _("Timeliness"),
    }.get(dimension, lambda: dimension)()


def deadline_label(state: str) -> str:
    return {
        "answered": lambda: _("answered"),
        "overdue": lambda: _("overdue"),
        "due_soon": lambda: _("due soon"),
        "on_time": lambda: _("on time"),
    }.get(state, lambda: state)()
