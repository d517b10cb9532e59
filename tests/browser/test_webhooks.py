"""Webhooks in a real browser: the head adds one (a private address is
refused next to the URL until the operators allow it), an event is
delivered to a receiver on this machine, the delivery log shows it and the
head redelivers it; on a phone and in Chinese too. And a member makes an API
token with only some scopes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from saas import db
from saas.models import Role
from saas.platform_settings import update_platform_setting
from tests.browser.conftest import PHONE
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET, run_jobs
from tests.webhooks.test_webhooks import Receiver

pytestmark = pytest.mark.browser


def _allow_private(allowed: bool) -> None:
    update_platform_setting("webhook_private_addresses", 1 if allowed else 0, by=None)
    db.session.commit()


def test_the_head_adds_a_webhook_reads_its_log_and_redelivers(new_context, make, live_server, tmp_path):
    agency = make.agency()
    head, _ = make.member(agency, Role.ADMIN, name="Hana Head")
    author, _ = make.member(agency, Role.COORDINATOR, name="Cora Coordinator")
    receiver = Receiver()
    try:
        _allow_private(False)
        page: Page = new_context().new_page()
        sign_in(page, head.email, totp_secret=TOTP_SECRET)
        page.goto(f"/a/{agency.slug}/webhooks")
        expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("A service plan was approved").check()
        page.get_by_role("button", name="Add the webhook").click()
        expect(page.get_by_text("This URL points to a private or local network address")).to_be_visible()

        _allow_private(True)
        page.get_by_label("A service plan was approved").check()
        page.get_by_role("button", name="Add the webhook").click()
        secret = page.get_by_test_id("webhook-secret").inner_text().strip()
        assert secret.startswith("whsec_")
        page.screenshot(path=str(tmp_path / "webhooks-en.png"), full_page=True)

        item = make.service_item(agency)
        case = make.case(agency, make.client(agency), by=author)
        make.plan(agency, case, item, author=author, approver=head)
        run_jobs("webhooks.deliver")
        assert [h["CareHub-Event"] for h, _b in receiver.received] == ["plan.approved"]

        page.get_by_role("link", name=receiver.url).click()
        row = page.get_by_test_id("delivery-row")
        expect(row).to_have_attribute("data-status", "delivered")
        expect(row).to_contain_text("HTTP 204")
        row.get_by_role("button", name="Redeliver").click()
        expect(page.get_by_text("Sent again: its attempts appear below.")).to_be_visible()
        run_jobs("webhooks.deliver")
        page.reload()
        expect(page.get_by_test_id("attempts").locator("li")).to_have_count(2)
        assert len(receiver.received) == 2
        page.screenshot(path=str(tmp_path / "endpoint-en.png"), full_page=True)

        # the same head on a phone-sized window, in Chinese (a second sign-in would reuse the code)
        with db.tenant_scope(agency.id):
            db.session.get(type(head), head.id).locale = "zh_CN"
            db.session.commit()
        phone = page
        phone.set_viewport_size(PHONE["viewport"])
        phone.goto(f"/a/{agency.slug}/webhooks")
        phone.screenshot(path=str(tmp_path / "webhooks-zh-phone.png"), full_page=True)
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        expect(phone.get_by_role("heading", name="添加网络回调")).to_be_visible()
        phone.get_by_role("link", name=receiver.url).first.click()
        expect(phone.get_by_role("heading", name="投递记录")).to_be_visible()
        expect(phone.get_by_test_id("delivery-row")).to_contain_text("已完成")
        phone.screenshot(path=str(tmp_path / "endpoint-zh-phone.png"), full_page=True)
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        _allow_private(False)
        receiver.stop()


def test_a_member_makes_a_token_with_some_scopes(page: Page, make):
    agency = make.agency()
    carer, _ = make.member(agency, Role.CARER, name="Pat Carer")
    sign_in(page, carer.email)
    page.goto(f"/a/{agency.slug}/tokens")
    page.get_by_label("Token name").fill("my phone")
    page.get_by_label("Write").uncheck()
    for area in page.locator('input[name="areas"]').all():
        if area.get_attribute("value") != "scheduling":
            area.uncheck()
    page.get_by_role("button", name="Create a token").click()
    token = page.get_by_test_id("new-token").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{32}\.[\w-]+", token)
    expect(page.get_by_role("cell", name="read scheduling")).to_be_visible()
