"""Translated labels of stored codes, and messages of the refusals."""

from __future__ import annotations

from flask_babel import gettext as _

from tenants.outreach.services import MAX_COUNT


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


def error_message(code: str) -> str:
    return {
        "required": lambda: _("This is required."),
        "too_long": lambda: _("This is too long."),
        "negative": lambda: _("This cannot be negative."),
        "too_large": lambda: _("Enter a number from %(min)s to %(max)s.", min=0, max=MAX_COUNT),
        "bad_choice": lambda: _("Choose one of the options."),
        "bad_email": lambda: _("Enter a valid email address."),
        "future": lambda: _("This date is still to come: record it on the day or later."),
        "location_unknown": lambda: _("Choose one of the agency's opinion boxes."),
        "location_taken": lambda: _("There is already a box with this name."),
        "already_logged": lambda: _(
            "This box has already been logged for that day: change that entry instead."
        ),
        "reason_required": lambda: _("Say why the box could not be opened."),
        "slips_unopened": lambda: _("A box that was not opened has no slips."),
        "staff_unknown": lambda: _("Choose an active staff member."),
        "team_unknown": lambda: _("Choose an active team."),
        "funder_unknown": lambda: _("Choose an active funder."),
        "funder_taken": lambda: _("There is already a funder with this name."),
    }.get(code, lambda: _("This change is not allowed."))()
