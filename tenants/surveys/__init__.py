"""Surveys: templates in both languages, campaigns, personal links, reminders and results."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import Permission
from saas.settings import Kind, Setting

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
    samples=("tests.surveys.samples_surveys",),
    settings=(
        Setting(
            "survey_sample_min",
            Kind.INT,
            15,
            _l("Smallest sample (clients)"),
            min=1,
            max=10_000,
            page="surveys",
        ),
        Setting(
            "survey_outcome_months",
            Kind.INT,
            6,
            _l("An outcome survey at least every (months, 0: not tracked)"),
            min=0,
            max=60,
            page="surveys",
        ),
        Setting(
            "survey_link_days",
            Kind.INT,
            30,
            _l("Personal links work for (days)"),
            min=1,
            max=365,
            page="surveys",
        ),
        Setting(
            "survey_reminder_days",
            Kind.INT,
            5,
            _l("Remind those who have not answered after (days)"),
            min=1,
            max=365,
            page="surveys",
        ),
    ),
)
