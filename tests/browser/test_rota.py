"""A coordinator plans the week on the rota board: drags a visit from the
unassigned lane onto a carer's day, gives another by keyboard alone, meets a
refusal with every reason shown in the carer's cell and in the panel, and
fills the rest of the lane with one confirmation. Screenshots of the board in
both languages, at desktop and phone size, go to test-artifacts/rota/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from saas import db
from tests.browser.conftest import PHONE
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET
from tests.scheduling.test_scheduling import World, assign

pytestmark = pytest.mark.browser


def monday_of(day):
    return day - timedelta(days=day.weekday())


def lane_chip(page: Page, day):
    return page.locator(f"#lane-{day.isoformat()} a.chip").first


def cell(page: Page, staff, day):
    return page.locator(f"#c-{staff.id.hex}-{day.isoformat()}")


def test_coordinator_assigns_by_drag_and_by_keyboard_sees_refusals_and_fills(
    page: Page, make, live_server, request
):
    world = World(make)
    world.activate()
    visits = world.visits()
    first, second = visits[0], visits[1]
    _u, rita = world.carer(name="Rita Rowe")
    _u, olga = world.carer(name="Olga Oak")
    _u, nina = world.carer(name="Nina Night", availability={"sun": [["20:00", "22:00"]]})
    # one more visit that week, for the fill
    make.visit(world.agency, world.client.id, world.item.id, second.starts_at + timedelta(hours=4))
    sign_in(page, world.coordinator.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{world.agency.slug}/rota?week={monday_of(first.local_day).isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rota: week of")
    expect(page.get_by_test_id("rota-carer")).to_have_count(3)

    # drag and drop: the lane's visit onto Rita's day
    lane_chip(page, first.local_day).drag_to(cell(page, rita, first.local_day))
    expect(page.get_by_test_id("rota-done")).to_contain_text("Visit given to Rita Rowe")
    expect(cell(page, rita, first.local_day).locator("a.chip")).to_have_count(1)
    expect(
        page.get_by_test_id("rota-carer").filter(has_text="Rita Rowe").get_by_test_id("rota-hours")
    ).to_contain_text("1 of 20 h")

    # a refusal, by drag: outside Nina's weekly pattern; every reason in her cell and in the panel
    page.goto(f"/a/{world.agency.slug}/rota?week={monday_of(second.local_day).isoformat()}")
    lane_chip(page, second.local_day).drag_to(cell(page, nina, second.local_day))
    refusals = page.get_by_test_id("rota-refusals")
    expect(refusals).to_contain_text("Nina Night cannot take this visit")
    expect(refusals).to_contain_text("weekly pattern")
    expect(refusals).to_contain_text("Only an admin can assign despite these checks.")
    expect(cell(page, nina, second.local_day).get_by_test_id("rota-cell-refusal")).to_contain_text(
        "weekly pattern"
    )
    expect(page.get_by_label("Override reason")).to_have_count(0)
    out = request.config.rootpath / "test-artifacts" / "rota"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "rota-en-refusal.png"))

    # by keyboard alone: the visit, then a carer
    chip = lane_chip(page, second.local_day)
    chip.focus()
    page.keyboard.press("Enter")
    panel = page.get_by_test_id("rota-panel")
    expect(panel.get_by_test_id("rota-visit")).to_be_visible()
    carer = panel.get_by_label("Carer")
    expect(carer).to_be_focused()
    carer.select_option(label="Olga Oak")
    panel.get_by_role("button", name="Assign", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("rota-done")).to_contain_text("Visit given to Olga Oak")
    expect(cell(page, olga, second.local_day).locator("a.chip")).to_have_count(1)
    expect(page.get_by_test_id("rota-cell-refusal")).to_have_count(0)

    # the bulk fill: a proposal, then one confirmation
    left = page.get_by_test_id("rota-lane").locator("a.chip[draggable=true]").count()
    assert left >= 1
    page.get_by_test_id("rota-fill").click()
    expect(page.get_by_test_id("rota-fill-proposal")).to_be_visible()
    page.screenshot(path=str(out / "rota-en-fill-proposal.png"))
    page.get_by_test_id("rota-fill-confirm").click()
    summary = page.get_by_test_id("rota-report-summary")
    expect(summary).to_contain_text("given")
    expect(page.get_by_test_id("rota-lane").locator("a.chip[draggable=true]")).to_have_count(0)
    page.screenshot(path=str(out / "rota-en-fill-report.png"))
    with db.tenant_scope(world.agency.id):
        assert all(
            v.staff_file_id
            for v in world.visits()
            if v.local_day >= monday_of(second.local_day)
            and v.local_day < monday_of(second.local_day) + timedelta(days=7)
        )


def _screens(page: Page, name: str, url: str, out) -> None:
    page.goto(url)
    expect(page.get_by_test_id("rota-grid")).to_be_visible()
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    page.locator("a.chip").first.click()
    expect(page.get_by_test_id("rota-visit")).to_be_visible()
    page.screenshot(path=str(out / f"{name}-panel.png"), full_page=False)


def test_rota_screenshots_in_both_languages(new_context, make, live_server, request):
    """Not a check of wording (the catalogue test does that): the pictures a
    person looks at, and that the board opens at both sizes in both languages."""
    out = request.config.rootpath / "test-artifacts" / "rota"
    out.mkdir(parents=True, exist_ok=True)
    for locale, tz in (("en", "Europe/London"), ("zh_CN", "Asia/Shanghai")):
        world = World(make, tz=tz)
        world.agency.locale = locale
        db.session.commit()
        world.activate()
        names = ("Rita Rowe", "Olga Oak", "Sam Stone") if locale == "en" else ("李芳", "王强", "张敏")
        carers = [world.carer(name=n)[1] for n in names]
        visits = world.visits()
        assign(world, visits[0], carers[0])
        url = f"/a/{world.agency.slug}/rota?week={monday_of(visits[0].local_day).isoformat()}"
        # one sign-in (a two-factor code is good once), then the phone's width
        page = new_context().new_page()
        sign_in(page, world.coordinator.email, totp_secret=TOTP_SECRET)
        _screens(page, f"rota-{locale}-desktop", url, out)
        page.goto(f"/a/{world.agency.slug}/rota?view=day&day={visits[0].local_day.isoformat()}")
        expect(page.get_by_test_id("rota-grid")).to_be_visible()
        page.screenshot(path=str(out / f"rota-{locale}-day.png"), full_page=True)
        page.set_viewport_size(PHONE["viewport"])
        _screens(page, f"rota-{locale}-phone", url, out)
        page.context.close()
