"""Exactly once, with real processes: a real RQ worker (`saas worker`) runs
a reminder sweep over many due occurrences in small batches and is killed
(SIGKILL) in the middle of a batch; the next run sends the rest, and every
reminder reached every recipient once. And two sweeps at the same time send
once.

Like the browser tests, data here is really committed (a fresh agency in the
session's test database) because the worker is another process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Queue
from rq.job import JobStatus
from sqlalchemy import create_engine, func, select, text

from saas import db
from saas.models import MailMessage
from saas.notifications import reminders
from saas.notifications.models import Notification, Reminder
from tenants.scheduling import visit_reminders as sweeps
from tenants.scheduling.models import Visit
from tenants.scheduling.services.changes import flag_late_and_missed
from tests.conftest import COMMITTING
from tests.core.samples_notifications import Care
from tests.factories import Factory

VISITS = 60
BATCH = 10
SWEEP = "tenants.scheduling.visit_reminders.late_and_missed_all"


@pytest.fixture
def committed(app, redis_conn) -> Iterator[Factory]:
    """Sessions on the engine (no outer rolled-back transaction), in an app context."""
    db.session.remove()
    db.SessionLocal.configure(bind=db.get_engine(), join_transaction_mode="conditional_savepoint")
    with app.app_context():
        try:
            yield Factory(app)
        finally:
            db.session.remove()


def missed_visits(care: Care, count: int) -> list[Visit]:
    """`count` visits flagged missed in the last hours, assigned, never checked in."""
    _user, _carer, staff = care.carer()
    now = db.utcnow()
    visits = []
    # 10-minute visits, 15 minutes of travel between them
    first = now - timedelta(minutes=26 * count + 30)
    for i in range(count):
        visits.append(care.visit(first + timedelta(minutes=26 * i), staff, minutes=10))
    # flagged by the scheduling service as its periodic job does, each visit
    # just after it ended: missed, and not yet late (15 minutes' grace)
    with db.tenant_scope(care.agency.id):
        for visit in visits:
            assert flag_late_and_missed(care.agency, visit.ends_at + timedelta(seconds=30)) == (0, 1)
        db.session.commit()
        flagged = {
            v.id: v
            for v in db.session.scalars(
                select(Visit)
                .where(Visit.id.in_([v.id for v in visits]))
                .execution_options(populate_existing=True)
            )
        }
    return [flagged[v.id] for v in visits]


def counts(care: Care) -> dict[str, int]:
    db.session.expire_all()
    with db.tenant_scope(care.agency.id):
        result = {
            "reminders": db.session.scalar(select(func.count()).select_from(Reminder)),
            "notifications": db.session.scalar(select(func.count()).select_from(Notification)),
            "distinct_notifications": db.session.scalar(
                select(
                    func.count(
                        func.distinct(func.concat(Notification.reminder_id, Notification.membership_id))
                    )
                )
            ),
        }
        db.session.commit()
    mails = select(MailMessage).where(
        MailMessage.agency_id == care.agency.id, MailMessage.dedupe_key.like("reminder:%")
    )
    result["mails"] = db.session.scalar(select(func.count()).select_from(mails.subquery()))
    result["distinct_mails"] = db.session.scalar(
        select(func.count(func.distinct(MailMessage.dedupe_key))).where(
            MailMessage.agency_id == care.agency.id, MailMessage.dedupe_key.like("reminder:%")
        )
    )
    db.session.commit()
    return result


def worker_env(services: dict[str, object]) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": str(services["database_url"]),
        "REDIS_URL": str(services["redis_url"]),
        "REMINDER_BATCH_SIZE": str(BATCH),
        "SECRET_KEY": "test-secret-key",
        "BASE_URL": "http://localhost",
        "FLASK_APP": "saas.app:create_app",
    }


def start_worker(services: dict[str, object], *args: str) -> subprocess.Popen:
    saas = Path(sys.executable).with_name("saas")
    # a session of its own, so the kill reaches the worker and the job's forked work horse
    return subprocess.Popen(
        [str(saas), "worker", *args],
        env=worker_env(services),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(committed, services, redis_conn):
    care = Care(committed)
    visits = missed_visits(care, VISITS)
    expected = VISITS * 2  # the admin and the coordinator
    # The third batch (occurrences 21-30, in the sweep's order) is claimed in one
    # INSERT sorted by key. An uncommitted row holding the last of those keys makes
    # the worker wait there: its batch is half inserted when it is killed.
    third = sorted(visits[2 * BATCH : 3 * BATCH], key=lambda v: str(v.id))[-1]
    owner = create_engine(str(services["database_url"]))
    holder = owner.connect()
    hold = holder.begin()
    holder.execute(
        text(
            "INSERT INTO reminders (tenant_id, id, kind, subject, due_at, created_at) "
            "VALUES (:t, gen_random_uuid(), 'visit.missed', :s, :d, now())"
        ),
        {"t": care.agency.id, "s": str(third.id), "d": third.missed_flagged_at},
    )
    worker = start_worker(services)
    try:
        Queue("high", connection=redis_conn).enqueue(SWEEP, job_timeout=300)

        # on a Citus cluster the insert waits on a worker, for the shard's row: the
        # coordinator sees that wait only in citus_lock_waits
        waits = (
            "SELECT count(*) FROM citus_lock_waits WHERE blocked_statement LIKE 'INSERT INTO reminders%'"
            if COMMITTING
            else "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'INSERT INTO reminders%'"
        )

        def blocked_in_third_batch() -> bool:
            with owner.connect() as conn:
                waiting = conn.scalar(text(waits))
            return bool(waiting)

        wait_for(blocked_in_third_batch, what="the worker to reach the third batch")
        before = counts(care)
        # two batches committed, the third neither committed nor lost
        assert before["reminders"] == 2 * BATCH and before["mails"] == 2 * 2 * BATCH
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        hold.rollback()
        holder.close()
    assert counts(care)["reminders"] == 2 * BATCH  # the killed batch was rolled back whole

    # the next run (cron's next tick, on a new worker) sends the rest. The mail
    # deliveries queued (no SMTP here: each would only mark its mail kept) are
    # not what this proves, and each costs a forked job: the sweep goes to the
    # front of the queue and the worker is stopped once it has run.
    sweep = Queue("high", connection=redis_conn).enqueue(SWEEP, job_timeout=300, at_front=True)
    again = start_worker(services)
    try:
        wait_for(
            lambda: sweep.get_status(refresh=True) in (JobStatus.FINISHED, JobStatus.FAILED),
            timeout=120,
            what="the next sweep",
        )
    finally:
        again.terminate()  # a warm shutdown: the job in hand, if any, is finished first
        _out, err = again.communicate(timeout=120)
    assert sweep.get_status() == JobStatus.FINISHED, err.decode()[-2000:]
    assert again.returncode == 0, err.decode()[-2000:]
    after = counts(care)
    assert after == {
        "reminders": VISITS,
        "notifications": expected,
        "distinct_notifications": expected,
        "mails": expected,
        "distinct_mails": expected,
    }
    # and once more: nothing new
    with db.tenant_scope(care.agency.id):
        assert reminders.send_due(sweeps.missed_dues(care.agency, db.utcnow())) == 0
    assert counts(care) == after
    owner.dispose()


def test_two_sweeps_at_once_send_once(committed, app, monkeypatch):
    monkeypatch.setenv("REMINDER_BATCH_SIZE", "7")
    care = Care(committed)
    missed_visits(care, 40)
    start = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            with app.app_context():
                start.wait(timeout=30)
                results.append(sweeps.late_and_missed_all.__wrapped__())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sum(results) >= 40  # other agencies of the session may have missed visits too
    assert counts(care) == {
        "reminders": 40,
        "notifications": 80,
        "distinct_notifications": 80,
        "mails": 80,
        "distinct_mails": 80,
    }


def test_one_agencys_failing_sweep_does_not_stop_the_others(committed, monkeypatch, caplog):
    """A sweep that fails in one agency (bad data) rolls that agency back and
    still sends the others' reminders, then reports the failure."""
    broken, fine = Care(committed), Care(committed)
    missed_visits(broken, 1)
    missed_visits(fine, 3)
    real = sweeps.missed_dues
    email = "edith@" + "example.com"  # (the traceback shows source lines, not values)

    def missed_dues(agency, now):
        if agency.id == broken.agency.id:
            raise RuntimeError(f"bad data for {email}")
        return real(agency, now)

    monkeypatch.setattr(sweeps, "missed_dues", missed_dues)
    with pytest.raises(RuntimeError):  # the run is recorded as failed...
        sweeps.late_and_missed_all.__wrapped__()
    # the log names the agency and the error's type, never the message's values
    assert str(broken.agency.id) in caplog.text and "RuntimeError" in caplog.text
    assert email not in caplog.text
    # ...after every other agency was swept
    assert counts(fine)["reminders"] == 3 and counts(fine)["mails"] == 6
    assert counts(broken)["reminders"] == 0


def test_an_escalation_run_killed_after_its_first_batch_escalates_the_rest(committed, app, monkeypatch):
    """`escalate_overdue` marks every overdue item escalated, then `send_due`
    commits batch by batch: a worker dying after the first commit must not
    leave the later items marked escalated but never sent."""
    from tenants.feedback import jobs as feedback_jobs
    from tenants.feedback.services import FeedbackData, submit_feedback

    monkeypatch.setitem(app.config, "REMINDER_BATCH_SIZE", 1)
    care = Care(committed)
    with app.test_request_context(), db.tenant_scope(care.agency.id):
        for text_ in ("one", "two", "three"):
            item = submit_feedback(
                care.agency, FeedbackData(kind="complaint", description=text_), channel="phone"
            )
            item.due_at = db.utcnow() - timedelta(hours=1)
        db.session.commit()
    real = reminders._send_batch
    ours: list[int] = []

    def dies_on_the_second_batch(agency, chunk):
        if agency.id == care.agency.id:
            ours.append(1)
            if len(ours) == 2:
                raise RuntimeError("worker killed")
        return real(agency, chunk)

    monkeypatch.setattr(reminders, "_send_batch", dies_on_the_second_batch)
    with pytest.raises(RuntimeError):
        feedback_jobs.escalate_all.__wrapped__()
    assert counts(care)["reminders"] == 1  # the first batch was committed
    monkeypatch.setattr(reminders, "_send_batch", real)
    feedback_jobs.escalate_all.__wrapped__()  # the next run
    feedback_jobs.escalate_all.__wrapped__()
    assert counts(care) == {
        "reminders": 3,
        "notifications": 3,  # the admin: the agency head
        "distinct_notifications": 3,
        "mails": 3,
        "distinct_mails": 3,
    }
