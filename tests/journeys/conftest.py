"""Journeys over real HTTP: what `saas run` starts (gunicorn with
deploy/gunicorn.conf.py, the RQ worker, the cron scheduler), as real
subprocesses on a free port, against a database of their own on the suite's
PostgreSQL, a Redis database of their own and a real SMTP server.

The data is the documented demo (`saas run` seeds an empty database), so every
role has history; what a journey is about is done through the product's pages
and API, as people would. Nothing here runs inside the suite's rolled-back
transaction, and nothing is read from the database: only what HTTP and the
mail show."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from saas.config import ROOT, owner_url
from tests.conftest import one_migration_at_a_time
from tests.journeys.browser import Person

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - the documented demo login (README)
DEMO_TOTP = "JBSWY3DPEHPK3PXP"  # the documented demo two-factor secret
# the Redis database the stack uses: the suite's own tests use 0 (a unix socket) or 1-14
REDIS_DB = 15
READY_WITHIN_S = 240  # migrate and seed the demo on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mail:
    to: str
    subject: str
    body: str

    def links(self) -> list[str]:
        return re.findall(r"https?://[^\s<>\"']+", self.body)


@dataclass
class Mailbox:
    """What the SMTP server received (aiosmtpd's handler)."""

    messages: list[Mail] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
        with self.arrived:
            for rcpt in envelope.rcpt_tos:
                self.messages.append(Mail(rcpt.lower(), str(msg["Subject"]), body))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, to: str, has: str = "", within_s: float = 60) -> Mail:
        """The first mail to `to` with `has` in its subject or body, waiting
        for the worker to deliver it (a bound, not a timing assertion)."""
        deadline = time.monotonic() + within_s
        with self.arrived:
            while True:
                for m in self.messages:
                    if m.to == to.lower() and (has in m.subject or has in m.body):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(m.to, m.subject) for m in self.messages if m.to == to.lower()]
                    raise AssertionError(f"no mail to {to} with {has!r}; it received {seen}")
                self.arrived.wait(left)


@dataclass
class Stack:
    base_url: str
    mailbox: Mailbox
    log_path: Path
    database_url: str
    proc: subprocess.Popen
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    # what one journey leaves for the next (ids seen over HTTP)
    world: dict[str, object] = field(default_factory=dict)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def person(self, who: str = "") -> Person:
        return Person(self.base_url, who)

    def signed_in(self, email_address: str, password: str = DEMO_PASSWORD, totp: str | None = None) -> Person:
        """One browser per person for the whole run (a second factor is
        accepted once per code, so signing in again would wait for the next)."""
        if email_address not in self.people:
            person = self.person(email_address)
            person.sign_in(email_address, password, totp)
            self.people[email_address] = person
        return self.people[email_address]

    def token(self, email_address: str, slug: str, totp: str | None = None) -> str:
        """A personal API token, created as its owner would: on the agency's tokens page."""
        key = (email_address, slug)
        if key not in self.tokens:
            person = self.signed_in(email_address, totp=totp)
            person.get(f"/a/{slug}/tokens")
            page = person.submit(f"/a/{slug}/tokens", {"name": f"journey phone {uuid.uuid4().hex[:6]}"})
            found = re.search(r'data-testid="new-token">([^<]+)<', page.text)
            assert found, person.text()[:2000]
            self.tokens[key] = found.group(1).strip()
        return self.tokens[key]


def _redis_url(base: str) -> str:
    if base.startswith("unix://"):
        return base.split("?")[0] + f"?db={REDIS_DB}"
    return re.sub(r"/\d*$", "", base.rstrip("/")) + f"/{REDIS_DB}"


@pytest.fixture(scope="package")
def stack(services: dict[str, object], app, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # `app` only so the suite's own database is set up as every other test
    # expects when the session ends, even when only the journeys run
    from saas.jobs import redis_connection

    base_db = str(services["database_url"])
    name = f"carehub_journeys_{uuid.uuid4().hex[:8]}"
    admin = create_engine(owner_url(base_db), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(owner_url(base_db)).set(database=name).render_as_string(hide_password=False)
    redis_url = _redis_url(str(services["redis_url"]))
    redis_connection(redis_url).flushdb()

    mailbox = Mailbox()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    workdir = tmp_path_factory.mktemp("journeys")
    env = {k: v for k, v in os.environ.items() if k not in {"APP_DATABASE_URL", "PYTEST_XDIST_WORKER"}}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=f"journeys-{uuid.uuid4().hex}",
        BASE_URL=base_url,
        SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        INSTANCE_PATH=tempfile.mkdtemp(prefix="carehub-journeys-", dir=workdir),
        PORT=str(port),
        DEMO_PASSWORD=DEMO_PASSWORD,
        DEMO_TOTP_SECRET=DEMO_TOTP,
        PYTHONUNBUFFERED="1",
    )
    log_path = workdir / "saas-run.log"
    log = log_path.open("w")
    # `saas run` exactly as `make run` starts it: migrate, seed the demo into the
    # empty database, then web, worker and cron (on a cluster, not while another
    # xdist worker migrates: both would alter the same roles on the worker nodes)
    serial = contextlib.ExitStack()
    serial.enter_context(one_migration_at_a_time())
    proc = subprocess.Popen(
        [sys.executable, "-m", "saas.cli", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C in the terminal goes to pytest; we stop the stack ourselves
    )
    stack = Stack(base_url, mailbox, log_path, database_url, proc)
    try:
        deadline = time.monotonic() + READY_WITHIN_S
        while True:
            assert proc.poll() is None, "saas run exited:\n" + stack.log_tail()
            try:
                if requests.get(f"{base_url}/readyz", timeout=3).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "not ready in time:\n" + stack.log_tail()
            time.sleep(0.5)
        serial.close()
        yield stack
    finally:
        serial.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
        smtp.stop()
        redis_connection(redis_url).flushdb()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="package")
def api(stack: Stack) -> Callable[..., requests.Response]:
    """Call the API with a bearer token, as a phone does (no cookies, no CSRF token)."""

    def call(method: str, path: str, token: str | None, **kwargs: object) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(
            method, f"{stack.base_url}/api/v1{path}", headers=headers, timeout=30, **kwargs
        )

    return call
