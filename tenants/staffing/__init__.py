"""Staff files: qualifications, recruitment, caseload, reviews and who may be assigned."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import MANAGE_SETTINGS, Permission
from saas.settings import Kind, Setting
from tenants.staffing.required import NONE_REQUIRED, REQUIRED_CERTIFICATES, RequiredCertificates

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
    api_label=_l("Staff files"),
    models=(".models",),
    blueprints=(".views",),
    routes=(".api",),
    reminders=(".reminders",),
    periodic=(Periodic("certificate_reminders", ".reminders.certificate_sweep", cron="3 * * * *"),),
    dashboard=(".dashboard.workforce_figures",),
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
    samples=("tests.staffing.samples_workforce",),
    settings=(
        Setting(
            "pre_service_hours",
            Kind.INT,
            40,
            _l("Pre-service training hours required"),
            min=0,
            max=1000,
            page="workforce",
            section=_l("Training"),
        ),
        Setting(
            "annual_training_hours",
            Kind.INT,
            20,
            _l("Annual role training hours required"),
            min=0,
            max=1000,
            page="workforce",
            section=_l("Training"),
        ),
        Setting(
            "certificate_expiring_days",
            Kind.INT,
            60,
            _l("Certificates are “expiring” this many days before expiry"),
            min=0,
            max=365,
            page="workforce",
            section=_l("Training"),
        ),
        Setting(
            "caseload_limit_individual",
            Kind.INT,
            20,
            _l("Individual clients per worker"),
            min=0,
            max=1000,
            page="workforce",
            section=_l("Caseload limits"),
        ),
        Setting(
            "caseload_limit_community",
            Kind.INT,
            500,
            _l("Community residents per worker"),
            min=0,
            max=100_000,
            page="workforce",
            section=_l("Caseload limits"),
        ),
        # days before a certificate expires, most distant first; none: only "expired" is sent
        Setting(
            "certificate_reminder_days",
            Kind.INT_LIST,
            (60, 30, 7),
            _l("Remind about an expiring certificate this many days before"),
            help=_l("Up to five numbers separated by commas, for example 60, 30, 7."),
            format_message=_l("Write up to five numbers of days from 1 to 365, separated by commas."),
            min=1,
            max=365,
            max_items=5,
            page="reminders",
            section=_l("Certificates"),
        ),
        # shown on the workforce page, below its numbers, by a form of the area's own
        Setting(
            REQUIRED_CERTIFICATES,
            Kind.MAPPING,
            NONE_REQUIRED,
            _l("Certificates each role requires"),
            shape=RequiredCertificates(),
        ),
    ),
)
