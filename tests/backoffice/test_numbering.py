"""Invoice numbers per agency without gaps, under concurrent issue: real
transactions on their own connections, one holding the counter while the
other waits, one rolled back, two racing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

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


def test_concurrent_partial_credits_never_exceed_a_line_and_numbers_stay_gapless(committed, app):
    """Two partial credit notes of the same line at once, each for 60% of
    it: the second waits for the first's lock on the invoice, then sees what
    it took and is refused; the numbers of the credit notes have no gap."""
    from decimal import Decimal

    from tenants.backoffice.errors import BackOfficeError
    from tenants.backoffice.models import CareInvoiceLine

    m = Month(committed)
    first, _second, _third = drafts(m)
    with db.tenant_scope(m.agency.id):
        invoicing.issue(first, by=None)
        db.session.commit()
        line = db.session.scalars(
            select(CareInvoiceLine).where(CareInvoiceLine.invoice_id == first).order_by(CareInvoiceLine.day)
        ).first()
        line_id, amount = line.id, line.amount
    share = str((amount * Decimal("0.6")).quantize(Decimal("0.01")))
    outcome: dict[str, object] = {}
    holding, release = threading.Event(), threading.Event()

    def credit(key: str, hold: bool) -> None:
        try:
            with app.app_context(), db.tenant_scope(m.agency.id):
                note = invoicing.credit_lines(
                    first, [invoicing.CreditRequest(line_id, share)], f"credit {key}", by=None
                )
                outcome[key] = note.number
                if hold:
                    holding.set()
                    release.wait(timeout=60)
                db.session.commit()
        except BackOfficeError as exc:
            outcome[key] = exc.code
            db.session.rollback()
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome[key] = exc
        finally:
            holding.set()
            db.session.remove()

    holder = threading.Thread(target=credit, args=("first", True))
    holder.start()
    assert holding.wait(timeout=60)
    waiter = threading.Thread(target=credit, args=("second", False))
    waiter.start()
    assert _waiting_for_a_lock(waiter), outcome
    assert "second" not in outcome
    release.set()
    holder.join(timeout=60)
    waiter.join(timeout=60)
    assert outcome == {"first": 1, "second": "over_credit"}, outcome
    with db.tenant_scope(m.agency.id):
        taken = invoicing.credited_by_line(first)[line_id]
        # what remains can still be credited, under the next number
        invoicing.credit_lines(first, [invoicing.CreditRequest(line_id, None)], "the rest", by=None)
        db.session.commit()
        numbers = db.session.scalars(
            select(CareInvoice.number).where(CareInvoice.kind == "credit_note").order_by(CareInvoice.number)
        ).all()
    assert taken == Decimal(share) <= amount
    assert numbers == [1, 2]
    assert invoicing_line_total(m, line_id) == amount


def invoicing_line_total(m: Month, line_id) -> object:
    from tenants.backoffice.models import CareInvoiceLine

    with db.tenant_scope(m.agency.id):
        return -db.session.scalar(
            select(func.sum(CareInvoiceLine.amount)).where(CareInvoiceLine.credits_line_id == line_id)
        )
