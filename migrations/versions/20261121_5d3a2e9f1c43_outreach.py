"""outreach: opinion-box log, stakeholder opinion rounds, funder return visits

Revision ID: 5d3a2e9f1c43
Revises: 4c2f1d8e0b32
Create Date: 2026-11-21 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from saas import rls

revision: str = "5d3a2e9f1c43"
down_revision: str | None = "4c2f1d8e0b32"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES: tuple[str, ...] = (
    "opinion_box_locations",
    "opinion_box_logs",
    "stakeholder_rounds",
    "funders",
    "funder_visits",
)


def _keys(table: str) -> list:
    return [
        sa.ForeignKeyConstraint(["tenant_id"], ["agencies.id"], name=op.f(f"fk_{table}_tenant_id_agencies")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{table}")),
    ]


def _tenant_fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{target}.tenant_id", f"{target}.id"],
        name=op.f(f"fk_{table}_tenant_id_{column}_{target}"),
    )


def upgrade() -> None:
    op.create_table(
        "opinion_box_locations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_opinion_box_locations_name_present")),
        *_keys("opinion_box_locations"),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_opinion_box_locations_tenant_id_name")),
    )
    op.create_table(
        "opinion_box_logs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opened", sa.Boolean(), nullable=False),
        sa.Column("not_opened_reason", sa.Text(), nullable=False),
        sa.Column("slips", sa.Integer(), nullable=False),
        sa.Column("opened_by_membership_id", sa.Uuid(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("backfilled", sa.Boolean(), nullable=False),
        sa.Column("recorded_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("slips >= 0", name=op.f("ck_opinion_box_logs_slips_not_negative")),
        sa.CheckConstraint("opened or slips = 0", name=op.f("ck_opinion_box_logs_no_slips_unopened")),
        sa.CheckConstraint(
            "opened or length(btrim(not_opened_reason)) > 0",
            name=op.f("ck_opinion_box_logs_reason_when_unopened"),
        ),
        _tenant_fk("opinion_box_logs", "location_id", "opinion_box_locations"),
        _tenant_fk("opinion_box_logs", "opened_by_membership_id", "memberships"),
        *_keys("opinion_box_logs"),
        sa.UniqueConstraint(
            "tenant_id", "location_id", "day", name=op.f("uq_opinion_box_logs_tenant_id_location_id_day")
        ),
    )
    op.create_index("ix_opinion_box_logs_day", "opinion_box_logs", ["tenant_id", "day"], unique=False)
    op.create_table(
        "stakeholder_rounds",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("stakeholder_group", sa.String(length=20), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("opinions", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("led_by_membership_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "stakeholder_group in ('clients','funders','partners')",
            name=op.f("ck_stakeholder_rounds_group_known"),
        ),
        sa.CheckConstraint(
            "method in ('meeting','survey','interviews','visit','phone','other')",
            name=op.f("ck_stakeholder_rounds_method_known"),
        ),
        sa.CheckConstraint("participants >= 0", name=op.f("ck_stakeholder_rounds_participants_not_negative")),
        sa.CheckConstraint("opinions >= 0", name=op.f("ck_stakeholder_rounds_opinions_not_negative")),
        sa.CheckConstraint("length(btrim(summary)) > 0", name=op.f("ck_stakeholder_rounds_summary_present")),
        _tenant_fk("stakeholder_rounds", "team_id", "teams"),
        _tenant_fk("stakeholder_rounds", "led_by_membership_id", "memberships"),
        *_keys("stakeholder_rounds"),
    )
    op.create_index(
        "ix_stakeholder_rounds_team_group",
        "stakeholder_rounds",
        ["tenant_id", "team_id", "stakeholder_group", "held_on"],
        unique=False,
    )
    op.create_table(
        "funders",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_person", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_funders_name_present")),
        *_keys("funders"),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_funders_tenant_id_name")),
    )
    op.create_table(
        "funder_visits",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("funder_id", sa.Uuid(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("visited_by_membership_id", sa.Uuid(), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("follow_up", sa.Text(), nullable=False),
        sa.Column("recorded_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        _tenant_fk("funder_visits", "funder_id", "funders"),
        _tenant_fk("funder_visits", "visited_by_membership_id", "memberships"),
        *_keys("funder_visits"),
    )
    op.create_index(
        "ix_funder_visits_funder_day", "funder_visits", ["tenant_id", "funder_id", "visited_on"], unique=False
    )
    for table in TABLES:
        rls.enable_tenant_rls(table)
    rls.grant_all_tables()


def downgrade() -> None:
    op.drop_index("ix_funder_visits_funder_day", table_name="funder_visits")
    op.drop_table("funder_visits")
    op.drop_table("funders")
    op.drop_index("ix_stakeholder_rounds_team_group", table_name="stakeholder_rounds")
    op.drop_table("stakeholder_rounds")
    op.drop_index("ix_opinion_box_logs_day", table_name="opinion_box_logs")
    op.drop_table("opinion_box_logs")
    op.drop_table("opinion_box_locations")
