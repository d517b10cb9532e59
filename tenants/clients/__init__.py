"""Clients: profiles, cases from intake to closure, assessments, service plans and follow-ups."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import MANAGE_SETTINGS, Permission

MANAGE_CASES = Permission(
    "MANAGE_CASES",
    "Clients' files and their cases from intake to closure: assessments, risks, service plans, follow-ups",
    (Role.ADMIN, Role.COORDINATOR),
)
APPROVE_PLANS = Permission(
    "APPROVE_PLANS",
    "Approve a service plan someone else wrote (unless the agency names other approver roles)",
    (Role.ADMIN, Role.COORDINATOR),
)
GRANT_PORTAL_ACCESS = Permission(
    "GRANT_PORTAL_ACCESS", "Link a client's family or the client to the client portal", (Role.ADMIN,)
)

AREA = Area(
    "clients",
    models=(".models",),
    blueprints=(".views",),
    reminders=(".reminders",),
    periodic=(Periodic("case_reminders", ".reminders.case_sweep", cron="23 * * * *"),),
    nav=(
        NavEntry("clients.index", _l("Clients"), MANAGE_CASES, 10),
        NavEntry("clients.care_settings", _l("Care settings"), MANAGE_SETTINGS, 170),
    ),
    permissions=(MANAGE_CASES, APPROVE_PLANS, GRANT_PORTAL_ACCESS),
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
