"""Partial credit notes: a credit note for chosen lines or amounts, each of
its lines pointing at the invoice line it credits; the list API's order

Revision ID: c7d2e5a91f04
Revises: f2a7c4e9d1b3
Create Date: 2026-12-05 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7d2e5a91f04"
down_revision: str | None = "f2a7c4e9d1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("care_invoices", sa.Column("partial", sa.Boolean(), server_default="false", nullable=False))
    op.create_check_constraint(
        op.f("ck_care_invoices_partial_is_credit"), "care_invoices", "NOT partial OR kind = 'credit_note'"
    )
    op.drop_index("uq_care_invoices_credits", table_name="care_invoices")
    op.create_index(
        "uq_care_invoices_credits",
        "care_invoices",
        ["tenant_id", "credits_invoice_id"],
        unique=True,
        postgresql_where="credits_invoice_id IS NOT NULL AND NOT partial",
    )
    op.create_index("ix_care_invoices_credit_notes", "care_invoices", ["tenant_id", "credits_invoice_id"])
    op.create_index("ix_care_invoices_created", "care_invoices", ["tenant_id", "created_at", "id"])
    op.add_column("care_invoice_lines", sa.Column("credits_line_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_care_invoice_lines_tenant_id_credits_line_id_care_invoice_lines"),
        "care_invoice_lines",
        "care_invoice_lines",
        ["tenant_id", "credits_line_id"],
        ["tenant_id", "id"],
    )
    op.create_check_constraint(
        op.f("ck_care_invoice_lines_credits_line_is_credit"),
        "care_invoice_lines",
        "credits_line_id IS NULL OR kind = 'credit'",
    )
    op.create_index("ix_care_invoice_lines_credits", "care_invoice_lines", ["tenant_id", "credits_line_id"])


def downgrade() -> None:
    op.drop_index("ix_care_invoice_lines_credits", table_name="care_invoice_lines")
    op.drop_constraint(
        op.f("ck_care_invoice_lines_credits_line_is_credit"), "care_invoice_lines", type_="check"
    )
    op.drop_constraint(
        op.f("fk_care_invoice_lines_tenant_id_credits_line_id_care_invoice_lines"),
        "care_invoice_lines",
        type_="foreignkey",
    )
    op.drop_column("care_invoice_lines", "credits_line_id")
    op.drop_index("ix_care_invoices_created", table_name="care_invoices")
    op.drop_index("ix_care_invoices_credit_notes", table_name="care_invoices")
    op.drop_index("uq_care_invoices_credits", table_name="care_invoices")
    op.create_index(
        "uq_care_invoices_credits",
        "care_invoices",
        ["tenant_id", "credits_invoice_id"],
        unique=True,
        postgresql_where="credits_invoice_id IS NOT NULL",
    )
    op.drop_constraint(op.f("ck_care_invoices_partial_is_credit"), "care_invoices", type_="check")
    op.drop_column("care_invoices", "partial")
