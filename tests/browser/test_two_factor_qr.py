"""The two-factor enrolment code scans: the page's QR code, as the browser
draws it, is read by a real QR decoder and carries the otpauth URI of the
key shown beside it (a code cut at its corners reads as nothing)."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import unique


def _decoded(element) -> list[str]:
    image = Image.open(io.BytesIO(element.screenshot()))
    return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.browser
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_enrolment_qr_code_decodes_to_the_key(page, phone, make, size):
    tab = page if size == "desktop" else phone
    email = f"{unique('qr')}@example.com"
    make.user(email)
    sign_in(tab, email)
    tab.goto("/account/two-factor")
    expect(tab.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    secret = tab.get_by_test_id("totp-secret").inner_text().strip()
    code = tab.locator(".qr svg")
    box = code.bounding_box()
    assert box is not None and box["width"] >= 150 and abs(box["width"] - box["height"]) < 1
    texts = _decoded(code)
    assert len(texts) == 1, texts
    uri = urlparse(texts[0])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert email in unquote(uri.path)
    assert parse_qs(uri.query)["secret"] == [secret]
