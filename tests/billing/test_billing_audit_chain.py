"""The agency audit log is hash-chained; `saas audit verify` finds any break,
including a row edited by the database owner behind the app's back."""

from __future__ import annotations

import threading
import time
import uuid

from sqlalchemy import create_engine, func, select, text

from saas import audit, db
from saas.cli import main
from saas.config import owner_url
from saas.models import AuditEvent
from tests.factories import unique
from tests.sqlcount import count_round_trips


def test_entries_are_numbered_and_chained(factory, dbconn):
    agency = factory.agency()
    with db.tenant_scope(agency.id):
        for i in range(5):
            audit.record("test.chain", f"entry {i}", n=i, when=db.utcnow(), who=uuid.uuid4())
        db.session.commit()
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        count, breaks = audit.verify_chain()
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == "" and all(
        b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False)
    )
    assert count == len(rows) and breaks == []


def test_an_entry_is_one_round_trip_hashed_as_verify_hashes_it(factory, dbconn):
    """The database numbers and hashes the entry (audit_append): the bytes it
    hashes are the canonical JSON that verify recomputes, whatever the
    details hold, and the lock it holds is the agency's own."""
    agency = factory.agency()
    odd = {"name": 'Zoë 中文 \u2028 "quoted"', "nested": {"b": [1, 2.5, None, True], "a": {}}, "seq": 7}
    with db.tenant_scope(agency.id):
        db.session.commit()
        db.session.execute(text("select 1"))  # the transaction begun and scoped beforehand
        with count_round_trips() as trips:
            audit.record("test.chain", "x" * 300, actor_id=uuid.uuid4(), **odd)
        locks = db.session.execute(
            text(
                "select objid::bigint from pg_locks where locktype = 'advisory'"
                " and classid::bigint = :ns and objsubid = 2 and pid = pg_backend_pid()"
            ),
            {"ns": audit.LOCK_NAMESPACE},
        ).scalars()
        assert audit.lock_key(agency.id) & 0xFFFFFFFF in set(locks)
        audit.record("test.chain", "second")
        db.session.commit()
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        count, breaks = audit.verify_chain()
    assert trips.count == 1, trips.statements
    entry = next(r for r in rows if r.action == "test.chain" and r.subject.startswith("x"))
    assert entry.subject == "x" * 200 and entry.details == odd
    assert count == len(rows) and breaks == []


def test_writers_of_one_agency_wait_for_each_other(app, services, migrated):
    """Two transactions appending to one agency's log at once: the second
    waits for the first's lock, then reads the head the first committed (not
    the one its statement started with), so the chain neither forks nor fails."""
    from tests.factories import Factory

    db.session.remove()
    db.SessionLocal.configure(bind=db.get_engine(), join_transaction_mode="conditional_savepoint")
    with app.app_context():
        agency = Factory(app).agency(unique("race"))
        with db.tenant_scope(agency.id):
            audit.record("test.race", "before")
            db.session.commit()
            head = db.session.scalar(select(func.max(AuditEvent.seq)))
            first, second = (audit.entry_params("test.race", name) for name in ("first", "second"))
        holder, waiter = db.new_session(tenant_id=agency.id), db.new_session(tenant_id=agency.id)
        outcome: dict[str, object] = {}

        def wait_then_append() -> None:
            try:
                outcome["seq"] = waiter.execute(select(audit.APPEND), second).scalar()
                waiter.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                outcome["error"] = exc

        try:
            assert holder.execute(select(audit.APPEND), first).scalar() == head + 1
            thread = threading.Thread(target=wait_then_append)
            thread.start()
            with db.get_engine().connect() as watcher:
                for _ in range(6000):  # until the waiter queues on the lock
                    waiting = watcher.execute(
                        text("select count(*) from pg_locks where locktype = 'advisory' and not granted")
                    ).scalar()
                    if waiting or not thread.is_alive():
                        break
                    watcher.rollback()
                    time.sleep(0.01)
            assert waiting, outcome
            holder.commit()
            thread.join()
        finally:
            holder.close()
            waiter.close()
        assert outcome == {"seq": head + 2}
        with db.tenant_scope(agency.id):
            rows = db.session.execute(
                select(AuditEvent.seq, AuditEvent.subject)
                .where(AuditEvent.seq >= head)
                .order_by(AuditEvent.seq)
            ).all()
            assert [tuple(r) for r in rows] == [(head, "before"), (head + 1, "first"), (head + 2, "second")]
            assert audit.verify_chain() == (head + 2, [])
        db.session.remove()


def test_chains_are_per_agency_and_the_cli_reports_them(app, factory, dbconn):
    a = factory.agency()
    b = factory.agency()
    with db.tenant_scope(b.id):
        audit.record("test.chain", "b")
        db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["audit", "verify", "--agency", a.slug])
    assert result.exit_code == 0, result.output
    assert f"{a.slug}: " in result.output and "intact" in result.output
    assert runner.invoke(main, ["audit", "verify", "--agency", "nope"]).exit_code != 0


def test_verify_detects_an_edited_row(app, services, migrated):
    """Committed data, edited as the owner role with the append-only trigger
    switched off: what someone with database access could do."""
    from tests.factories import Factory

    db.session.remove()
    db.SessionLocal.configure(bind=db.get_engine(), join_transaction_mode="conditional_savepoint")
    owner = create_engine(owner_url(migrated))
    slug = unique("chain")
    try:
        with app.app_context():
            agency = Factory(app).agency(slug)
            with db.tenant_scope(agency.id):
                for i in range(3):
                    audit.record("test.chain", f"entry {i}", n=i)
                db.session.commit()
        runner = app.test_cli_runner()
        assert runner.invoke(main, ["audit", "verify", "--agency", slug]).exit_code == 0

        def as_owner(sql: str, **params) -> None:
            with owner.begin() as conn:
                conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
                conn.execute(text("select set_config('app.tenant_id', :t, true)"), {"t": str(agency.id)})
                conn.execute(text(sql), {"t": agency.id, **params})
                conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))

        as_owner("update audit_events set subject = 'nothing to see' where tenant_id = :t and seq = 3")
        result = runner.invoke(main, ["audit", "verify", "--agency", slug])
        assert result.exit_code == 1
        assert f"{slug}: entry 3" in result.output and "altered" in result.output

        # recomputing that row's hash only moves the break to the next entry
        with owner.connect() as conn:
            conn.execute(text("select set_config('app.tenant_id', :t, false)"), {"t": str(agency.id)})
            row = (
                conn.execute(
                    text("select * from audit_events where tenant_id = :t and seq = 3"), {"t": agency.id}
                )
                .mappings()
                .one()
            )
        fields = {
            k: row[k]
            for k in ("tenant_id", "id", "seq", "at", "actor_id", "action", "subject", "ip", "details")
        }
        as_owner(
            "update audit_events set hash = :h where tenant_id = :t and seq = 3",
            h=audit.entry_hash(row["prev_hash"], **fields),
        )
        result = runner.invoke(main, ["audit", "verify", "--agency", slug])
        assert result.exit_code == 1 and f"{slug}: entry 4" in result.output and "relinked" in result.output

        as_owner("delete from audit_events where tenant_id = :t and seq = 2")
        result = runner.invoke(main, ["audit", "verify", "--agency", slug])
        assert result.exit_code == 1 and "missing" in result.output
    finally:
        # leave nothing broken behind for other tests of this process
        with owner.begin() as conn:
            agency_id = conn.execute(text("select id from agencies where slug = :s"), {"s": slug}).scalar()
            if agency_id:
                conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
                conn.execute(text("select set_config('app.tenant_id', :t, true)"), {"t": str(agency_id)})
                conn.execute(text("delete from audit_events where tenant_id = :t"), {"t": agency_id})
                conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
        owner.dispose()
        db.session.remove()
