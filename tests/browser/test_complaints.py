"""A complaint from the public page to its answer, and one left unanswered
that escalates to the agency head."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from saas import db
from saas.models import MailMessage, Role
from tenants.feedback import services
from tenants.feedback.models import FeedbackItem
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET

pytestmark = pytest.mark.browser


def _item(agency_id, description):
    db.session.remove()
    with db.tenant_scope(agency_id):
        return db.session.scalar(select(FeedbackItem).where(FeedbackItem.description == description))


def test_a_public_complaint_reaches_the_head_and_is_answered_in_time(page: Page, make, live_server):
    agency = make.agency(name="Harbour Care")
    head, _ = make.member(agency, Role.ADMIN, totp=False, name="Hana Head")
    coordinator, _ = make.member(agency, Role.COORDINATOR, name="Cole Ordinator")
    description = "The carer did not come on Tuesday and nobody called."

    page.goto(f"/a/{agency.slug}/feedback")
    expect(page.get_by_role("heading", name="Tell Harbour Care what you think")).to_be_visible()
    page.get_by_label("Complaint").check()
    page.get_by_label("Tell us what happened").fill(description)
    page.get_by_label("Your name (optional)").fill("Ming Li")
    page.get_by_label("Phone or email, if you would like an answer").fill("ming@example.org")
    page.wait_for_timeout(3200)  # people take more than the minimum fill time; robots do not
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    complaint = _item(agency.id, description)
    assert complaint is not None and complaint.kind == "complaint"
    notified = db.session.scalars(
        select(MailMessage.to_address).where(
            MailMessage.agency_id == agency.id, MailMessage.kind == "feedback.complaint"
        )
    ).all()
    assert head.email in notified, "the agency head is told at once"

    sign_in(page, coordinator.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{agency.slug}/feedback/inbox")
    row = page.get_by_test_id("feedback-row").filter(has_text="did not come on Tuesday")
    expect(row).to_have_attribute("data-state", "on_time")
    expect(row).to_contain_text("h left")
    expect(row).to_contain_text("Ming Li")
    row.get_by_role("link", name="Complaint").click()

    page.get_by_label("Next step").select_option(label="Acknowledged")
    page.get_by_label("Note").fill("Called Ming back")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("feedback-status")).to_have_text("Acknowledged")

    page.get_by_label("Next step").select_option(label="Closed")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Record the response given to the person first.")).to_be_visible()

    page.get_by_label("Next step").select_option(label="Responded")
    page.get_by_label("Response given to the person").fill("We apologised and moved Tuesday visits.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("feedback-status")).to_have_text("Responded")
    expect(page.get_by_text("We apologised and moved Tuesday visits.")).to_be_visible()

    answered = _item(agency.id, description)
    assert answered.responded_at is not None and answered.responded_at <= answered.due_at, "within 3 days"
    page.goto(f"/a/{agency.slug}/feedback/inbox")
    expect(page.get_by_test_id("feedback-row").filter(has_text="did not come on Tuesday")).to_have_attribute(
        "data-state", "answered"
    )


def test_an_unanswered_complaint_escalates_to_the_head(page: Page, make, live_server):
    agency = make.agency(name="Valley Care")
    head, _ = make.member(agency, Role.ADMIN, name="Vera Head")
    description = "Nobody answered my complaint about the missed meal."
    with make.app.test_request_context(), db.tenant_scope(agency.id):
        item = services.submit_feedback(
            agency,
            services.FeedbackData(kind="complaint", description=description, contact="vv@example.org"),
            channel="phone",
        )
        item.received_at -= timedelta(days=4)
        item.due_at -= timedelta(days=4)
        db.session.commit()
        item_id = item.id

    sign_in(page, head.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{agency.slug}/feedback/inbox")
    row = page.get_by_test_id("feedback-row").filter(has_text="missed meal")
    expect(row).to_have_attribute("data-state", "overdue")

    with make.app.test_request_context(), db.tenant_scope(agency.id):
        assert services.escalate_overdue(agency) == 1
        db.session.commit()
    with make.app.test_request_context(), db.tenant_scope(agency.id):
        assert services.escalate_overdue(agency) == 0, "once"
        db.session.commit()
    escalations = db.session.scalars(
        select(MailMessage.to_address).where(
            MailMessage.agency_id == agency.id, MailMessage.to_address == head.email
        )
    ).all()
    assert len(escalations) == 2, "the complaint notice, then one escalation"

    page.goto(f"/a/{agency.slug}/feedback/items/{item_id}")
    expect(page.get_by_test_id("escalated")).to_contain_text("Escalated to the agency head")
