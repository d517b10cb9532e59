"""A coordinator opens the visit ratings from the menu, narrows them to the
low ones, to a carer and to a range of days, and pages through them."""

from __future__ import annotations

import pytest
from babel.dates import format_date
from playwright.sync_api import Page, expect

from tenants.feedback import queries
from tests.api.test_ratings_api import rated_world
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET

pytestmark = pytest.mark.browser


def test_a_coordinator_filters_and_pages_through_the_visit_ratings(
    page: Page, make, live_server, monkeypatch
):
    monkeypatch.setattr(queries, "RATINGS_PAGE", 2)  # the live server runs in this process
    world = rated_world(make)
    first_day = world.rated[0][1]

    sign_in(page, world.coordinator.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{world.agency.slug}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Visit ratings", exact=True).click()
    expect(page.get_by_role("heading", name="Visit ratings")).to_be_visible()
    rows = page.get_by_test_id("rating-row")
    expect(rows).to_have_count(2)
    # the latest visit first, its day as a London agency writes dates ("7 Dec 2026")
    expect(rows.first).to_contain_text(format_date(world.rated[-1][1], "medium", locale="en_GB"))
    expect(rows.first).to_contain_text("Joan Smith")
    page.get_by_test_id("next-page").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-low", "yes")
    expect(rows.first).to_contain_text(format_date(first_day, "medium", locale="en_GB"))

    page.goto(f"/a/{world.agency.slug}/feedback/ratings")
    page.get_by_label("Low ratings only").check()
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-low", "yes")
    expect(page.get_by_label("Low ratings only")).to_be_checked()

    page.get_by_label("Low ratings only").uncheck()
    page.get_by_label("Carer").select_option(label="Joan Smith")
    page.get_by_label("Visits until").fill(first_day.isoformat())
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("next-page")).to_have_count(0)

    page.get_by_label("Visits from").fill(first_day.isoformat())
    page.get_by_label("Visits until").fill("")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    page.get_by_test_id("next-page").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_label("Carer")).to_have_value(str(world.staff.id))
