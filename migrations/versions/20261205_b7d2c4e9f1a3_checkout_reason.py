"""service records keep the carer's reason for a check-out with unticked checklist points or a short stay

Revision ID: b7d2c4e9f1a3
Revises: f1a7c3e9b2d6
Create Date: 2026-12-05 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d2c4e9f1a3"
down_revision: str | None = "f1a7c3e9b2d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "service_records",
        sa.Column("checkout_reason", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("service_records", "checkout_reason")
