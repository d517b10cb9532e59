"""Translated labels of stored codes."""

from __future__ import annotations

from flask_babel import gettext as _


def group_label(group: str) -> str:
    return {
        "clients": lambda: _("Clients"),
        "funders": lambda: _("Funders"),
        "partners": lambda: _("Partner organisations"),
    }.get(group, lambda: group)()


def method_label(method: str) -> str:
    return {
        "meeting": lambda: _("Meeting"),
        "survey": lambda: _("Survey"),
        "interviews": lambda: _("Interviews"),
        "visit": lambda: _("Visit"),
        "phone": lambda: _("Phone calls"),
        "other": lambda: _("Other"),
    }.get(method, lambda: method)()
