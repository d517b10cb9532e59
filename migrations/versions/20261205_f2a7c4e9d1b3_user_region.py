"""users.region: the country whose way of writing dates and numbers a person prefers

Revision ID: f2a7c4e9d1b3
Revises: f2a8c4e61d37
Create Date: 2026-12-05 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2a7c4e9d1b3"
down_revision: str | None = "f2a8c4e61d37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("region", sa.String(length=2), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "region")
