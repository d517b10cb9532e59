"""audit append: an agency's audit entry appended in one round trip

Revision ID: c4a7e2f19d3b
Revises: b2e5d1c0f7a3
Create Date: 2026-12-05 08:15:00

`audit_append(...)` does what saas.audit.record did in three statements:
takes the agency's advisory lock, reads the head of its chain, inserts the
entry numbered and hashed after it. It runs with its caller's rights, so
row-level security checks the entry against `app.tenant_id` as before. Each
statement of a plpgsql function takes a fresh snapshot, so the head is read
after the lock is held (one SQL statement would read it from a snapshot taken
before waiting for the lock, and a writer committing meanwhile would fork the
chain). The canonical JSON of the entry stays Python's (saas.audit): the
caller passes it cut around the number, which only the database knows, and
the hash is sha256(prev_hash || head || seq || tail), the same bytes as
saas.audit.entry_hash hashes.
"""

from collections.abc import Sequence

from alembic import op

from saas import rls

revision: str = "c4a7e2f19d3b"
down_revision: str | None = "b2e5d1c0f7a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "audit_append(uuid, uuid, timestamptz, uuid, text, text, text, jsonb, text, text)"

# the lock is saas.audit's: namespace "AUDT", key the agency id's last 32 bits, signed
AUDIT_APPEND = """
CREATE OR REPLACE FUNCTION audit_append(
  p_tenant uuid, p_id uuid, p_at timestamptz, p_actor uuid, p_action text, p_subject text,
  p_ip text, p_details jsonb, p_head text, p_tail text
) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, pg_temp AS $$
DECLARE
  last_seq bigint;
  last_hash text;
  new_seq bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(1096107092, ('x' || right(p_tenant::text, 8))::bit(32)::int);
  SELECT seq, hash INTO last_seq, last_hash
    FROM audit_events WHERE tenant_id = p_tenant ORDER BY seq DESC LIMIT 1;
  new_seq := coalesce(last_seq, 0) + 1;
  last_hash := coalesce(last_hash, '');
  INSERT INTO audit_events (tenant_id, id, seq, at, actor_id, action, subject, ip, details, prev_hash, hash)
  VALUES (
    p_tenant, p_id, new_seq, p_at, p_actor, p_action, p_subject, p_ip, p_details, last_hash,
    encode(sha256(convert_to(last_hash || p_head || new_seq::text || p_tail, 'UTF8')), 'hex')
  );
  RETURN new_seq;
END $$;
"""


def upgrade() -> None:
    op.execute(AUDIT_APPEND)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {rls.APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
