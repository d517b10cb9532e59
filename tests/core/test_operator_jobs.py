"""The operators' jobs page: sweep runs recorded and reported, next and late
runs, RQ queues, workers and failed jobs (with retry), the outbox backlog."""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sentry_sdk
import time_machine
from rq import Queue, SimpleWorker, Worker
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select, update

from saas import db, sweeps
from saas.jobs import enqueue, job, periodic
from saas.models import OutboxEntry, PlatformAuditEvent, Role
from saas.schedule import SCHEDULE, Periodic
from saas.sweeps import SweepRun, check_sweeps, grace, next_run
from tests.conftest import make_config
from tests.core.test_observability import CaptureTransport
from tests.factories import login, unique
from tests.sqlcount import count_statements

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)

HERE = __name__  # the decorator names unscheduled functions by their path


@periodic
def tidy_rota() -> str:
    return "tidied"


@periodic
def broken_rota() -> None:
    raise LookupError("no rota for Margaret Thornton, 07700 900123, margaret@example.net\nsecond line")


@periodic
def pulse() -> None:
    """A sweep of this test's own, scheduled by the test's own schedule."""


def explode(ward: str) -> None:
    """An RQ job that always fails; the message carries markup to prove escaping."""
    raise RuntimeError(f"no rota for <b>{ward}</b>")


@job("test.operator_jobs.noop")
def noop(marker: str = "") -> None:
    """An outbox job for backlog figures; never run here."""


@pytest.fixture
def sentry_events(services, dbconn):
    """Sentry switched on with a transport that keeps what would be sent."""
    from saas.app import create_app

    transport = CaptureTransport()
    create_app(make_config(services, SENTRY_DSN="http://public@127.0.0.1:9/1", SENTRY_TRANSPORT=transport))

    def events() -> list[dict]:
        sentry_sdk.flush()
        return [
            json.loads(item.payload.get_bytes())
            for env in transport.envelopes
            for item in env.items
            if item.type == "event"
        ]

    try:
        yield events
    finally:
        sentry_sdk.init()  # Sentry off for the rest of the suite


def operator_client(client, factory):
    operator = factory.user(operator=True, totp=True)
    login(client, operator)
    return operator


def runs_of(name: str) -> list[SweepRun]:
    return list(
        db.session.scalars(select(SweepRun).where(SweepRun.sweep == name).order_by(SweepRun.started_at))
    )


def row_attrs(text: str, testid: str, key: str, value: str) -> dict[str, str]:
    """The data-* attributes of the table row marked data-testid=testid and data-key=value."""
    for match in re.finditer(rf'<tr data-testid="{testid}"([^>]*)>', text):
        attrs = dict(re.findall(r'data-([\w-]+)="([^"]*)"', match.group(1)))
        if attrs.get(key) == html.escape(value):
            return attrs
    raise AssertionError(f"no {testid} row with {key}={value}")


def row_html(text: str, testid: str, key: str, value: str) -> str:
    start = text.index(f'<tr data-testid="{testid}" data-{key}="{html.escape(value)}"')
    return text[start : text.index("</tr>", start)]


# -- recording runs -----------------------------------------------------------------


def test_each_run_is_recorded_and_a_failure_reported(dbconn, sentry_events):
    assert tidy_rota() == "tidied"
    with pytest.raises(LookupError):
        broken_rota()

    [ok] = runs_of(f"{HERE}.tidy_rota")
    assert ok.ok is True and ok.error == "" and ok.started_at <= ok.finished_at
    [failed] = runs_of(f"{HERE}.broken_rota")
    # the type only: the message quotes a client's name and phone, not only an email
    assert failed.ok is False
    assert failed.error == "LookupError"

    events = sentry_events()
    [event] = [e for e in events if e.get("tags", {}).get("sweep") == f"{HERE}.broken_rota"]
    assert event["exception"]["values"][0]["type"] == "LookupError"
    for personal in ("margaret@example.net", "Margaret Thornton", "07700 900123"):
        assert personal not in json.dumps(events)


def test_a_database_error_is_described_by_its_schema_never_its_data(app_ctx, dbconn):
    """A database error's text carries the statement's parameters: only the
    driver's type, SQLSTATE and constraint are kept."""
    from sqlalchemy import text
    from sqlalchemy.exc import DataError

    with pytest.raises(DataError) as caught:
        with db.session.begin_nested():
            db.session.execute(text("select 1 / :n where :who <> ''"), {"n": 0, "who": "Margaret Thornton"})
    assert sweeps.describe_error(caught.value) == "DataError (DivisionByZero, 22012)"
    assert "Margaret Thornton" in str(caught.value), "the raw text would have carried it"


def test_a_scheduled_function_is_recorded_under_its_schedule_name(app, dbconn, redis_conn):
    from saas.jobs import relay_outbox_sweep

    entry = next(p for p in SCHEDULE if p.func == "saas.jobs.relay_outbox_sweep")
    before = db.utcnow()
    relay_outbox_sweep()
    assert [r.ok for r in runs_of(entry.name) if r.started_at >= before] == [True]


def test_only_the_last_runs_are_kept(dbconn, monkeypatch):
    monkeypatch.setattr(sweeps, "RUNS_KEPT", 3)
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for minute in range(5):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            tidy_rota()
    kept = runs_of(f"{HERE}.tidy_rota")
    assert [r.started_at for r in kept] == [start + timedelta(minutes=m) for m in (2, 3, 4)]


# -- next run and lateness ------------------------------------------------------------


def test_next_run_from_interval_and_crontab():
    every_15_min = Periodic("a", "x.a", interval=900)
    nightly = Periodic("b", "x.b", cron="30 1 * * *")
    last = datetime(2026, 11, 21, 10, 0, 5, tzinfo=UTC)
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert next_run(every_15_min, last, now) == datetime(2026, 11, 21, 10, 15, 5, tzinfo=UTC)
    assert next_run(every_15_min, None, now) is None, "an interval sweep starts with the scheduler"
    ran_tonight = datetime(2026, 11, 21, 1, 30, 2, tzinfo=UTC)
    assert next_run(nightly, ran_tonight, now) == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    assert next_run(nightly, None, now) == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    # on the last day of a month the crontab rolls over, as rq cron's parser does
    assert next_run(nightly, datetime(2026, 11, 30, 2, 0, tzinfo=UTC), now) == datetime(
        2026, 12, 1, 1, 30, tzinfo=UTC
    )
    # grace: at least a minute, else a tenth of the period
    assert grace(Periodic("c", "x.c", interval=15), now) == timedelta(seconds=60)
    assert grace(Periodic("d", "x.d", interval=3600), now) == timedelta(minutes=6)
    assert grace(nightly, now) == timedelta(hours=2, minutes=24)


def test_a_late_sweep_is_reported_once_per_episode(app, dbconn, redis_conn, sentry_events):
    name = f"{HERE}.pulse"
    schedule = (Periodic(name, name, queue="high", interval=60),)
    t0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

    def check_at(offset: timedelta) -> list[str]:
        with time_machine.travel(t0 + offset, tick=False), app.app_context():
            return check_sweeps(redis_conn, schedule)

    with time_machine.travel(t0, tick=False):
        pulse()
    assert check_at(timedelta(seconds=119)) == [], "within a minute's grace"
    assert check_at(timedelta(seconds=121)) == [name]
    assert check_at(timedelta(minutes=5)) == [], "the same episode is reported once"
    assert check_at(timedelta(minutes=30)) == []
    with time_machine.travel(t0 + timedelta(minutes=31), tick=False):
        pulse()  # it ran again: the episode is over
    assert check_at(timedelta(minutes=32)) == []
    assert check_at(timedelta(minutes=33, seconds=1)) == [name], "a new episode is reported again"

    late = [e for e in sentry_events() if e.get("tags", {}).get("sweep") == name]
    assert [e["level"] for e in late] == ["warning", "warning"]
    assert (
        late[0]["message"] == f"Sweep {name} is late: expected at {(t0 + timedelta(minutes=1)).isoformat()}"
    )
    assert late[1]["message"].endswith((t0 + timedelta(minutes=32)).isoformat())


def test_the_page_shows_late_and_failed_sweeps(app, client, factory, redis_conn):
    from saas.jobs import relay_outbox_sweep

    entry = next(p for p in SCHEDULE if p.func == "saas.jobs.relay_outbox_sweep")
    # later than any run another test could have committed
    t0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    with time_machine.travel(t0, tick=False):
        relay_outbox_sweep()
        operator_client(client, factory)
        fresh = client.get("/operator/jobs").text
    assert row_attrs(fresh, "sweep", "sweep", entry.name)["late"] == "no"
    with time_machine.travel(t0 + timedelta(minutes=5), tick=False):
        page = client.get("/operator/jobs").text
    assert row_attrs(page, "sweep", "sweep", entry.name)["late"] == "yes"
    row = row_html(page, "sweep", "sweep", entry.name)
    assert 'class="tag error"' in row and "late by 5 minutes" in row

    # a failed last run, with its short error, in red
    with time_machine.travel(t0 + timedelta(minutes=6), tick=False):
        sweeps.record_run(entry.func, t0 + timedelta(minutes=6), ValueError("relay jammed at Flat 3, Elm Rd"))
    with time_machine.travel(t0 + timedelta(minutes=6, seconds=5), tick=False):
        page = client.get("/operator/jobs").text
    attrs = row_attrs(page, "sweep", "sweep", entry.name)
    assert (attrs["failed"], attrs["late"]) == ("yes", "no")
    row = row_html(page, "sweep", "sweep", entry.name)
    assert '<span class="error">ValueError</span>' in row and "Elm Rd" not in page


# -- queues, workers, failed jobs --------------------------------------------------------


def test_the_page_lists_queues_and_workers(client, factory, redis_conn):
    operator_client(client, factory)
    low = Queue("low", connection=redis_conn)
    for ward in ("north", "south"):
        low.enqueue(explode, ward)
    worker = Worker(["high", "default"], connection=redis_conn, name=unique("carehub-worker-"))
    worker.register_birth()
    worker.set_state("busy")
    worker.set_current_job_id("outbox-1234")
    try:
        page = client.get("/operator/jobs")
        assert page.status_code == 200
        for name in ("high", "default", "low"):
            row_attrs(page.text, "queue", "queue", name)
        waiting = re.search(r'data-queue="low">.*?data-testid="queue-waiting">(\d+)<', page.text, re.S)
        assert waiting and int(waiting.group(1)) == low.count == 2
        row = row_html(page.text, "worker", "worker", worker.name)
        assert "busy" in row and "high, default" in row and "outbox-1234" in row
    finally:
        worker.register_death()
    assert worker.name not in client.get("/operator/jobs").text, "a stopped worker is gone"


def test_a_failed_job_shows_its_error_and_retry_requeues_it(client, factory, redis_conn):
    operator_client(client, factory)
    queue = Queue("default", connection=redis_conn)
    failing = queue.enqueue(explode, "ward-7")
    SimpleWorker(["default"], connection=redis_conn).work(burst=True)
    assert failing.id in FailedJobRegistry(queue=queue).get_job_ids()

    page = client.get("/operator/jobs").text
    row = row_html(page, "failed-job", "job-id", failing.id)
    assert f"{HERE}.explode" in row
    assert "RuntimeError: no rota for &lt;b&gt;ward-7&lt;/b&gt;" in row and "<b>ward-7" not in row
    assert "<details><summary>Traceback</summary><pre>Traceback (most recent call last):" in row
    assert 'action="/operator/jobs/retry"' in row

    response = client.post("/operator/jobs/retry", data={"job_id": failing.id}, follow_redirects=True)
    assert response.status_code == 200
    assert f"Job {failing.id} is back on its queue." in response.text
    assert failing.id in queue.get_job_ids() and FailedJobRegistry(queue=queue).count == 0
    assert f'data-job-id="{failing.id}"' not in response.text
    assert (
        db.session.scalar(select(PlatformAuditEvent.action).where(PlatformAuditEvent.subject == failing.id))
        == "job.retried"
    )

    again = client.post("/operator/jobs/retry", data={"job_id": failing.id}, follow_redirects=True)
    assert "is not failed any more" in again.text

    # the requeued job really runs again (and fails again, as it always does)
    SimpleWorker(["default"], connection=redis_conn).work(burst=True)
    assert failing.id in FailedJobRegistry(queue=queue).get_job_ids()


def test_retrying_a_job_that_no_longer_exists(client, factory, redis_conn):
    operator_client(client, factory)
    for job_id in ("gone-0000", "not a job id!"):
        response = client.post("/operator/jobs/retry", data={"job_id": job_id}, follow_redirects=True)
        assert response.status_code == 200
        assert f"Job {html.escape(job_id)} no longer exists" in response.text
    empty = client.post("/operator/jobs/retry", data={}, follow_redirects=True)
    assert empty.status_code == 200 and "This form has expired" in empty.text


# -- the outbox backlog ------------------------------------------------------------------------


def test_outbox_backlog_figures(client, factory, redis_conn):
    operator_client(client, factory)
    agency = factory.agency()
    marker = uuid.uuid4().hex
    with db.tenant_scope(agency.id):
        entries = [enqueue("test.operator_jobs.noop", marker=f"{marker}-{i}") for i in range(4)]
        db.session.commit()
    done, relayed_failing, old, _waiting = entries
    now = db.utcnow()
    db.session.execute(
        update(OutboxEntry).where(OutboxEntry.id == done.id).values(done_at=now, relayed_at=now)
    )
    db.session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == relayed_failing.id)
        .values(relayed_at=now, attempts=2, last_error="ConnectionError")
    )
    db.session.execute(
        update(OutboxEntry).where(OutboxEntry.id == old.id).values(created_at=now - timedelta(hours=3))
    )
    db.session.commit()

    mine = (OutboxEntry.job == "test.operator_jobs.noop") & OutboxEntry.args["marker"].astext.startswith(
        marker
    )
    undone = db.session.scalar(select(func.count()).where(mine, OutboxEntry.done_at.is_(None)))
    waiting = db.session.scalar(
        select(func.count()).where(mine, OutboxEntry.done_at.is_(None), OutboxEntry.relayed_at.is_(None))
    )
    all_undone = db.session.scalar(select(func.count()).where(OutboxEntry.done_at.is_(None)))

    page = client.get("/operator/jobs").text
    attrs = row_attrs(page, "outbox-job", "job", "test.operator_jobs.noop")
    assert (int(attrs["undone"]), int(attrs["waiting"]), int(attrs["attempted"])) == (undone, waiting, 1)
    assert "3 hours" in row_html(page, "outbox-job", "job", "test.operator_jobs.noop")
    total = re.search(r'data-testid="outbox-undone">(\d+)<', page)
    assert total and int(total.group(1)) == all_undone
    attempted = row_html(page, "outbox-attempted", "entry", str(relayed_failing.id))
    assert "ConnectionError" in attempted and "<td>2</td>" in attempted
    assert 'href="/operator/outbox"' in page


# -- access and cost ------------------------------------------------------------------------------


def test_only_operators_see_the_page(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    assert client.get("/operator/jobs").status_code == 302, "signed out: to the sign-in page"
    login(client, admin)
    assert client.get("/operator/jobs").status_code == 404
    assert client.post("/operator/jobs/retry", data={"job_id": "x"}).status_code == 404


def test_the_page_costs_the_same_whatever_the_data(client, factory, redis_conn):
    operator_client(client, factory)
    agency = factory.agency()

    def add_data(n: int) -> None:
        with db.tenant_scope(agency.id):
            for i in range(n):
                entry = enqueue("test.operator_jobs.noop", marker=str(i))
                entry.attempts, entry.last_error = 1, "TimeoutError"
            db.session.commit()
        for entry in SCHEDULE:
            for i in range(n):
                sweeps.record_run(entry.func, db.utcnow() - timedelta(minutes=i))
        queue = Queue("default", connection=redis_conn)
        for i in range(n):
            queue.enqueue(explode, f"w{i}")
        SimpleWorker(["default"], connection=redis_conn).work(burst=True)

    add_data(1)
    client.get("/operator/jobs")
    with count_statements() as small:
        assert client.get("/operator/jobs").status_code == 200
    add_data(6)
    with count_statements() as large:
        page = client.get("/operator/jobs")
    assert page.status_code == 200 and page.text.count('data-testid="failed-job"') == 7
    assert large.count == small.count, large.statements


def test_a_sweep_never_seen_to_run_is_late_once_the_watch_has_waited_for_it(
    app, dbconn, redis_conn, sentry_events
):
    """A scheduler that never started records no runs at all: counting from
    when the watchdog began, the first run is overdue and reported."""
    name = f"{HERE}.never"
    schedule = (Periodic(name, name, queue="high", interval=300),)
    t0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False), app.app_context():
        assert check_sweeps(redis_conn, schedule) == [], "watching starts now"
    with time_machine.travel(t0 + timedelta(minutes=5, seconds=59), tick=False), app.app_context():
        assert check_sweeps(redis_conn, schedule) == [], "within the grace after its first time"
    with time_machine.travel(t0 + timedelta(minutes=6, seconds=1), tick=False), app.app_context():
        assert check_sweeps(redis_conn, schedule) == [name]
        assert check_sweeps(redis_conn, schedule) == [], "once per episode"
    assert any(e.get("tags", {}).get("sweep") == name for e in sentry_events())


def test_the_web_also_watches_at_most_once_a_minute(app, client, factory, redis_conn, monkeypatch):
    """When the scheduler is down its own watchdog is down too: web requests
    check the sweeps, throttled per process and across processes."""
    import saas.sweeps as sweeps

    calls = []
    monkeypatch.setattr(sweeps, "check_sweeps", lambda conn, *a, **k: calls.append(conn) or [])
    monkeypatch.setattr(sweeps, "_last_web_watch", 0.0)
    monkeypatch.setitem(app.config, "WEB_SWEEP_WATCH", True)
    for _ in range(3):
        assert client.get("/login").status_code == 200
    assert len(calls) == 1, "once a minute per process"
    monkeypatch.setattr(sweeps, "_last_web_watch", 0.0)
    assert client.get("/login").status_code == 200
    assert len(calls) == 1, "and once a minute across processes (the Redis key)"
    redis_conn.delete(sweeps.WEB_WATCH_KEY)
    monkeypatch.setattr(sweeps, "_last_web_watch", 0.0)

    def broken(conn, *a, **k):
        raise RuntimeError("Redis went away")

    monkeypatch.setattr(sweeps, "check_sweeps", broken)
    assert client.get("/login").status_code == 200, "a failing watch never breaks a page"
