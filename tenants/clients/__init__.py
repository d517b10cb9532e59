"""Clients: profiles, cases from intake to closure, assessments, service plans and follow-ups."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role

MANAGERS = (Role.ADMIN, Role.COORDINATOR)

AREA = Area(
    "clients",
    models=(".models",),
    blueprints=(".views",),
    reminders=(".reminders",),
    periodic=(Periodic("case_reminders", ".reminders.case_sweep", cron="23 * * * *"),),
    nav=(
        NavEntry("clients.index", _l("Clients"), MANAGERS, 10),
        NavEntry("clients.care_settings", _l("Care settings"), (Role.ADMIN,), 170),
    ),
    url_params={
        "client_id": "clients",
        "case_id": "cases",
        "plan_id": "service_plans",
        "plan_item_id": "service_plan_items",
        "follow_up_id": "case_follow_ups",
    },
    samples=("tests.samples_care",),
    reminder_settings={"plan_review_reminder_days": ".reminders.DEFAULT_REVIEW_DAYS"},
)
