"""The visit sheet offers only what its reader may do now: the coordinator
plans a visit still to come but never checks in for the carer; only the
assigned carer checks in; a past visit shows its record (or that none was
written), never an assignment form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from saas import db
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET
from tests.scheduling.test_scheduling import World

pytestmark = pytest.mark.browser


def test_the_visit_sheet_offers_what_each_reader_may_do(page: Page, phone: Page, make):
    world = World(make)
    carer_user, carer = world.carer(name="Pat Carer")
    slug = world.agency.slug
    now = db.utcnow()
    # a visit coming up (check-in opens 15 minutes before it), one done last week, one never recorded
    soon = make.visit(
        world.agency, world.client.id, world.item.id, now + timedelta(minutes=5), staff_id=carer.id
    )
    done = make.visit(
        world.agency, world.client.id, world.item.id, now - timedelta(days=7), staff_id=carer.id
    )
    make.complete_visit(world.agency, done.id, carer.id, what_was_done="Bathed and dressed, tea made")
    unrecorded = make.visit(
        world.agency, world.client.id, world.item.id, now - timedelta(days=6), staff_id=carer.id
    )

    sign_in(page, world.coordinator.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{slug}/visits/{soon.id}")
    expect(page.get_by_role("heading", name="Assign a carer")).to_be_visible()
    expect(page.get_by_test_id("visit-carer")).to_have_text("Pat Carer")
    # checking in is the carer's own act
    expect(page.get_by_role("button", name="Check in")).to_have_count(0)

    page.goto(f"/a/{slug}/visits/{done.id}")
    expect(page.get_by_role("heading", name="Service record")).to_be_visible()
    expect(page.get_by_text("Bathed and dressed, tea made")).to_be_visible()
    expect(page.get_by_role("heading", name="Assign a carer")).to_have_count(0)
    expect(page.get_by_role("button", name="Assign")).to_have_count(0)

    page.goto(f"/a/{slug}/visits/{unrecorded.id}")
    expect(page.get_by_test_id("no-record")).to_have_text("No service record was written for this visit.")
    expect(page.get_by_role("heading", name="Assign a carer")).to_have_count(0)
    expect(page.get_by_role("button", name="Check in")).to_have_count(0)

    sign_in(phone, carer_user.email)
    phone.goto(f"/a/{slug}/visits/{soon.id}")
    phone.get_by_role("button", name="Check in").click()
    expect(phone.get_by_test_id("visit-status")).to_have_text("In progress")
    expect(phone.get_by_role("heading", name="Assign a carer")).to_have_count(0)
