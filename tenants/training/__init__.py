"""Training: courses, sessions, attendance, evaluations, transcripts and compliance."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import Permission

RUN_TRAINING = Permission(
    "RUN_TRAINING",
    "Courses and sessions: see them, enrol staff, record attendance and evaluations; the compliance list",
    (Role.ADMIN, Role.COORDINATOR),
)
MANAGE_COURSES = Permission("MANAGE_COURSES", "Add and change courses and their sessions", (Role.ADMIN,))
VIEW_TRAINING_RECORDS = Permission(
    "VIEW_TRAINING_RECORDS",
    "A training transcript (carers: their own)",
    (Role.ADMIN, Role.COORDINATOR, Role.CARER),
)

AREA = Area(
    "training",
    api_label=_l("Training"),
    models=(".models",),
    blueprints=(".views",),
    routes=(".api",),
    reminders=(".reminders",),
    periodic=(Periodic("training_reminders", ".reminders.training_sweep", cron="13 * * * *"),),
    nav=(
        NavEntry("training.index", _l("Training"), RUN_TRAINING, 210),
        NavEntry("training.compliance", _l("Training compliance"), RUN_TRAINING, 220),
        NavEntry("training.my_training", _l("My training"), VIEW_TRAINING_RECORDS, 260, tab=5, icon="book"),
    ),
    dashboard=(".dashboard.carer_panels",),
    permissions=(RUN_TRAINING, MANAGE_COURSES, VIEW_TRAINING_RECORDS),
    url_params={
        "course_id": "training_courses",
        "session_id": "training_sessions",
        "enrolment_id": "training_enrolments",
    },
    samples=("tests.staffing.samples_workforce",),
)
