"""teams: a supervisor per team, staff files in teams

Revision ID: 3b1e0c7d9a21
Revises: 616d655b6766
Create Date: 2026-11-21 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from saas import rls

revision: str = "3b1e0c7d9a21"
down_revision: str | None = "616d655b6766"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("supervisor_membership_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_teams_name_present")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "supervisor_membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_teams_tenant_id_supervisor_membership_id_memberships"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["agencies.id"], name=op.f("fk_teams_tenant_id_agencies")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_teams")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_teams_tenant_id_name")),
    )
    op.add_column("staff_files", sa.Column("team_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_staff_files_tenant_id_team_id_teams"),
        "staff_files",
        "teams",
        ["tenant_id", "team_id"],
        ["tenant_id", "id"],
    )
    op.create_index("ix_staff_files_team", "staff_files", ["tenant_id", "team_id"], unique=False)
    op.add_column("feedback_tasks", sa.Column("assignee_membership_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_feedback_tasks_tenant_id_assignee_membership_id_memberships"),
        "feedback_tasks",
        "memberships",
        ["tenant_id", "assignee_membership_id"],
        ["tenant_id", "id"],
    )
    rls.enable_tenant_rls("teams")
    rls.grant_all_tables()


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_feedback_tasks_tenant_id_assignee_membership_id_memberships"), "feedback_tasks", type_="foreignkey"
    )
    op.drop_column("feedback_tasks", "assignee_membership_id")
    op.drop_index("ix_staff_files_team", table_name="staff_files")
    op.drop_constraint(op.f("fk_staff_files_tenant_id_team_id_teams"), "staff_files", type_="foreignkey")
    op.drop_column("staff_files", "team_id")
    op.drop_table("teams")
