"""Samples for survey templates, questions, campaigns, invitations, links and answers."""

from __future__ import annotations

import uuid
from datetime import timedelta

from saas import db
from tests.samples import AgencyWorld, sample


def _add(world: AgencyWorld, row) -> uuid.UUID:
    with db.tenant_scope(world.agency.id):
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("survey_templates")
def _template(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.surveys.models import SurveyTemplate

    return _add(world, SurveyTemplate(name="Satisfaction 2026", purpose="satisfaction"))


@sample("survey_questions")
def _question(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.surveys.models import SurveyQuestion

    return _add(
        world,
        SurveyQuestion(
            template_id=world.ids["survey_templates"],
            position=1,
            kind="scale5",
            text={"en": "How satisfied are you?"},
            choices=[],
            required=True,
        ),
    )


@sample("survey_campaigns")
def _campaign(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.surveys.models import SurveyCampaign

    now = db.utcnow()
    return _add(
        world,
        SurveyCampaign(
            template_id=world.ids["survey_templates"],
            title="Spring survey",
            purpose="satisfaction",
            audience="all",
            status="sent",
            eligible_count=1,
            sent_at=now,
            links_expire_at=now + timedelta(days=30),
        ),
    )


@sample("survey_invitations")
def _invitation(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.surveys.models import SurveyInvitation

    return _add(
        world,
        SurveyInvitation(
            campaign_id=world.ids["survey_campaigns"], client_id=world.ids["clients"], position=1, locale="en"
        ),
    )


@sample("survey_links")
def _link(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.surveys.models import SurveyLink

    return _add(
        world, SurveyLink(invitation_id=world.ids["survey_invitations"], token_hash=uuid.uuid4().hex * 2)
    )


@sample("survey_answers")
def _answer(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.surveys.models import SurveyAnswer

    return _add(
        world,
        SurveyAnswer(
            invitation_id=world.ids["survey_invitations"], question_id=world.ids["survey_questions"], scale=4
        ),
    )
