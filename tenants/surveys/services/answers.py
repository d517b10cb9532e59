"""The personal link: what a token opens, reading the answers, recording them once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from saas import audit, db
from saas.models import Agency
from saas.tenancy import open_personal_link
from tenants.surveys.models import (
    CampaignStatus,
    QuestionKind,
    SurveyAnswer,
    SurveyCampaign,
    SurveyInvitation,
    SurveyLink,
    SurveyQuestion,
)
from tenants.surveys.services.campaigns import expired
from tenants.surveys.services.common import MAX_ANSWER, SurveyError


@dataclass
class Opened:
    agency: Agency
    link: SurveyLink
    invitation: SurveyInvitation
    campaign: SurveyCampaign
    # "open", "answered", "expired" or "closed"
    state: str


def open_link(token: str) -> Opened | None:
    """What a token opens (and the agency put in scope), or None for an
    unknown or altered token."""
    opened = open_personal_link(token, SurveyLink)
    if opened is None:
        return None
    agency, link = opened
    row = db.session.execute(
        select(SurveyInvitation, SurveyCampaign)
        .join(SurveyCampaign, SurveyCampaign.id == SurveyInvitation.campaign_id)
        .where(SurveyInvitation.id == link.invitation_id)
    ).first()
    if row is None:
        return None
    invitation, campaign = row
    if invitation.responded_at is not None:
        state = "answered"
    elif campaign.status == CampaignStatus.CLOSED:
        state = "closed"
    elif campaign.status != CampaignStatus.SENT or expired(campaign):
        state = "expired"
    else:
        state = "open"
    return Opened(agency, link, invitation, campaign, state)


def parse_answers(
    questions: list[SurveyQuestion], form: Any
) -> tuple[dict[uuid.UUID, dict[str, Any]], dict[uuid.UUID, str]]:
    """Read `q_<id>` fields: the clean answers, and an error code per question.
    Nothing is written here."""
    answers: dict[uuid.UUID, dict[str, Any]] = {}
    errors: dict[uuid.UUID, str] = {}
    for question in questions:
        name = f"q_{question.id}"
        if question.kind == QuestionKind.MULTIPLE:
            raw: Any = [v.strip() for v in form.getlist(name) if v.strip()]
        else:
            raw = (form.get(name) or "").strip()
        if not raw:
            if question.required:
                errors[question.id] = "answer_required"
            continue
        try:
            answers[question.id] = _parse_answer(question, raw)
        except SurveyError as exc:
            errors[question.id] = exc.code
    return answers, errors


def _parse_answer(question: SurveyQuestion, raw: Any) -> dict[str, Any]:
    """One question's non-empty answer, clean, or a SurveyError with its code."""
    keys = [c["key"] for c in question.choices]
    if question.kind == QuestionKind.SCALE5:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if not 1 <= value <= 5:
            raise SurveyError("scale_range")
        return {"scale": value}
    if question.kind == QuestionKind.SINGLE:
        if raw not in keys:
            raise SurveyError("choice_unknown")
        return {"choices": [raw]}
    if question.kind == QuestionKind.MULTIPLE:
        if any(v not in keys for v in raw):
            raise SurveyError("choice_unknown")
        return {"choices": sorted(set(raw), key=keys.index)}
    if len(raw) > MAX_ANSWER:
        raise SurveyError("answer_too_long")
    return {"text": raw}


def submit_answers(opened: Opened, answers: dict[uuid.UUID, dict[str, Any]]) -> None:
    """Record all the answers of one invitation, once. The invitation is
    claimed first with a conditional update, so a second sending (another tab,
    a double tap) changes nothing."""
    if opened.state != "open":
        raise SurveyError(f"link_{opened.state}")
    now = db.utcnow()
    table = SurveyInvitation.__table__
    claimed = db.session.execute(
        table.update()
        .where(table.c.id == opened.invitation.id, table.c.responded_at.is_(None))
        .values(responded_at=now)
    ).rowcount
    if claimed != 1:
        raise SurveyError("link_answered")
    for question_id, values in answers.items():
        db.session.add(
            SurveyAnswer(
                invitation_id=opened.invitation.id,
                question_id=question_id,
                scale=values.get("scale"),
                choices=values.get("choices", []),
                text=values.get("text", ""),
            )
        )
    db.session.flush()
    audit.record("survey.answered", str(opened.campaign.id), actor_id=None)
