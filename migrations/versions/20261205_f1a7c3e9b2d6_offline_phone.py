"""offline phone: API writes taken once (idempotency keys), the phone's and the server's times of
check-in and check-out, presence by position or QR code per client, the client's access notes

Revision ID: f1a7c3e9b2d6
Revises: b5866dfcc73f
Create Date: 2026-12-05 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from saas import rls

revision: str = "f1a7c3e9b2d6"
down_revision: str | None = "b5866dfcc73f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VISIT_TIMES = ("checkin_phone_at", "checkin_received_at", "checkout_phone_at", "checkout_received_at")


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_idempotency_keys_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["agencies.id"], name=op.f("fk_idempotency_keys_tenant_id_agencies")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint(
            "tenant_id", "membership_id", "key", name=op.f("uq_idempotency_keys_tenant_id_membership_id_key")
        ),
    )
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["tenant_id", "created_at"], unique=False)
    rls.enable_tenant_rls("idempotency_keys")
    rls.grant_all_tables()

    for column in VISIT_TIMES:
        op.add_column("visits", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.add_column("visits", sa.Column("phone_clock_off_s", sa.Integer(), nullable=True))
    op.add_column(
        "visits", sa.Column("phone_clock_flagged", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("visits", sa.Column("checkin_presence", sa.String(length=10), nullable=True))
    op.add_column("visits", sa.Column("checkout_presence", sa.String(length=10), nullable=True))
    op.add_column("visits", sa.Column("presence_missing", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column(
        "clients", sa.Column("presence_mode", sa.String(length=10), nullable=False, server_default="position")
    )
    op.add_column("clients", sa.Column("access_notes", sa.Text(), nullable=False, server_default=""))
    op.create_check_constraint(
        op.f("ck_clients_presence_mode_known"), "clients", "presence_mode in ('position','qr','either')"
    )
    op.add_column(
        "clients", sa.Column("presence_code_version", sa.Integer(), nullable=False, server_default="1")
    )


def downgrade() -> None:
    op.drop_column("clients", "access_notes")
    op.drop_column("clients", "presence_code_version")
    op.drop_constraint(op.f("ck_clients_presence_mode_known"), "clients", type_="check")
    op.drop_column("clients", "presence_mode")
    for column in (
        "presence_missing",
        "checkout_presence",
        "checkin_presence",
        "phone_clock_flagged",
        "phone_clock_off_s",
        *VISIT_TIMES,
    ):
        op.drop_column("visits", column)
    op.drop_index("ix_idempotency_keys_created", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
