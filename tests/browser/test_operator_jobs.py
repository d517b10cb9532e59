"""An operator opens the jobs page, finds a failed job with its error and retries it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry

from saas.jobs import redis_connection
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET, unique


def missing_rota(ward: str) -> None:
    raise RuntimeError(f"no rota for {ward}")


@pytest.mark.browser
def test_operator_retries_a_failed_job(page, make, live_app, live_server):
    conn = redis_connection(live_app.config["REDIS_URL"])
    queue = Queue("default", connection=conn)
    ward = unique("ward-")
    failing = queue.enqueue(missing_rota, ward)
    SimpleWorker(["default"], connection=conn).work(burst=True)
    assert failing.id in FailedJobRegistry(queue=queue).get_job_ids()

    operator = make.user(operator=True, totp=True)
    sign_in(page, operator.email, totp_secret=TOTP_SECRET)
    page.get_by_role("link", name="Jobs and sweeps").click()
    expect(page.get_by_role("heading", name="Jobs and sweeps", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Scheduled sweeps")).to_be_visible()
    expect(page.locator('tr[data-testid="sweep"][data-sweep="relay_outbox"]')).to_have_count(1)

    row = page.locator(f'tr[data-testid="failed-job"][data-job-id="{failing.id}"]')
    expect(row).to_contain_text(f"RuntimeError: no rota for {ward}")
    expect(row).to_contain_text("missing_rota")
    row.locator("summary", has_text="Traceback").click()
    expect(row.locator("pre")).to_contain_text("Traceback (most recent call last)")
    expect(page.locator('tr[data-testid="queue"][data-queue="default"] td').nth(4)).to_have_text("1")

    row.get_by_role("button", name="Retry").click()
    expect(page.get_by_text(f"Job {failing.id} is back on its queue.")).to_be_visible()
    expect(page.locator(f'tr[data-testid="failed-job"][data-job-id="{failing.id}"]')).to_have_count(0)
    expect(
        page.locator('tr[data-testid="queue"][data-queue="default"] [data-testid="queue-waiting"]')
    ).to_have_text("1")
    assert failing.id in queue.get_job_ids()
    assert FailedJobRegistry(queue=queue).count == 0
