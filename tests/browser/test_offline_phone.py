"""The carer's phone without signal, in a real browser: the app is installed
(manifest, service worker), the next 7 days are kept on the phone, check-in,
check-out and an incident report made offline wait in a queue shown on every
page, and once the network is back each is sent exactly once with the phone's
time; a visit given to another carer meanwhile is refused in plain words;
presence by the home's QR code; the page's weight on first load."""

from __future__ import annotations

import gzip
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import segno
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from saas import db
from saas.models import AuditEvent, IdempotencyKey
from tenants.clients.models import Client
from tenants.incidents.models import Incident
from tenants.scheduling import services
from tenants.scheduling.models import ServiceRecord, Visit
from tests.browser.helpers import sign_in
from tests.scheduling.test_scheduling import World

pytestmark = pytest.mark.browser


def _visit(world, visit_id) -> Visit:
    return db.session.scalar(
        select(Visit).where(Visit.id == visit_id).execution_options(populate_existing=True)
    )


def _count(world, model, *where) -> int:
    with db.tenant_scope(world.agency.id):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


# zones far enough apart that at any instant one of them is in its working day
ZONES = ("Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Kolkata", "Asia/Shanghai")
ZONES += ("Pacific/Auckland",)


def _daytime_zone() -> str:
    """A zone where both of today's visits (the second ends three hours from
    now) fall on the agency's today, whatever the hour the suite runs at."""
    now = datetime.now(UTC)
    return next(z for z in ZONES if 6 <= now.astimezone(ZoneInfo(z)).hour < 20)


def _today_visits(make, *, presence_mode: str = "position"):
    """A carer with two visits today: one starting in five minutes, one in two hours."""
    world = World(make, tz=_daytime_zone())
    world.activate()
    carer_user, carer = world.carer(name="Pat Carer")
    first, second = world.visits()[:2]
    with db.tenant_scope(world.agency.id):
        now = db.utcnow()
        for visit, start in ((first, timedelta(minutes=5)), (second, timedelta(hours=2))):
            row = _visit(world, visit.id)
            services.assign(world.agency, row, carer.id, by=None, role="coordinator")
            row.starts_at, row.ends_at = now + start, now + start + timedelta(minutes=60)
        client = db.session.get(Client, (world.agency.id, world.client.id))
        client.presence_mode = presence_mode
        client.phone = "020 7946 0000"
        client.access_notes = "Key safe by the back door, code 4721."
        db.session.commit()
    return world, carer_user, first.id, second.id


def _installed(phone: Page) -> None:
    """The service worker controls the page and the 7-day copy is saved."""
    phone.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    expect(phone.get_by_test_id("phone-status")).to_contain_text("Saved on this phone")


def _queue(phone: Page) -> list[dict]:
    return phone.evaluate(
        """async () => {
            const config = JSON.parse(document.getElementById("carehub-phone").textContent);
            const db = await CarehubQueue.open(config.scope);
            const rows = await CarehubQueue.all(db, "queue");
            db.close();
            return rows;
        }"""
    )


def test_offline_visit_is_queued_and_sent_exactly_once(phone: Page, make, live_server):
    world, carer_user, visit_id, other_id = _today_visits(make)
    slug = world.agency.slug
    sign_in(phone, carer_user.email)
    phone.goto(f"/a/{slug}/my/schedule")
    manifest = phone.locator("link[rel=manifest]").get_attribute("href")
    assert manifest == f"/a/{slug}/app.webmanifest"
    document = phone.request.get(manifest).json()
    assert document["scope"] == f"/a/{slug}/" and document["start_url"] == f"/a/{slug}/my/schedule"
    assert {i["sizes"] for i in document["icons"]} >= {"192x192", "512x512"}
    _installed(phone)

    context = phone.context
    context.set_offline(True)
    # the visit's sheet from the copy: address with map links, calls, tasks
    phone.locator(f".visit-card[data-visit='{visit_id}'] a").click()
    expect(phone.get_by_text("3 Mill Lane")).to_be_visible()
    expect(phone.get_by_test_id("phone-status")).to_contain_text("No signal")
    expect(phone.get_by_test_id("map-geo")).to_have_attribute("href", re.compile(r"^geo:51\.5"))
    expect(phone.get_by_test_id("map-web")).to_have_attribute("href", re.compile(r"^https://"))
    expect(phone.get_by_test_id("call-client")).to_have_attribute("href", "tel:02079460000")
    expect(phone.get_by_test_id("access-notes")).to_have_text("Key safe by the back door, code 4721.")
    call = phone.get_by_test_id("emergency-contacts").get_by_role("link", name="Kit Carver (daughter)")
    expect(call).to_have_attribute("href", "tel:07700900123")

    phone.get_by_role("button", name="Check in").click()
    expect(phone.get_by_test_id("queue-badge")).to_have_text("Waiting to send (1)")
    expect(phone.get_by_test_id("queued-check-in")).to_contain_text("waiting to send")
    expect(phone.get_by_role("button", name="Check in")).to_be_hidden()
    phone.get_by_role("link", name="Check out and write the record").click()
    phone.get_by_label("Safe transfer").check()
    # nothing to say what was done: told next to the field, nothing queued
    phone.get_by_role("button", name="Check out").click()
    expect(phone.get_by_text("This field is required.")).to_be_visible()
    phone.get_by_label("What was done").fill("Bathed, dressed, breakfast")
    # moments after check-in: shorter than a quarter of the visit, so a reason is asked
    phone.get_by_label("Reason", exact=True).fill("Left early: her daughter arrived.")
    phone.get_by_role("button", name="Check out").click()
    expect(phone).to_have_url(re.compile(r"/my/schedule$"))
    expect(phone.get_by_test_id("queue-badge")).to_have_text("Waiting to send (2)")
    expect(phone.get_by_text("Saved on this phone: it will be sent when there is signal.")).to_be_visible()

    # an incident, reported from the visit without signal
    phone.locator(f".visit-card[data-visit='{visit_id}'] a").click()
    phone.get_by_test_id("report-incident").click()
    phone.get_by_label("What happened", exact=True).select_option("fall")
    phone.get_by_label("How serious").select_option("minor")
    phone.get_by_label("Where it happened").fill("Bathroom")
    phone.get_by_label("Describe what happened").fill("Slipped getting out of the bath; no injury.")
    phone.get_by_role("button", name="Send the report").click()
    # the form goes back to the visit once queued: wait for that navigation, or the
    # next goto races it (ERR_ABORTED)
    expect(phone).to_have_url(re.compile(rf"/visits/{visit_id}$"))
    expect(phone.get_by_test_id("queue-badge")).to_have_text("Waiting to send (3)")

    # the second visit: checked in offline, but the office gave it to another carer meanwhile
    phone.goto(f"/a/{slug}/my/schedule")
    phone.locator(f".visit-card[data-visit='{other_id}'] a").click()
    phone.get_by_role("button", name="Check in").click()
    expect(phone.get_by_test_id("queue-badge")).to_have_text("Waiting to send (4)")
    _user, other_carer = world.carer(name="Olu Other")
    with db.tenant_scope(world.agency.id):
        row = _visit(world, other_id)
        services.unassign(row)
        services.assign(world.agency, row, other_carer.id, by=None, role="coordinator")
        db.session.commit()

    # closed and opened again, still without signal: everything is there
    sent = _queue(phone)
    phone.close()
    phone = context.new_page()
    phone.goto(f"/a/{slug}/my/schedule")
    expect(phone.get_by_test_id("queue-badge")).to_have_text("Waiting to send (4)")
    expect(phone.locator(f".visit-card[data-visit='{visit_id}'] .queued-tag")).to_be_visible()
    assert _count(world, AuditEvent, AuditEvent.action == "visit.checked_in") == 0

    # the signal comes back: sent in order, once; the refusal in plain words
    context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.get_by_test_id("queue-badge")).to_be_hidden()
    problems = phone.get_by_test_id("phone-problems")
    expect(problems).to_contain_text("This visit was given to another carer")
    with db.tenant_scope(world.agency.id):
        done = _visit(world, visit_id)
        assert done.status == "completed"
        assert done.checkin_phone_at is not None and done.checkin_received_at > done.checkin_phone_at
        assert done.checkout_phone_at is not None and done.checkout_received_at >= done.checkout_phone_at
        assert done.checked_in_at < done.checked_out_at
        assert _visit(world, other_id).checked_in_at is None
    assert _count(world, AuditEvent, AuditEvent.action == "visit.checked_in") == 1
    assert _count(world, AuditEvent, AuditEvent.action == "visit.checked_out") == 1
    assert _count(world, ServiceRecord) == 1
    assert _count(world, Incident) == 1

    # the same queue sent again (an answer lost on the way): nothing twice
    replay = phone.evaluate(
        """async (entries) => {
            const config = JSON.parse(document.getElementById("carehub-phone").textContent);
            const db = await CarehubQueue.open(config.scope);
            for (const e of entries) { delete e.seq; await db.add("queue", e); }
            const result = await CarehubQueue.flush(db, null);
            db.close();
            return result;
        }""",
        sent,
    )
    assert replay["sent"] == 4 and replay["stopped"] is None
    assert _count(world, AuditEvent, AuditEvent.action == "visit.checked_in") == 1
    assert _count(world, ServiceRecord) == 1
    assert _count(world, Incident) == 1
    assert _count(world, IdempotencyKey) == 3  # the refused check-in kept none

    # the carer reads the refusal and dismisses it
    phone.reload()
    phone.get_by_test_id("phone-problems").get_by_role("button", name="I have read this").first.click()

    # no sideways scrolling at 360 px
    phone.set_viewport_size({"width": 360, "height": 780})
    for path in (f"/a/{slug}/my/schedule", f"/a/{slug}/visits/{visit_id}"):
        phone.goto(path)
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path

    # signing out removes the copy, the queue and the phone's token
    phone.goto(f"/a/{slug}/my/schedule")
    phone.locator("details.account > summary").click()
    phone.get_by_role("button", name="Sign out").click()
    expect(phone).to_have_url(re.compile(r"/login"))
    left = phone.evaluate(
        "async () => (await caches.keys()).filter(n => n.startsWith('carehub-pages'))"
        ".concat((await indexedDB.databases()).map(d => d.name))"
    )
    assert left == []
    from saas.models import ApiToken

    with db.tenant_scope(world.agency.id):
        assert (
            db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None)))
            == 0
        )


def _code_image(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def test_presence_by_the_homes_code(phone: Page, make, live_server):
    world, carer_user, visit_id, _other = _today_visits(make, presence_mode="qr")
    with db.tenant_scope(world.agency.id):
        client = db.session.get(Client, (world.agency.id, world.client.id))
        old = services.presence_code(client)
        client.presence_code_version += 1  # a lost sheet: the office printed a new one
        code = services.presence_code(client)
        db.session.commit()
    sign_in(phone, carer_user.email)
    phone.goto(f"/a/{world.agency.slug}/visits/{visit_id}")
    scan = phone.get_by_test_id("scan-code")
    # the old sheet's code: refused on the phone, nothing sent
    scan.set_input_files({"name": "old.png", "mimeType": "image/png", "buffer": _code_image(old)})
    expect(phone.get_by_text("This code was replaced and no longer counts.")).to_be_visible()
    # a photo with no code in it
    blank = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(blank, format="PNG")
    scan.set_input_files({"name": "blank.png", "mimeType": "image/png", "buffer": blank.getvalue()})
    expect(phone.get_by_text("No code found in the photo.")).to_be_visible()
    scan.set_input_files({"name": "code.png", "mimeType": "image/png", "buffer": _code_image(code)})
    expect(phone.get_by_test_id("visit-status")).to_have_text("In progress")
    # and as the carer leaves
    phone.get_by_role("link", name="Check out and write the record").click()
    phone.get_by_label("Safe transfer").check()
    phone.get_by_label("Skin check").check()
    phone.get_by_label("What was done").fill("Bathed")
    # moments after check-in: shorter than a quarter of the visit, so a reason is asked
    phone.get_by_label("Reason", exact=True).fill("Left early: her daughter arrived.")
    phone.get_by_test_id("scan-code").set_input_files(
        {"name": "code.png", "mimeType": "image/png", "buffer": _code_image(code)}
    )
    expect(phone.get_by_text("Code read: it goes with the check-out.")).to_be_visible()
    phone.get_by_role("button", name="Check out").click()
    expect(phone.get_by_text("Checked out. Thank you.")).to_be_visible()
    with db.tenant_scope(world.agency.id):
        row = _visit(world, visit_id)
        assert row.checkin_presence == "qr" and not row.presence_missing
        assert row.checkout_presence == "qr"


def test_schedule_weight_and_repeat_load(phone: Page, make, live_server):
    """The schedule page and what it loads weigh at most 150 KB compressed on
    first load; a repeat load from the phone's copy is measured and reported."""
    world, carer_user, _visit_id, _other = _today_visits(make)
    sign_in(phone, carer_user.email)
    slug = world.agency.slug
    phone.goto(f"/a/{slug}/my/schedule")
    _installed(phone)
    # what the first load brings: the page, what it loads (some of it from the
    # browser's memory after the sign-in page: counted all the same), the
    # service worker and the files it keeps; each as the server sends it, compressed
    urls = phone.evaluate(
        """() => [location.href].concat(performance.getEntriesByType("resource")
            .filter(e => !["fetch", "xmlhttprequest"].includes(e.initiatorType)).map(e => e.name))"""
    )
    urls += [f"{live_server}/a/{slug}/sw.js"] + [
        f"{live_server}/static/{p}"
        for p in ("css/app.css", "js/phone.js", "js/phone-queue.js", "js/checkin.js", "vendor/idb.js")
    ]
    sizes = {}
    for url in dict.fromkeys(u.split("#")[0] for u in urls):
        response = phone.request.get(url)
        assert response.ok, url
        sizes[url.removeprefix(live_server)] = len(gzip.compress(response.body(), 6))
    compressed = sum(sizes.values())
    print(f"\nschedule first load: {len(sizes)} files, {compressed / 1024:.1f} KB gzip: {sizes}")
    assert compressed <= 150 * 1024, sizes
    copy = phone.evaluate(
        """async (scope) => {
            const cache = await caches.open("carehub-pages:" + scope);
            const pages = {};
            for (const r of await cache.keys()) {
                pages[r.url] = await (await cache.match(r)).text();
            }
            return pages;
        }""",
        f"/a/{slug}/",
    )
    named = phone.evaluate(
        """() => {
            const config = JSON.parse(document.getElementById("carehub-phone").textContent);
            const cards = document.querySelectorAll("[data-offline-urls]");
            const urls = Array.from(cards, c => c.dataset.offlineUrls.split(" ")).flat();
            return [config.schedule].concat(urls).filter(u => u).map(u => new URL(u, location.href).href);
        }"""
    )
    kept = sum(len(gzip.compress(t.encode(), 6)) for t in copy.values())
    print(f"the 7-day copy kept by the service worker: {len(copy)} pages, {kept / 1024:.1f} KB gzip")
    # the schedule; each open visit's sheet, check-out and incident pages
    assert len(named) == 1 + 3 * 2 and set(copy) == set(named), (sorted(named), sorted(copy))

    phone.context.set_offline(True)
    phone.reload()
    expect(phone.get_by_test_id("phone-status")).to_contain_text("No signal")
    timing = phone.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd}; }"
    )
    print(f"schedule repeat load from the phone's copy: DOMContentLoaded {timing['dcl']:.0f} ms")


def test_the_copy_goes_when_the_membership_ends(phone: Page, make, live_server, live_app):
    world, carer_user, _visit_id, _other = _today_visits(make)
    slug = world.agency.slug
    sign_in(phone, carer_user.email)
    phone.goto(f"/a/{slug}/my/schedule")
    _installed(phone)
    stored = "async () => (await caches.keys()).filter(n => n.startsWith('carehub-pages')).length"
    assert phone.evaluate(stored) == 1
    from saas.models import Membership, User
    from tenants.members import services as members

    with live_app.test_request_context(), db.tenant_scope(world.agency.id):
        membership = db.session.scalar(select(Membership).where(Membership.user_id == carer_user.id))
        admin = db.session.get(User, world.admin.id)
        members.deactivate(membership, by=admin)
        db.session.commit()
    response = phone.goto(f"/a/{slug}/my/schedule")
    assert response.status == 404
    phone.wait_for_function(
        "async () => (await caches.keys()).filter(n => n.startsWith('carehub-pages')).length === 0"
    )


def test_the_same_request_sent_twice_at_once_is_taken_once(make, live_server):
    """Two sendings of one queued report at the same moment (the page and the
    service worker's background sync): the second waits for the first and
    gets its answer; one incident."""
    import json
    import threading
    import urllib.request

    world, _carer_user, visit_id, _other = _today_visits(make)
    from saas.models import Membership
    from tenants.staffing.models import StaffFile

    with db.tenant_scope(world.agency.id):
        membership = db.session.scalar(
            select(Membership)
            .join(StaffFile, StaffFile.membership_id == Membership.id)
            .where(StaffFile.id == _visit(world, visit_id).staff_file_id)
        )
        token = make.api_token(membership)
    body = json.dumps(
        {
            "type": "fall",
            "severity": "minor",
            "occurred_at": (db.utcnow() - timedelta(minutes=5)).isoformat(),
            "place": "Hall",
            "description": "Tripped on the rug.",
            "visit_id": str(visit_id),
        }
    ).encode()
    answers: list[dict] = []
    start = threading.Barrier(4)

    def send() -> None:
        request = urllib.request.Request(
            f"{live_server}/api/v1/incidents",
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": "report-at-once",
            },
        )
        start.wait()
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append({"status": response.status, "id": json.loads(response.read())["id"]})

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a["status"] for a in answers] == [200] * 4
    assert len({a["id"] for a in answers}) == 1
    assert _count(world, Incident) == 1


def test_a_form_posted_on_a_signal_that_fails_is_queued(phone: Page, make, live_server):
    """The phone believes it is online (a bar of signal, no data): the form is
    posted as the page does, the network fails under the service worker, and
    the check-in and check-out wait in the queue, then go once."""
    world, carer_user, visit_id, _other = _today_visits(make)
    slug = world.agency.slug
    sign_in(phone, carer_user.email)
    phone.goto(f"/a/{slug}/my/schedule")
    _installed(phone)
    phone.context.add_init_script("Object.defineProperty(Navigator.prototype, 'onLine', {get: () => true})")
    phone.context.set_offline(True)
    # the sheet comes from the copy: the service worker's network is down too
    phone.goto(f"/a/{slug}/visits/{visit_id}")
    phone.get_by_role("button", name="Check in").click()
    expect(phone).to_have_url(re.compile(rf"/visits/{visit_id}$"))
    expect(phone.get_by_test_id("queue-badge")).to_have_text("Waiting to send (1)")
    phone.get_by_role("link", name="Check out and write the record").click()
    phone.get_by_label("Safe transfer").check()
    phone.get_by_label("What was done").fill("Bathed")
    # moments after check-in: shorter than a quarter of the visit, so a reason is asked
    phone.get_by_label("Reason", exact=True).fill("Left early: her daughter arrived.")
    phone.get_by_role("button", name="Check out").click()
    expect(phone).to_have_url(re.compile(r"/my/schedule$"))
    expect(phone.get_by_test_id("queue-badge")).to_have_text("Waiting to send (2)")
    assert _count(world, AuditEvent, AuditEvent.action == "visit.checked_in") == 0
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.get_by_test_id("queue-badge")).to_be_hidden()
    with db.tenant_scope(world.agency.id):
        done = _visit(world, visit_id)
        assert done.status == "completed" and done.checkin_phone_at is not None
    record = _count(world, ServiceRecord)
    assert record == 1


def test_a_send_stuck_on_a_dead_signal_is_sent_again_when_the_signal_returns(phone: Page, make, live_server):
    """The signal comes back while the queue's request is still waiting for an
    answer that will never come (it went out on the signal that died): the
    page gives that request up and sends again at once, with the same key, and
    the visit is checked in once."""
    world, carer_user, visit_id, _other = _today_visits(make)
    slug = world.agency.slug
    sign_in(phone, carer_user.email)
    phone.goto(f"/a/{slug}/my/schedule")
    _installed(phone)
    phone.context.set_offline(True)
    phone.goto(f"/a/{slug}/visits/{visit_id}")
    phone.get_by_role("button", name="Check in").click()
    expect(phone.get_by_test_id("queue-badge")).to_have_text("Waiting to send (1)")
    held: list = []
    keys: list[str | None] = []

    def first_never_answered(route) -> None:
        if route.request.service_worker is not None:
            # as on a phone without background sync (Safari): only the page sends
            held.append(route)
            return
        keys.append(route.request.headers.get("idempotency-key"))
        if not keys[1:]:
            held.append(route)  # no answer, no failure: the request just waits
        else:
            route.continue_()

    phone.context.route(re.compile(rf"/api/v1/visits/{visit_id}/check-in$"), first_never_answered)
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    for _ in range(100):  # the page's first sending reaches the held route
        if keys:
            break
        phone.wait_for_timeout(100)
    assert keys, "the queue was not sent when the signal came back"
    # the browser's own "online" may have restarted it already; one more is what a phone sees
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.get_by_test_id("queue-badge")).to_be_hidden()
    assert len(keys) >= 2 and len(set(keys)) == 1 and keys[0]
    with db.tenant_scope(world.agency.id):
        assert _visit(world, visit_id).checked_in_at is not None
    assert _count(world, AuditEvent, AuditEvent.action == "visit.checked_in") == 1
