"""The first admin accepts the emailed invitation, turns on two-factor and invites a carer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from saas import db
from saas.auth.totp import for_secret
from saas.models import Invitation, MailMessage, Membership, Role, User
from tests.factories import run_jobs, unique

GOOD_PASSWORD = "Blue-kettle-harbour-42"


def _fill_invitation(page, name: str, password: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Repeat the new password").fill(password)
    page.get_by_role("button", name="Create my account").click()


@pytest.mark.browser
def test_admin_accepts_invitation_enrols_two_factor_and_invites_a_carer(page, make, live_server):
    agency = make.agency(name=f"Riverside Home Care {unique()}")
    # typed into forms later: email-validator refuses special-use domains such as .test
    admin_email = f"{unique('admin')}@example.com"
    carer_email = f"{unique('carer')}@example.com"
    invitation, token = make.invitation(agency, admin_email, Role.ADMIN)

    page.goto(f"/invite/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Join {agency.name}")
    expect(page.get_by_text(admin_email)).to_be_visible()
    _fill_invitation(page, "Ada Admin", GOOD_PASSWORD)

    # admins must turn on two-factor before anything else
    expect(page).to_have_url(f"{live_server}/account/two-factor")
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret  # 160 bits, base32
    page.get_by_label("Six-digit code").fill(for_secret(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page).to_have_url(f"{live_server}/a/{agency.slug}/")
    expect(page.get_by_text("Two-factor sign-in is on.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ada Admin")
    expect(page.get_by_text(f"You are signed in to {agency.name} as Agency admin.")).to_be_visible()

    user = db.session.scalar(select(User).where(User.email == admin_email))
    assert user is not None
    assert user.name == "Ada Admin"
    assert user.totp_secret == secret
    with db.tenant_scope(agency.id):
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        accepted = db.session.scalar(select(Invitation.accepted_at).where(Invitation.id == invitation.id))
    assert membership is not None and membership.role == Role.ADMIN and membership.active
    assert accepted is not None

    # Members, through the sidebar's administration group
    page.get_by_text("Settings and administration", exact=True).click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members", exact=True).click()
    expect(page).to_have_url(f"{live_server}/a/{agency.slug}/members")
    expect(page.locator("tr[data-member]")).to_have_count(1)
    expect(page.locator(f'tr[data-member="{admin_email}"]')).to_contain_text("Agency admin")

    invite_form = page.locator("form[action$='/members/invite']")
    invite_form.get_by_label("Email").fill(carer_email)
    invite_form.get_by_label("Role").select_option(label="Carer")
    invite_form.get_by_role("button", name="Send the invitation").click()

    expect(page).to_have_url(f"{live_server}/a/{agency.slug}/members")
    expect(page.get_by_text(f"Invitation sent to {carer_email}.")).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting for an answer")).to_be_visible()
    waiting = page.locator("ul.list li").filter(has_text=carer_email)
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".tag")).to_have_text("Carer")
    # the worker makes the link and mails it after the request
    expect(waiting.get_by_test_id("being-sent")).to_have_text("being sent")
    assert run_jobs("auth.send_invitation") >= 1  # the database is shared by the session's browser tests
    page.reload()
    expect(waiting).to_have_count(1)
    expect(waiting.get_by_test_id("being-sent")).to_have_count(0)

    with db.tenant_scope(agency.id):
        pending = db.session.scalars(select(Invitation).where(Invitation.email == carer_email)).all()
    assert [(i.role, i.invited_by_id, i.accepted_at) for i in pending] == [(Role.CARER, user.id, None)]
    mail = db.session.scalar(select(MailMessage).where(MailMessage.to_address == carer_email))
    assert mail is not None
    assert mail.subject == f"You are invited to join {agency.name}"
    assert f"{live_server}/invite/" in mail.body
    assert "as Carer" in mail.body


@pytest.mark.browser
def test_a_weak_password_is_refused_next_to_the_field(page, make):
    agency = make.agency()
    email = f"{unique('weak')}@example.com"
    invitation, token = make.invitation(agency, email, Role.ADMIN)

    page.goto(f"/invite/{token}")
    _fill_invitation(page, "Wes Weak", "short")

    password = page.get_by_label("New password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_attribute("aria-describedby", "password-error")
    expect(page.locator("#password-error")).to_have_text("Use at least 12 characters.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Join {agency.name}")

    assert db.session.scalar(select(User.id).where(User.email == email)) is None
    with db.tenant_scope(agency.id):
        accepted = db.session.scalar(select(Invitation.accepted_at).where(Invitation.id == invitation.id))
    assert accepted is None
