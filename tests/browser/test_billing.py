"""Billing in the browser: the operator's onboarding wizard, and what a
restricted agency's admin and carer see."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from billing import lifecycle, services
from saas import db
from saas.models import Agency, Invitation, Role
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET, unique


@pytest.mark.browser
def test_onboarding_wizard_makes_an_agency_live(page, make, live_server):
    operator = make.user(operator=True, totp=True, name="Olive Operator")
    plan = services.save_plan(
        None, name=unique("Growth "), pricing="per_carer", price=Decimal("11"), currency="GBP", trial_days=14
    )
    db.session.commit()
    slug = unique("wiz")
    name = f"Riverside Care {slug}"
    admin_email = f"{unique('first')}@example.com"

    sign_in(page, operator.email, totp_secret=TOTP_SECRET)
    page.get_by_role("link", name="New agency").click()
    expect(page.get_by_role("heading", name="New agency")).to_be_visible()
    # 1. the agency
    page.get_by_label("Agency name").fill(name)
    page.get_by_label("Web address").fill(slug)
    page.get_by_label("Time zone").select_option("Europe/Dublin")
    # 2. plan and trial
    expect(page.get_by_role("group", name="2. Plan and trial")).to_be_visible()
    page.get_by_label("Plan", exact=True).select_option(label=plan.name)
    page.get_by_label("Trial days").fill("21")
    # 3. first admin
    page.get_by_label("First admin's email").fill(admin_email)
    # 4. the starting catalogue, when the catalogue feature offers presets
    preset = page.get_by_label("Starting service catalogue")
    options = preset.locator("option").all_inner_texts()
    if len(options) > 1:
        preset.select_option(index=1)
    page.get_by_role("button", name="Create the agency").click()

    expect(page).to_have_url(re.compile(rf"{re.escape(live_server)}/operator/agencies/[0-9a-f-]{{36}}$"))
    expect(page.get_by_text(f"Agency {name} created.")).to_be_visible()
    expect(page.get_by_test_id("billing-state")).to_have_text("Trial")
    # the agency's billing page shows the plan and the trial's end
    page.get_by_role("link", name="Billing, invoices and data exports").click()
    expect(page.locator("dl.facts")).to_contain_text(plan.name)
    expect(page.locator("dl.facts")).to_contain_text("Trial ends")

    agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
    assert agency.plan_id == plan.id and agency.billing_state == "trial"
    assert (
        timedelta(days=20, hours=23) < agency.trial_ends_at - agency.created_at < timedelta(days=21, hours=1)
    )
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(Invitation.email)) == admin_email


@pytest.mark.browser
def test_restricted_banner_for_admins_only_and_care_goes_on(page, new_context, make, live_server):
    agency = make.agency(name=f"Hillside Care {unique()}")
    admin, _ = make.member(agency, Role.ADMIN, name="Ada Admin")
    carer, _ = make.member(agency, Role.CARER, name="Cara Carer")
    agency = db.session.get(Agency, agency.id)
    lifecycle.mark_past_due(agency, reason="test", since=db.utcnow() - timedelta(days=15))
    lifecycle.restrict(agency, reason="test")
    db.session.commit()

    sign_in(page, admin.email, totp_secret=TOTP_SECRET)
    expect(page).to_have_url(f"{live_server}/a/{agency.slug}/")
    banner = page.get_by_test_id("billing-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("you cannot add clients, plans or staff until it is paid")
    expect(banner).to_contain_text("Visits and care continue as usual")
    # the banner is on every page, and inviting staff is refused with the reason
    page.goto(f"/a/{agency.slug}/members")
    expect(page.get_by_test_id("billing-banner")).to_be_visible()
    invite = page.locator("form[action$='/members/invite']")
    invite.get_by_label("Email").fill("new-carer@example.com")
    invite.get_by_label("Role").select_option("carer")
    invite.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".field.has-error")).to_contain_text("restricted")
    page.get_by_test_id("billing-banner").get_by_role("link", name="Billing").click()
    expect(page.get_by_test_id("billing-state")).to_have_text("Restricted")

    # the carer sees no banner and uses the agency as usual
    carer_page = new_context().new_page()
    sign_in(carer_page, carer.email)
    expect(carer_page).to_have_url(f"{live_server}/a/{agency.slug}/")
    expect(carer_page.get_by_role("heading", level=1)).to_have_text("Welcome, Cara Carer")
    expect(carer_page.get_by_test_id("billing-banner")).to_have_count(0)
