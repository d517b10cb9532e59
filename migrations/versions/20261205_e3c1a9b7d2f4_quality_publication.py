"""quality publication: a month's summary published to the agency's public page

Revision ID: e3c1a9b7d2f4
Revises: e5f1a9c3b7d4
Create Date: 2026-12-05 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e3c1a9b7d2f4"
down_revision: str | None = "e5f1a9c3b7d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("quality_summaries", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "quality_summaries",
        sa.Column(
            "published_kpis",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
    )
    op.add_column("quality_summaries", sa.Column("published_by_user_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("quality_summaries", "published_by_user_id")
    op.drop_column("quality_summaries", "published_kpis")
    op.drop_column("quality_summaries", "published_at")
