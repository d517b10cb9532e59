"""Surveys: templates in both languages, campaigns, personal links, reminders and results."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import Permission

RUN_SURVEYS = Permission(
    "RUN_SURVEYS",
    "Survey templates, campaigns, personal links and results",
    (Role.ADMIN, Role.COORDINATOR),
)

AREA = Area(
    "surveys",
    models=(".models",),
    blueprints=(".views", ".links"),
    reminders=(".reminders",),
    periodic=(
        Periodic("outcome_survey_reminders", ".reminders.outcome_sweep", cron="53 * * * *"),
        Periodic("survey_reminders", ".jobs.remind_all", cron="5 * * * *"),
    ),
    permissions=(RUN_SURVEYS,),
    nav=(NavEntry("surveys.index", _l("Surveys"), RUN_SURVEYS, 90),),
    url_params={
        "survey_template_id": "survey_templates",
        "survey_question_id": "survey_questions",
        "survey_campaign_id": "survey_campaigns",
        "survey_invitation_id": "survey_invitations",
    },
    samples=("tests.samples_surveys",),
)
