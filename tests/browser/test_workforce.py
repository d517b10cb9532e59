"""An admin opens a carer's staff file with a certificate and its scan, records
a training session with attendance, and sees the carer become assignable; a
spreadsheet with one bad row saves nothing and says which row."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from saas import db
from saas.models import Role, User
from tenants.staffing.models import Certificate, StaffDocument, StaffFile
from tenants.training.models import Enrolment
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET, unique
from tests.staffing import workforce_helpers as wf


def menu(page, name: str) -> None:
    nav = page.get_by_role("navigation", name="Main")
    link = nav.get_by_role("link", name=name, exact=True)
    if not link.is_visible():  # a settings page: in the sidebar's folded group
        nav.locator("details.side-group > summary").click()
    link.click()


@pytest.mark.browser
def test_admin_adds_a_carer_who_becomes_assignable(page, make, live_app, live_server):
    agency = make.agency(name=f"Willow Home Care {unique()}")
    admin, _ = make.member(agency, Role.ADMIN, name="Ada Admin")
    type_id = wf.cert_type(live_app, agency, "First aid")
    wf.settings(live_app, agency, required={"carer": [type_id]}, pre_service_hours=8)
    wf.course(live_app, agency, title="Induction day", hours="8")
    carer_email = f"{unique('carer')}@example.com"
    today = date.today().isoformat()

    sign_in(page, admin.email, totp_secret=TOTP_SECRET)
    menu(page, "Staff")
    expect(page.get_by_role("heading", name="Staff", exact=True)).to_be_visible()

    # a new carer's staff file
    page.get_by_role("link", name="Add a staff file").click()
    page.get_by_label("Email").fill(carer_email)
    page.get_by_label("Full name").fill("Cara Carer")
    page.get_by_label("Staff role").select_option(label="Carer")
    page.get_by_label("Employment start").fill("2026-01-05")
    page.get_by_label("Skills").fill("dementia care, cooking")
    page.get_by_label("Monday").fill("08:00-12:00")
    page.get_by_role("button", name="Open the staff file").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Cara Carer")
    expect(page.get_by_text("Staff file opened.")).to_be_visible()
    box = page.locator("#assignability")
    expect(box).to_have_attribute("data-assignable", "no")
    expect(box.get_by_role("heading")).to_have_text("Cannot be assigned to visits")
    expect(box.locator("li")).to_have_text(
        [
            "0 of the 8 hours of pre-service training done.",
            "Missing a certificate their role requires: First aid.",
        ]
    )

    # the certificate, with its scan
    page.get_by_role("link", name="Add a certificate").click()
    page.get_by_label("Type").select_option(label="First aid")
    page.get_by_label("Number").fill("FA-2026-77")
    page.get_by_label("Issued by").fill("Red Cross")
    page.get_by_label("Issue date").fill("2026-01-02")
    page.get_by_label("Expiry date").fill("2029-01-02")
    page.get_by_label("Scanned document").set_input_files(
        files=[{"name": "first-aid.pdf", "mimeType": "application/pdf", "buffer": wf.PDF}]
    )
    page.get_by_role("button", name="Add the certificate").click()
    expect(page.get_by_text("Certificate added.")).to_be_visible()
    row = page.locator('tr[data-certificate="FA-2026-77"]')
    expect(row).to_contain_text("First aid")
    expect(row).to_contain_text("Valid")
    with page.expect_download() as download:
        row.get_by_role("link", name="Download the scan").click()
    assert download.value.suggested_filename == "first-aid.pdf"
    expect(box.locator("li")).to_have_text(["0 of the 8 hours of pre-service training done."])

    # a training session today, with the carer's attendance
    menu(page, "Training")
    page.get_by_role("link", name="Induction day").click()
    page.get_by_label("Date").fill(today)
    page.get_by_label("Trainer").fill("Tess Trainer")
    page.get_by_label("Place or link").fill("Meeting room 2")
    page.get_by_label("Places").fill("12")
    page.get_by_role("button", name="Plan the session").click()
    expect(page.get_by_text("Session planned.")).to_be_visible()
    page.get_by_label("Email or staff number").fill(carer_email)
    page.get_by_role("button", name="Enrol").click()
    expect(page.get_by_text("Enrolled.")).to_be_visible()
    trainee = page.locator(f'tr[data-trainee="{carer_email}"]')
    trainee.get_by_label("Attendance of Cara Carer").select_option(label="Completed")
    trainee.get_by_label("Hours attended by Cara Carer").fill("8")
    page.get_by_role("button", name="Save attendance").click()
    expect(page.get_by_text("Attendance saved.")).to_be_visible()

    # now the carer can be sent to visits
    menu(page, "Staff")
    listed = page.locator(f'tr[data-staff="{carer_email}"]')
    expect(listed.locator("td.assignable")).to_contain_text("Yes")
    listed.get_by_role("link", name="Cara Carer").click()
    expect(page.locator("#assignability")).to_have_attribute("data-assignable", "yes")
    expect(page.locator("#assignability h2")).to_have_text("Can be assigned to visits")
    expect(page.locator("#training")).to_contain_text("8 of 8 hours")

    with db.tenant_scope(agency.id):
        staff = db.session.scalar(select(StaffFile))
        assert staff.skills == ["dementia care", "cooking"]
        assert db.session.scalar(select(Certificate.number)) == "FA-2026-77"
        assert db.session.scalar(select(StaffDocument.data)) == wf.PDF
        assert db.session.scalar(select(Enrolment.status)) == "completed"


@pytest.mark.browser
def test_an_import_with_one_bad_row_saves_nothing_and_names_the_row(page, make, live_server):
    agency = make.agency(name=f"Birch Care {unique()}")
    admin, _ = make.member(agency, Role.ADMIN, name="Ada Admin")
    emails = [f"{unique(n)}@example.com" for n in ("ann", "ben", "cat")]
    rows = [
        f"{emails[0]},Ann Able,carer,2026-01-05",
        f"{emails[1]},Ben Best,carer,5 January",
        f"{emails[2]},Cat Cole,coordinator,2026-02-01",
    ]
    csv = ("email,name,staff_role,employment_start\n" + "\n".join(rows) + "\n").encode()

    sign_in(page, admin.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{agency.slug}/staff")
    page.get_by_role("link", name="Import staff").click()
    page.get_by_label("Spreadsheet").set_input_files(
        files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": csv}]
    )
    page.get_by_role("button", name="Check the file").click()

    problems = page.get_by_test_id("import-problems")
    expect(problems).to_contain_text("1 of 3 rows have problems. Nothing will be saved")
    expect(problems.locator("li")).to_have_text(["Row 3: employment_start: Enter a date as YYYY-MM-DD."])
    expect(page.locator('tr[data-row="3"]')).to_have_class("has-error")
    expect(page.get_by_role("button", name="Save all 3 rows")).to_have_count(0)
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email.in_(emails))) == 0
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(StaffFile)) == 0

    # fixed, it saves all three
    page.get_by_role("button", name="Discard").click()
    expect(page.get_by_text("Import discarded. Nothing was saved.")).to_be_visible()
    page.get_by_role("link", name="Import staff").click()
    fixed = csv.replace(b"5 January", b"2026-01-05")
    page.get_by_label("Spreadsheet").set_input_files(
        files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": fixed}]
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("import-ok")).to_have_text("All 3 rows are ready to save.")
    page.get_by_role("button", name="Save all 3 rows").click()
    expect(page.get_by_text("3 rows saved.")).to_be_visible()
    expect(page.locator("tr[data-staff]")).to_have_count(3)
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(StaffFile)) == 3
