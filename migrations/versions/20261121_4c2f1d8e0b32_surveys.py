"""surveys: templates, campaigns, samples, personal links, responses

Revision ID: 4c2f1d8e0b32
Revises: 3b1e0c7d9a21
Create Date: 2026-11-21 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from saas import rls  # noqa: F401

revision: str = "4c2f1d8e0b32"
down_revision: str | None = "3b1e0c7d9a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES: tuple[str, ...] = ()


def upgrade() -> None:
    for table in TABLES:
        rls.enable_tenant_rls(table)
    rls.grant_all_tables()


def downgrade() -> None:
    pass
