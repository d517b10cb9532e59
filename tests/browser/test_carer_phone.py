"""A carer on a phone: signs in, lands on the agency home, the page fits the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from saas.models import Role
from tests.browser.helpers import sign_in
from tests.factories import unique


@pytest.mark.browser
def test_carer_signs_in_on_a_phone(phone, make, live_server):
    agency = make.agency(name=f"Meadow Carers {unique()}")
    carer, _ = make.member(agency, Role.CARER, name="Cara Carer")

    sign_in(phone, carer.email)

    expect(phone).to_have_url(f"{live_server}/a/{agency.slug}/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Welcome, Cara Carer")
    expect(phone.get_by_text(f"You are signed in to {agency.name} as Carer.")).to_be_visible()
    expect(phone.locator("header .brand")).to_have_text(agency.name)

    # no sideways scrolling on a 390px-wide screen
    widths = phone.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], widths
    assert widths["scroll"] <= phone.viewport_size["width"], widths

    # the menu is closed until tapped, then offers signing out
    sign_out = phone.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()
    phone.locator("details.account > summary").tap()
    expect(phone.locator("details.account")).to_have_attribute("open", "")
    expect(sign_out).to_be_visible()
    # a carer is not offered the admin pages
    expect(phone.get_by_role("link", name="Members", exact=True)).to_have_count(0)

    sign_out.tap()
    expect(phone).to_have_url(f"{live_server}/login")
    expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()
