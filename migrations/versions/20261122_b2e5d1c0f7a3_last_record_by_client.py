"""last record by client: the schedule reads each client's latest completed visit backwards

Revision ID: b2e5d1c0f7a3
Revises: 1a8c5b390cfb
Create Date: 2026-11-22 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b2e5d1c0f7a3"
down_revision: str | None = "1a8c5b390cfb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_visits_client_completed",
        "visits",
        ["tenant_id", "client_id", "starts_at"],
        unique=False,
        postgresql_where="status = 'completed'",
    )


def downgrade() -> None:
    op.drop_index("ix_visits_client_completed", table_name="visits")
