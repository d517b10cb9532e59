"""quality: monthly summaries, KPI targets

Revision ID: 7f5c4ab13e65
Revises: 6e4b3fa02d54
Create Date: 2026-11-21 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from saas import rls

revision: str = "7f5c4ab13e65"
down_revision: str | None = "6e4b3fa02d54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES: tuple[str, ...] = ("quality_summaries",)

# the month-bounded statements of the summary need these on other areas' tables
MONTH_INDEXES = (
    ("ix_feedback_items_received", "feedback_items", ["tenant_id", "received_at"]),
    ("ix_rectifications_created", "rectifications", ["tenant_id", "created_at"]),
    ("ix_return_visits_month", "return_visits", ["tenant_id", "month"]),
    ("ix_case_follow_ups_due_all", "case_follow_ups", ["tenant_id", "due_on"]),
)


VISIT_COVER = ["client_id", "status", "local_day", "late_flagged_at", "missed_flagged_at"]


def upgrade() -> None:
    op.create_table(
        "quality_summaries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("figures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rebuilds", sa.Integer(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state in ('queued','building','done','failed')", name=op.f("ck_quality_summaries_state_known")
        ),
        sa.CheckConstraint("extract(day from month) = 1", name=op.f("ck_quality_summaries_month_start")),
        sa.CheckConstraint("rebuilds >= 0", name=op.f("ck_quality_summaries_rebuilds_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["agencies.id"], name=op.f("fk_quality_summaries_tenant_id_agencies")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_quality_summaries")),
        sa.UniqueConstraint("tenant_id", "month", name=op.f("uq_quality_summaries_tenant_id_month")),
    )
    op.create_index("ix_quality_summaries_month", "quality_summaries", ["month", "state"], unique=False)
    for name, table, columns in MONTH_INDEXES:
        op.create_index(name, table, columns, unique=False)
    # the month's visit figures read only this index (an index-only scan)
    op.drop_index("ix_visits_start", table_name="visits")
    op.create_index("ix_visits_start", "visits", ["tenant_id", "starts_at"], unique=False, postgresql_include=VISIT_COVER)
    for table in TABLES:
        rls.enable_tenant_rls(table)
    rls.grant_all_tables()


def downgrade() -> None:
    op.drop_index("ix_visits_start", table_name="visits")
    op.create_index("ix_visits_start", "visits", ["tenant_id", "starts_at"], unique=False)
    for name, table, _columns in MONTH_INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_index("ix_quality_summaries_month", table_name="quality_summaries")
    op.drop_table("quality_summaries")
