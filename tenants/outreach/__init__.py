"""Outreach the agency must log: the opinion box, stakeholder opinion rounds
per team, and return visits to funders."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role

MANAGERS = (Role.ADMIN, Role.COORDINATOR)


def _opinion_box_shown(agency: Any, role: str) -> bool:
    # carers log the box only where the agency lets them; the page can be off
    if role == Role.CARER and not agency.setting("opinion_box_carers_may_log", False):
        return False
    return bool(agency.setting("opinion_box_enabled", True))


AREA = Area(
    "outreach",
    models=(".models",),
    blueprints=(".views",),
    reminders=(".reminders",),
    periodic=(Periodic("outreach_reminders", ".reminders.outreach_sweep", cron="43 * * * *"),),
    nav=(
        NavEntry("outreach.rounds", _l("Stakeholder opinion rounds"), MANAGERS, 100),
        NavEntry("outreach.funders", _l("Funder return visits"), MANAGERS, 110),
        NavEntry("outreach.box", _l("Opinion box"), (*MANAGERS, Role.CARER), 120, shown=_opinion_box_shown),
        NavEntry("outreach.settings_page", _l("Outreach settings"), (Role.ADMIN,), 130),
    ),
    url_params={
        "box_location_id": "opinion_box_locations",
        "box_log_id": "opinion_box_logs",
        "round_id": "stakeholder_rounds",
        "funder_id": "funders",
        "funder_visit_id": "funder_visits",
    },
    samples=("tests.samples_outreach",),
)
