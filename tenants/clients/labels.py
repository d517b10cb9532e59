"""Translated labels for the stored codes of clients and cases."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import ngettext, pgettext

from tenants.clients.forms import (
    channel_choices,
    economic_choices,
    family_choices,
    follow_up_method_choices,
    health_choices,
    method_choices,
    psychological_choices,
)

_PLAN_ACTIVE = re.compile(r"plan v(\d+) active")
_REOPENED = re.compile(r"re-opened after follow-up (\S+)")
_AFTER = re.compile(r"(\d+)([dwm])")


def case_status_label(status: str) -> str:
    labels = {
        "intake": _("Intake"),
        "assessment": _("Assessment"),
        "planning": _("Planning"),
        "active": pgettext("case status", "Active"),
        "closed": _("Closed"),
    }
    return labels.get(status, status)


def plan_status_label(status: str) -> str:
    labels = {
        "draft": _("Draft"),
        "submitted": _("Submitted"),
        "approved": _("Approved"),
        "active": pgettext("plan status", "Active"),
        "closed": _("Closed"),
        "superseded": _("Superseded"),
    }
    return labels.get(status, status)


def age_group_label(group: str) -> str:
    labels = {
        "child": _("Child"),
        "adolescent": _("Adolescent"),
        "adult": _("Adult"),
        "elderly": _("Elderly"),
    }
    return labels.get(group, group)


def classification_text(client: object) -> str:
    parts = []
    for value, choices in (
        (client.family_status, family_choices()),
        (client.economic_status, economic_choices()),
        (client.health_status, health_choices()),
        (client.psychological_state, psychological_choices()),
    ):
        if value:
            parts.append(str(dict(choices).get(value, value)))
    return ", ".join(parts) or "—"


def channel_label(code: str) -> str:
    """How a case came in (phone, walk-in, online, referral)."""
    return str(dict(channel_choices()).get(code, code))


def assessment_method_label(code: str) -> str:
    return str(dict(method_choices()).get(code, code))


def follow_up_method_label(code: str) -> str:
    return str(dict(follow_up_method_choices()).get(code, code))


def follow_up_label(label: str) -> str:
    """When a follow-up falls after closure: "1w" is "1 week after closure"."""
    found = _AFTER.fullmatch(label or "")
    if found is None:
        return label
    n, unit = int(found.group(1)), found.group(2)
    if unit == "d":
        return ngettext("%(num)d day after closure", "%(num)d days after closure", n)
    if unit == "w":
        return ngettext("%(num)d week after closure", "%(num)d weeks after closure", n)
    return ngettext("%(num)d month after closure", "%(num)d months after closure", n)


def transition_note(note: str) -> str:
    """A case history note in the reader's language: the notes the services
    write (stored as these English phrases, in old rows too) are translated;
    one a person typed (a closing reason) is shown as typed."""
    if note == "assessment recorded":
        return _("Needs assessment recorded")
    if note == "plan drafted":
        return _("Service plan drafted")
    found = _PLAN_ACTIVE.fullmatch(note)
    if found:
        return _("Service plan version %(v)s made active", v=found.group(1))
    found = _REOPENED.fullmatch(note)
    if found:
        return _("Re-opened after the follow-up %(when)s", when=follow_up_label(found.group(1)))
    return note


def register(bp: object) -> None:
    for fn in (
        channel_label,
        assessment_method_label,
        follow_up_method_label,
        follow_up_label,
        transition_note,
        case_status_label,
        plan_status_label,
        age_group_label,
        classification_text,
        weekday_names,
        relationship_label,
        read_section_label,
    ):
        bp.app_template_global(fn.__name__)(fn)  # type: ignore[attr-defined]


def weekday_names(days: list[int]) -> str:
    names = {1: _("Mon"), 2: _("Tue"), 3: _("Wed"), 4: _("Thu"), 5: _("Fri"), 6: _("Sat"), 7: _("Sun")}
    return ", ".join(names.get(d, str(d)) for d in sorted(days))


def relationship_label(code: str) -> str:
    labels = {"self": _("The client"), "family": _("Family member"), "guardian": _("Guardian")}
    return labels.get(code, code)


def read_section_label(section: str) -> str:
    """Which part of a client's file a logged read showed (`tenants.clients.read_log`)."""
    labels = {
        "file": _("The file"),
        "edit": _("The profile, to edit it"),
        "case": _("A case"),
        "visit": _("A visit sheet"),
        "schedule": _("A carer's schedule"),
        "api": _("The phone app"),
        "calendar_feed": _("A carer's calendar feed"),
        "emergency_contacts": _("The emergency contacts"),
        "presence_sheet": _("The home's code sheet"),
    }
    return labels.get(section, section)
