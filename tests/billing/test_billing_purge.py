"""Purging a closed agency once the export window (30 days by default) has
passed and every client file's retention has ended: every row it owns, its
append-only audit log as the owner through the one database function allowed
to, and a record of what was removed.

The audit log goes only through a connection as the owner, which sees only
committed rows: the tests that purge commit their data (a fresh agency in the
session's test database) and close it 31 days ago as the owner, since the app
role cannot date a closing in the past."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine, create_engine, func, pool, select, text

from billing import exports, lifecycle, purge
from billing.jobs import run_sweep
from saas import db
from saas.config import owner_url
from saas.models import Agency, AuditEvent, MailMessage, PlatformAuditEvent, Role, User
from tests.factories import Factory
from tests.samples import build_world


def counts(agency_id) -> dict[str, int]:
    with db.tenant_scope(agency_id):
        result = {
            t.name: db.session.scalar(select(func.count()).select_from(t).where(t.c.tenant_id == agency_id))
            for t in exports.tenant_tables()
        }
        db.session.commit()
    return result


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


@pytest.fixture
def owner(migrated) -> Iterator[Engine]:
    engine = create_engine(owner_url(migrated), poolclass=pool.NullPool)
    yield engine
    engine.dispose()


def close(agency) -> None:
    agency = db.session.get(Agency, agency.id)  # attached to the current session
    lifecycle.close(agency, reason="left")
    db.session.commit()


def close_long_ago(agency, owner: Engine, days: int = 31) -> None:
    """Closed, then dated `days` ago by the owner: the database function checks
    its own clock, and the app role cannot date a closing in the past."""
    close(agency)
    with owner.begin() as conn:
        conn.execute(
            text("update agencies set closed_at = now() - make_interval(days => :d) where id = :a"),
            {"d": days, "a": agency.id},
        )
    db.session.expire_all()


def retention_over():
    """Past every sample file's retention (5 years at most): the app's clock
    only, the database's (the audit purge's check) stays today."""
    return time_machine.travel(db.utcnow() + relativedelta(years=6), tick=False)


def test_purge_removes_everything_the_agency_owns(app, committed, owner):
    factory = committed
    world = build_world(factory)
    keep = build_world(factory)
    try:
        _purge_and_check(app, factory, owner, world, keep)
    finally:
        # nothing of this test's agencies stays live for the other tests of this process
        if db.session.get(Agency, keep.agency.id, populate_existing=True).purged_at is None:
            close_long_ago(keep.agency, owner)
            with retention_over():
                run_sweep()
            db.session.commit()


def _purge_and_check(app, factory, owner, world, keep) -> None:
    shared, _ = factory.member(keep.agency, Role.CARER)
    factory.member(world.agency, Role.CARER, user=shared)  # also works for another agency
    lone, _ = factory.member(world.agency, Role.CLIENT, name="Lone Client", totp=True)
    # paying: years later its trial has not ended, so the sweep leaves it as it is
    lifecycle.mark_paid(db.session.get(Agency, keep.agency.id), reason="paid")
    db.session.commit()
    before_keep = counts(keep.agency.id)
    assert all(counts(world.agency.id).values()), "a sample row in every table"
    close_long_ago(world.agency, owner)
    assert run_sweep()["purged"] == 0, "its files' retention runs"
    db.session.commit()

    with retention_over():
        done = run_sweep()
    db.session.commit()
    assert done["purged"] >= 1 and done["audit_logs_purged"] >= 1
    assert set(counts(world.agency.id).values()) == {0}, "nothing of the agency is left"
    assert counts(keep.agency.id) == before_keep, "nothing of another agency is touched"
    assert (
        db.session.scalar(
            select(func.count()).select_from(MailMessage).where(MailMessage.agency_id == world.agency.id)
        )
        == 0
    )

    agency = db.session.get(Agency, world.agency.id, populate_existing=True)
    assert agency.purged_at is not None and agency.billing_state == "closed", (
        "the row stays, its slug reserved"
    )
    record = db.session.scalar(
        select(PlatformAuditEvent).where(
            PlatformAuditEvent.action == "agency.purged", PlatformAuditEvent.agency_id == agency.id
        )
    )
    removed = record.details["removed"]
    assert removed["memberships"] >= 3 and removed["invoices"] == 1
    assert "audit_events" not in removed, "the app role removes none of the audit log"
    assert removed["users_anonymised"] >= 1
    by_owner = db.session.scalar(
        select(PlatformAuditEvent).where(
            PlatformAuditEvent.action == "agency.audit_purged", PlatformAuditEvent.agency_id == agency.id
        )
    )
    assert by_owner.details["removed"]["audit_events"] >= 1
    lone = db.session.get(User, lone.id, populate_existing=True)
    assert lone.email.endswith("@purged.invalid") and lone.name == "" and not lone.is_active
    assert lone.password_hash is None and not lone.has_totp
    shared = db.session.get(User, shared.id, populate_existing=True)
    assert shared.is_active and "@purged.invalid" not in shared.email, "still a carer elsewhere"

    with retention_over():
        again = run_sweep()
    db.session.commit()
    assert again["purged"] == 0 and again["audit_logs_purged"] == 0, "once"


def test_purge_waits_thirty_days(app, factory):
    agency = factory.agency()
    close(agency)
    with pytest.raises(purge.NotDue):
        purge.purge_agency(agency.id)
    with app.app_context():
        assert run_sweep()["purged"] == 0
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > 0


def test_even_the_owner_cannot_purge_a_recently_closed_agencys_audit_log(app, committed, owner):
    agency = committed.agency()
    close_long_ago(agency, owner, days=5)
    with owner.connect() as conn, pytest.raises(Exception, match="not closed for 30 days"):
        conn.execute(text("select purge_agency_audit(:a)"), {"a": agency.id})
    # purged by the app (its other data) but closed for 5 days only: the log stays
    with owner.begin() as conn:
        conn.execute(text("update agencies set purged_at = now() where id = :a"), {"a": agency.id})
    assert purge.purge_audit_logs() == 0
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > 0
        db.session.commit()


def test_the_app_role_cannot_run_the_audit_purge(factory, dbconn):
    """More paths in tests/core/test_secrets.py."""
    agency = factory.agency()
    close(agency)
    dbconn.execute(text("select set_config('app.tenant_id', :t, true)"), {"t": str(agency.id)})
    nested = dbconn.begin_nested()
    with pytest.raises(Exception, match="permission denied for function purge_agency_audit"):
        dbconn.execute(text("select purge_agency_audit(:a)"), {"a": agency.id})
    nested.rollback()
    # and the app role still cannot delete from the log itself, even with the purge flag set
    nested = dbconn.begin_nested()
    dbconn.execute(text("select set_config('app.audit_purge', :t, true)"), {"t": str(agency.id)})
    with pytest.raises(Exception, match="permission denied"):
        dbconn.execute(text("delete from audit_events"))
    nested.rollback()
