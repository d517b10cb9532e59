"""The audit purge's trigger exception also holds on a Citus shard.

On a cluster the append-only trigger fires on the shard (`audit_events_102024`), so
the exception for a purge named the table exactly and never matched there: the
purge of a closed agency's audit log was refused on every worker. The shard names
are the table's name and a number.

Revision ID: f1b2c3d4e5a6
Revises: e3c9a7d41b25
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

from saas import rls

revision: str = "f1b2c3d4e5a6"
down_revision: str | None = "e3c9a7d41b25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLES = f"'{rls.APP_ROLE}', '{rls.READER_ROLE}'"


def _refuse_change(table_test: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND {table_test}
     AND current_user NOT IN ({APP_ROLES})
     AND current_setting('app.audit_purge', true) = OLD.tenant_id::text THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'append-only table %', TG_TABLE_NAME;
END $$;
"""


def upgrade() -> None:
    op.execute(_refuse_change("TG_TABLE_NAME ~ '^audit_events(_[0-9]+)?$'"))


def downgrade() -> None:
    op.execute(_refuse_change("TG_TABLE_NAME = 'audit_events'"))
