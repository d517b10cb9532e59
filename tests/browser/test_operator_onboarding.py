"""An operator signs in with two-factor and creates an agency with its first admin."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from saas import db
from saas.models import Agency, Invitation, MailMessage, Role
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET, run_jobs, unique


@pytest.mark.browser
def test_operator_creates_an_agency_and_its_admin_is_invited(page, new_context, make, live_server):
    operator = make.user(operator=True, totp=True, name="Olive Operator")
    slug = unique("onb")
    name = f"Harbour Care {slug}"
    # typed into a form: email-validator refuses special-use domains such as .test
    admin_email = f"{unique('first-admin')}@example.com"

    sign_in(page, operator.email, totp_secret=TOTP_SECRET)
    expect(page).to_have_url(f"{live_server}/operator/")
    expect(page.get_by_role("heading", name="Agencies", exact=True)).to_be_visible()

    page.get_by_role("link", name="New agency").click()
    expect(page.get_by_role("heading", name="New agency")).to_be_visible()
    page.get_by_label("Agency name").fill(name)
    page.get_by_label("Web address").fill(slug)
    page.get_by_label("Time zone").select_option("Asia/Shanghai")
    page.get_by_label("Language").and_(page.locator("#locale")).select_option(label="English")
    page.get_by_label("First admin's email").fill(admin_email)
    page.get_by_role("button", name="Create the agency").click()

    # the agency's own page
    expect(page).to_have_url(re.compile(rf"{re.escape(live_server)}/operator/agencies/[0-9a-f-]{{36}}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_text(f"Agency {name} created.")).to_be_visible()
    expect(page.get_by_test_id("agency-status")).to_have_text("Active")
    expect(page.locator("dl.facts")).to_contain_text(f"/a/{slug}/")
    expect(page.locator("dl.facts")).to_contain_text("Asia/Shanghai")

    # listed among the agencies
    page.goto("/operator/")
    row = page.locator("tbody tr").filter(has=page.get_by_role("link", name=name, exact=True))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"/a/{slug}/")
    expect(row).to_contain_text("Active")

    # the invitation is in the outbox, with its link, once the worker has mailed it
    assert run_jobs("auth.send_invitation") >= 1  # the database is shared by the session's browser tests
    page.goto("/operator/outbox")
    mail_row = page.locator("tbody tr").filter(has_text=admin_email)
    expect(mail_row).to_have_count(1)
    expect(mail_row).to_contain_text(f"You are invited to join {name}")
    mail_row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"You are invited to join {name}")
    invite_link = page.locator(f'pre.mail-body a[href^="{live_server}/invite/"]')
    expect(invite_link).to_have_count(1)
    href = invite_link.get_attribute("href")
    assert href is not None

    # what the server committed
    agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
    assert agency is not None
    assert (agency.name, agency.timezone, agency.locale, agency.status) == (
        name,
        "Asia/Shanghai",
        "en",
        "active",
    )
    with db.tenant_scope(agency.id):
        invitations = db.session.scalars(select(Invitation)).all()
    assert [(i.email, i.role, i.accepted_at) for i in invitations] == [(admin_email, Role.ADMIN, None)]
    mails = db.session.scalars(select(MailMessage).where(MailMessage.to_address == admin_email)).all()
    assert len(mails) == 1
    assert mails[0].agency_id == agency.id
    assert href in mails[0].body

    # the link really opens the invitation, for someone not signed in
    invitee = new_context().new_page()
    invitee.goto(href)
    expect(invitee.get_by_role("heading", level=1)).to_have_text(f"Join {name}")
    expect(invitee.get_by_text(admin_email)).to_be_visible()
