"""An admin opens the satisfaction statistics, changes the range, and reads
the chart and the tables."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from saas import db
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET
from tests.feedback.test_feedback_statistics import build

pytestmark = pytest.mark.browser


def test_admin_reads_the_statistics_and_changes_the_range(page: Page, make, live_server):
    data = build(make, now=db.utcnow())
    today = data.agency.today()
    slug = data.agency.slug
    sign_in(page, data.admin.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{slug}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Satisfaction").click()
    expect(page.get_by_role("heading", name="Satisfaction statistics")).to_be_visible()
    expect(page.get_by_test_id("range-shown")).to_contain_text(str(today.year))

    page.get_by_role("link", name="Last 12 months").click()
    expect(page.get_by_text("Last 12 months", exact=True)).to_have_attribute("aria-current", "true")
    chart = page.get_by_role("img", name="Mean score per month, last 12 months")
    expect(chart).to_be_visible()
    assert chart.locator("circle").count() > 0
    expect(page.get_by_test_id("by-carer").get_by_role("rowheader", name="Ann Lee")).to_be_visible()
    expect(page.get_by_test_id("by-team").get_by_role("rowheader", name="Blue team")).to_be_visible()
    expect(page.get_by_test_id("by-service-item").get_by_role("rowheader", name="Bathing")).to_be_visible()
    expect(page.get_by_test_id("complaints").get_by_role("rowheader", name="Lateness")).to_be_visible()
    # a few ratings only: no correlation matrix, and the page says why
    expect(page.get_by_test_id("correlation-too-few")).to_contain_text("need at least 30 ratings")
    expect(page.get_by_test_id("correlations")).to_have_count(0)
    # the chart's values as a table, for those who cannot see it
    expect(page.get_by_test_id("trend-table")).to_be_hidden()
    page.get_by_text("The trend as a table").click()
    expect(page.get_by_test_id("trend-table").locator("tbody tr")).to_have_count(12)

    # a day the page cannot count from is refused next to the field, not a server error
    page.get_by_label("From").fill("0001-06-01")
    page.get_by_label("To").fill("0001-06-30")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Enter a day between 1900-01-01 and 2999-12-31.").first).to_be_visible()
    expect(page.get_by_label("From")).to_have_attribute("aria-invalid", "true")

    # a custom range: the last day before the first is refused next to the field
    page.get_by_label("From").fill(f"{today.year}-{today.month:02d}-15")
    page.get_by_label("To").fill(f"{today.year}-{today.month:02d}-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The last day must be on or after the first day.")).to_be_visible()
    expect(page.get_by_label("To")).to_have_attribute("aria-invalid", "true")

    start = date(today.year - 1, today.month, 1)
    page.get_by_label("From").fill(start.isoformat())
    page.get_by_label("To").fill(today.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"start=" + start.isoformat()))
    expect(page.get_by_test_id("range-shown")).to_contain_text(str(start.year))
    expect(page.get_by_text("The last day must be on or after the first day.")).to_have_count(0)
    months = page.get_by_test_id("months").locator("tbody tr")
    expect(months).to_have_count(13)
    expect(page.get_by_role("img", name="Mean score per month, last 12 months")).to_be_visible()
