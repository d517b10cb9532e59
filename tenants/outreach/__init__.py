"""Outreach the agency must log: the opinion box, stakeholder opinion rounds
per team, and return visits to funders."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import MANAGE_SETTINGS, Permission
from saas.settings import Kind, Setting, agency_setting

LOG_OPINION_BOX = Permission(
    "LOG_OPINION_BOX",
    "The opinion box's daily log (carers: in the menu only where the agency lets them log)",
    (Role.ADMIN, Role.COORDINATOR, Role.CARER),
)
MANAGE_OUTREACH = Permission(
    "MANAGE_OUTREACH",
    "Stakeholder opinion rounds, funders and their return visits; every opinion box log",
    (Role.ADMIN, Role.COORDINATOR),
)


def _opinion_box_shown(agency: Any, role: str) -> bool:
    # carers log the box only where the agency lets them; the page can be off
    if role == Role.CARER and not agency_setting(agency, "opinion_box_carers_may_log"):
        return False
    return bool(agency_setting(agency, "opinion_box_enabled"))


AREA = Area(
    "outreach",
    models=(".models",),
    blueprints=(".views",),
    reminders=(".reminders",),
    periodic=(Periodic("outreach_reminders", ".reminders.outreach_sweep", cron="43 * * * *"),),
    nav=(
        NavEntry("outreach.rounds", _l("Stakeholder opinion rounds"), MANAGE_OUTREACH, 100),
        NavEntry("outreach.funders", _l("Funder return visits"), MANAGE_OUTREACH, 110),
        NavEntry("outreach.box", _l("Opinion box"), LOG_OPINION_BOX, 120, shown=_opinion_box_shown),
        NavEntry("outreach.settings_page", _l("Outreach settings"), MANAGE_SETTINGS, 130),
    ),
    permissions=(LOG_OPINION_BOX, MANAGE_OUTREACH),
    url_params={
        "box_location_id": "opinion_box_locations",
        "box_log_id": "opinion_box_logs",
        "round_id": "stakeholder_rounds",
        "funder_id": "funders",
        "funder_visit_id": "funder_visits",
    },
    samples=("tests.outreach.samples_outreach",),
    settings=(
        Setting("opinion_box_enabled", Kind.BOOL, True, _l("The agency has an opinion box"), page="outreach"),
        # by default only admins and coordinators (the people who answer the slips) log the box
        Setting(
            "opinion_box_carers_may_log",
            Kind.BOOL,
            False,
            _l("Carers may log the opinion box"),
            page="outreach",
        ),
        Setting(
            "opinion_box_reminder_hour",
            Kind.INT,
            8,
            _l("Hour of the morning to send the missed-day reminder"),
            min=0,
            max=23,
            page="outreach",
        ),
        Setting(
            "stakeholder_round_months",
            Kind.INT,
            2,
            _l("Months between stakeholder opinion rounds"),
            min=1,
            max=12,
            page="outreach",
        ),
        Setting(
            "funder_visits_per_month",
            Kind.INT,
            1,
            _l("Return visits to each funder per month"),
            min=1,
            max=10,
            page="outreach",
        ),
    ),
)
