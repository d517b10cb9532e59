"""A coordinator types a client's address and the page places it on the map
through the geocoder (a real local stand-in for Nominatim); then one the
geocoder does not know, and the page says the position stays empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import sign_in
from tests.clients.test_geocoding import stand_in  # noqa: F401 - the local Nominatim
from tests.factories import TOTP_SECRET
from tests.scheduling.test_scheduling import World

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_address_is_placed_on_the_map(
    request,
    make,
    live_app,
    live_server,
    stand_in,  # noqa: F811
    monkeypatch,
    size,
):
    monkeypatch.setitem(live_app.config, "GEOCODER_URL", stand_in)
    monkeypatch.setitem(live_app.config, "GEOCODER_TIMEOUT", 0.5)
    page: Page = request.getfixturevalue("phone" if size == "phone" else "page")
    world = World(make)
    slug = world.agency.slug
    shots = Path(__file__).resolve().parents[2] / "test-artifacts"
    shots.mkdir(exist_ok=True)
    sign_in(page, world.coordinator.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{slug}/clients/new")
    expect(page.get_by_text("Found from the address when it is entered or changed")).to_be_visible()
    page.get_by_label("Full name").fill("Harold Finch")
    page.get_by_label("Address").fill("12 Harbour Street")
    page.get_by_label("Consents to receive services").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Harold Finch")).to_be_visible()
    expect(page.get_by_text("The address was placed on the map.")).to_be_visible()
    page.screenshot(path=str(shots / f"address-found-{size}.png"), full_page=True)
    page.get_by_role("link", name="Edit").first.click()
    expect(page.get_by_label("Latitude")).to_have_value("51.503364")
    expect(page.get_by_label("Longitude")).to_have_value("-0.127625")
    # an address the geocoder does not know: saved, the position emptied, and said so
    page.get_by_label("Address").fill("Nowhere At All")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("No map position was found for this address")).to_be_visible()
    page.screenshot(path=str(shots / f"address-not-found-{size}.png"), full_page=True)
    page.get_by_role("link", name="Edit").first.click()
    expect(page.get_by_label("Latitude")).to_have_value("")
