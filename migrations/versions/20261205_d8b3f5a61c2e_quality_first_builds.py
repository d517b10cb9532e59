"""quality first builds: the sweep stores a batch of agencies' summaries in one round trip

Revision ID: d8b3f5a61c2e
Revises: c4a7e2f19d3b
Create Date: 2026-12-05 08:35:00

`quality_store_first_builds(builds)` does, for each agency of the batch in
turn, what the sweep did in two round trips per agency: puts the agency in
scope (`app.tenant_id`, as the app's SET LOCAL does), inserts its summary of
the month unless one exists in any state, and appends its audit entry
(`audit_append`) when it was stored. It runs with its caller's rights, so
row-level security checks every row against the agency in scope at that
moment, and each agency's chain is appended under its own lock. The scope the
caller had is put back before it returns. Returns the agencies whose summary
was stored, with its id.
"""

from collections.abc import Sequence

from alembic import op

from saas import rls

revision: str = "d8b3f5a61c2e"
down_revision: str | None = "c4a7e2f19d3b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "quality_store_first_builds(jsonb)"

STORE = """
CREATE OR REPLACE FUNCTION quality_store_first_builds(p_builds jsonb)
RETURNS TABLE (agency_id uuid, summary_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, pg_temp AS $$
DECLARE
  scope text := coalesce(current_setting('app.tenant_id', true), '');
  b jsonb;
  agency uuid;
  stored uuid;
BEGIN
  FOR b IN SELECT e.value FROM jsonb_array_elements(p_builds) WITH ORDINALITY AS e(value, n) ORDER BY e.n LOOP
    agency := (b->>'agency_id')::uuid;
    PERFORM set_config('app.tenant_id', agency::text, true);
    stored := NULL;
    INSERT INTO quality_summaries AS s
      (tenant_id, id, month, state, figures, locale, requested_at, built_at, rebuilds)
    VALUES (
      agency, (b->>'summary_id')::uuid, (b->>'month')::date, 'done', b->'figures', b->>'locale',
      (b->>'built_at')::timestamptz, (b->>'built_at')::timestamptz, 0
    )
    ON CONFLICT (tenant_id, month) DO NOTHING
    RETURNING s.id INTO stored;
    IF stored IS NOT NULL THEN
      PERFORM audit_append(
        agency, (b->>'audit_id')::uuid, (b->>'audit_at')::timestamptz, (b->>'audit_actor_id')::uuid,
        b->>'audit_action', b->>'audit_subject', b->>'audit_ip', b->'audit_details',
        b->>'audit_head', b->>'audit_tail'
      );
      agency_id := agency;
      summary_id := stored;
      RETURN NEXT;
    END IF;
  END LOOP;
  PERFORM set_config('app.tenant_id', scope, true);
END $$;
"""


def upgrade() -> None:
    op.execute(STORE)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {rls.APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
