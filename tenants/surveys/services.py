"""The rules of surveys: templates and their questions, campaigns and the
reproducible sample, personal links, answers, results, reminders and the
outcome-survey cadence.

Eligible clients: not archived, with at least one case in the `active` status
(a running service plan): the people currently served, who can judge the
service and its outcome. Numbers are per-agency settings (SETTINGS)."""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from dateutil.relativedelta import relativedelta
from flask import current_app, has_request_context, url_for
from sqlalchemy import exists, func, select, true

from saas import audit, db
from saas.auth import tokens
from saas.fields import LOCALE_CODES
from saas.models import Agency, User
from tenants.clients.models import Case, CaseStatus, Client
from tenants.surveys.models import (
    Audience,
    CampaignStatus,
    QuestionKind,
    SurveyAnswer,
    SurveyCampaign,
    SurveyInvitation,
    SurveyLink,
    SurveyPurpose,
    SurveyQuestion,
    SurveyTemplate,
)

# setting key -> default (domain.md): every number is the agency's to change
SETTINGS: dict[str, int] = {
    "survey_sample_min": 15,  # an outcome sample has at least this many clients
    "survey_outcome_months": 6,  # an outcome survey at least this often (0: not tracked)
    "survey_link_days": 30,  # a personal link works this long after sending
    "survey_reminder_days": 5,  # non-respondents are reminded once after this many days
}
MAX_CHOICES = 20
MAX_QUESTIONS = 60
MAX_TEXT = 1000
MAX_ANSWER = 4000


class SurveyError(ValueError):
    """A rule refused the change; `field` names the form field it belongs to."""

    def __init__(self, code: str, field: str | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params


def setting(agency: Agency, key: str) -> int:
    try:
        return int(agency.setting(key, SETTINGS[key]))
    except (TypeError, ValueError):
        return SETTINGS[key]


def localized(values: dict[str, str] | None, locale: str) -> str:
    """The text in `locale`, else in the other language."""
    values = values or {}
    if values.get(locale):
        return values[locale]
    for code in LOCALE_CODES:
        if values.get(code):
            return values[code]
    return ""


# -- templates ----------------------------------------------------------------------------------


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


# -- campaigns and the sample ----------------------------------------------------------------------


def eligible_client_ids() -> list[uuid.UUID]:
    """Clients currently served (not archived, an active case), in a stable order."""
    rows = db.session.scalars(
        select(Client.id)
        .where(
            Client.archived_at.is_(None),
            exists().where(Case.client_id == Client.id, Case.status == CaseStatus.ACTIVE),
        )
        .order_by(Client.id)
    )
    return sorted(rows)


def draw_sample(eligible: list[uuid.UUID], seed: int, size: int) -> list[uuid.UUID]:
    """The sample of `size` clients for `seed`: the same seed over the same
    clients always gives the same clients, in the same order."""
    ordered = sorted(eligible)
    if size >= len(ordered):
        return ordered
    return random.Random(seed).sample(ordered, size)


def create_campaign(
    agency: Agency,
    template: SurveyTemplate,
    title: str,
    audience: str,
    sample_size: int | None,
    *,
    by: User | None,
) -> SurveyCampaign:
    title = (title or "").strip() or template.name
    if len(title) > 200:
        raise SurveyError("too_long", "title")
    if audience not in {a.value for a in Audience}:
        raise SurveyError("bad_choice", "audience")
    if audience == Audience.SAMPLE:
        minimum = setting(agency, "survey_sample_min")
        if sample_size is None:
            raise SurveyError("required", "sample_size")
        if sample_size < minimum:
            raise SurveyError("sample_too_small", "sample_size", minimum=minimum)
        if sample_size > 100000:
            raise SurveyError("bad_number", "sample_size")
    else:
        sample_size = None
    if not questions_of(template.id):
        raise SurveyError("template_empty", "template")
    campaign = SurveyCampaign(
        template_id=template.id,
        title=title,
        purpose=template.purpose,
        audience=audience,
        sample_size=sample_size,
        status=CampaignStatus.DRAFT,
        created_by_user_id=by.id if by else None,
    )
    db.session.add(campaign)
    db.session.flush()
    audit.record("survey.campaign_created", str(campaign.id), audience=audience, sample_size=sample_size)
    return campaign


def client_locale(agency: Agency, languages: list[str] | None) -> str:
    """The client's survey language from their recorded languages, else the agency's."""
    for raw in languages or []:
        value = (raw or "").strip().casefold()
        if value.startswith("zh") or any(
            w in value for w in ("chinese", "mandarin", "cantonese", "中文", "普通话", "汉语", "粤语")
        ):
            return "zh_CN"
        if value in ("en", "english", "英语", "英文"):
            return "en"
    return agency.locale if agency.locale in LOCALE_CODES else "en"


def link_url(token: str) -> str:
    """The link's full address: the request's host on a page, BASE_URL in a job
    (built from the URL map: pushing a request context would end the session)."""
    if has_request_context():
        return url_for("survey_link.answer", token=token, _external=True)
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build("survey_link.answer", {"token": token}, force_external=True)


def _new_link(agency: Agency, invitation: SurveyInvitation) -> str:
    secret = tokens.new_secret()
    link = SurveyLink(invitation_id=invitation.id, token_hash=tokens.digest(secret), created_at=db.utcnow())
    db.session.add(link)
    db.session.flush()
    return tokens.compose(agency.id, link.id, secret)


def send_campaign(
    agency: Agency, campaign: SurveyCampaign, *, by: User | None, seed: int | None = None
) -> int:
    """Draw the audience, record it, and email each invited client who has an
    email a personal link. Returns how many clients were invited."""
    from saas import mail

    locked = _lock(campaign)
    if locked is None or locked.status != CampaignStatus.DRAFT:
        raise SurveyError("already_sent")
    if not questions_of(campaign.template_id):
        raise SurveyError("template_empty")
    eligible = eligible_client_ids()
    if not eligible:
        raise SurveyError("no_clients")
    now = db.utcnow()
    if campaign.audience == Audience.SAMPLE:
        campaign.seed = seed if seed is not None else secrets.randbits(62)
        chosen = draw_sample(eligible, campaign.seed, int(campaign.sample_size or 0))
    else:
        chosen = list(eligible)
    campaign.eligible_count = len(eligible)
    campaign.status = CampaignStatus.SENT
    campaign.sent_at = now
    campaign.links_expire_at = links_expiry(agency, setting(agency, "survey_link_days"))
    people = {
        row.id: row
        for row in db.session.execute(
            select(Client.id, Client.email, Client.languages).where(Client.id.in_(chosen))
        )
    }
    emailed = 0
    for position, client_id in enumerate(chosen, start=1):
        person = people[client_id]
        invitation = SurveyInvitation(
            campaign_id=campaign.id,
            client_id=client_id,
            position=position,
            locale=client_locale(agency, person.languages),
        )
        db.session.add(invitation)
        db.session.flush()
        if person.email:
            token = _new_link(agency, invitation)
            mail.send(
                person.email,
                "survey_invitation",
                locale=invitation.locale,
                kind="survey.invitation",
                agency_id=agency.id,
                dedupe_key=f"{agency.id}:survey.invitation:{invitation.id}",
                agency_name=agency.name,
                link=link_url(token),
                expires_on=last_day(agency, campaign.links_expire_at),
            )
            invitation.emailed_at = now
            emailed += 1
    audit.record(
        "survey.campaign_sent",
        str(campaign.id),
        audience=campaign.audience,
        seed=campaign.seed,
        eligible=len(eligible),
        invited=len(chosen),
        emailed=emailed,
    )
    return len(chosen)


def _lock(campaign: SurveyCampaign) -> SurveyCampaign | None:
    """The campaign row locked and re-read: a concurrent send or close that
    committed meanwhile is seen (the identity map would keep the stale status)."""
    return db.session.scalar(
        select(SurveyCampaign)
        .where(SurveyCampaign.id == campaign.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def links_expiry(agency: Agency, days: int) -> datetime:
    """Links work through the whole of the agency's `days`-th day from today
    (the date the email names), until its local midnight."""
    end = agency.today() + timedelta(days=days + 1)
    return datetime.combine(end, time(0), tzinfo=agency.zone).astimezone(UTC)


def last_day(agency: Agency, expires_at: datetime) -> date:
    """The last day, on the agency's calendar, a link works."""
    return (expires_at - timedelta(microseconds=1)).astimezone(agency.zone).date()


def close_campaign(campaign: SurveyCampaign) -> None:
    """Closing stops every link of the campaign at once. A draft was never
    sent: there is nothing to close (and a closed campaign has a sending date)."""
    campaign = _lock(campaign) or campaign
    if campaign.status == CampaignStatus.CLOSED:
        raise SurveyError("already_closed")
    if campaign.status == CampaignStatus.DRAFT:
        raise SurveyError("not_sent")
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = db.utcnow()
    audit.record("survey.campaign_closed", str(campaign.id))


def issue_printed_link(agency: Agency, campaign: SurveyCampaign, invitation: SurveyInvitation) -> str:
    """Another personal link for an invitation (for a client without email, to
    print or read out); the earlier links keep working."""
    if invitation.campaign_id != campaign.id:
        raise SurveyError("not_found")
    if campaign.status != CampaignStatus.SENT or _expired(campaign):
        raise SurveyError("campaign_closed")
    if invitation.responded_at is not None:
        raise SurveyError("already_answered")
    token = _new_link(agency, invitation)
    audit.record("survey.link_issued", str(invitation.id), campaign=str(campaign.id))
    return token


def _expired(campaign: SurveyCampaign, now: datetime | None = None) -> bool:
    return campaign.links_expire_at is None or campaign.links_expire_at <= (now or db.utcnow())


# -- the personal link and answers ------------------------------------------------------------------


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
    from saas.tenancy import open_personal_link

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
    elif campaign.status != CampaignStatus.SENT or _expired(campaign):
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


# -- tracking and results -------------------------------------------------------------------------


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


# -- reminders ----------------------------------------------------------------------------------


def send_reminders(agency: Agency, now: datetime | None = None) -> int:
    """Email each invited client who has not answered, once, `survey_reminder_days`
    after the sending; never once the links expired or the campaign closed."""
    from saas import mail

    now = now or db.utcnow()
    cutoff = now - timedelta(days=setting(agency, "survey_reminder_days"))
    rows = db.session.execute(
        select(SurveyInvitation, SurveyCampaign.links_expire_at, Client.email)
        .join(SurveyCampaign, SurveyCampaign.id == SurveyInvitation.campaign_id)
        .join(Client, Client.id == SurveyInvitation.client_id)
        .where(
            SurveyCampaign.status == CampaignStatus.SENT,
            SurveyCampaign.sent_at <= cutoff,
            SurveyCampaign.links_expire_at > now,
            SurveyInvitation.responded_at.is_(None),
            SurveyInvitation.reminded_at.is_(None),
            Client.email != "",
        )
        .with_for_update(of=SurveyInvitation, skip_locked=True)
    ).all()
    for invitation, expires_at, email in rows:
        invitation.reminded_at = now
        token = _new_link(agency, invitation)
        mail.send(
            email,
            "survey_reminder",
            locale=invitation.locale,
            kind="survey.reminder",
            agency_id=agency.id,
            dedupe_key=f"{agency.id}:survey.reminder:{invitation.id}",
            agency_name=agency.name,
            link=link_url(token),
            expires_on=last_day(agency, expires_at),
        )
    if rows:
        audit.record("survey.reminders_sent", "", count=len(rows))
    return len(rows)


# -- the outcome survey cadence --------------------------------------------------------------------


def last_outcome_sent(agency: Agency) -> date | None:
    sent = db.session.scalar(
        select(func.max(SurveyCampaign.sent_at)).where(
            SurveyCampaign.purpose == SurveyPurpose.OUTCOME, SurveyCampaign.sent_at.is_not(None)
        )
    )
    return sent.astimezone(agency.zone).date() if sent is not None else None


def outcome_survey_due(agency: Agency) -> date | None:
    """The date the next outcome survey is due (in the agency's calendar): the
    last one sent plus `survey_outcome_months`; today when none was ever sent.
    None when the agency does not track it (the setting is 0)."""
    return next_outcome_due(agency, last_outcome_sent(agency))


def next_outcome_due(agency: Agency, last: date | None) -> date | None:
    """`outcome_survey_due` given the last outcome survey sent (`last_outcome_sent`)."""
    months = setting(agency, "survey_outcome_months")
    if months <= 0:
        return None
    if last is None:
        return agency.today()
    return last + relativedelta(months=months)
