"""visits by local day: the satisfaction statistics select a range of days

Revision ID: 9c8f7ade4198
Revises: 8a6d5bc24f76
Create Date: 2026-11-21 11:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9c8f7ade4198"
down_revision: str | None = "8a6d5bc24f76"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_visits_local_day", "visits", ["tenant_id", "local_day"], unique=False, postgresql_include=["status"]
    )


def downgrade() -> None:
    op.drop_index("ix_visits_local_day", table_name="visits")
