"""An admin opens last month's quality summary, downloads its PDF, rebuilds it
and watches the progress state turn into the rebuilt summary."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from rq import SimpleWorker

from saas import db
from saas.jobs import QUEUES, redis_connection, relay_outbox
from tenants.quality import jobs, services, targets
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET
from tests.quality.test_quality import generate
from tests.scheduling.test_scheduling import World

pytestmark = pytest.mark.browser


def test_admin_reads_downloads_and_rebuilds_the_summary(page: Page, make, live_app, live_server):
    world = World(make)
    world.agency.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.commit()
    world.staff = [world.carer(name=f"Carer {i}")[1] for i in range(3)]
    month = services.previous_month(world.agency)
    generate(world, month)
    with make.app.app_context(), db.tenant_scope(world.agency.id):
        summary, _ = services.request_build(world.agency, month)
        db.session.commit()
        jobs.build(summary_id=str(summary.id))
        db.session.commit()
    db.session.remove()
    title = f"Quality summary for {month:%B %Y}"

    sign_in(page, world.admin.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{world.agency.slug}/quality/")
    page.get_by_role("link", name=f"{month:%B %Y}").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_test_id("quality-state")).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("quality-gaps").locator("li")).to_have_count(len(targets.KPIS))
    expect(page.get_by_test_id("quality-gaps")).to_contain_text("Complaints answered on time:")
    # the score and the satisfaction over 6 months, the same charts as in the PDF
    expect(page.locator("svg[role=img]")).to_have_count(2)
    expect(page.locator("svg[aria-labelledby^=quality-score-]")).to_be_visible()
    expect(page.locator("svg[aria-labelledby^=quality-trend-]")).to_be_visible()
    shots = Path(__file__).resolve().parents[2] / "test-artifacts"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "quality-summary-desktop.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_test_id("quality-pdf").click()
    pages = PdfReader(Path(download.value.path())).pages
    assert title in pages[0].extract_text(), "the cover"
    text = "\n".join(p.extract_text() for p in pages)
    assert "Complaints answered on time" in text and f"page {len(pages)} of {len(pages)}" in text

    page.get_by_role("button", name="Rebuild this summary").click()
    expect(page.get_by_text("The summary is being built. This page shows its progress.")).to_be_visible()
    expect(page.get_by_test_id("quality-progress")).to_be_visible()
    expect(page.get_by_test_id("quality-state")).to_have_attribute("data-state", "queued")
    expect(page.get_by_role("button", name="Rebuild this summary")).to_have_count(0)

    conn = redis_connection(live_app.config["REDIS_URL"])
    with live_app.app_context():
        relay_outbox()  # what the relay sweep does for anything the request did not relay itself
    SimpleWorker(list(QUEUES), connection=conn).work(burst=True)

    # the page refreshes by itself until the build is done
    expect(page.get_by_test_id("quality-state")).to_have_attribute("data-state", "done", timeout=15000)
    expect(page.get_by_test_id("quality-rebuilt")).to_contain_text("rebuilt 1 time")
    expect(page.get_by_test_id("quality-progress")).to_have_count(0)
    assert month < date.today()


def test_admin_publishes_the_month_the_public_reads_it_signed_out_then_it_is_unpublished(
    page: Page, new_context, make, live_app, live_server
):
    world = World(make)
    world.agency.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.commit()
    world.staff = [world.carer(name=f"Carer {i}")[1] for i in range(3)]
    month = services.previous_month(world.agency)
    generate(world, month)
    with make.app.app_context(), db.tenant_scope(world.agency.id):
        summary, _ = services.request_build(world.agency, month)
        db.session.commit()
        jobs.build(summary_id=str(summary.id))
        db.session.commit()
    db.session.remove()
    title = f"Quality summary for {month:%B %Y}"

    sign_in(page, world.admin.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{world.agency.slug}/quality/{summary.id}")
    publication = page.get_by_test_id("quality-publication")
    # every indicator is ticked to begin with: publish two of them
    for box in publication.get_by_role("checkbox").all():
        box.uncheck()
    publication.get_by_label("Average satisfaction", exact=True).check()
    publication.get_by_label("Complaints answered on time", exact=True).check()
    publication.get_by_role("button", name="Publish").click()
    expect(
        page.get_by_text("Published. Copy the link to share it with residents and funders.")
    ).to_be_visible()
    link = page.get_by_test_id("quality-public-url").input_value()
    assert link.endswith(f"/a/{world.agency.slug}/quality/public/{month:%Y-%m}")

    public = new_context().new_page()  # signed out: a browser of its own
    public.goto(link)
    expect(public.get_by_role("heading", name=title)).to_be_visible()
    rows = public.get_by_test_id("quality-public").locator("tr[data-kpi]")
    expect(rows).to_have_count(2)
    expect(public.get_by_test_id("quality-public")).to_contain_text("Complaints answered on time")
    expect(public.locator("svg[role=img]")).to_be_visible()  # the satisfaction trend
    expect(public.get_by_text(world.client.full_name)).to_have_count(0)
    expect(public.get_by_text("Carer 0")).to_have_count(0)

    page.get_by_role("button", name="Unpublish").click()
    expect(page.get_by_text("Unpublished: the public page is no longer available.")).to_be_visible()
    response = public.goto(link)
    assert response is not None and response.status == 404
