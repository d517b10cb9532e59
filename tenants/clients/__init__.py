"""Clients: profiles, cases from intake to closure, assessments, service plans and follow-ups."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import MANAGE_SETTINGS, Permission
from saas.settings import Kind, Setting

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
    api_label=_l("Clients, cases and plans"),
    routes=(".api",),
    models=(".models",),
    blueprints=(".views",),
    reminders=(".reminders",),
    periodic=(Periodic("case_reminders", ".reminders.case_sweep", cron="23 * * * *"),),
    nav=(
        NavEntry("clients.index", _l("Clients"), MANAGE_CASES, 10, tab=2, icon="people"),
        NavEntry("clients.care_settings", _l("Care settings"), MANAGE_SETTINGS, 170),
    ),
    dashboard=(".dashboard.care_figures",),
    permissions=(MANAGE_CASES, APPROVE_PLANS, GRANT_PORTAL_ACCESS),
    url_params={
        "client_id": "clients",
        "case_id": "cases",
        "plan_id": "service_plans",
        "plan_item_id": "service_plan_items",
        "follow_up_id": "case_follow_ups",
    },
    samples=("tests.clients.samples_care",),
    settings=(
        Setting(
            "high_risk_score",
            Kind.INT,
            15,
            _l("A hazard is high risk from this score (likelihood x impact)"),
            min=1,
            max=25,
            page="care",
            section=_l("Clients"),
        ),
        Setting(
            "elderly_from_age",
            Kind.INT,
            60,
            _l("Elderly from the age of"),
            min=40,
            max=100,
            page="care",
            section=_l("Clients"),
        ),
        Setting(
            "follow_up_schedule",
            Kind.STR_LIST,
            ("1w", "2w", "1m", "2m"),
            _l("Follow-ups after closure"),
            help=_l("Intervals separated by commas: 7d, 2w, 1m ..."),
            pattern=r"[1-9][0-9]{0,2}[dwm]",
            min_items=1,
            max_items=8,
            format_message=_l("Write intervals like 7d, 2w or 1m, separated by commas."),
            page="care",
            section=_l("Clients"),
        ),
        Setting(
            "plan_approver_roles",
            Kind.CHOICE_SET,
            APPROVE_PLANS.roles,  # the agency may name others
            _l("Who may approve service plans"),
            choices=(("admin", _l("Admins")), ("coordinator", _l("Coordinators"))),
            min_items=1,
            page="care",
            section=_l("Clients"),
        ),
        Setting(
            "plan_needs_emergency_contact",
            Kind.BOOL,
            True,
            _l("A service plan can be submitted only for a client with an emergency contact"),
            page="care",
            section=_l("Clients"),
        ),
        Setting(
            "plan_review_reminder_days",
            Kind.INT,
            7,
            _l("Remind about a plan review this many days before"),
            min=0,
            max=365,
            page="reminders",
            section=_l("Service plans"),
        ),
    ),
)
