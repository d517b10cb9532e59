"""Roles, grants and row-level security, applied by migrations (as the owner).

- `saas_app`: the role the app connects as. Not the owner, NOBYPASSRLS,
  NOINHERIT, so it holds only privileges granted to it directly.
- `saas_platform_reader`: SELECT everywhere plus a policy seeing every agency;
  used only by `db.platform_reader()`, which logs in as it on a connection of
  its own (made a login role by migration e1f4a9c3b7d2). The app role keeps
  membership in it only so that a test's reader can nest in the test's one
  transaction (`SET LOCAL ROLE`, tests only).

Neither can remove or alter an audit entry: UPDATE, DELETE, TRUNCATE, TRIGGER
and REFERENCES on the logs are revoked, a trigger refuses changes and
truncation, and the retention purge (`purge_agency_audit`) is executable only
by the owner, checking a closing time the app cannot date in the past
(`tests/core/test_secrets.py` tries each path as the app role).
"""

from __future__ import annotations

from alembic import op

APP_ROLE = "saas_app"
READER_ROLE = "saas_platform_reader"
APPEND_ONLY = ("audit_events", "platform_audit_events")
# run only as the owner (the retention purge connects as the owner): never the app's
OWNER_ONLY_FUNCTIONS = ("purge_agency_audit(uuid)",)


def ensure_roles(app_password: str) -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} LOGIN NOINHERIT NOBYPASSRLS PASSWORD '{app_password.replace("'", "''")}';
          END IF;
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
            CREATE ROLE {READER_ROLE} NOLOGIN NOBYPASSRLS;
          END IF;
        END $$;
        """
    )
    op.execute(f"GRANT {READER_ROLE} TO {APP_ROLE}")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}, {READER_ROLE}")


def grant_all_tables() -> None:
    """Idempotent: call at the end of every migration that adds tables."""
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER_ROLE}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {APP_ROLE}")
    # the blanket grant above must not re-open the append-only logs
    for table in APPEND_ONLY:
        op.execute(
            f"DO $$ BEGIN IF to_regclass('{table}') IS NOT NULL THEN "
            f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {table} FROM {APP_ROLE}; END IF; END $$"
        )
    for function in OWNER_ONLY_FUNCTIONS:
        op.execute(
            f"DO $$ BEGIN IF to_regprocedure('{function}') IS NOT NULL THEN "
            f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC, {APP_ROLE}, {READER_ROLE}; END IF; END $$"
        )


def enable_tenant_rls(table: str) -> None:
    """Row-level security with FORCE, keyed on the per-transaction agency."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"""
        CREATE POLICY tenant_isolation ON {table}
          USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
          WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
        """
    )
    op.execute(f"CREATE POLICY platform_read ON {table} FOR SELECT TO {READER_ROLE} USING (true)")


def make_append_only(table: str) -> None:
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {APP_ROLE}")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'append-only table %', TG_TABLE_NAME;
        END $$;
        """
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
    )
