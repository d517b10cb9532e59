"""A family member complains in the portal about a visit and its carer; the
office sees who sent it and about whom, answers, and the answer reaches the
family member by email (once) and in the portal."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from saas import db
from saas.models import MailMessage
from tenants.feedback.models import FeedbackItem
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET
from tests.feedback.test_feedback import completed_world, portal_member

pytestmark = [pytest.mark.browser, pytest.mark.dates]


def _responses(agency_id) -> list[str]:
    db.session.remove()
    return list(
        db.session.scalars(
            select(MailMessage.to_address).where(
                MailMessage.agency_id == agency_id, MailMessage.kind == "feedback.response"
            )
        )
    )


def test_a_portal_complaint_names_the_visit_and_carer_and_gets_its_answer(
    page: Page, phone: Page, make, live_server
):
    world = completed_world(make, carer_name="Joan Smith")
    family, _membership = portal_member(make, world)
    slug = world.agency.slug

    # the family member, on a phone: the form offers the visit and its carer
    sign_in(phone, family.email)
    phone.goto(f"/a/{slug}/portal/feedback")
    phone.get_by_label("Complaint").check()
    phone.get_by_label("It is about").select_option(label="A carer")
    phone.get_by_label("Tell us what happened").fill("Joan left half an hour early.")
    phone.get_by_role("button", name="Send").tap()
    expect(phone.locator("#staff_file_id-error")).to_have_text("Say which carer it is about.")
    expect(phone.get_by_test_id("my-feedback")).to_have_count(0)
    phone.get_by_label("Which visit").select_option(value=str(world.visit.id))
    phone.get_by_label("Which carer").select_option(label="Joan")
    phone.get_by_role("button", name="Send").tap()
    expect(phone.get_by_text("Thank you. The agency will answer you.")).to_be_visible()
    mine = phone.get_by_test_id("my-feedback").filter(has_text="Joan left half an hour early.")
    expect(mine).to_contain_text("Not answered yet.")

    db.session.remove()
    with db.tenant_scope(world.agency.id):
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.description.like("Joan left%")))
        assert (item.client_id, item.visit_id, item.staff_file_id) == (
            world.client.id,
            world.visit.id,
            world.staff.id,
        )
        item_id = item.id
    db.session.remove()

    # the office: who sent it, about whom, and the answer
    sign_in(page, world.coordinator.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{slug}/feedback/inbox")
    row = page.get_by_test_id("feedback-row").filter(has_text="Joan left half an hour early")
    expect(row.get_by_test_id("feedback-from")).to_contain_text("Mary Daughter")
    expect(row.get_by_test_id("feedback-from")).to_contain_text(world.client.full_name)
    row.get_by_role("link", name="Complaint").click()
    expect(page.get_by_test_id("feedback-carer")).to_have_text("Joan Smith")
    page.get_by_label("Next step").select_option(label="Responded")
    page.get_by_label("Response given to the person").fill("We are sorry: Joan will stay the full hour.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("feedback-status")).to_have_text("Responded")
    assert _responses(world.agency.id) == [family.email]

    # closing it sends nothing more
    page.get_by_label("Next step").select_option(label="Closed")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("feedback-status")).to_have_text("Closed")
    assert _responses(world.agency.id) == [family.email], "the answer is mailed once"

    # the family member reads the answer in the portal
    phone.reload()
    mine = phone.get_by_test_id("my-feedback").filter(has_text="Joan left half an hour early.")
    expect(mine.get_by_test_id("my-feedback-response")).to_have_text(
        "We are sorry: Joan will stay the full hour."
    )
    expect(mine.get_by_test_id("my-feedback-status")).to_have_text("Closed")
    assert item_id is not None
