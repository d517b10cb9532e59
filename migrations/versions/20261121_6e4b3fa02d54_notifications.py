"""notifications: reminders sent once, in-app notifications, preferences

Revision ID: 6e4b3fa02d54
Revises: 5d3a2e9f1c43
Create Date: 2026-11-21 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from saas import rls

revision: str = "6e4b3fa02d54"
down_revision: str | None = "5d3a2e9f1c43"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES: tuple[str, ...] = ("reminders", "notifications", "notification_preferences", "notification_settings")


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["agencies.id"], name=op.f("fk_reminders_tenant_id_agencies")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_reminders")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "subject", "due_at", name=op.f("uq_reminders_tenant_id_kind_subject_due_at")
        ),
    )
    op.create_table(
        "notifications",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("reminder_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deliver_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "email in ('none','pending','digest','sent')", name=op.f("ck_notifications_email_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_notifications_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "reminder_id"],
            ["reminders.tenant_id", "reminders.id"],
            name=op.f("fk_notifications_tenant_id_reminder_id_reminders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["agencies.id"], name=op.f("fk_notifications_tenant_id_agencies")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "tenant_id",
            "reminder_id",
            "membership_id",
            name=op.f("uq_notifications_tenant_id_reminder_id_membership_id"),
        ),
    )
    op.create_index(
        "ix_notifications_email_waiting",
        "notifications",
        ["tenant_id", "deliver_after"],
        unique=False,
        postgresql_where="email IN ('pending','digest')",
    )
    op.create_index(
        "ix_notifications_member_created",
        "notifications",
        ["tenant_id", "membership_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["tenant_id", "membership_id"],
        unique=False,
        postgresql_where="in_app AND read_at IS NULL",
    )
    op.create_table(
        "notification_preferences",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_notification_preferences_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["agencies.id"], name=op.f("fk_notification_preferences_tenant_id_agencies")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint(
            "tenant_id",
            "membership_id",
            "kind",
            name=op.f("uq_notification_preferences_tenant_id_membership_id_kind"),
        ),
    )
    op.create_table(
        "notification_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=True),
        sa.Column("quiet_end", sa.Time(), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(quiet_start IS NULL) = (quiet_end IS NULL) "
            "AND (quiet_start IS NULL OR quiet_start <> quiet_end)",
            name=op.f("ck_notification_settings_quiet_hours_pair"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_notification_settings_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["agencies.id"], name=op.f("fk_notification_settings_tenant_id_agencies")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notification_settings")),
        sa.UniqueConstraint(
            "tenant_id", "membership_id", name=op.f("uq_notification_settings_tenant_id_membership_id")
        ),
    )
    for table in TABLES:
        rls.enable_tenant_rls(table)
    rls.grant_all_tables()


def downgrade() -> None:
    op.drop_table("notification_settings")
    op.drop_table("notification_preferences")
    op.drop_index("ix_notifications_unread", table_name="notifications")
    op.drop_index("ix_notifications_member_created", table_name="notifications")
    op.drop_index("ix_notifications_email_waiting", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("reminders")
