"""The month's visit figures read only their index again.

The quality summary's visits part now also reads each visit's booked price and
unit, its booked end, check-in and check-out, and its plan item (cost per visit,
delivered and contracted hours), and the satisfaction part joins ratings by the
visit's id: all of them in the covering index, so one agency's month is an
index-only scan instead of heap pages shared with every other agency.

Revision ID: f2c4d6e8a1b3
Revises: f1b2c3d4e5a6
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f2c4d6e8a1b3"
down_revision: str | None = "f1b2c3d4e5a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ["client_id", "status", "local_day", "late_flagged_at", "missed_flagged_at"]
AFTER = [*BEFORE, "id", "unit", "price", "ends_at", "checked_in_at", "checked_out_at", "plan_item_id"]


def _cover(columns: list[str]) -> None:
    op.drop_index("ix_visits_start", table_name="visits")
    op.create_index(
        "ix_visits_start", "visits", ["tenant_id", "starts_at"], unique=False, postgresql_include=columns
    )


def upgrade() -> None:
    _cover(AFTER)


def downgrade() -> None:
    _cover(BEFORE)
