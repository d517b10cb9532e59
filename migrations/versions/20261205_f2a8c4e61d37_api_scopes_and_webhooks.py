"""API token scopes; webhook endpoints and their deliveries

Revision ID: f2a8c4e61d37
Revises: e3c9a7d41b25
Create Date: 2026-12-05 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from saas import rls

revision: str = "f2a8c4e61d37"
down_revision: str | None = "e3c9a7d41b25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the tokens made before scopes could do everything: they keep doing it
EVERY_SCOPE = (
    "read,write,catalogue,clients,feedback,incidents,members,quality,scheduling,staffing,training,webhooks"
)


def upgrade() -> None:
    op.add_column(
        "api_tokens",
        sa.Column(
            "scopes", postgresql.ARRAY(sa.String(length=40)), nullable=False, server_default=f"{{{EVERY_SCOPE}}}"
        ),
    )
    op.alter_column("api_tokens", "scopes", server_default=None)


def downgrade() -> None:
    op.drop_column("api_tokens", "scopes")
