"""Every main page of the demo, as each role sees it, at desktop and phone
size (360 px) in both languages: a screenshot under test-artifacts/visual/
to be looked at, and an accessibility audit by axe-core (the npm registry's,
copied to static/vendor/ by `python -m saas.vendor --dev`) that finds no
serious or critical violation. The frame is checked on the way: the current
page is marked in the navigation, the phone's header is one row."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from saas import db, demo
from saas.config import ROOT
from saas.models import User
from tests.conftest import empty_tables
from tests.factories import login

AXE = ROOT / "static" / "vendor" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "visual"
PHONE_360 = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
SIZES = {"desktop": {}, "phone": PHONE_360}
LANGUAGES = ("en", "zh_CN")

# role -> (email, the main pages: name -> path under the agency, or an absolute path)
PAGES: dict[str, tuple[str, dict[str, str]]] = {
    "admin": (
        "admin@sunrise.example",
        {
            "home": "",
            "visits": "visits",
            "clients": "clients",
            "inbox": "feedback/inbox",
            "staff": "staff",
            "quality": "quality/",
            "members": "members",
            "not-found": "no-such-page",
        },
    ),
    "coordinator": (
        "coordinator@sunrise.example",
        {
            "home": "",
            "visits": "visits",
            "clients": "clients",
            "incidents": "incidents",
            "notifications": "notifications",
        },
    ),
    "carer": ("carer1@sunrise.example", {"home": "", "schedule": "my/schedule", "training": "my/training"}),
    "client": ("client1@sunrise.example", {"home": "", "portal": "portal", "feedback": "portal/feedback"}),
    "operator": ("operator@demo.example", {"agencies": "/operator/", "jobs": "/operator/jobs"}),
}


@pytest.fixture(scope="module")
def demo_platform(live_app, migrated) -> Iterator[None]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `python -m saas.vendor --dev`", pytrace=False)
    with live_app.app_context():
        demo.seed(force=True)
        db.session.remove()
    yield
    # committed for the live server: emptied again, or the tests after these on
    # this worker would find the demo agencies there before they seed their own
    empty_tables(migrated)


def signed_in(context: BrowserContext, live_app, live_server: str, email: str) -> None:
    """The session cookie of a completed sign-in (both factors), as
    tests.factories.login makes it, given to the browser."""
    client = live_app.test_client()
    with live_app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        login(client, user)
        db.session.remove()
    name = live_app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None
    context.add_cookies([{"name": name, "value": cookie.value, "url": live_server}])


def choose_language(page: Page, code: str) -> None:
    """From the account menu, as a person would."""
    page.locator("details.account summary").click()
    page.locator(f"details.account form.lang button[value='{code}']").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans" if code == "zh_CN" else "en")


def audit(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page."""
    # from the app's static files: the pages' policy refuses an inline script
    page.add_script_tag(url="/static/vendor/axe.min.js")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.browser
@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_look_right_and_pass_the_audit(role, demo_platform, new_context, live_app, live_server):
    email, pages = PAGES[role]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    found: list[str] = []
    for size, options in SIZES.items():
        context = new_context(**options)
        signed_in(context, live_app, live_server, email)
        page = context.new_page()
        for language in LANGUAGES:
            page.goto("/operator/" if role == "operator" else "/a/sunrise/")
            choose_language(page, language)
            for name, path in pages.items():
                url = path if path.startswith("/") else f"/a/sunrise/{path}"
                response = page.goto(url)
                assert response is not None
                assert response.status == (404 if name == "not-found" else 200), url
                check_frame(page, size, name)
                page.screenshot(path=str(ARTIFACTS / f"{role}-{name}-{size}-{language}.png"), full_page=True)
                found += [f"{url} {size} {language}: {v}" for v in audit(page)]
        context.close()
    assert not found, "\n".join(found)


def check_frame(page: Page, size: str, name: str) -> None:
    header = page.locator("header.top").bounding_box()
    assert header is not None and header["height"] <= 60  # one row, on a phone too
    if size == "desktop":
        nav = page.locator("nav.side")
        expect(nav).to_be_visible()
        if name not in ("not-found", "notifications"):  # pages outside the menu
            expect(nav.locator("[aria-current=page]")).to_have_count(1)
    else:
        expect(page.locator("nav.tabs")).to_be_visible()
        expect(page.locator("nav.side")).to_be_hidden()


@pytest.mark.browser
def test_the_phone_menu_opens_from_the_tab_bar(demo_platform, new_context, live_app, live_server):
    context = new_context(**PHONE_360)
    signed_in(context, live_app, live_server, "coordinator@sunrise.example")
    page = context.new_page()
    page.goto("/a/sunrise/")
    choose_language(page, "en")  # the account may have kept Chinese from another test
    page.goto("/a/sunrise/staff")
    tabs = page.locator("nav.tabs")
    expect(tabs.get_by_role("link", name="More")).to_have_attribute("aria-current", "true")
    tabs.get_by_role("link", name="More").click()
    side = page.locator("nav.side")
    expect(side).to_be_visible()
    expect(side.locator("[aria-current=page]")).to_have_text("Staff")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "coordinator-drawer-phone-en.png"))
    assert audit(page) == []
    side.get_by_role("link", name="Clients").click()
    expect(page).to_have_url(re.compile(r"/a/sunrise/clients$"))
    expect(tabs.get_by_role("link", name="Clients")).to_have_attribute("aria-current", "page")
    expect(side).to_be_hidden()
