"""Read models of surveys: the lists the pages show, campaign tracking and
anonymous results."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, func, select, true

from saas import db
from tenants.clients.models import Client
from tenants.surveys.models import (
    SurveyAnswer,
    SurveyCampaign,
    SurveyInvitation,
    SurveyQuestion,
    SurveyTemplate,
)
from tenants.surveys.services import questions_of


@dataclass
class Tracking:
    invited: int
    responded: int
    emailed: int
    reminded: int

    @property
    def rate(self) -> float:
        return round(100.0 * self.responded / self.invited, 1) if self.invited else 0.0


def campaign_rows() -> list[tuple[SurveyCampaign, str, Tracking]]:
    """Every campaign with its template's name and counts, in one query."""
    inv = SurveyInvitation
    counts = (
        select(
            inv.campaign_id.label("campaign_id"),
            func.count().label("invited"),
            func.count(inv.responded_at).label("responded"),
            func.count(inv.emailed_at).label("emailed"),
            func.count(inv.reminded_at).label("reminded"),
        )
        .group_by(inv.campaign_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            SurveyCampaign,
            SurveyTemplate.name,
            counts.c.invited,
            counts.c.responded,
            counts.c.emailed,
            counts.c.reminded,
        )
        .join(SurveyTemplate, SurveyTemplate.id == SurveyCampaign.template_id)
        .outerjoin(counts, counts.c.campaign_id == SurveyCampaign.id)
        .order_by(SurveyCampaign.created_at.desc())
        .limit(500)
    ).all()
    return [(c, name, Tracking(i or 0, r or 0, e or 0, m or 0)) for c, name, i, r, e, m in rows]


def tracking(campaign_id: uuid.UUID) -> Tracking:
    inv = SurveyInvitation
    row = db.session.execute(
        select(
            func.count(),
            func.count(inv.responded_at),
            func.count(inv.emailed_at),
            func.count(inv.reminded_at),
        ).where(inv.campaign_id == campaign_id)
    ).one()
    return Tracking(*row)


@dataclass
class QuestionResult:
    question: SurveyQuestion
    answered: int = 0
    mean: float | None = None
    distribution: dict[int, int] = field(default_factory=dict)  # scale value -> count
    counts: dict[str, int] = field(default_factory=dict)  # choice key -> count
    texts: list[str] = field(default_factory=list)


def results(campaign: SurveyCampaign) -> list[QuestionResult]:
    """Per question, without anyone's name: mean and distribution of a scale,
    counts of choices, the free texts (in alphabetical order, so their order
    tells nothing about who answered when). Three queries whatever the size."""
    questions = questions_of(campaign.template_id)
    by_id = {q.id: QuestionResult(question=q) for q in questions}
    answers_of_campaign = (
        select(SurveyAnswer)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyAnswer.invitation_id)
        .where(SurveyInvitation.campaign_id == campaign.id)
        .subquery()
    )
    a = answers_of_campaign.c
    for question_id, scale, n in db.session.execute(
        select(a.question_id, a.scale, func.count())
        .where(a.scale.is_not(None))
        .group_by(a.question_id, a.scale)
    ):
        by_id[question_id].distribution[scale] = n
    choice = func.jsonb_array_elements_text(a.choices).table_valued("value").render_derived("choice")
    for question_id, key, n in db.session.execute(
        select(a.question_id, choice.c.value, func.count())
        .select_from(answers_of_campaign)
        .join(choice, true())
        .group_by(a.question_id, choice.c.value)
    ):
        by_id[question_id].counts[key] = n
    for question_id, text in db.session.execute(
        select(a.question_id, a.text).where(a.text != "").order_by(a.question_id, a.text)
    ):
        by_id[question_id].texts.append(text)
    answered_counts = dict(
        db.session.execute(select(a.question_id, func.count()).group_by(a.question_id)).all()
    )
    for result in by_id.values():
        result.answered = answered_counts.get(result.question.id, 0)
        total = sum(result.distribution.values())
        if total:
            result.mean = round(sum(k * v for k, v in result.distribution.items()) / total, 2)
    return [by_id[q.id] for q in questions]


def templates() -> list[SurveyTemplate]:
    return list(db.session.scalars(select(SurveyTemplate).order_by(SurveyTemplate.name).limit(500)))


def template_options() -> list[Row[Any]]:
    """(id, name, purpose) of every template, by name: a campaign's choices."""
    return list(
        db.session.execute(
            select(SurveyTemplate.id, SurveyTemplate.name, SurveyTemplate.purpose)
            .order_by(SurveyTemplate.name)
            .limit(500)
        ).all()
    )


def template_of(template_id: uuid.UUID) -> SurveyTemplate | None:
    return db.session.scalar(select(SurveyTemplate).where(SurveyTemplate.id == template_id))


def invitations(campaign_id: uuid.UUID) -> list[Row[Any]]:
    """A campaign's invitations with each client's name and email, by name."""
    return list(
        db.session.execute(
            select(SurveyInvitation, Client.full_name, Client.email)
            .join(Client, Client.id == SurveyInvitation.client_id)
            .where(SurveyInvitation.campaign_id == campaign_id)
            .order_by(Client.full_name)
            .limit(5000)
        ).all()
    )
