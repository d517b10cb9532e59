"""Campaigns: the reproducible sample, sending with personal links, closing,
printed links, reminders to non-respondents and the outcome-survey cadence."""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from dateutil.relativedelta import relativedelta
from flask import current_app, has_request_context, url_for
from sqlalchemy import exists, func, select

from saas import audit, db, mail
from saas.auth import tokens
from saas.fields import LOCALE_CODES
from saas.models import Agency, User
from saas.settings import agency_setting
from tenants.clients.models import Case, CaseStatus, Client
from tenants.surveys.models import (
    Audience,
    CampaignStatus,
    SurveyCampaign,
    SurveyInvitation,
    SurveyLink,
    SurveyPurpose,
    SurveyTemplate,
)
from tenants.surveys.services.common import SurveyError
from tenants.surveys.services.templates import questions_of


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
        minimum = agency_setting(agency, "survey_sample_min")
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
    campaign.links_expire_at = links_expiry(agency, agency_setting(agency, "survey_link_days"))
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
    if campaign.status != CampaignStatus.SENT or expired(campaign):
        raise SurveyError("campaign_closed")
    if invitation.responded_at is not None:
        raise SurveyError("already_answered")
    token = _new_link(agency, invitation)
    audit.record("survey.link_issued", str(invitation.id), campaign=str(campaign.id))
    return token


def expired(campaign: SurveyCampaign, now: datetime | None = None) -> bool:
    return campaign.links_expire_at is None or campaign.links_expire_at <= (now or db.utcnow())


# -- reminders ----------------------------------------------------------------------------------


def send_reminders(agency: Agency, now: datetime | None = None) -> int:
    """Email each invited client who has not answered, once, `survey_reminder_days`
    after the sending; never once the links expired or the campaign closed."""
    now = now or db.utcnow()
    cutoff = now - timedelta(days=agency_setting(agency, "survey_reminder_days"))
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
    months = agency_setting(agency, "survey_outcome_months")
    if months <= 0:
        return None
    if last is None:
        return agency.today()
    return last + relativedelta(months=months)
