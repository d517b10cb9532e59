"""An admin builds a survey and sends a campaign; a client answers it from
the personal link on a phone."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from saas import db
from saas.models import AuditEvent, MailMessage
from tenants.clients.models import Client
from tenants.surveys.models import SurveyAnswer, SurveyInvitation
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET
from tests.surveys.test_surveys import Survey

pytestmark = pytest.mark.browser


def test_admin_builds_a_survey_sends_it_and_a_client_answers_on_a_phone(page: Page, phone: Page, make):
    world = Survey(make, n=3)
    sign_in(page, world.admin.email, totp_secret=TOTP_SECRET)

    page.goto(f"/a/{world.slug}/surveys")
    expect(page.get_by_role("heading", name="Surveys")).to_be_visible()
    expect(page.get_by_test_id("outcome-cadence")).to_contain_text("No outcome survey has been sent yet.")
    page.get_by_role("link", name="Survey templates").click()
    page.get_by_label("Name").fill("How are we doing")
    page.get_by_label("Purpose").select_option("satisfaction")
    page.get_by_role("button", name="Create the survey").click()
    expect(page.get_by_role("heading", name="How are we doing")).to_be_visible()

    page.get_by_label("Kind of answer").select_option("scale5")
    page.get_by_label("Question in English").fill("How kind are our carers?")
    page.get_by_label("Question in Chinese").fill("护理员态度如何？")
    page.get_by_role("button", name="Add the question").click()
    expect(page.get_by_test_id("question")).to_have_count(1)
    # a choice question with one choice: refused next to the field, nothing added
    page.get_by_label("Kind of answer").select_option("single")
    page.get_by_label("Question in English").fill("Which visits suit you?")
    page.get_by_label("Choices in English").fill("Mornings")
    page.get_by_role("button", name="Add the question").click()
    expect(page.get_by_text("Give at least two different choices.")).to_be_visible()
    expect(page.get_by_test_id("question")).to_have_count(1)
    page.get_by_label("Choices in English").fill("Mornings\nAfternoons")
    page.get_by_role("button", name="Add the question").click()
    expect(page.get_by_test_id("question")).to_have_count(2)

    page.get_by_role("link", name="Prepare a campaign with this survey").click()
    page.get_by_label("Title").fill("Winter check-in")
    page.get_by_label("All clients currently served").check()
    page.get_by_role("button", name="Prepare").click()
    expect(page.get_by_test_id("campaign-status")).to_have_text("Prepared, not sent")
    page.get_by_role("button", name="Draw the clients and send").click()
    expect(page.get_by_text("Sent to 3 clients.")).to_be_visible()
    expect(page.get_by_test_id("invitation-row")).to_have_count(3)
    expect(page.get_by_test_id("tracking")).to_contain_text("answered: 0")

    with db.tenant_scope(world.agency.id):
        email = db.session.scalar(
            select(Client.email)
            .join(SurveyInvitation, SurveyInvitation.client_id == Client.id)
            .order_by(SurveyInvitation.position)
            .limit(1)
        )
    link = make.last_mail_link(email)
    db.session.remove()

    phone.goto(urlsplit(link).path)
    expect(phone.get_by_role("heading", name="Winter check-in")).to_be_visible()
    expect(phone.get_by_test_id("survey-agency")).to_have_text(world.agency.name)
    # nothing about the client on the page
    expect(phone.get_by_text("Client 0")).to_have_count(0)
    phone.get_by_role("button", name="Send my answers").tap()
    expect(phone.get_by_text("Please answer this question.")).to_have_count(2)
    phone.get_by_role("group", name="How kind are our carers?").get_by_text("4 – Good").tap()
    phone.get_by_role("group", name="Which visits suit you?").get_by_label("Afternoons").check()
    widths = phone.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], widths
    phone.get_by_role("button", name="Send my answers").tap()
    expect(phone.get_by_text("Your answers have been received.")).to_be_visible()

    with db.tenant_scope(world.agency.id):
        answers = list(db.session.scalars(select(SurveyAnswer)))
        assert {(a.scale, tuple(a.choices)) for a in answers} == {(4, ()), (None, ("c2",))}
    db.session.remove()

    phone.goto(urlsplit(link).path)
    expect(phone.get_by_role("heading", name="You have already answered this survey")).to_be_visible()

    page.reload()
    expect(page.get_by_test_id("tracking")).to_contain_text("answered: 1")
    page.get_by_role("link", name="Results").click()
    expect(page.get_by_test_id("mean").first).to_have_text("Mean: 4.0 / 5")


_SUBMIT_TWICE = """async (selector) => {
    const form = document.querySelector(selector);
    const send = () => fetch(form.action, {method: "POST", body: new FormData(form)})
        .then(async (r) => [r.status, await r.text()]);
    return await Promise.all([send(), send()]);
}"""


def test_the_same_link_sent_twice_at_once_keeps_one_set_of_answers(phone: Page, make):
    """A double tap on a slow line: two sendings of the same form, with its
    CSRF token, at the same moment; one is kept, the other is told, no error."""
    world = Survey(make, n=1)
    with db.tenant_scope(world.agency.id):
        from tenants.surveys import services

        campaign = services.create_campaign(world.agency, world.template, "Twice", "all", None, by=None)
        services.send_campaign(world.agency, campaign, by=None)
        db.session.commit()
        invitation = db.session.scalar(
            select(SurveyInvitation).where(SurveyInvitation.campaign_id == campaign.id)
        )
        email = db.session.scalar(select(Client.email).where(Client.id == invitation.client_id))
    link = make.last_mail_link(email)
    db.session.remove()

    phone.goto(urlsplit(link).path)
    phone.get_by_role("group", name="How satisfied are you?").get_by_text("5 – Excellent").tap()
    phone.get_by_role("group", name="Would you recommend us?").get_by_label("Yes").check()
    results = phone.evaluate(_SUBMIT_TWICE, "section.survey form[method=post]")
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 200], statuses
    texts = [body for _, body in results]
    assert sum("Your answers have been received." in t for t in texts) == 1
    assert sum("You have already answered this survey" in t for t in texts) == 1

    with db.tenant_scope(world.agency.id):
        answers = list(db.session.scalars(select(SurveyAnswer)))
        assert len(answers) == 2
        assert {(a.scale, tuple(a.choices)) for a in answers} == {(None, ("c1",)), (5, ())}
    db.session.remove()


def test_a_campaign_sent_twice_at_once_goes_out_once(page: Page, make):
    world = Survey(make, n=4)
    with db.tenant_scope(world.agency.id):
        from tenants.surveys import services

        campaign = services.create_campaign(world.agency, world.template, "Once", "all", None, by=None)
        db.session.commit()
        campaign_id = campaign.id
    db.session.remove()
    sign_in(page, world.admin.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{world.slug}/surveys/campaigns/{campaign_id}")
    results = page.evaluate(_SUBMIT_TWICE, "form[action$='/send']")
    # both end on the campaign page (the flashes share one cookie, so which
    # page shows which message is a race): no error, one sending recorded
    assert [status for status, _ in results] == [200, 200]
    assert all('data-testid="campaign-status">Sent<' in body for _, body in results)
    with db.tenant_scope(world.agency.id):
        assert len(list(db.session.scalars(select(SurveyInvitation)))) == 4
        sent = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "survey.campaign_sent")
        )
        assert sent == 1
    mails = db.session.scalar(
        select(func.count())
        .select_from(MailMessage)
        .where(MailMessage.kind == "survey.invitation", MailMessage.agency_id == world.agency.id)
    )
    assert mails == 4
    db.session.remove()
