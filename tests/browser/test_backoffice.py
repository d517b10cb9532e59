"""The back office in a real browser: the admin builds a funder's draft
invoice for March, adjusts it, issues it and downloads it, then credits
part of one line with a partial credit note; a coordinator
builds the carers' timesheets, reviews the differences, approves one and
exports it for payroll."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.backoffice.helpers import Month
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET

pytestmark = pytest.mark.browser


def test_invoice_and_timesheet_main_flows(new_context, make):
    m = Month(make)
    visits = m.plan_visits()
    m.work(visits[0], "09:02", "10:01")
    m.work(visits[1], "09:00", "09:40")  # 20 minutes short: listed for review
    m.work(visits[2], "09:00", "10:00")
    m.rule("80")
    slug = m.agency.slug

    desk: Page = new_context().new_page()
    sign_in(desk, m.admin.email, totp_secret=TOTP_SECRET)
    desk.goto(f"/a/{slug}/invoices/")
    desk.get_by_label("Payer").select_option(label="Harbour Council")
    desk.get_by_label("First day").fill("2026-03-01")
    desk.get_by_label("Last day").fill("2026-03-31")
    desk.get_by_role("button", name="Build the draft").click()
    expect(desk.get_by_text("Draft invoice built")).to_be_visible()
    expect(desk.get_by_test_id("invoice-line")).to_have_count(3)
    expect(desk.get_by_test_id("invoice-total")).to_have_text("79.98")  # 3 x 26.66 (33.33 at 80%)
    # a refused adjustment keeps nothing and says why next to the field
    desk.get_by_label("Amount (negative for a reduction)").fill("-5")
    desk.get_by_role("button", name="Add the adjustment").click()
    expect(desk.locator("#reason-error")).to_have_text("Say why.")
    desk.get_by_label("Why").fill("Visit of 5 March shortened")
    desk.get_by_role("button", name="Add the adjustment").click()
    expect(desk.get_by_text("Adjustment recorded.")).to_be_visible()
    expect(desk.get_by_test_id("invoice-total")).to_have_text("74.98")
    desk.get_by_role("button", name="Issue the invoice").click()
    expect(desk.get_by_text("Invoice INV-000001 issued.")).to_be_visible()
    expect(desk.get_by_test_id("invoice-status")).to_have_text("Issued and numbered")
    invoice_url = desk.url
    expect(desk.get_by_role("button", name="Add the adjustment")).to_have_count(0)
    pdf = desk.context.request.get(desk.get_by_test_id("invoice-pdf").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    with desk.expect_download() as download:
        desk.get_by_role("link", name="CSV for the accounts").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "document_number" and {r[0] for r in rows[1:]} == {"INV-000001"}
    assert sum(float(r[15]) for r in rows[1:]) == pytest.approx(74.98)
    # the same month for the same funder again: refused, naming the field
    desk.goto(f"/a/{slug}/invoices/")
    desk.get_by_label("Payer").select_option(label="Harbour Council")
    desk.get_by_label("First day").fill("2026-03-15")
    desk.get_by_label("Last day").fill("2026-03-31")
    desk.get_by_role("button", name="Build the draft").click()
    expect(desk.locator("#period_start-error")).to_contain_text("overlaps invoice INV-000001")

    # a partial credit note: part of the first visit's line, never more than it holds
    desk.goto(invoice_url)
    credit_rows = desk.get_by_test_id("credit-line-row")
    expect(credit_rows).to_have_count(3)  # the visits; the reduction cannot be credited
    credit_rows.first.get_by_label("Amount to credit").fill("30")
    desk.get_by_label("Why are these lines credited?").fill("Visit of 2 March cut short")
    desk.get_by_role("button", name="Issue a partial credit note").click()
    expect(desk.locator("#lines-0-amount-error")).to_have_text(
        "At most 26.66 of this line remains to credit."
    )
    expect(desk.get_by_test_id("credit-notes")).to_have_count(0)  # nothing kept
    desk.get_by_test_id("credit-line-row").first.get_by_label("Amount to credit").fill("6.66")
    desk.get_by_role("button", name="Issue a partial credit note").click()
    expect(desk.get_by_text("Credit note CN-000001 issued.")).to_be_visible()
    expect(desk.get_by_test_id("invoice-line")).to_have_count(1)
    expect(desk.get_by_test_id("invoice-total")).to_have_text("-6.66")
    desk.get_by_test_id("related-invoice").click()
    expect(desk.get_by_test_id("invoice-credited")).to_have_text("6.66")
    expect(desk.get_by_test_id("invoice-remaining")).to_have_text("68.32")
    expect(desk.get_by_test_id("line-remaining").first).to_have_text("20.00")

    office: Page = new_context().new_page()
    sign_in(office, m.coordinator.email, totp_secret=TOTP_SECRET)
    office.goto(f"/a/{slug}/timesheets/")
    office.get_by_label("First day").fill(date(2026, 3, 2).isoformat())
    office.get_by_label("Last day").fill(date(2026, 3, 15).isoformat())
    office.get_by_role("button", name="Build").click()
    expect(office.get_by_text("1 timesheet built.")).to_be_visible()
    office.get_by_test_id("timesheet-row").get_by_role("link", name="Pat Carer").click()
    expect(office.get_by_test_id("difference-row")).to_have_count(1)
    expect(office.get_by_test_id("difference-row")).to_contain_text("-20 min")
    office.get_by_role("button", name="Approve the timesheet").click()
    expect(office.get_by_test_id("timesheet-status")).to_have_text("Approved")
    with office.expect_download() as download:
        office.get_by_test_id("timesheet-csv").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0] == [
        "employee_number",
        "employee_name",
        "period_start",
        "period_end",
        "work_date",
        "pay_code",
        "hours",
    ]
    assert [r[4:] for r in rows[1:]] == [
        ["2026-03-02", "VISIT", "0.98"],
        ["2026-03-05", "VISIT", "0.67"],
        ["2026-03-09", "VISIT", "1.00"],
    ]
    office.goto(f"/a/{slug}/timesheets/")
    expect(office.get_by_test_id("payroll-exports")).to_contain_text("CSV")
