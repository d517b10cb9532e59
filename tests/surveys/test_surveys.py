"""Surveys: templates and their validation, campaigns with a reproducible
sample, personal links (single use, expiring, tamper-proof, stopped by
closing), answers validated with nothing half-saved, response tracking and
results, the reminder sweep, the outcome-survey cadence, roles and costs."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, text

from saas import db
from saas.models import Agency, MailMessage, Role
from saas.settings import agency_setting
from tenants.clients.models import Case, Client
from tenants.surveys import jobs, queries, services
from tenants.surveys.models import (
    SurveyAnswer,
    SurveyCampaign,
    SurveyInvitation,
    SurveyLink,
    SurveyQuestion,
    SurveyTemplate,
)
from tenants.surveys.services import QuestionData, SurveyError
from tests.factories import login
from tests.sqlcount import count_statements

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)


class Survey:
    """An agency with staff, `n` clients currently served (an active plan)
    and a few who are not (archived, or their case closed), and a survey of
    four questions (one of each kind), all through the services."""

    def __init__(self, factory, n: int = 20, *, emails: bool = True, locale: str = "en", settings=None):
        from saas.settings import update_settings

        self.factory = factory
        self.app = factory.app
        self.agency = factory.agency(locale=locale)
        if settings:
            with self.scope():
                update_settings(self.agency, settings)
                db.session.commit()
        self.admin, _ = factory.member(self.agency, Role.ADMIN)
        self.coordinator, _ = factory.member(self.agency, Role.COORDINATOR)
        self.slug = self.agency.slug
        self.item_id = factory.service_item(self.agency)
        self.client_ids = [self.add_client(f"Client {i:03d}", emails) for i in range(n)]
        self.archived = self.add_client("Archived Person", emails, archived=True)
        self.closed = self.add_client("Closed Case", emails, status="closed")
        self.template = factory.survey_template(
            self.agency,
            "Satisfaction",
            "satisfaction",
            questions=(
                QuestionData("scale5", {"en": "How satisfied are you?", "zh_CN": "您满意吗？"}),
                QuestionData("single", {"en": "Would you recommend us?"}, {"en": ["Yes", "No", "Not sure"]}),
                QuestionData(
                    "multiple",
                    {"en": "What helps you most?"},
                    {"en": ["Meals", "Company", "Cleaning"]},
                    required=False,
                ),
                QuestionData("text", {"en": "Anything else?"}, required=False),
            ),
        )
        with db.tenant_scope(self.agency.id):
            self.q_scale, self.q_single, self.q_multi, self.q_text = services.questions_of(self.template.id)

    def scope(self):
        from contextlib import ExitStack

        stack = ExitStack()
        stack.enter_context(self.app.test_request_context())
        stack.enter_context(db.tenant_scope(self.agency.id))
        return stack

    def add_client(self, name, email=True, *, archived=False, status="active", languages=None) -> uuid.UUID:
        """A client served through a plan made active (Factory.served_client),
        their case then closed if `status` is "closed"; `archived` stamps the
        file archived (no service archives a client yet)."""
        from tenants.clients import services as clients

        row = self.factory.served_client(
            self.agency,
            name,
            item_id=self.item_id,
            author=self.coordinator,
            approver=self.admin,
            email=f"{uuid.uuid4().hex[:8]}@client.example" if email else "",
            languages=languages or [],
        )
        if status == "closed" or archived:
            with self.scope():
                if status == "closed":
                    case = db.session.scalar(select(Case).where(Case.client_id == row.id))
                    clients.close_case(
                        self.agency,
                        case,
                        reason="Moved away",
                        closed_on=clients.agency_today(self.agency),
                        by=self.coordinator,
                    )
                if archived:
                    db.session.execute(
                        Client.__table__.update().where(Client.id == row.id).values(archived_at=db.utcnow())
                    )
                db.session.commit()
        else:
            assert status == "active", status
        return row.id

    def campaign(self, audience="sample", size=15, *, send=True, seed=None, template=None) -> SurveyCampaign:
        if send:
            return self.factory.survey_campaign(
                self.agency,
                template or self.template,
                title="Spring",
                audience=audience,
                sample_size=size,
                seed=seed,
            )
        with self.scope():
            campaign = services.create_campaign(
                self.agency, template or self.template, "Spring", audience, size, by=None
            )
            db.session.commit()
            return campaign

    def invitations(self, campaign_id) -> list[SurveyInvitation]:
        with db.tenant_scope(self.agency.id):
            return list(
                db.session.scalars(
                    select(SurveyInvitation)
                    .where(SurveyInvitation.campaign_id == campaign_id)
                    .order_by(SurveyInvitation.position)
                    .execution_options(populate_existing=True)
                )
            )

    def token(self, campaign, invitation) -> str:
        with self.scope():
            token = services.issue_printed_link(self.agency, campaign, invitation)
            db.session.commit()
            return token

    def good(self) -> dict[str, object]:
        return {f"q_{self.q_scale.id}": "4", f"q_{self.q_single.id}": "c1"}


def set_settings(world, **values) -> None:
    """Through `update_settings`, as the settings page changes them."""
    from saas.settings import update_settings

    with world.scope():
        agency = db.session.get(Agency, world.agency.id, populate_existing=True)
        update_settings(agency, values)
        db.session.commit()
    world.agency = agency


def fresh(model, row_id):
    return db.session.scalar(
        select(model).where(model.id == row_id).execution_options(populate_existing=True)
    )


# -- the sample --------------------------------------------------------------------------------


def test_sample_is_reproducible_from_its_recorded_seed(factory, app_ctx):
    world = Survey(factory, n=40)
    campaign = world.campaign("sample", 15)
    invited = [i.client_id for i in world.invitations(campaign.id)]
    with db.tenant_scope(world.agency.id):
        row = fresh(SurveyCampaign, campaign.id)
        assert row.seed is not None and row.eligible_count == 40 and row.sample_size == 15
        assert len(invited) == len(set(invited)) == 15
        assert world.archived not in invited and world.closed not in invited, "only clients served"
        assert set(invited) <= set(world.client_ids)
        # the same seed over the same eligible clients: the same clients, in the same order
        assert services.draw_sample(services.eligible_client_ids(), row.seed, 15) == invited
        assert random.Random(row.seed).sample(sorted(world.client_ids), 15) == invited
        assert services.draw_sample(services.eligible_client_ids(), row.seed + 1, 15) != invited
    # recorded in the audit log too
    with db.tenant_scope(world.agency.id):
        from saas.models import AuditEvent

        details = db.session.scalar(
            select(AuditEvent.details).where(AuditEvent.action == "survey.campaign_sent")
        )
        assert details["seed"] == row.seed and details["invited"] == 15 and details["eligible"] == 40


def test_a_given_seed_draws_the_same_clients_in_two_campaigns(factory, app_ctx):
    world = Survey(factory, n=30)
    first = world.campaign("sample", 16, seed=12345)
    second = world.campaign("sample", 16, seed=12345)
    assert [i.client_id for i in world.invitations(first.id)] == [
        i.client_id for i in world.invitations(second.id)
    ]


def test_sample_below_the_minimum_is_refused_and_the_minimum_is_a_setting(client, factory, dbconn):
    world = Survey(factory, n=20)
    with world.scope(), pytest.raises(SurveyError) as err:
        services.create_campaign(world.agency, world.template, "", "sample", 14, by=None)
    assert err.value.code == "sample_too_small" and err.value.params["minimum"] == 15
    login(client, world.coordinator)
    page = client.post(
        f"/a/{world.slug}/surveys/campaigns/new",
        data={"template": str(world.template.id), "audience": "sample", "sample_size": "10"},
    )
    assert page.status_code == 422 and "at least 15 clients" in page.text
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(SurveyCampaign)) == 0
    set_settings(world, survey_sample_min=8)
    page = client.post(
        f"/a/{world.slug}/surveys/campaigns/new",
        data={"template": str(world.template.id), "audience": "sample", "sample_size": "10"},
    )
    assert page.status_code == 302, page.text


def test_fewer_clients_served_than_the_sample_asks_all_of_them(client, factory, dbconn):
    world = Survey(factory, n=6)
    campaign = world.campaign("sample", 15)
    invited = {i.client_id for i in world.invitations(campaign.id)}
    assert invited == set(world.client_ids)
    with db.tenant_scope(world.agency.id):
        assert fresh(SurveyCampaign, campaign.id).eligible_count == 6
    login(client, world.admin)
    page = client.get(f"/a/{world.slug}/surveys/campaigns/{campaign.id}")
    assert 'data-testid="sample-short"' in page.text


def test_all_clients_audience_and_a_campaign_sends_once(factory, app_ctx):
    world = Survey(factory, n=5)
    campaign = world.campaign("all", None)
    assert len(world.invitations(campaign.id)) == 5
    with world.scope(), pytest.raises(SurveyError) as err:
        services.send_campaign(world.agency, fresh(SurveyCampaign, campaign.id), by=None)
    assert err.value.code == "already_sent"
    mails = db.session.scalar(
        select(func.count())
        .select_from(MailMessage)
        .where(MailMessage.kind == "survey.invitation", MailMessage.agency_id == world.agency.id)
    )
    assert mails == 5


# -- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (QuestionData("scale5", {"en": "  ", "zh_CN": ""}), "text_required"),
        (QuestionData("single", {"en": "Pick"}, {"en": ["Only one"]}), "choices_distinct"),
        (QuestionData("single", {"en": "Pick"}, {"en": ["Yes", "yes"]}), "choices_distinct"),
        (QuestionData("multiple", {"en": "Pick"}, {}), "choices_required"),
        (QuestionData("single", {"en": "Pick"}, {"en": ["A", "B"], "zh_CN": ["甲"]}), "choices_mismatch"),
        (QuestionData("single", {"en": "Pick"}, {"en": [str(i) for i in range(21)]}), "choices_too_many"),
        (QuestionData("slider", {"en": "Pick"}), "bad_choice"),
        (QuestionData("text", {"en": "x" * 1001}), "too_long"),
    ],
)
def test_question_validation(factory, app_ctx, data, code):
    world = Survey(factory, n=0)
    with db.tenant_scope(world.agency.id):
        before = len(services.questions_of(world.template.id))
        with pytest.raises(SurveyError) as err:
            services.add_question(world.template, data)
        assert err.value.code == code
        assert len(services.questions_of(world.template.id)) == before


def test_admin_builds_a_template_through_the_pages(client, factory, dbconn):
    world = Survey(factory, n=0)
    login(client, world.admin)
    created = client.post(
        f"/a/{world.slug}/surveys/templates", data={"name": "Outcomes", "purpose": "outcome"}
    )
    assert created.status_code == 302
    url = created.location
    bad = client.post(
        f"{url}/questions",
        data={"kind": "single", "text_en": "Better?", "choices_en": "Yes", "required": "y"},
    )
    assert bad.status_code == 422 and "at least two different choices" in bad.text
    ok = client.post(
        f"{url}/questions",
        data={
            "kind": "single",
            "text_en": "Is life better?",
            "text_zh_CN": "生活更好吗？",
            "choices_en": "Yes\nNo",
            "choices_zh_CN": "是\n否",
            "required": "y",
        },
    )
    assert ok.status_code == 302
    client.post(f"{url}/questions", data={"kind": "scale5", "text_en": "How well are you?", "required": "y"})
    with db.tenant_scope(world.agency.id):
        template = db.session.scalar(select(SurveyTemplate).where(SurveyTemplate.name == "Outcomes"))
        questions = services.questions_of(template.id)
        assert [q.kind for q in questions] == ["single", "scale5"]
        assert questions[0].choices == [
            {"key": "c1", "label": {"en": "Yes", "zh_CN": "是"}},
            {"key": "c2", "label": {"en": "No", "zh_CN": "否"}},
        ]
    moved = client.post(f"{url}/questions/{questions[1].id}/up")
    assert moved.status_code == 302
    with db.tenant_scope(world.agency.id):
        assert [q.kind for q in services.questions_of(template.id)] == ["scale5", "single"]
    page = client.get(url)
    assert "生活更好吗？" in page.text


def test_a_sent_template_is_frozen_and_can_be_copied(client, factory, dbconn):
    world = Survey(factory, n=3)
    world.campaign("all", None)
    with world.scope():
        template = fresh(SurveyTemplate, world.template.id)
        assert services.is_locked(template)
        with pytest.raises(SurveyError) as err:
            services.add_question(template, QuestionData("text", {"en": "New?"}))
        assert err.value.code == "template_locked"
        with pytest.raises(SurveyError):
            services.remove_question(template, fresh(SurveyQuestion, world.q_text.id))
    login(client, world.admin)
    base = f"/a/{world.slug}/surveys/templates/{world.template.id}"
    assert 'data-testid="template-locked"' in client.get(base).text
    refused = client.post(f"{base}/questions/{world.q_text.id}/remove", follow_redirects=True)
    assert "can no longer change" in refused.text
    with db.tenant_scope(world.agency.id):
        assert len(services.questions_of(world.template.id)) == 4
    copied = client.post(f"{base}/copy")
    assert copied.status_code == 302
    copy_id = uuid.UUID(copied.location.rstrip("/").rsplit("/", 1)[-1])
    with db.tenant_scope(world.agency.id):
        copy = fresh(SurveyTemplate, copy_id)
        assert not services.is_locked(copy) and len(services.questions_of(copy.id)) == 4
        services.add_question(copy, QuestionData("text", {"en": "New?"}))


def test_an_empty_template_cannot_be_sent(factory, app_ctx):
    world = Survey(factory, n=3)
    with world.scope():
        empty = services.create_template("Empty", "other", by=None)
        with pytest.raises(SurveyError) as err:
            services.create_campaign(world.agency, empty, "", "all", None, by=None)
        assert err.value.code == "template_empty"


# -- personal links ------------------------------------------------------------------------------


def test_the_emailed_link_works_once_and_reveals_only_agency_and_survey(client, factory, dbconn):
    world = Survey(factory, n=3)
    campaign = world.campaign("all", None)
    first = world.invitations(campaign.id)[0]
    with db.tenant_scope(world.agency.id):
        person = fresh(Client, first.client_id)
    link = factory.last_mail_link(person.email)
    token = link.rsplit("/", 1)[-1]
    with db.tenant_scope(world.agency.id):
        hashes = list(db.session.scalars(select(SurveyLink.token_hash)))
    assert token.split(".")[-1] not in "".join(hashes), "only the hash is kept"
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert world.agency.name in page.text and "How satisfied are you?" in page.text
    assert person.full_name not in page.text and person.email not in page.text
    done = client.post(f"/s/{token}", data={**world.good(), f"q_{world.q_text.id}": "Thanks!"})
    assert done.status_code == 200 and "Your answers have been received." in done.text
    again = client.get(f"/s/{token}")
    assert again.status_code == 200 and "You have already answered this survey" in again.text
    resent = client.post(f"/s/{token}", data={**world.good(), f"q_{world.q_scale.id}": "1"})
    assert "You have already answered this survey" in resent.text
    with db.tenant_scope(world.agency.id):
        answers = list(db.session.scalars(select(SurveyAnswer)))
        assert len(answers) == 3, "scale, single and text; nothing from the second sending"
        assert {a.scale for a in answers} == {4, None}
        assert fresh(SurveyInvitation, first.id).responded_at is not None


def test_another_link_of_an_answered_invitation_says_answered(client, factory, dbconn):
    world = Survey(factory, n=2, emails=False)
    campaign = world.campaign("all", None)
    invitation = world.invitations(campaign.id)[0]
    one = world.token(campaign, invitation)
    two = world.token(campaign, invitation)
    assert client.post(f"/s/{one}", data=world.good()).status_code == 200
    assert "You have already answered" in client.get(f"/s/{two}").text
    with world.scope(), pytest.raises(SurveyError) as err:
        services.issue_printed_link(
            world.agency, fresh(SurveyCampaign, campaign.id), fresh(SurveyInvitation, invitation.id)
        )
    assert err.value.code == "already_answered"


def test_the_link_works_through_the_last_day_of_the_setting_on_the_agencys_clock(client, factory, dbconn):
    world = Survey(factory, n=2, settings={"survey_link_days": 10})
    agency = db.session.get(Agency, world.agency.id, populate_existing=True)
    agency.timezone = "Asia/Shanghai"
    db.session.commit()
    world.agency = agency
    # 17:00 on 1 March in Shanghai: the links work through 11 March there,
    # as the email says, and stop at its midnight (16:00 UTC)
    start = datetime(2030, 3, 1, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        campaign = world.campaign("all", None)
        invitation = world.invitations(campaign.id)[0]
        token = world.token(campaign, invitation)
    with db.tenant_scope(world.agency.id):
        expires = fresh(SurveyCampaign, campaign.id).links_expire_at
        assert expires == datetime(2030, 3, 11, 16, tzinfo=UTC)
        email = fresh(Client, invitation.client_id).email
    body = db.session.scalar(select(MailMessage.body).where(MailMessage.to_address == email))
    assert "works until 11 March 2030" in body, body
    with time_machine.travel(datetime(2030, 3, 11, 15, 59, tzinfo=UTC), tick=False):
        assert client.get(f"/s/{token}").status_code == 200, "still the 11th in Shanghai"
    with time_machine.travel(datetime(2030, 3, 11, 16, 1, tzinfo=UTC), tick=False):
        page = client.get(f"/s/{token}")
        assert page.status_code == 410 and "This survey link has expired" in page.text
        refused = client.post(f"/s/{token}", data=world.good())
        assert refused.status_code == 410
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0


def test_tampered_links_are_404(client, factory, dbconn):
    world = Survey(factory, n=2)
    campaign = world.campaign("all", None)
    token = world.token(campaign, world.invitations(campaign.id)[0])
    agency_hex, link_hex, secret = token.split(".")
    other = factory.agency()
    for bad in (
        f"{agency_hex}.{link_hex}.{secret[:-1]}{'x' if secret[-1] != 'x' else 'y'}",
        f"{other.id.hex}.{link_hex}.{secret}",
        f"{agency_hex}.{agency_hex}.{secret}",
        f"{agency_hex}.{link_hex}",
        "nonsense",
    ):
        page = client.get(f"/s/{bad}")
        assert page.status_code == 404 and "This link cannot be used" in page.text, bad
        assert client.post(f"/s/{bad}", data=world.good()).status_code == 404
    assert client.get(f"/s/{token}").status_code == 200


def test_closing_a_campaign_stops_its_links(client, factory, dbconn):
    world = Survey(factory, n=2)
    campaign = world.campaign("all", None)
    token = world.token(campaign, world.invitations(campaign.id)[0])
    login(client, world.coordinator)
    closed = client.post(f"/a/{world.slug}/surveys/campaigns/{campaign.id}/close")
    assert closed.status_code == 302
    anonymous = factory.app.test_client()
    page = anonymous.get(f"/s/{token}")
    assert page.status_code == 410 and "This survey is closed" in page.text
    assert anonymous.post(f"/s/{token}", data=world.good()).status_code == 410
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0
        invitation = world.invitations(campaign.id)[1]
    refused = client.post(
        f"/a/{world.slug}/surveys/campaigns/{campaign.id}/invitations/{invitation.id}/link",
        follow_redirects=True,
    )
    assert "closed or its links have expired" in refused.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scale": "9"}, "Choose a score from 1 to 5."),
        ({"scale": "abc"}, "Choose a score from 1 to 5."),
        ({"single": "c9"}, "Choose one of the options shown."),
        ({"multi": ["c1", "zzz"]}, "Choose one of the options shown."),
        ({"scale": ""}, "Please answer this question."),
        ({"single": ""}, "Please answer this question."),
        ({"text": "x" * 4001}, "Your answer is too long"),
    ],
)
def test_bad_answers_are_refused_with_nothing_half_saved(client, factory, dbconn, change, message):
    world = Survey(factory, n=1)
    campaign = world.campaign("all", None)
    invitation = world.invitations(campaign.id)[0]
    token = world.token(campaign, invitation)
    names = {"scale": world.q_scale, "single": world.q_single, "multi": world.q_multi, "text": world.q_text}
    data = {**world.good(), f"q_{world.q_text.id}": "kept text"}
    for key, value in change.items():
        data[f"q_{names[key].id}"] = value
    page = client.post(f"/s/{token}", data=data)
    assert page.status_code == 422 and message in page.text
    assert "kept text" in page.text or "text" in change, "what was typed is kept"
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0
        assert fresh(SurveyInvitation, invitation.id).responded_at is None
    assert client.post(f"/s/{token}", data=world.good()).status_code == 200


def test_a_flood_on_the_answer_page_is_slowed_and_nothing_is_stored(client, factory, dbconn):
    world = Survey(factory, n=1)
    campaign = world.campaign("all", None)
    token = world.token(campaign, world.invitations(campaign.id)[0])
    # 30 a minute from one address; earlier posts of this address may already count
    first = client.post(f"/s/{token}", data={})
    assert first.status_code == 422 and first.headers["X-RateLimit-Limit"] == "30"
    remaining = int(first.headers["X-RateLimit-Remaining"])
    codes = [client.post(f"/s/{token}", data={}).status_code for _ in range(remaining)]
    assert codes == [422] * remaining
    assert client.post(f"/s/{token}", data={}).status_code == 429
    # a forged token is counted too: guessing is slowed as well
    assert client.post("/s/nonsense", data=world.good()).status_code == 429
    assert client.post(f"/s/{token}", data=world.good()).status_code == 429
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0


def test_a_refused_answer_page_costs_the_same_whatever_the_number_of_questions(client, factory, dbconn):
    world = Survey(factory, n=2)
    with world.scope():
        long = services.create_template("Long", "other", by=None)
        for i in range(12):
            services.add_question(long, QuestionData("scale5", {"en": f"Question {i}?"}))
        db.session.commit()
    counts = []
    for template in (world.template, long):
        campaign = world.campaign("all", None, template=template)
        token = world.token(campaign, world.invitations(campaign.id)[0])
        with count_statements() as counter:
            assert client.post(f"/s/{token}", data={}).status_code == 422
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_script_in_questions_and_answers_is_shown_as_text(client, factory, dbconn):
    world = Survey(factory, n=1)
    script = "<script>alert(1)</script>"
    with world.scope():
        template = services.create_template(f"T {script}", "other", by=None)
        q = services.add_question(
            template, QuestionData("single", {"en": f"Q {script}"}, {"en": [script, "<b>no</b>"]})
        )
        t = services.add_question(template, QuestionData("text", {"en": "Say"}))
        db.session.commit()
    campaign = world.campaign("all", None, template=template)
    token = world.token(campaign, world.invitations(campaign.id)[0])
    page = client.get(f"/s/{token}")
    assert script not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert client.post(f"/s/{token}", data={f"q_{q.id}": "c1", f"q_{t.id}": script}).status_code == 200
    login(client, world.admin)
    results = client.get(f"/a/{world.slug}/surveys/campaigns/{campaign.id}/results")
    assert results.status_code == 200 and script not in results.text
    assert results.text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # question, choice, answer
    assert script not in client.get(f"/a/{world.slug}/surveys/templates/{template.id}").text


def test_the_respondent_sees_their_language_with_a_fallback(client, factory, dbconn):
    world = Survey(factory, n=0)
    world.add_client("Wang Fang", True, languages=["Mandarin"])
    campaign = world.campaign("all", None)
    invitation = world.invitations(campaign.id)[0]
    assert invitation.locale == "zh_CN"
    token = world.token(campaign, invitation)
    page = client.get(f"/s/{token}")
    assert "您满意吗？" in page.text, "the Chinese text"
    assert "Would you recommend us?" in page.text, "no Chinese text: the English one"
    assert 'lang="zh-Hans"' in page.text, "the page itself in Chinese"
    english = client.get(f"/s/{token}?lang=en")
    assert "How satisfied are you?" in english.text and "Send my answers" in english.text


# -- tracking and results ------------------------------------------------------------------------


def _answer(client, world, campaign, invitation, **data):
    token = world.token(campaign, invitation)
    assert client.post(f"/s/{token}", data=data).status_code == 200


def test_response_rate_and_results_match_an_independent_count(client, factory, dbconn):
    world = Survey(factory, n=20)
    campaign = world.campaign("sample", 16)
    invitations = world.invitations(campaign.id)
    given = [
        (5, "c1", ["c1", "c2"], "Very kind"),
        (3, "c2", [], ""),
        (4, "c1", ["c2"], "Late once"),
        (5, "c3", [], ""),
    ]
    for invitation, (scale, single, multi, note) in zip(invitations, given, strict=False):
        _answer(
            client, world, campaign, invitation,
            **{f"q_{world.q_scale.id}": str(scale), f"q_{world.q_single.id}": single,
               f"q_{world.q_multi.id}": multi, f"q_{world.q_text.id}": note},
        )  # fmt: skip
    with db.tenant_scope(world.agency.id):
        invited, responded = db.session.execute(
            text(
                "select count(*), count(*) filter (where responded_at is not null) from survey_invitations "
                "where campaign_id = :c"
            ),
            {"c": campaign.id},
        ).one()
    with db.tenant_scope(world.agency.id):
        tracking = queries.tracking(campaign.id)
        assert (tracking.invited, tracking.responded) == (invited, responded) == (16, 4)
        assert tracking.rate == round(100 * responded / invited, 1) == 25.0
        results = {r.question.id: r for r in queries.results(fresh(SurveyCampaign, campaign.id))}
    scale = results[world.q_scale.id]
    assert scale.mean == round((5 + 3 + 4 + 5) / 4, 2) and scale.distribution == {5: 2, 3: 1, 4: 1}
    assert results[world.q_single.id].counts == {"c1": 2, "c2": 1, "c3": 1}
    assert results[world.q_multi.id].counts == {"c1": 1, "c2": 2}
    assert results[world.q_text.id].texts == ["Late once", "Very kind"]
    login(client, world.coordinator)
    listing = client.get(f"/a/{world.slug}/surveys")
    assert "25.0%" in listing.text
    page = client.get(f"/a/{world.slug}/surveys/campaigns/{campaign.id}/results")
    assert "Mean: 4.25 / 5" in page.text and "Very kind" in page.text
    with db.tenant_scope(world.agency.id):
        names = list(db.session.scalars(select(Client.full_name)))
    assert not any(name in page.text for name in names), "answers without names"


def test_pages_cost_the_same_whatever_the_number_of_campaigns_and_answers(client, factory, dbconn):
    world = Survey(factory, n=20)
    first = world.campaign("sample", 15)
    login(client, world.admin)
    urls = [f"/a/{world.slug}/surveys", f"/a/{world.slug}/surveys/campaigns/{first.id}/results"]
    urls.append(f"/a/{world.slug}/surveys/campaigns/{first.id}")
    small = []
    for url in urls:
        with count_statements() as counter:
            assert client.get(url).status_code == 200
        small.append(counter.count)
    for _ in range(4):
        world.campaign("all", None)
    answers = {
        world.q_scale.id: "4",
        world.q_single.id: "c1",
        world.q_multi.id: ["c1", "c3"],
        world.q_text.id: "Fine",
    }
    for invitation in world.invitations(first.id)[:6]:
        factory.survey_response(world.agency, first, invitation.client_id, answers)
    with db.tenant_scope(world.agency.id):
        assert queries.tracking(first.id).responded == 6
    large = []
    for url in urls:
        with count_statements() as counter:
            assert client.get(url).status_code == 200
        large.append(counter.count)
    assert large == small


# -- reminders -----------------------------------------------------------------------------------


def _mails(world, kind):
    return list(
        db.session.scalars(
            select(MailMessage.to_address).where(
                MailMessage.kind == kind, MailMessage.agency_id == world.agency.id
            )
        )
    )


def test_reminders_go_once_after_the_delay_to_those_who_have_not_answered(app, client, factory, dbconn):
    world = Survey(factory, n=4)
    world.add_client("No Email", False)
    start = datetime(2030, 5, 1, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        campaign = world.campaign("all", None)
        invitations = world.invitations(campaign.id)
        answered = next(i for i in invitations if i.emailed_at is not None)
        _answer(client, world, campaign, answered, **world.good())
    with time_machine.travel(start + timedelta(days=4, hours=23), tick=False), app.app_context():
        assert jobs.remind_all_now() == 0, "not yet"
    with time_machine.travel(start + timedelta(days=5, hours=1), tick=False), app.app_context():
        assert jobs.remind_all_now() == 3, "the three with an email who have not answered"
        assert jobs.remind_all_now() == 0, "once, even when the sweep runs twice"
    with time_machine.travel(start + timedelta(days=8), tick=False), app.app_context():
        assert jobs.remind_all_now() == 0
    reminded = _mails(world, "survey.reminder")
    with db.tenant_scope(world.agency.id):
        emails = dict(db.session.execute(select(Client.id, Client.email)).all())
    assert sorted(reminded) == sorted(
        emails[i.client_id] for i in invitations if i.emailed_at and i.id != answered.id
    )
    # the reminder's link works (the first link keeps working too)
    target = next(i for i in invitations if i.emailed_at and i.id != answered.id)
    link = factory.last_mail_link(emails[target.client_id])
    with time_machine.travel(start + timedelta(days=6), tick=False):
        assert "/s/" in link and client.get(urlsplit(link).path).status_code == 200


def test_no_reminder_after_expiry_or_closing(app, client, factory, dbconn):
    world = Survey(factory, n=2, settings={"survey_link_days": 4, "survey_reminder_days": 5})
    start = datetime(2030, 6, 1, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        world.campaign("all", None)
    other = Survey(factory, n=2)
    with time_machine.travel(start, tick=False):
        closing = other.campaign("all", None)
        with db.tenant_scope(other.agency.id):
            services.close_campaign(fresh(SurveyCampaign, closing.id))
            db.session.commit()
    with time_machine.travel(start + timedelta(days=6), tick=False), app.app_context():
        assert jobs.remind_all_now() == 0
    assert _mails(world, "survey.reminder") == [] and _mails(other, "survey.reminder") == []


# -- the outcome survey cadence ------------------------------------------------------------------


def test_outcome_survey_due_every_six_months_or_as_set(client, factory, dbconn):
    world = Survey(factory, n=20)
    with world.scope():
        today = world.agency.today()
        assert services.outcome_survey_due(world.agency) == today, "never sent: due now"
        outcome = services.create_template("Outcomes", "outcome", by=None)
        services.add_question(outcome, QuestionData("scale5", {"en": "Better?"}))
        db.session.commit()
    login(client, world.coordinator)
    page = client.get(f"/a/{world.slug}/surveys")
    assert 'data-overdue="yes"' in page.text
    sent_on = datetime(2030, 1, 10, 12, tzinfo=UTC)
    with time_machine.travel(sent_on, tick=False):
        world.campaign("sample", 15, template=outcome)
    world.campaign("all", None)  # a satisfaction survey does not count
    with db.tenant_scope(world.agency.id):
        assert services.last_outcome_sent(world.agency) == date(2030, 1, 10)
        assert services.outcome_survey_due(world.agency) == date(2030, 1, 10) + relativedelta(months=6)
    with time_machine.travel(datetime(2030, 3, 1, tzinfo=UTC), tick=False):
        login(client, world.coordinator)
        page = client.get(f"/a/{world.slug}/surveys")
        assert 'data-overdue="no"' in page.text
    with time_machine.travel(datetime(2030, 7, 11, tzinfo=UTC), tick=False):
        login(client, world.coordinator)
        assert 'data-overdue="yes"' in client.get(f"/a/{world.slug}/surveys").text
    set_settings(world, survey_outcome_months=3)
    with db.tenant_scope(world.agency.id):
        assert services.outcome_survey_due(world.agency) == date(2030, 4, 10)
    set_settings(world, survey_outcome_months=0)
    with db.tenant_scope(world.agency.id):
        assert services.outcome_survey_due(world.agency) is None


# -- pages, roles and settings -------------------------------------------------------------------


def test_coordinator_prepares_and_sends_through_the_pages(client, factory, dbconn):
    world = Survey(factory, n=18)
    world.add_client("Paper Only", False)
    login(client, world.coordinator)
    form = client.get(f"/a/{world.slug}/surveys/campaigns/new")
    assert form.status_code == 200 and 'value="15"' in form.text
    created = client.post(
        f"/a/{world.slug}/surveys/campaigns/new",
        data={"template": str(world.template.id), "title": "Autumn", "audience": "all", "sample_size": "15"},
    )
    assert created.status_code == 302
    campaign_url = created.location
    sent = client.post(f"{campaign_url}/send", follow_redirects=True)
    assert "Sent to 19 clients." in sent.text
    assert 'data-testid="invitation-row"' in sent.text and "no email" in sent.text
    with db.tenant_scope(world.agency.id):
        campaign = db.session.scalar(select(SurveyCampaign).where(SurveyCampaign.title == "Autumn"))
        paper = db.session.scalar(
            select(SurveyInvitation)
            .join(Client, Client.id == SurveyInvitation.client_id)
            .where(Client.full_name == "Paper Only")
        )
        assert paper.emailed_at is None
    issued = client.post(f"{campaign_url}/invitations/{paper.id}/link")
    assert issued.status_code == 200
    url = issued.text.split('data-testid="survey-url">')[1].split("<")[0]
    anonymous = factory.app.test_client()
    assert anonymous.get(url.replace("http://localhost", "")).status_code == 200
    with db.tenant_scope(world.agency.id):
        from saas.models import AuditEvent

        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"survey.campaign_created", "survey.campaign_sent", "survey.link_issued"} <= actions
    assert campaign.status == "sent"


def test_closing_a_draft_is_refused_with_a_message(client, factory, dbconn):
    world = Survey(factory, n=2)
    draft = world.campaign("all", None, send=False)
    login(client, world.coordinator)
    url = f"/a/{world.slug}/surveys/campaigns/{draft.id}"
    assert f"{url}/close" not in client.get(url).text, "no close button on a draft"
    refused = client.post(f"{url}/close", follow_redirects=True)
    assert refused.status_code == 200 and "has not been sent, so there is nothing to close" in refused.text
    with db.tenant_scope(world.agency.id):
        row = fresh(SurveyCampaign, draft.id)
        assert row.status == "draft" and row.closed_at is None
    sent = client.post(f"{url}/send", follow_redirects=True)
    assert "Sent to 2 clients." in sent.text and f"{url}/close" in sent.text
    closed = client.post(f"{url}/close", follow_redirects=True)
    assert "Campaign closed: its links no longer work." in closed.text
    with db.tenant_scope(world.agency.id):
        assert fresh(SurveyCampaign, draft.id).status == "closed"


def test_a_stale_campaign_object_cannot_be_sent_twice(factory, app_ctx):
    """The row is re-read under its lock: what another request committed counts,
    not the status this request loaded before."""
    world = Survey(factory, n=3)
    campaign = world.campaign("all", None, send=False)
    with world.scope():
        stale = fresh(SurveyCampaign, campaign.id)
        db.session.execute(
            SurveyCampaign.__table__.update()
            .where(SurveyCampaign.__table__.c.id == campaign.id)
            .values(status="sent", sent_at=db.utcnow(), links_expire_at=db.utcnow() + timedelta(days=1))
        )
        assert stale.status == "draft"
        with pytest.raises(SurveyError) as err:
            services.send_campaign(world.agency, stale, by=None)
        assert err.value.code == "already_sent"
        db.session.rollback()
        stale = fresh(SurveyCampaign, campaign.id)
        services.send_campaign(world.agency, stale, by=None)
        assert stale.status == "sent"
        db.session.execute(
            SurveyCampaign.__table__.update()
            .where(SurveyCampaign.__table__.c.id == campaign.id)
            .values(status="closed", closed_at=db.utcnow())
        )
        with pytest.raises(SurveyError) as err:
            services.close_campaign(stale)
        assert err.value.code == "already_closed"


def test_only_admins_and_coordinators_manage_surveys(client, factory, dbconn):
    world = Survey(factory, n=2)
    campaign = world.campaign("all", None)
    carer, _ = factory.member(world.agency, Role.CARER)
    login(client, carer)
    assert client.get(f"/a/{world.slug}/surveys").status_code == 403
    assert client.get(f"/a/{world.slug}/surveys/campaigns/{campaign.id}/results").status_code == 404
    assert client.post(f"/a/{world.slug}/surveys/campaigns/{campaign.id}/close").status_code == 404
    member, _ = factory.member(world.agency, Role.CLIENT)
    login(client, member)
    assert client.get(f"/a/{world.slug}/surveys/templates").status_code == 403
    login(client, world.coordinator)
    assert client.get(f"/a/{world.slug}/surveys/settings").status_code == 403


def test_admin_changes_the_survey_settings(client, factory, dbconn):
    world = Survey(factory, n=0)
    login(client, world.admin)
    page = client.get(f"/a/{world.slug}/surveys/settings")
    assert page.status_code == 200 and 'value="15"' in page.text and 'value="6"' in page.text
    bad = client.post(
        f"/a/{world.slug}/surveys/settings",
        data={
            "survey_sample_min": "0",
            "survey_outcome_months": "6",
            "survey_link_days": "30",
            "survey_reminder_days": "5",
        },
    )
    assert bad.status_code == 422
    ok = client.post(
        f"/a/{world.slug}/surveys/settings",
        data={
            "survey_sample_min": "20",
            "survey_outcome_months": "4",
            "survey_link_days": "21",
            "survey_reminder_days": "3",
        },
    )
    assert ok.status_code == 302
    agency = db.session.get(Agency, world.agency.id, populate_existing=True)
    assert agency_setting(agency, "survey_sample_min") == 20
    assert agency_setting(agency, "survey_reminder_days") == 3
