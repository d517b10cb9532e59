"""An agency admin changes the feedback settings on their generated page: a
number out of range is refused next to its field, a good one is saved and
read back."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from saas import db
from saas.models import Agency, AuditEvent, Role
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET, unique

pytestmark = pytest.mark.browser


def test_admin_changes_the_feedback_settings(page: Page, make, live_server):
    agency = make.agency(name=f"Settings Care {unique()}")
    admin, _ = make.member(agency, Role.ADMIN, name="Ada Admin")
    sign_in(page, admin.email, totp_secret=TOTP_SECRET)

    page.goto(f"/a/{agency.slug}/settings/feedback")
    expect(page.get_by_role("heading", name="Feedback settings")).to_be_visible()
    threshold = page.get_by_label("A rating is low when any score is at or below")
    expect(threshold).to_have_value("2")
    expect(page.get_by_text("From 1 to 4.")).to_be_visible()

    threshold.fill("7")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#low_rating_threshold-error")).to_have_text("Enter a number from 1 to 4.")
    expect(threshold).to_have_value("7")  # what was typed stays

    threshold.fill("3")
    page.get_by_label("Answer complaints within (days)").fill("2")
    page.get_by_label("Email clients a rating link when a visit is checked out").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(threshold).to_have_value("3")
    expect(page.get_by_label("Email clients a rating link when a visit is checked out")).not_to_be_checked()

    stored = db.session.scalar(select(Agency.settings).where(Agency.id == agency.id))
    assert (stored["low_rating_threshold"], stored["complaint_response_days"]) == (3, 2)
    assert stored["rating_link_email"] is False
    with db.tenant_scope(agency.id):
        changed = set(
            db.session.scalars(select(AuditEvent.subject).where(AuditEvent.action == "settings.changed"))
        )
    assert changed == {"low_rating_threshold", "complaint_response_days", "rating_link_email"}
