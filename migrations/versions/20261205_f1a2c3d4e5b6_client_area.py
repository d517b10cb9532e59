"""client area: the district a client lives in, for the rota board's area filter

Revision ID: f1a2c3d4e5b6
Revises: f2c4d6e8a1b3
Create Date: 2026-12-05 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1a2c3d4e5b6"
down_revision: str | None = "f2c4d6e8a1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # filled with '' for the clients already there, then the app gives the value
    op.add_column("clients", sa.Column("area", sa.String(length=120), nullable=False, server_default=""))
    op.alter_column("clients", "area", server_default=None)


def downgrade() -> None:
    op.drop_column("clients", "area")
