"""Invoice numbers per agency without gaps, under concurrent issue: real
transactions on their own connections, one holding the counter while the
other waits, one rolled back, two racing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from saas import db
from tenants.backoffice import invoicing
from tenants.backoffice.models import CareInvoice, CareInvoiceCounter
from tests.backoffice.helpers import MARCH, Month
from tests.conftest import COMMITTING
from tests.factories import Factory


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


def drafts(m: Month) -> list:
    """Three drafts for March: the funder's and the client's (the plan split
    in half), and the other client's (a one-off visit)."""
    visits = m.plan_visits()
    m.deliver(visits[0])
    m.deliver(visits[1])
    m.hourly_visit(visits[0].starts_at.replace(hour=14))
    m.rule("50")
    made = []
    with db.tenant_scope(m.agency.id):
        for payer in (("funder", m.funder.id), ("client", m.client.id), ("client", m.other.id)):
            made.append(invoicing.build_draft(m.agency, invoicing.Payer(*payer), *MARCH, by=None).id)
        db.session.commit()
    return made


# on a Citus cluster the counter's row is locked on a worker, for its shard:
# the coordinator sees that wait only in citus_lock_waits
WAITS = (
    "select count(*) from citus_lock_waits"
    if COMMITTING
    else "select count(*) from pg_locks l join pg_stat_activity a on a.pid = l.pid "
    "where not l.granted and a.datname = current_database()"
)


def _waiting_for_a_lock(thread: threading.Thread) -> bool:
    with db.get_engine().connect() as watcher:
        for _ in range(3000):
            waiting = watcher.execute(text(WAITS)).scalar()
            if waiting or not thread.is_alive():
                return bool(waiting)
            watcher.rollback()
            time.sleep(0.01)
    return False


def test_numbers_have_no_gaps_under_concurrent_issue(committed, app):
    m = Month(committed)
    first, second, third = drafts(m)
    outcome: dict[str, object] = {}
    holding, release = threading.Event(), threading.Event()

    def hold_then_roll_back() -> None:
        try:
            with app.app_context(), db.tenant_scope(m.agency.id):
                outcome["held"] = invoicing.issue(first, by=None).number
                holding.set()
                release.wait(timeout=60)
                db.session.rollback()
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome["holder_error"] = exc
            holding.set()
        finally:
            db.session.remove()

    def issue(key: str, invoice_id, barrier: threading.Barrier | None = None) -> None:
        try:
            with app.app_context(), db.tenant_scope(m.agency.id):
                if barrier is not None:
                    barrier.wait(timeout=30)
                outcome[key] = invoicing.issue(invoice_id, by=None).number
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome[key] = exc
        finally:
            db.session.remove()

    holder = threading.Thread(target=hold_then_roll_back)
    holder.start()
    assert holding.wait(timeout=60)
    waiter = threading.Thread(target=issue, args=("second", second))
    waiter.start()
    # the second issue queues behind the first's counter, then takes its number
    # when the first rolls back: number 1 is not lost
    assert _waiting_for_a_lock(waiter), outcome
    assert "second" not in outcome
    release.set()
    holder.join(timeout=60)
    waiter.join(timeout=60)
    assert outcome["held"] == 1 and outcome["second"] == 1, outcome
    # two at once: the next two numbers, one each
    barrier = threading.Barrier(2)
    racers = [
        threading.Thread(target=issue, args=("first", first, barrier)),
        threading.Thread(target=issue, args=("third", third, barrier)),
    ]
    for t in racers:
        t.start()
    for t in racers:
        t.join(timeout=60)
    assert sorted([outcome["first"], outcome["third"]]) == [2, 3], outcome
    with db.tenant_scope(m.agency.id):
        numbers = db.session.scalars(select(CareInvoice.number).order_by(CareInvoice.number)).all()
        counter = db.session.scalar(
            select(CareInvoiceCounter.last_number).where(CareInvoiceCounter.kind == "invoice")
        )
    assert numbers == [1, 2, 3] and counter == 3
