"""Staff files: qualifications, recruitment, caseload, reviews and who may be assigned."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import MANAGE_SETTINGS, Permission

VIEW_STAFF = Permission(
    "VIEW_STAFF",
    "Every staff file, the staff list, caseloads and teams, and their exports",
    (Role.ADMIN, Role.COORDINATOR),
)
MANAGE_STAFF = Permission(
    "MANAGE_STAFF",
    "Add and change staff files: time off, certificates and their types, recruitment, caseload, "
    "reviews and rewards, teams, imports",
    (Role.ADMIN,),
)
OVERRIDE_ASSIGNABILITY = Permission(
    "OVERRIDE_ASSIGNABILITY",
    "Let a worker be assigned whatever assignability finds, with a reason, and revoke it",
    (Role.ADMIN,),
)
OPEN_STAFF_FILES = Permission(
    "OPEN_STAFF_FILES",
    "A staff file and its certificates' documents (carers: their own)",
    (Role.ADMIN, Role.COORDINATOR, Role.CARER),
)
TAKE_PART_IN_REVIEWS = Permission(
    "TAKE_PART_IN_REVIEWS",
    "Read a 360-degree review and give one's rating in it (carers: their own or where asked)",
    (Role.ADMIN, Role.COORDINATOR, Role.CARER),
)
SUPERVISE_TEAMS = Permission(
    "SUPERVISE_TEAMS",
    "Be named a team's supervisor, who follows up its carers' low ratings",
    (Role.ADMIN, Role.COORDINATOR),
)

AREA = Area(
    "staffing",
    models=(".models",),
    blueprints=(".views",),
    routes=(".api",),
    reminders=(".reminders",),
    periodic=(Periodic("certificate_reminders", ".reminders.certificate_sweep", cron="3 * * * *"),),
    nav=(
        NavEntry("staffing.index", _l("Staff"), VIEW_STAFF, 190),
        NavEntry("staffing.caseload", _l("Caseload"), VIEW_STAFF, 200),
        NavEntry("staffing.settings_page", _l("Workforce settings"), MANAGE_SETTINGS, 240),
        NavEntry("staffing.my_file", _l("My staff file"), OPEN_STAFF_FILES, 270),
    ),
    permissions=(
        VIEW_STAFF,
        MANAGE_STAFF,
        OVERRIDE_ASSIGNABILITY,
        OPEN_STAFF_FILES,
        TAKE_PART_IN_REVIEWS,
        SUPERVISE_TEAMS,
    ),
    url_params={
        "staff_id": "staff_files",
        "team_id": "teams",
        "time_off_id": "staff_time_off",
        "certificate_id": "staff_certificates",
        "certificate_type_id": "certificate_types",
        "assignment_id": "caseload_assignments",
        "review_id": "performance_reviews",
        "override_id": "assignability_overrides",
        "import_id": "import_batches",
    },
    samples=("tests.samples_workforce",),
    reminder_settings={"certificate_reminder_days": ".reminders.DEFAULT_THRESHOLDS"},
)
