"""platform reader logs in: reads across agencies on a connection of their own

Revision ID: e1f4a9c3b7d2
Revises: d8b3f5a61c2e
Create Date: 2026-12-05 16:00:00

`saas_platform_reader` was reached by `SET LOCAL ROLE` inside the app's
transaction. On Citus the workers are reached as the current role, which then
had to log in, and placements the transaction had written could not be read
under another role. The reader now logs in with its own password
(`READER_DB_PASSWORD`) and `saas.db.platform_reader()` opens its own
connection. It keeps NOBYPASSRLS and SELECT only; its policy `platform_read`
is what lets it see every agency.
"""

import os
from collections.abc import Sequence

from alembic import op

from saas import rls

revision: str = "e1f4a9c3b7d2"
down_revision: str | None = "d8b3f5a61c2e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    password = os.environ.get("READER_DB_PASSWORD", "saas-reader-local").replace("'", "''")
    op.execute(f"ALTER ROLE {rls.READER_ROLE} LOGIN PASSWORD '{password}'")


def downgrade() -> None:
    op.execute(f"ALTER ROLE {rls.READER_ROLE} NOLOGIN PASSWORD NULL")
