"""A coordinator logs today's opinion box, records a stakeholder opinion
round and a funder visit, and sees the overdue markers go."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from saas import db
from saas.models import Role
from tenants.outreach import services
from tenants.outreach.models import BoxLog
from tenants.staffing import teams
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET, unique

pytestmark = pytest.mark.browser


def menu(page: Page, name: str) -> None:
    nav = page.get_by_role("navigation", name="Main")
    link = nav.get_by_role("link", name=name, exact=True)
    if not link.is_visible():  # a settings page: in the sidebar's folded group
        nav.locator("details.side-group > summary").click()
    link.click()


def test_coordinator_logs_box_round_and_funder_visit(page: Page, make, live_server):
    agency = make.agency(name=f"Outreach Care {unique()}")
    coordinator, _ = make.member(agency, Role.COORDINATOR, name="Cora Ordinator")
    with make.app.test_request_context(), db.tenant_scope(agency.id):
        services.add_location(agency, "Front office")
        teams.create_team(teams.TeamInput(name="North team"))
        services.create_funder(services.FunderData(name="Civil affairs bureau"))
        db.session.commit()

    sign_in(page, coordinator.email, totp_secret=TOTP_SECRET)

    # the opinion box: today is due, log it
    menu(page, "Opinion box")
    expect(page.get_by_role("heading", name="Opinion box log")).to_be_visible()
    today_cell = page.locator('[data-testid="box-cell"][data-state="due"]')
    expect(today_cell).to_have_count(1)
    today_cell.get_by_role("link", name="Log today").click()
    page.get_by_label("Number of slips found").fill("-1")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#slips-error")).to_have_text("This cannot be negative.")
    page.get_by_label("Number of slips found").fill("2")
    page.get_by_label("Notes").fill("Two opinions about lunch times")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Opinion box logged.")).to_be_visible()
    # each slip becomes a feedback item counted against the day
    expect(page.get_by_test_id("slips-entered")).to_contain_text("0 of 2 slips entered as feedback.")
    log_url = page.url
    page.get_by_role("link", name="Enter the next slip").click()
    expect(page.get_by_label("Received")).to_have_value("opinion_box")
    expect(page.get_by_test_id("box-slip")).to_be_visible()
    page.get_by_label("Tell us what happened").fill("Lunch comes too early")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Recorded.")).to_be_visible()
    page.goto(log_url)
    expect(page.get_by_test_id("slips-entered")).to_contain_text("1 of 2 slips entered as feedback.")
    page.get_by_role("link", name="Back to the opinion box log").click()
    expect(page.locator('[data-testid="box-cell"][data-state="opened"]')).to_have_count(1)
    expect(page.locator('[data-testid="box-cell"][data-state="due"]')).to_have_count(0)
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(BoxLog.slips)) == 2
    db.session.remove()

    # stakeholder rounds: all three groups overdue, record the clients' round
    menu(page, "Stakeholder opinion rounds")
    overdue = page.locator('[data-testid="round-cell"][data-overdue="yes"]')
    expect(overdue).to_have_count(3)
    clients = page.locator('[data-testid="round-cell"][data-group="clients"]')
    clients.get_by_role("link", name="Record").click()
    expect(page.get_by_label("Team").locator("option:checked")).to_have_text("North team")
    expect(page.get_by_label("Stakeholder group").locator("option:checked")).to_have_text("Clients")
    page.get_by_label("Method").select_option(label="Survey")
    page.get_by_label("Participants").fill("12")
    page.get_by_label("Opinions collected").fill("7")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#summary-error")).to_have_text("This is required.")
    page.get_by_label("Summary of the opinions").fill("Clients want visits before 9")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Opinion round recorded.")).to_be_visible()
    expect(overdue).to_have_count(2)
    expect(clients).to_have_attribute("data-overdue", "no")

    # funder return visits: this month is due until a visit is recorded
    menu(page, "Funder return visits")
    current = page.locator('[data-testid="funder-month"]').last
    expect(current).to_have_attribute("data-state", "due")
    page.get_by_role("link", name="Record a funder visit").click()
    page.get_by_label("Funder", exact=True).select_option(label="Civil affairs bureau")
    page.get_by_label("Who attended").fill("Director Li")
    page.get_by_label("Topics discussed").fill("Monthly service report")
    page.get_by_label("Findings and requests").fill("More weekend visits")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Funder visit recorded.")).to_be_visible()
    expect(page.locator('[data-testid="funder-month"]').last).to_have_attribute("data-state", "ok")
    expect(page.get_by_test_id("funder-visit-row")).to_contain_text("Monthly service report")
