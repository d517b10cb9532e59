"""A carer on a phone sees the unread badge, opens the list, marks a
notification read, and turns off the email for one kind."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from saas import db
from saas.notifications.models import NotificationPreference
from saas.notifications.reminders import Due, send_due
from tests.browser.helpers import sign_in
from tests.core.samples_notifications import Care

pytestmark = pytest.mark.browser


def test_carer_reads_notifications_and_changes_a_preference(phone: Page, make, live_server):
    care = Care(make)
    user, carer, _staff = care.carer("Cara Carer")
    slug = care.agency.slug
    now = db.utcnow()
    with make.app.test_request_context(), db.tenant_scope(care.agency.id):
        send_due(
            [
                Due(
                    "visit.no_check_in",
                    f"visit-{i}",
                    now,
                    (carer.id,),
                    {"start": f"0{i + 8}:00", "date": "2026-11-23"},
                    f"/a/{slug}/my/schedule",
                )
                for i in range(2)
            ]
        )
    db.session.remove()

    sign_in(phone, user.email)
    phone.goto(f"/a/{slug}/")
    badge = phone.get_by_test_id("unread-count")
    expect(badge).to_have_text("2")
    phone.get_by_test_id("bell").tap()
    expect(phone.get_by_role("heading", name="Notifications")).to_be_visible()
    items = phone.get_by_test_id("notification")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Visit at 09:00: not checked in yet")  # newest first
    items.first.get_by_role("button", name="Mark as read").tap()
    expect(phone.get_by_test_id("unread-count")).to_have_text("1")
    expect(phone.locator('[data-testid="notification"][data-read="yes"]')).to_have_count(1)
    # the title opens what it is about, and counts as read
    phone.get_by_role("button", name="Visit at 08:00: not checked in yet").tap()
    expect(phone).to_have_url(f"{live_server}/a/{slug}/my/schedule")
    expect(phone.get_by_test_id("unread-count")).to_have_count(0)

    phone.goto(f"/a/{slug}/notifications/preferences")
    expect(phone.get_by_role("heading", name="Notification preferences")).to_be_visible()
    missed = phone.get_by_test_id("kind-visit.missed")
    expect(missed).to_contain_text("Always on")
    expect(missed.get_by_role("checkbox").first).to_be_disabled()
    phone.get_by_label("By email: A visit of yours starts soon and you have not checked in").uncheck()
    phone.get_by_label("Quiet hours from").fill("22:00")
    phone.get_by_label("Quiet hours until").fill("7")
    phone.get_by_role("button", name="Save").tap()
    expect(phone.get_by_text("Write a time as HH:MM, for example 07:30.")).to_be_visible()
    # what was unticked is still unticked after the refusal
    expect(
        phone.get_by_label("By email: A visit of yours starts soon and you have not checked in")
    ).not_to_be_checked()
    phone.get_by_label("Quiet hours until").fill("07:00")
    phone.get_by_role("button", name="Save").tap()
    expect(phone.get_by_text("Your notification preferences are saved.")).to_be_visible()
    expect(phone.get_by_label("Quiet hours until")).to_have_value("07:00")

    with db.tenant_scope(care.agency.id):
        pref = db.session.scalar(
            select(NotificationPreference).where(
                NotificationPreference.membership_id == carer.id,
                NotificationPreference.kind == "visit.no_check_in",
            )
        )
        assert (pref.in_app, pref.email) == (True, False)
    db.session.remove()
