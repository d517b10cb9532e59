"""Training: courses, sessions, attendance, evaluations, transcripts and compliance."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role

MANAGERS = (Role.ADMIN, Role.COORDINATOR)

AREA = Area(
    "training",
    models=(".models",),
    blueprints=(".views",),
    routes=(".api",),
    reminders=(".reminders",),
    periodic=(Periodic("training_reminders", ".reminders.training_sweep", cron="13 * * * *"),),
    nav=(
        NavEntry("training.index", _l("Training"), MANAGERS, 210),
        NavEntry("training.compliance", _l("Training compliance"), MANAGERS, 220),
        NavEntry("training.my_training", _l("My training"), (*MANAGERS, Role.CARER), 260),
    ),
    url_params={
        "course_id": "training_courses",
        "session_id": "training_sessions",
        "enrolment_id": "training_enrolments",
    },
    samples=("tests.samples_workforce",),
)
