"""assignment overrides: each visit given to a worker despite refusals, with who, when, which and why

Revision ID: e5f1a9c3b7d4
Revises: e1f4a9c3b7d2
Create Date: 2026-12-05 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from saas import rls

revision: str = "e5f1a9c3b7d4"
down_revision: str | None = "e1f4a9c3b7d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assignment_overrides",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("staff_file_id", sa.Uuid(), nullable=False),
        sa.Column("refusals", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "staff_file_id"],
            ["staff_files.tenant_id", "staff_files.id"],
            name=op.f("fk_assignment_overrides_tenant_id_staff_file_id_staff_files"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "visit_id"],
            ["visits.tenant_id", "visits.id"],
            name=op.f("fk_assignment_overrides_tenant_id_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["agencies.id"], name=op.f("fk_assignment_overrides_tenant_id_agencies")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_assignment_overrides")),
    )
    op.create_index(
        "ix_assignment_overrides_staff",
        "assignment_overrides",
        ["tenant_id", "staff_file_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_assignment_overrides_visit",
        "assignment_overrides",
        ["tenant_id", "visit_id", "created_at"],
        unique=False,
    )
    rls.enable_tenant_rls("assignment_overrides")
    rls.grant_all_tables()


def downgrade() -> None:
    op.drop_index("ix_assignment_overrides_visit", table_name="assignment_overrides")
    op.drop_index("ix_assignment_overrides_staff", table_name="assignment_overrides")
    op.drop_table("assignment_overrides")
