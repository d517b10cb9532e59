"""Steps several browser tests share: signing in through the real pages."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from saas.auth.totp import for_secret
from tests.factories import PASSWORD


def sign_in(page: Page, email: str, password: str = PASSWORD, *, totp_secret: str | None = None) -> None:
    """Sign in at /login; with a TOTP secret, also pass the two-factor page."""
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if totp_secret is not None:
        expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
        page.get_by_label("Six-digit code").fill(for_secret(totp_secret).now())
        page.get_by_role("button", name="Continue").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
