"""Visits: generation, assignment, the carer's schedule, check-in and out."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import USE_PORTAL, Permission

MANAGE_VISITS = Permission(
    "MANAGE_VISITS",
    "Every visit: the board, assigning, rescheduling, cancelling, one-off visits, resolving flags",
    (Role.ADMIN, Role.COORDINATOR),
)
OVERRIDE_ASSIGNMENT = Permission(
    "OVERRIDE_ASSIGNMENT",
    "Assign a visit despite an overridable refusal, with a written reason",
    (Role.ADMIN, Role.COORDINATOR),
)
VIEW_OWN_SCHEDULE = Permission(
    "VIEW_OWN_SCHEDULE",
    "One's own visits and private calendar feed",
    (Role.ADMIN, Role.COORDINATOR, Role.CARER),
)
RECORD_VISITS = Permission(
    "RECORD_VISITS",
    "Check in and out of a visit and write its service record (carers: their own visits)",
    (Role.ADMIN, Role.COORDINATOR, Role.CARER),
)
RECORD_RETURN_VISITS = Permission(
    "RECORD_RETURN_VISITS",
    "The month's return visits: see and record them",
    (Role.ADMIN, Role.COORDINATOR, Role.CARER),
)

AREA = Area(
    "scheduling",
    models=(".models",),
    blueprints=(".views", ".feed"),
    routes=(".api",),
    reminders=(".visit_reminders", ".reminders"),
    receivers=(".receivers",),
    periodic=(
        Periodic("generate_visits", ".jobs.generate_all", cron="30 1 * * *"),
        Periodic("flag_late_visits", ".jobs.flag_all", queue="high", interval=300),
        # the visit reminders: sweeps derive what is due; the dedupe key sends each once
        Periodic("remind_visits_tomorrow", ".visit_reminders.tomorrow_all", interval=300),
        Periodic("remind_no_check_in", ".visit_reminders.no_check_in_all", queue="high", interval=120),
        Periodic("remind_late", ".visit_reminders.late_and_missed_all", queue="high", interval=120),
        Periodic("remind_unassigned", ".visit_reminders.unassigned_all", interval=900),
        Periodic("remind_needs_attention", ".visit_reminders.needs_attention_all", interval=900),
        Periodic("return_visit_reminders", ".reminders.return_visit_sweep", cron="33 * * * *"),
    ),
    nav=(
        NavEntry("scheduling.board", _l("Visits"), MANAGE_VISITS, 20),
        # carers may open the page too (RECORD_RETURN_VISITS); it is not in their menu
        NavEntry("scheduling.return_visits", _l("Return visits"), MANAGE_VISITS, 30),
        NavEntry("scheduling.my_schedule", _l("My visits"), VIEW_OWN_SCHEDULE, 140),
        NavEntry("scheduling.portal", _l("My visits"), USE_PORTAL, 150),
    ),
    permissions=(MANAGE_VISITS, OVERRIDE_ASSIGNMENT, VIEW_OWN_SCHEDULE, RECORD_VISITS, RECORD_RETURN_VISITS),
    url_params={"visit_id": "visits"},
    samples=("tests.samples_care",),
    reminder_settings={
        "reminder_evening_time": ".visit_reminders.DEFAULT_EVENING",
        "reminder_morning_time": ".visit_reminders.DEFAULT_MORNING",
        "no_check_in_minutes": ".visit_reminders.DEFAULT_NO_CHECK_IN_MINUTES",
        "unassigned_horizon_days": ".visit_reminders.DEFAULT_UNASSIGNED_DAYS",
        "attention_reminder_hours": ".visit_reminders.DEFAULT_ATTENTION_HOURS",
        "return_visit_due_day": ".reminders.DEFAULT_DUE_DAY",
    },
    demo="tenants.demo_care.seed",
)
