"""Purging a closed agency 30 days after it closed: every row it owns, its
append-only audit log through the one database function allowed to, and a
record of what was removed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from billing import exports, lifecycle, purge
from billing.jobs import run_sweep
from saas import db
from saas.models import Agency, AuditEvent, MailMessage, PlatformAuditEvent, Role, User
from tests.samples import build_world


def counts(agency_id) -> dict[str, int]:
    with db.tenant_scope(agency_id):
        return {
            t.name: db.session.scalar(select(func.count()).select_from(t).where(t.c.tenant_id == agency_id))
            for t in exports.tenant_tables()
        }


def close_long_ago(agency, days: int = 31) -> None:
    agency = db.session.get(Agency, agency.id)  # attached to the current session
    lifecycle.close(agency, reason="left")
    # the database function checks its own clock, so the date is really in the past
    agency.closed_at = db.utcnow() - timedelta(days=days)
    db.session.commit()


def test_purge_removes_everything_the_agency_owns(app, factory):
    world = build_world(factory)
    keep = build_world(factory)
    shared, _ = factory.member(keep.agency, Role.CARER)
    factory.member(world.agency, Role.CARER, user=shared)  # also works for another agency
    lone, _ = factory.member(world.agency, Role.CLIENT, name="Lone Client")
    before_keep = counts(keep.agency.id)
    assert all(counts(world.agency.id).values()), "a sample row in every table"
    close_long_ago(world.agency)

    with app.app_context():
        done = run_sweep()
    assert done["purged"] >= 1
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
    assert removed["memberships"] >= 3 and removed["audit_events"] >= 1 and removed["invoices"] == 1
    assert removed["users_anonymised"] >= 1
    lone = db.session.get(User, lone.id, populate_existing=True)
    assert lone.email.endswith("@purged.invalid") and lone.name == "" and not lone.is_active
    assert lone.password_hash is None
    shared = db.session.get(User, shared.id, populate_existing=True)
    assert shared.is_active and "@purged.invalid" not in shared.email, "still a carer elsewhere"

    with app.app_context():
        assert run_sweep()["purged"] == 0, "once"


def test_purge_waits_thirty_days(app, factory):
    agency = factory.agency()
    close_long_ago(agency, days=5)
    with pytest.raises(purge.NotDue):
        purge.purge_agency(agency.id)
    with app.app_context():
        assert run_sweep()["purged"] == 0
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > 0


def test_the_database_refuses_to_purge_a_live_agencys_audit_log(factory, dbconn):
    agency = factory.agency()
    close_long_ago(agency, days=5)
    dbconn.execute(text("select set_config('app.tenant_id', :t, true)"), {"t": str(agency.id)})
    nested = dbconn.begin_nested()
    with pytest.raises(Exception, match="not closed for 30 days"):
        dbconn.execute(text("select purge_agency_audit(:a)"), {"a": agency.id})
    nested.rollback()
    # and the app role still cannot delete from the log itself, even with the purge flag set
    nested = dbconn.begin_nested()
    dbconn.execute(text("select set_config('app.audit_purge', :t, true)"), {"t": str(agency.id)})
    with pytest.raises(Exception, match="permission denied"):
        dbconn.execute(text("delete from audit_events"))
    nested.rollback()
