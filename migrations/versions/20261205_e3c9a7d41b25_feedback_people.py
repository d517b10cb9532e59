"""feedback people: an opinion or complaint names its client, visit, carer and opinion-box day

Revision ID: e3c9a7d41b25
Revises: e7c1a9d40b5f
Create Date: 2026-12-05 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3c9a7d41b25"
down_revision: str | None = "e7c1a9d40b5f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERENCES = (
    ("client_id", "clients"),
    ("visit_id", "visits"),
    ("staff_file_id", "staff_files"),
    ("box_log_id", "opinion_box_logs"),
)
INDEXES = (
    ("ix_feedback_items_client", ["tenant_id", "client_id", "received_at"]),
    ("ix_feedback_items_staff", ["tenant_id", "staff_file_id", "received_at"]),
    ("ix_feedback_items_member", ["tenant_id", "membership_id", "received_at"]),
    ("ix_feedback_items_box_log", ["tenant_id", "box_log_id"]),
)


def upgrade() -> None:
    for column, table in REFERENCES:
        op.add_column("feedback_items", sa.Column(column, sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f(f"fk_feedback_items_tenant_id_{column}_{table}"),
            "feedback_items",
            table,
            ["tenant_id", column],
            ["tenant_id", "id"],
        )
    for name, columns in INDEXES:
        op.create_index(name, "feedback_items", columns, unique=False)


def downgrade() -> None:
    for name, _columns in INDEXES:
        op.drop_index(name, table_name="feedback_items")
    for column, table in REFERENCES:
        op.drop_constraint(
            op.f(f"fk_feedback_items_tenant_id_{column}_{table}"), "feedback_items", type_="foreignkey"
        )
        op.drop_column("feedback_items", column)
