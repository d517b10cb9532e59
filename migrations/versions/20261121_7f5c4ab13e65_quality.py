"""quality: monthly summaries, KPI targets

Revision ID: 7f5c4ab13e65
Revises: 6e4b3fa02d54
Create Date: 2026-11-21 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from saas import rls  # noqa: F401

revision: str = "7f5c4ab13e65"
down_revision: str | None = "6e4b3fa02d54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES: tuple[str, ...] = ()


def upgrade() -> None:
    for table in TABLES:
        rls.enable_tenant_rls(table)
    rls.grant_all_tables()


def downgrade() -> None:
    pass
