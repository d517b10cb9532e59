"""The care loop in a real browser: intake to visits, assignment refusals,
a carer's check-in and check-out on a phone, the client portal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from saas import db
from saas.models import Role
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET
from tests.scheduling.test_scheduling import World

pytestmark = pytest.mark.browser


def test_intake_to_approved_plan_to_visits(page: Page, make, live_server):
    world = World(make)  # provides the catalogue item and the people; this test builds its own client
    coordinator, admin = world.coordinator, world.admin
    slug = world.agency.slug
    sign_in(page, coordinator.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{slug}/clients/new")
    page.get_by_label("Full name").fill("Harold Finch")
    page.get_by_label("Date of birth").fill("1944-06-01")
    page.get_by_label("Address").fill("9 Elm Row")
    page.get_by_label("Consents to receive services").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Harold Finch")).to_be_visible()
    page.get_by_role("button", name="Open a case").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Intake")
    page.get_by_role("link", name="Record a needs assessment").click()
    for field in page.get_by_label("Level (1 = no need, 5 = severe)").all():
        field.fill("3")
    page.get_by_role("button", name="Save the assessment").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Assessment")
    page.get_by_role("button", name="New service plan").click()
    page.get_by_label("Goals").fill("Stay at home safely")
    page.get_by_label("Starts on").fill(str(world.client.created_at.date()))
    page.get_by_role("button", name="Save the plan").click()
    page.get_by_label("Service").select_option(label="Bathing")
    page.get_by_label("Tue").check()
    page.get_by_label("Start time").fill("10:30")
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_role("button", name="Add to the plan").click()
    expect(page.get_by_role("cell", name="Bathing")).to_be_visible()
    plan_url = page.url
    # no emergency contact yet: the plan is not submitted, and the page says why
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("Draft")
    expect(page.get_by_test_id("needs-contact")).to_contain_text("Add at least one emergency contact")
    page.get_by_role("link", name="Add an emergency contact").click()
    page.locator("#contacts-0-name").fill("Grace Finch")
    page.locator("#contacts-0-relationship").fill("daughter")
    page.locator("#contacts-0-phone").fill("07700 900555")
    page.get_by_role("button", name="Save").click()
    page.goto(plan_url)
    expect(page.get_by_test_id("needs-contact")).to_have_count(0)
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("Submitted")
    # the author may not approve their own plan: no Approve button, and the page says why
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.get_by_test_id("approval-refusal")).to_have_text(
        "A plan must be approved by someone other than its author."
    )

    approver = page.context.browser.new_context(base_url=live_server).new_page()
    sign_in(approver, admin.email, totp_secret=TOTP_SECRET)
    approver.goto(plan_url)
    expect(approver.get_by_test_id("approval-refusal")).to_have_count(0)
    approver.get_by_role("button", name="Approve").click()
    approver.get_by_role("button", name="Make active").click()
    expect(approver.get_by_test_id("plan-status")).to_have_text("Active")
    approver.goto(f"/a/{slug}/visits")
    expect(approver.get_by_role("cell", name="Harold Finch").first).to_be_visible()
    approver.context.close()


def test_coordinator_sees_every_refusal_reason(page: Page, make):
    world = World(make)
    world.activate()
    world.agency.settings = {"pre_service_hours": 40}
    db.session.commit()
    world.carer(name="Nadia New", availability={"sun": [["06:00", "07:00"]]})
    visit = world.visits()[0]
    sign_in(page, world.coordinator.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{world.agency.slug}/visits/{visit.id}")
    page.get_by_label("Carer").select_option(label="Nadia New")
    page.get_by_role("button", name="Assign", exact=True).click()
    refusals = page.get_by_test_id("refusals")
    expect(refusals).to_contain_text("pre-service training")
    expect(refusals).to_contain_text("weekly pattern")
    expect(page.get_by_test_id("visit-carer")).to_have_text("Not assigned")


def test_carer_checks_in_ticks_and_checks_out_on_a_phone(phone: Page, make, pytestconfig):
    world = World(make)
    world.activate()
    carer_user, carer = world.carer(name="Pat Carer")
    visit = world.visits()[0]
    with db.tenant_scope(world.agency.id):
        from tenants.scheduling import services

        row = db.session.scalar(select(type(visit)).where(type(visit).id == visit.id))
        services.assign(world.agency, row, carer.id, by=None, role="coordinator")
        # the visit is now: move it to start in five minutes so it can be checked in
        now = db.utcnow()
        row.starts_at, row.ends_at = now + timedelta(minutes=5), now + timedelta(minutes=65)
        db.session.commit()
    sign_in(phone, carer_user.email)
    phone.goto(f"/a/{world.agency.slug}/my/schedule")
    phone.get_by_text("Edith Carver").first.click()
    expect(phone.get_by_text("3 Mill Lane")).to_be_visible()
    # whom to call in an emergency: a tap calls
    call = phone.get_by_test_id("emergency-contacts").get_by_role("link", name="Kit Carver (daughter)")
    expect(call).to_have_attribute("href", "tel:07700900123")
    phone.get_by_role("button", name="Check in").click()
    expect(phone.get_by_test_id("visit-status")).to_have_text("In progress")
    phone.get_by_role("link", name="Check out and write the record").click()
    phone.get_by_label("Safe transfer").check()
    phone.get_by_label("Skin check").check()
    phone.get_by_label("What was done").fill("Bathed, dressed, breakfast")
    phone.get_by_role("button", name="Check out").click()
    # a few minutes after check-in: a short visit needs a reason, asked for next to the field
    reason = phone.get_by_label("Reason")
    expect(phone.locator(".field", has=reason)).to_contain_text("less than a quarter of its planned time")
    expect(phone.get_by_label("What was done")).to_have_value("Bathed, dressed, breakfast")
    shots = pytestconfig.rootpath / "test-artifacts"
    shots.mkdir(exist_ok=True)
    phone.screenshot(path=str(shots / "check-out-reason-phone.png"), full_page=True)
    phone.get_by_label("Safe transfer").check()
    phone.get_by_label("Skin check").check()
    reason.fill("Her daughter took her to the GP.")
    phone.get_by_role("button", name="Check out").click()
    expect(phone).to_have_url(re.compile(r"/my/schedule$"))
    expect(phone.get_by_text("Checked out. Thank you.")).to_be_visible()
    with db.tenant_scope(world.agency.id):
        done = db.session.scalar(
            select(type(visit)).where(type(visit).id == visit.id).execution_options(populate_existing=True)
        )
    assert done.status == "completed"
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.goto(f"/a/{world.agency.slug}/visits/{visit.id}")
    expect(phone.get_by_test_id("checkout-reason")).to_contain_text("Her daughter took her to the GP.")
    phone.screenshot(path=str(shots / "visit-record-reason-phone.png"), full_page=True)


def test_client_sees_the_visit_in_the_portal(page: Page, make):
    world = World(make)
    world.activate()
    portal_user, membership = make.member(world.agency, Role.CLIENT)
    from tenants.clients import services as clients

    with db.tenant_scope(world.agency.id):
        clients.link_portal_member(world.client, membership, "family")
        db.session.commit()
    sign_in(page, portal_user.email)
    page.goto(f"/a/{world.agency.slug}/portal")
    expect(page.get_by_role("heading", name="Upcoming visits")).to_be_visible()
    expect(page.locator("article.visit-card").first).to_contain_text("Bathing")
