"""Visits: generation, assignment, the carer's schedule, check-in and out."""

from __future__ import annotations

from datetime import time

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import USE_PORTAL, Permission
from saas.settings import Kind, Setting

MANAGE_VISITS = Permission(
    "MANAGE_VISITS",
    "Every visit: the board, assigning, rescheduling, cancelling, one-off visits, resolving flags",
    (Role.ADMIN, Role.COORDINATOR),
)
OVERRIDE_ASSIGNMENT = Permission(
    "OVERRIDE_ASSIGNMENT",
    "Assign a visit despite an overridable refusal (caseload limit, pre-service training, required "
    "certificates, availability, time off, travel time), with a written reason; never a double booking",
    (Role.ADMIN,),
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
    api_label=_l("Visits"),
    models=(".models",),
    blueprints=(".views", ".feed"),
    routes=(".api",),
    reminders=(".visit_reminders", ".reminders", ".assignment_notices"),
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
        NavEntry("scheduling.rota", _l("Rota"), MANAGE_VISITS, 15),
        NavEntry("scheduling.board", _l("Visits"), MANAGE_VISITS, 20, tab=1, icon="visits"),
        # carers may open the page too (RECORD_RETURN_VISITS); it is not in their menu
        NavEntry("scheduling.return_visits", _l("Return visits"), MANAGE_VISITS, 30),
        NavEntry("scheduling.my_schedule", _l("My visits"), VIEW_OWN_SCHEDULE, 140, tab=1, icon="visits"),
        NavEntry("scheduling.portal", _l("My visits"), USE_PORTAL, 150, tab=1, icon="visits"),
    ),
    dashboard=(".dashboard.coordinator_figures", ".dashboard.carer_panels", ".dashboard.client_panels"),
    permissions=(MANAGE_VISITS, OVERRIDE_ASSIGNMENT, VIEW_OWN_SCHEDULE, RECORD_VISITS, RECORD_RETURN_VISITS),
    url_params={"visit_id": "visits"},
    samples=("tests.clients.samples_care",),
    settings=(
        # the care settings page
        Setting(
            "visit_window_days",
            Kind.INT,
            28,
            _l("Generate visits this many days ahead"),
            min=1,
            max=120,
            page="care",
            section=_l("Visits"),
        ),
        Setting(
            "travel_buffer_minutes",
            Kind.INT,
            15,
            _l("Travel time between a carer's visits (minutes)"),
            min=0,
            max=240,
            page="care",
            section=_l("Visits"),
        ),
        Setting(
            "late_grace_minutes",
            Kind.INT,
            15,
            _l("A visit is late after (minutes without check-in)"),
            min=0,
            max=240,
            page="care",
            section=_l("Visits"),
        ),
        Setting(
            "checkin_location",
            Kind.BOOL,
            False,
            _l("Ask for the phone's position at check-in"),
            page="care",
            section=_l("Visits"),
        ),
        Setting(
            "phone_clock_tolerance_minutes",
            Kind.INT,
            10,
            _l("Flag a visit when the carer's phone clock is off by more than (minutes)"),
            min=1,
            max=1440,
            page="care",
            section=_l("Visits"),
        ),
        # how early before its start a visit may be checked in (not on a page)
        Setting(
            "checkin_early_minutes",
            Kind.INT,
            120,
            _l("A visit may be checked in this many minutes before it starts"),
            min=0,
            max=1440,
        ),
        # the reminder settings page
        Setting(
            "reminder_evening_time",
            Kind.TIME,
            time(18, 0),
            _l("Send carers tomorrow's visits at (HH:MM)"),
            page="reminders",
            section=_l("Visits"),
        ),
        Setting(
            "no_check_in_minutes",
            Kind.INT,
            15,
            _l("Remind a carer who has not checked in this many minutes before the visit"),
            min=0,
            max=240,
            page="reminders",
            section=_l("Visits"),
        ),
        Setting(
            "reminder_morning_time",
            Kind.TIME,
            time(8, 0),
            _l("Send coordinators the visits without a carer at (HH:MM)"),
            page="reminders",
            section=_l("Visits"),
        ),
        Setting(
            "unassigned_horizon_days",
            Kind.INT,
            7,
            _l("Count visits without a carer over the next (days)"),
            min=1,
            max=60,
            page="reminders",
            section=_l("Visits"),
        ),
        Setting(
            "attention_reminder_hours",
            Kind.INT,
            24,
            _l("Remind about a service record still needing attention after (hours)"),
            min=0,
            max=720,
            page="reminders",
            section=_l("Visits"),
        ),
        Setting(
            "return_visit_due_day",
            Kind.INT,
            7,
            _l("A month's return visits are due by this day of the next month"),
            min=1,
            max=28,
            page="reminders",
            section=_l("Return visits"),
        ),
    ),
    demo="tenants.demo_care.seed",
)
