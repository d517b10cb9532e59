"""Secrets the app role cannot misuse. Each path is tried as the app role, on
the connection the app itself uses (`saas_app`): the audit logs cannot be
changed, emptied or purged, a closing cannot be dated in the past, two-factor
secrets are ciphertext, link tokens are stored only as digests, and a mail
body carrying a link is gone once delivered (with the same Message-ID when a
delivery is repeated)."""

from __future__ import annotations

import email
import uuid
from datetime import timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from alembic import command
from alembic.config import Config as AlembicConfig
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from billing import lifecycle
from saas import audit, db, mail, sealing
from saas.auth import services as auth_services
from saas.auth import totp
from saas.config import ROOT
from saas.db import Base
from saas.models import Agency, AuditEvent, MailMessage, Role, User
from tests.conftest import make_config
from tests.core.test_jobs import Inbox, free_port
from tests.factories import TOTP_SECRET, login, totp_now

MUST_FAIL = "must be owner|permission denied|append-only|violates foreign key"


def refused(dbconn, statement: str, match: str = MUST_FAIL, **params: object) -> None:
    """`statement`, tried as the app role in a savepoint, is refused."""
    nested = dbconn.begin_nested()
    try:
        with pytest.raises(Exception, match=match):
            dbconn.execute(text(statement), params)
    finally:
        nested.rollback()


def as_app_role(dbconn, agency_id: uuid.UUID) -> None:
    assert dbconn.execute(text("select current_user")).scalar() == "saas_app"
    dbconn.execute(text("select set_config('app.tenant_id', :t, true)"), {"t": str(agency_id)})


# -- the audit logs --------------------------------------------------------------


def test_the_app_role_cannot_remove_or_alter_audit_entries_by_any_path(factory, dbconn):
    agency = factory.agency()
    with db.tenant_scope(agency.id):
        audit.record("test.secret", "kept", n=1)
        db.session.commit()
        entries_before = audit.verify_chain()
        db.session.commit()
    assert entries_before[0] >= 2 and entries_before[1] == []
    as_app_role(dbconn, agency.id)

    for table in ("audit_events", "platform_audit_events"):
        refused(dbconn, f"update {table} set action = 'x'", "permission denied")
        refused(dbconn, f"delete from {table}", "permission denied")
        refused(dbconn, f"truncate {table}", "permission denied")
        refused(dbconn, f"truncate {table} cascade", "permission denied")
        refused(dbconn, f"alter table {table} disable trigger all", "must be owner")
        refused(dbconn, f"alter table {table} no force row level security", "must be owner")
        refused(dbconn, f"drop table {table}", "must be owner")
        refused(
            dbconn,
            f"create trigger open_up before delete on {table} for each row execute function refuse_change()",
            "permission denied",
        )
    refused(
        dbconn,
        "insert into audit_events select * from audit_events limit 1 "
        "on conflict (tenant_id, id) do update set action = 'x'",
        "permission denied",
    )
    # the retention purge: not the app's to run, with or without its flag
    refused(dbconn, "select purge_agency_audit(:a)", "permission denied for function", a=agency.id)
    nested = dbconn.begin_nested()
    dbconn.execute(text("select set_config('app.audit_purge', :t, true)"), {"t": str(agency.id)})
    with pytest.raises(Exception, match="permission denied"):
        dbconn.execute(text("delete from audit_events"))
    nested.rollback()
    # the read-only role the app may switch to writes nothing either
    nested = dbconn.begin_nested()
    dbconn.execute(text("set local role saas_platform_reader"))
    with pytest.raises(Exception, match="permission denied"):
        dbconn.execute(text("delete from audit_events"))
    nested.rollback()
    # removing the agency would orphan its log: the foreign key refuses
    refused(dbconn, "delete from agencies where id = :a", "violates foreign key", a=agency.id)
    # nothing of its own can be made to run in the owner's place
    refused(
        dbconn,
        "create function public.audit_purge_me() returns int language sql as 'select 1'",
        "permission denied for schema public",
    )

    privileges = dbconn.execute(
        text(
            """
            select t, p from unnest(array['audit_events', 'platform_audit_events']) t,
                 unnest(array['UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES']) p
            where has_table_privilege('saas_app', t, p)
            """
        )
    ).all()
    assert privileges == []
    assert not dbconn.execute(
        text("select has_function_privilege('saas_app', 'purge_agency_audit(uuid)', 'EXECUTE')")
    ).scalar()
    assert not dbconn.execute(text("select has_schema_privilege('saas_app', 'public', 'CREATE')")).scalar()

    with db.tenant_scope(agency.id):
        assert audit.verify_chain() == entries_before, "every entry is still there, unchanged"
        db.session.commit()


def test_the_app_role_cannot_date_a_closing_in_the_past(factory, dbconn):
    """The attack: mark an agency closed 31 days ago, then purge its log."""
    agency = factory.agency()
    as_app_role(dbconn, agency.id)
    refused(
        dbconn,
        "update agencies set billing_state = 'closed', closed_at = now() - interval '31 days' where id = :a",
        "closes now",
        a=agency.id,
    )
    refused(
        dbconn,
        "insert into agencies (id, slug, name, timezone, locale, status, settings, created_at,"
        " billing_state, closed_at) values (:i, :s, 'Old', 'UTC', 'en', 'active', '{}', now(),"
        " 'closed', now() - interval '31 days')",
        "closes now",
        i=uuid.uuid4(),
        s=f"old{uuid.uuid4().hex[:8]}",
    )
    # a real closing is stamped now, and then never moves nor reopens
    closing = db.session.get(Agency, agency.id)
    assert lifecycle.close(closing, reason="left")
    db.session.commit()
    refused(
        dbconn,
        "update agencies set closed_at = now() - interval '31 days' where id = :a",
        "does not change",
        a=agency.id,
    )
    refused(
        dbconn, "update agencies set billing_state = 'active' where id = :a", "does not change", a=agency.id
    )
    refused(dbconn, "select purge_agency_audit(:a)", "permission denied for function", a=agency.id)
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(AuditEvent.id).limit(1)) is not None
        db.session.commit()


# -- two-factor secrets ----------------------------------------------------------


def test_totp_secrets_are_ciphertext_to_the_app_role(factory, dbconn):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    stored = dbconn.execute(text("select totp_secret from users where id = :u"), {"u": admin.id}).scalar()
    assert stored.startswith(sealing.SEALED_PREFIX) and TOTP_SECRET not in stored
    user = db.session.get(User, admin.id)
    assert user.totp_secret == TOTP_SECRET and user.has_totp
    assert totp.verify(user, totp_now()), "the second factor still checks out"


def test_a_wrong_key_is_a_clear_error_and_a_new_key_reseals(factory, dbconn, monkeypatch):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    current = sealing._configured_keys()

    monkeypatch.setenv(sealing.ENV, Fernet.generate_key().decode())
    with pytest.raises(sealing.KeyMismatch):
        _ = db.session.get(User, admin.id, populate_existing=True).totp_secret

    # rotation: a new key first, the old one still listed; the next sign-in re-seals
    newest = Fernet.generate_key().decode()
    monkeypatch.setenv(sealing.ENV, f"{newest},{current}")
    user = db.session.get(User, admin.id, populate_existing=True)
    assert sealing.needs_reseal(user.totp_secret_sealed)
    user.totp_last_counter = None
    assert totp.verify(user, totp_now())
    db.session.commit()
    assert not sealing.needs_reseal(user.totp_secret_sealed)
    monkeypatch.setenv(sealing.ENV, newest)
    assert db.session.get(User, admin.id, populate_existing=True).totp_secret == TOTP_SECRET


def test_the_migration_seals_existing_secrets(migrated):
    """From the revision before, with a plaintext secret, to head and back."""
    url = make_url(migrated)
    scratch = f"{url.database}_seal"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    scratch_url = url.set(database=scratch).render_as_string(hide_password=False)
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = scratch_url
    cfg.attributes["skip_logging"] = True
    engine = create_engine(scratch_url)
    try:
        command.upgrade(cfg, "9c8f7ade4198")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "insert into users (id, email, name, totp_secret, is_operator, is_active, created_at)"
                    " values (:i, 'old@example.net', '', :s, false, true, now())"
                ),
                {"i": uuid.uuid4(), "s": TOTP_SECRET},
            )
        command.upgrade(cfg, "1a8c5b390cfb")
        with engine.connect() as conn:
            sealed = conn.execute(text("select totp_secret from users")).scalar()
        assert sealing.is_sealed(sealed) and sealing.unseal(sealed) == TOTP_SECRET
        command.downgrade(cfg, "9c8f7ade4198")
        with engine.connect() as conn:
            assert conn.execute(text("select totp_secret from users")).scalar() == TOTP_SECRET
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


# -- link tokens -------------------------------------------------------------------


def test_link_secrets_are_stored_only_as_digests(app, factory, dbconn):
    """An invitation's and a password reset's secret appear in no table but the
    kept mail (no SMTP here): only their SHA-256 digests are stored."""
    agency = factory.agency()
    agency_id = agency.id
    _invitation, token = factory.invitation(agency, "invited@example.net")
    email_address = factory.user().email
    with app.test_request_context():
        auth_services.send_password_reset(email_address, "en")
        db.session.commit()
    reset = factory.last_mail_link(email_address).rsplit("/", 1)[-1]
    secrets = [token.rsplit(".", 1)[-1], reset.rsplit(".", 1)[-1]]
    dbconn.execute(text("select set_config('app.tenant_id', :t, true)"), {"t": str(agency_id)})
    for table in Base.metadata.sorted_tables:
        if table.name == "mail_messages":
            continue
        for secret in secrets:
            found = dbconn.execute(
                text(f"select count(*) from {table.name} t where t::text like :s"), {"s": f"%{secret}%"}
            ).scalar()
            assert found == 0, f"a link secret is stored in {table.name}"


# -- mail ----------------------------------------------------------------------------


def test_a_delivered_link_is_not_kept_and_a_resend_keeps_its_message_id(services, factory, dbconn):
    from saas.app import create_app

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp_app = create_app(make_config(services, SMTP_URL=f"smtp://127.0.0.1:{port}"))
        with smtp_app.test_request_context():
            message_id = mail.send(
                "someone@example.net", "password_reset", kind="password_reset", link="http://x/reset/secret"
            )
            db.session.commit()
            # the worker hands the message to SMTP and dies before its commit...
            mail.deliver(str(message_id))
            db.session.rollback()
            # ...so the job runs again
            mail.deliver(str(message_id))
            db.session.commit()
        assert len(inbox.messages) == 2
        first, second = (email.message_from_bytes(raw) for raw in inbox.messages)
        assert first["Message-ID"] == second["Message-ID"], "the recipient sees one message"
        assert first["Message-ID"] == f"<{message_id.hex}@carehub.example>"
        assert "http://x/reset/secret" in second.get_payload(decode=True).decode()
        row = db.session.scalar(select(MailMessage).where(MailMessage.id == message_id))
        assert row.status == "sent" and row.body == "", "the link is gone once delivered"
    finally:
        controller.stop()


def test_without_smtp_a_link_is_kept_for_the_operator_outbox(app, factory, dbconn):
    with app.test_request_context():
        message_id = mail.send("a@example.net", "password_reset", kind="t", link="http://x/reset/kept")
        db.session.commit()
        mail.deliver(str(message_id))
        db.session.commit()
    row = db.session.scalar(select(MailMessage).where(MailMessage.id == message_id))
    assert row.status == "kept" and "http://x/reset/kept" in row.body


def test_links_in_undelivered_mail_are_cleared_after_a_week(app, factory, dbconn):
    with app.test_request_context():
        stuck = mail.send("a@example.net", "password_reset", kind="t", link="http://x/reset/stuck")
        kept = mail.send("b@example.net", "password_reset", kind="t", link="http://x/reset/outbox")
        db.session.commit()
        mail.deliver(str(kept))  # no SMTP: kept for the outbox
        db.session.commit()
    # `stuck` never got through (its retries ended): a week on, its link goes
    with time_machine.travel(db.utcnow() + timedelta(days=8), tick=False):
        assert mail.clear_undelivered_links.__wrapped__() >= 1
    rows = dict(db.session.execute(select(MailMessage.id, MailMessage.body)).all())
    assert rows[stuck] == "" and "http://x/reset/outbox" in rows[kept]


def test_the_operator_outbox_says_why_a_body_is_empty(client, factory, dbconn):
    with client.application.test_request_context():
        message_id = mail.send("c@example.net", "password_reset", kind="t", link="http://x/r")
        db.session.commit()
    # as delivery over SMTP leaves it
    db.session.execute(
        MailMessage.__table__.update().where(MailMessage.id == message_id).values(body="", status="sent")
    )
    db.session.commit()
    operator = factory.user(operator=True, totp=True)
    login(client, operator)
    page = client.get(f"/operator/outbox/{message_id}")
    assert page.status_code == 200 and "removed once the message was delivered" in page.text
