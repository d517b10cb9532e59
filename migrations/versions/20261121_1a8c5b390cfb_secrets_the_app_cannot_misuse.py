"""secrets the app role cannot misuse: the audit purge only as the owner, an
agency's closing time stamped as it happens, TOTP secrets sealed

Revision ID: 1a8c5b390cfb
Revises: 9c8f7ade4198
Create Date: 2026-11-21 12:30:00

- `purge_agency_audit(agency)` was SECURITY DEFINER and executable by the app
  role, which could also write `agencies.closed_at`: it could mark an agency
  closed 31 days ago and erase its audit log. Now the function runs with its
  caller's rights, only the owner may execute it (the retention purge connects
  as the owner, billing.purge.purge_audit_logs), and the app role can no
  longer backdate a closing: `agencies_closure_stamped` refuses a closing
  earlier than the database's clock (an hour's leeway for clock skew), and a
  closed agency's state and closing time never change again.
- The append-only trigger never opens the log to the app roles, and TRUNCATE is
  refused by a trigger as well as by privileges.
- `users.totp_secret` holds Fernet ciphertext (saas.sealing): existing secrets
  are sealed here with the key the app uses (TOTP_ENCRYPTION_KEY, or the one
  generated under instance/ for the embedded run).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from saas import rls, sealing

revision: str = "1a8c5b390cfb"
down_revision: str | None = "9c8f7ade4198"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLES = f"'{rls.APP_ROLE}', '{rls.READER_ROLE}'"

PURGE_FUNCTION = """
CREATE OR REPLACE FUNCTION purge_agency_audit(p_agency uuid) RETURNS bigint
LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
DECLARE
  removed bigint;
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM agencies
    WHERE id = p_agency AND billing_state = 'closed' AND closed_at <= now() - interval '30 days'
  ) THEN
    RAISE EXCEPTION 'agency % is not closed for 30 days', p_agency;
  END IF;
  PERFORM set_config('app.tenant_id', p_agency::text, true);
  PERFORM set_config('app.audit_purge', p_agency::text, true);
  DELETE FROM audit_events WHERE tenant_id = p_agency;
  GET DIAGNOSTICS removed = ROW_COUNT;
  PERFORM set_config('app.audit_purge', '', true);
  RETURN removed;
END $$;
"""
PURGE_FUNCTION_BEFORE = """
CREATE OR REPLACE FUNCTION purge_agency_audit(p_agency uuid) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  removed bigint;
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM agencies
    WHERE id = p_agency AND billing_state = 'closed' AND closed_at <= now() - interval '30 days'
  ) THEN
    RAISE EXCEPTION 'agency % is not closed for 30 days', p_agency;
  END IF;
  PERFORM set_config('app.audit_purge', p_agency::text, true);
  DELETE FROM audit_events WHERE tenant_id = p_agency;
  GET DIAGNOSTICS removed = ROW_COUNT;
  PERFORM set_config('app.audit_purge', '', true);
  RETURN removed;
END $$;
"""
REFUSE_CHANGE = f"""
CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_events'
     AND current_user NOT IN ({APP_ROLES})
     AND current_setting('app.audit_purge', true) = OLD.tenant_id::text THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'append-only table %', TG_TABLE_NAME;
END $$;
"""
REFUSE_CHANGE_BEFORE = """
CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_events'
     AND current_setting('app.audit_purge', true) = OLD.tenant_id::text THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'append-only table %', TG_TABLE_NAME;
END $$;
"""
REFUSE_TRUNCATE = """
CREATE OR REPLACE FUNCTION refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'append-only table %', TG_TABLE_NAME;
END $$;
"""
# The app closes agencies (billing.lifecycle), so it keeps UPDATE on agencies;
# what it cannot do is date a closing in the past, or move or undo one.
CLOSURE_STAMPED = f"""
CREATE OR REPLACE FUNCTION agency_closure_stamped() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_user NOT IN ({APP_ROLES}) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.billing_state = 'closed' THEN
    IF NEW.billing_state IS DISTINCT FROM 'closed' OR NEW.closed_at IS DISTINCT FROM OLD.closed_at THEN
      RAISE EXCEPTION 'agency % was closed at %: that does not change', OLD.id, OLD.closed_at
        USING ERRCODE = 'check_violation';
    END IF;
  ELSIF NEW.billing_state = 'closed'
        AND (NEW.closed_at IS NULL OR NEW.closed_at < now() - interval '1 hour') THEN
    RAISE EXCEPTION 'agency % closes now, not at %', NEW.id, NEW.closed_at
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
"""


def _reseal(convert) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("select id, totp_secret from users where totp_secret is not null")).all()
    updates = [{"i": r.id, "s": convert(r.totp_secret)} for r in rows]
    updates = [u for u in updates if u["s"] is not None]
    if updates:
        bind.execute(sa.text("update users set totp_secret = :s where id = :i"), updates)


def upgrade() -> None:
    op.execute(PURGE_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION purge_agency_audit(uuid) FROM PUBLIC")
    op.execute(f"REVOKE ALL ON FUNCTION purge_agency_audit(uuid) FROM {rls.APP_ROLE}, {rls.READER_ROLE}")
    op.execute(REFUSE_CHANGE)
    op.execute(REFUSE_TRUNCATE)
    for table in rls.APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()"
        )
    op.execute(CLOSURE_STAMPED)
    op.execute(
        "CREATE TRIGGER agencies_closure_stamped BEFORE INSERT OR UPDATE OF billing_state, closed_at "
        "ON agencies FOR EACH ROW EXECUTE FUNCTION agency_closure_stamped()"
    )
    op.alter_column(
        "users", "totp_secret", type_=sa.Text(), existing_type=sa.String(length=64), existing_nullable=True
    )
    _reseal(lambda value: None if sealing.is_sealed(value) else sealing.seal(value))
    rls.grant_all_tables()


def downgrade() -> None:
    _reseal(lambda value: sealing.unseal(value) if sealing.is_sealed(value) else None)
    op.alter_column(
        "users", "totp_secret", type_=sa.String(length=64), existing_type=sa.Text(), existing_nullable=True
    )
    op.execute("DROP TRIGGER IF EXISTS agencies_closure_stamped ON agencies")
    op.execute("DROP FUNCTION IF EXISTS agency_closure_stamped()")
    for table in rls.APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS refuse_truncate()")
    op.execute(REFUSE_CHANGE_BEFORE)
    op.execute(PURGE_FUNCTION_BEFORE)
    op.execute(f"GRANT EXECUTE ON FUNCTION purge_agency_audit(uuid) TO {rls.APP_ROLE}")
