"""Staff files: qualifications, recruitment, caseload, reviews and who may be assigned."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role

MANAGERS = (Role.ADMIN, Role.COORDINATOR)

AREA = Area(
    "staffing",
    models=(".models",),
    blueprints=(".views",),
    routes=(".api",),
    reminders=(".reminders",),
    periodic=(Periodic("certificate_reminders", ".reminders.certificate_sweep", cron="3 * * * *"),),
    nav=(
        NavEntry("staffing.index", _l("Staff"), MANAGERS, 190),
        NavEntry("staffing.caseload", _l("Caseload"), MANAGERS, 200),
        NavEntry("staffing.settings_page", _l("Workforce settings"), (Role.ADMIN,), 240),
        NavEntry("staffing.my_file", _l("My staff file"), (*MANAGERS, Role.CARER), 270),
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
