"""Survey templates and their questions, in both languages; a template sent
in a campaign is locked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select

from saas import audit, db
from saas.fields import LOCALE_CODES
from saas.models import User
from tenants.surveys.models import (
    CampaignStatus,
    QuestionKind,
    SurveyCampaign,
    SurveyPurpose,
    SurveyQuestion,
    SurveyTemplate,
)
from tenants.surveys.services.common import MAX_CHOICES, MAX_QUESTIONS, MAX_TEXT, SurveyError


@dataclass
class QuestionData:
    kind: str
    text: dict[str, str]
    # per language, the choice labels in order (single and multiple)
    choices: dict[str, list[str]] = field(default_factory=dict)
    required: bool = True


def is_locked(template: SurveyTemplate) -> bool:
    """Used by a campaign that went out: its questions can no longer change."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    SurveyCampaign.template_id == template.id, SurveyCampaign.status != CampaignStatus.DRAFT
                )
            )
        )
    )


def _require_editable(template: SurveyTemplate) -> None:
    if is_locked(template):
        raise SurveyError("template_locked")


def _clean_template(name: str, purpose: str) -> str:
    """The template's name, stripped; refused when it or the purpose is not valid."""
    name = (name or "").strip()
    if not name:
        raise SurveyError("required", "name")
    if len(name) > 200:
        raise SurveyError("too_long", "name")
    if purpose not in {p.value for p in SurveyPurpose}:
        raise SurveyError("bad_choice", "purpose")
    return name


def create_template(name: str, purpose: str, *, by: User | None) -> SurveyTemplate:
    name = _clean_template(name, purpose)
    template = SurveyTemplate(name=name, purpose=purpose, created_by_user_id=by.id if by else None)
    db.session.add(template)
    db.session.flush()
    audit.record("survey.template_created", str(template.id), purpose=purpose)
    return template


def rename_template(template: SurveyTemplate, name: str, purpose: str) -> None:
    name = _clean_template(name, purpose)
    if purpose != template.purpose:
        _require_editable(template)  # the campaigns sent keep the purpose they were sent with
    template.name = name
    template.purpose = purpose
    audit.record("survey.template_changed", str(template.id), purpose=purpose)


def questions_of(template_id: uuid.UUID) -> list[SurveyQuestion]:
    return list(
        db.session.scalars(
            select(SurveyQuestion)
            .where(SurveyQuestion.template_id == template_id)
            .order_by(SurveyQuestion.position, SurveyQuestion.id)
        )
    )


def _clean_question(data: QuestionData) -> tuple[dict[str, str], list[dict[str, Any]]]:
    if data.kind not in {k.value for k in QuestionKind}:
        raise SurveyError("bad_choice", "kind")
    text = {code: (data.text.get(code) or "").strip() for code in LOCALE_CODES}
    text = {code: value for code, value in text.items() if value}
    if not text:
        raise SurveyError("text_required", "text_en")
    for code, value in text.items():
        if len(value) > MAX_TEXT:
            raise SurveyError("too_long", f"text_{code}")
    if data.kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return text, []
    lists = {code: [(c or "").strip() for c in (data.choices.get(code) or [])] for code in LOCALE_CODES}
    lists = {code: [c for c in values if c] for code, values in lists.items()}
    lists = {code: values for code, values in lists.items() if values}
    if not lists:
        raise SurveyError("choices_required", "choices_en")
    counts = {len(values) for values in lists.values()}
    if len(counts) > 1:
        raise SurveyError("choices_mismatch", "choices_zh_CN")
    for code, values in lists.items():
        if len(values) < 2 or len({v.casefold() for v in values}) != len(values):
            raise SurveyError("choices_distinct", f"choices_{code}")
        if len(values) > MAX_CHOICES:
            raise SurveyError("choices_too_many", f"choices_{code}")
        if any(len(v) > 200 for v in values):
            raise SurveyError("too_long", f"choices_{code}")
    n = counts.pop()
    choices = [
        {"key": f"c{i + 1}", "label": {code: values[i] for code, values in lists.items()}} for i in range(n)
    ]
    return text, choices


def add_question(template: SurveyTemplate, data: QuestionData) -> SurveyQuestion:
    _require_editable(template)
    text, choices = _clean_question(data)
    existing = questions_of(template.id)
    if len(existing) >= MAX_QUESTIONS:
        raise SurveyError("too_many_questions")
    question = SurveyQuestion(
        template_id=template.id,
        position=(existing[-1].position + 1) if existing else 1,
        kind=data.kind,
        text=text,
        choices=choices,
        required=bool(data.required),
    )
    db.session.add(question)
    db.session.flush()
    audit.record("survey.question_added", str(template.id), question=str(question.id), kind=data.kind)
    return question


def remove_question(template: SurveyTemplate, question: SurveyQuestion) -> None:
    _require_editable(template)
    if question.template_id != template.id:
        raise SurveyError("not_found")
    db.session.delete(question)
    db.session.flush()
    audit.record("survey.question_removed", str(template.id), question=str(question.id))


def move_question(template: SurveyTemplate, question: SurveyQuestion, step: int) -> None:
    """Swap with the neighbour above (step -1) or below (step 1)."""
    _require_editable(template)
    ordered = questions_of(template.id)
    index = next((i for i, q in enumerate(ordered) if q.id == question.id), None)
    if index is None:
        raise SurveyError("not_found")
    other = index + step
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, row in enumerate(ordered, start=1):
        row.position = position
    db.session.flush()
    audit.record("survey.question_moved", str(template.id), question=str(question.id))


def copy_template(template: SurveyTemplate, *, by: User | None, name: str | None = None) -> SurveyTemplate:
    copy = SurveyTemplate(
        name=(name or f"{template.name} (2)")[:200],
        purpose=template.purpose,
        created_by_user_id=by.id if by else None,
    )
    db.session.add(copy)
    db.session.flush()
    for question in questions_of(template.id):
        db.session.add(
            SurveyQuestion(
                template_id=copy.id,
                position=question.position,
                kind=question.kind,
                text=dict(question.text),
                choices=[dict(c) for c in question.choices],
                required=question.required,
            )
        )
    db.session.flush()
    audit.record("survey.template_copied", str(copy.id), source=str(template.id))
    return copy
