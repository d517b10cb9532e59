"""Another agency's pages look exactly like pages that do not exist."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from saas.models import Role
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET, unique

NOT_FOUND = "This page does not exist, or you do not have access to it."


@pytest.mark.browser
def test_another_agencys_urls_are_404(page, make, live_server):
    a = make.agency(name=f"Agency Alder {unique()}")
    b = make.agency(name=f"Agency Birch {unique()}")
    coordinator, _ = make.member(a, Role.COORDINATOR)
    make.member(b, Role.ADMIN)  # B has people and pages of its own

    sign_in(page, coordinator.email, totp_secret=TOTP_SECRET)
    expect(page).to_have_url(f"{live_server}/a/{a.slug}/")

    # their own members page works, which makes the 404s below meaningful
    response = page.goto(f"/a/{a.slug}/members")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()

    for path in (f"/a/{b.slug}/", f"/a/{b.slug}/members"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("404")
        expect(page.get_by_text(NOT_FOUND)).to_be_visible()
        assert b.name not in page.content(), path
        expect(page).to_have_title("404 · CareHub")


@pytest.mark.browser
def test_a_malformed_id_is_404_not_500(page, make):
    agency = make.agency()
    admin, _ = make.member(agency, Role.ADMIN)  # the one role the real (POST) route serves
    sign_in(page, admin.email, totp_secret=TOTP_SECRET)

    response = page.goto(f"/a/{agency.slug}/members/not-a-uuid/role")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("404")
    expect(page.get_by_text(NOT_FOUND)).to_be_visible()
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
