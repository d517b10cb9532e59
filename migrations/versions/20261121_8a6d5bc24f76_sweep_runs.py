"""sweep runs: when each scheduled sweep last ran, and how it ended

Revision ID: 8a6d5bc24f76
Revises: 7f5c4ab13e65
Create Date: 2026-11-21 10:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from saas import rls

revision: str = "8a6d5bc24f76"
down_revision: str | None = "7f5c4ab13e65"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# a platform table (no tenant_id): sweeps work across agencies
TABLES: tuple[str, ...] = ()


def upgrade() -> None:
    op.create_table(
        "sweep_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sweep", sa.String(length=120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_runs")),
    )
    op.create_index("ix_sweep_runs_sweep_started", "sweep_runs", ["sweep", "started_at"], unique=False)
    for table in TABLES:
        rls.enable_tenant_rls(table)
    rls.grant_all_tables()


def downgrade() -> None:
    op.drop_index("ix_sweep_runs_sweep_started", table_name="sweep_runs")
    op.drop_table("sweep_runs")
