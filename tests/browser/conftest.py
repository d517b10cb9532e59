"""Browser tests: the real app served over HTTP, driven by Debian's Chromium.

Unlike the rest of the suite, nothing here runs inside a rolled-back
transaction: the server answers the browser from other threads and other
connections, so test data is really committed. The database is shared by every
test of the session, so every agency, slug and email is unique (the factories
see to that).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from werkzeug.serving import make_server

from saas import db
from saas.app import job_app
from tests.conftest import bind_sessions_to_engine, make_config
from tests.factories import Factory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
}
TIMEOUT_MS = 15_000

expect.set_options(timeout=TIMEOUT_MS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Keep each phase's report on the item, so fixtures know a test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _failed(item: pytest.Item) -> bool:
    return any(getattr(getattr(item, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))


@pytest.fixture(scope="session")
def live_app(services: dict[str, object], migrated: str):
    from saas.app import create_app

    application = create_app(make_config(services, WTF_CSRF_ENABLED=True))
    bind_sessions_to_engine()
    return application


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    live_app.config["BASE_URL"] = base_url
    # jobs (tests.factories.run_jobs) run in the worker's app, made from the
    # environment as `saas worker` does: its emailed links name this server too
    previous_base_url = os.environ.get("BASE_URL")
    os.environ["BASE_URL"] = base_url
    # a worker started now: one made earlier in this process (a job run by
    # another test first) would still mail links to the earlier base URL
    job_app.cache_clear()
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        if previous_base_url is None:
            os.environ.pop("BASE_URL", None)
        else:
            os.environ["BASE_URL"] = previous_base_url
        job_app.cache_clear()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(autouse=True)
def _fresh_state(live_app) -> Iterator[None]:
    """Sign-in rate limits live in Redis: never let one test's attempts reach another.
    And rebind the sessions, in case a rolled-back (`dbconn`) test ran before
    this one in the same process and left them configured otherwise."""
    from saas.jobs import redis_connection

    bind_sessions_to_engine()
    conn = redis_connection(live_app.config["REDIS_URL"])
    conn.flushdb()
    yield
    conn.flushdb()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: install Debian's package "
            "(apt-get install chromium); these tests never download a browser.",
            pytrace=False,
        )
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_context(browser: Browser, live_server: str, request: pytest.FixtureRequest):
    """Open browser contexts (each one a separate person); closed after the test,
    with a screenshot of every open page when the test failed."""
    opened: list[BrowserContext] = []

    def open_context(**options: object) -> BrowserContext:
        context = browser.new_context(base_url=live_server, **{**DESKTOP, **options})
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield open_context

    failed = _failed(request.node)
    artifacts = request.config.rootpath / "test-artifacts"
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    shot = 0
    for context in opened:
        if failed:
            for pg in context.pages:
                artifacts.mkdir(exist_ok=True)
                shot += 1
                suffix = "" if shot == 1 else f"-{shot}"
                try:
                    pg.screenshot(path=str(artifacts / f"{name}{suffix}.png"), full_page=True)
                except Exception as exc:  # noqa: BLE001 - a screenshot must not hide the failure
                    print(f"screenshot failed: {exc}")
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    """A desktop-sized (1280x800) page in a fresh context."""
    return new_context().new_page()


@pytest.fixture
def phone(new_context: Callable[..., BrowserContext]) -> Page:
    """A phone-sized page (390x844, touch, a phone's user agent) in a fresh context."""
    return new_context(**PHONE).new_page()


@pytest.fixture
def make(live_app) -> Iterator[Factory]:
    """Factories writing committed data (each factory method commits)."""
    with live_app.app_context():
        try:
            yield Factory(live_app)
        finally:
            db.session.remove()
