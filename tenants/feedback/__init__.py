"""Visit ratings, opinions and complaints, rectifications."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role

MANAGERS = (Role.ADMIN, Role.COORDINATOR)

AREA = Area(
    "feedback",
    models=(".models",),
    blueprints=(".views", ".links"),
    routes=(".api",),
    reminders=(".reminders",),
    receivers=(".receivers",),
    periodic=(
        Periodic("escalate_feedback", ".jobs.escalate_all", queue="high", interval=900),
        Periodic("feedback_due_soon", ".reminders.reminder_sweep", interval=900),
    ),
    nav=(
        NavEntry("feedback.inbox", _l("Opinions and complaints"), MANAGERS, 40),
        NavEntry("feedback.tasks", _l("Low ratings to follow up"), MANAGERS, 50),
        NavEntry("feedback.rectifications", _l("Rectifications"), MANAGERS, 60),
        NavEntry("feedback.statistics", _l("Satisfaction"), MANAGERS, 70),
        NavEntry("feedback.portal_feedback", _l("Opinions and complaints"), (Role.CLIENT,), 160),
        NavEntry("feedback.settings_page", _l("Feedback settings"), (Role.ADMIN,), 180),
    ),
    url_params={
        "task_id": "feedback_tasks",
        "feedback_id": "feedback_items",
        "rectification_id": "rectifications",
    },
    samples=("tests.samples_feedback",),
)
