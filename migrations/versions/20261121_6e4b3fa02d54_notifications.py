"""notifications: reminders sent once, in-app notifications, preferences

Revision ID: 6e4b3fa02d54
Revises: 5d3a2e9f1c43
Create Date: 2026-11-21 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from saas import rls  # noqa: F401

revision: str = "6e4b3fa02d54"
down_revision: str | None = "5d3a2e9f1c43"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES: tuple[str, ...] = ()


def upgrade() -> None:
    for table in TABLES:
        rls.enable_tenant_rls(table)
    rls.grant_all_tables()


def downgrade() -> None:
    pass
