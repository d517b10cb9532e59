"""retention and archives: the appraisal of files at the end of their
retention, anonymised clients, special programmes, platform settings

Revision ID: e5f1a7c3b920
Revises: e3c1a9b7d2f4
Create Date: 2026-12-05 16:20:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from alembic import op

from saas import rls

revision: str = "e5f1a7c3b920"
down_revision: str | None = "e3c1a9b7d2f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "cases", sa.Column("special_programme", sa.Boolean(), server_default="false", nullable=False)
    )
    op.create_table(
        "platform_settings",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_platform_settings")),
    )
    op.create_table(
        "retention_reviews",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("decided_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "decision is null or decision in ('keep', 'anonymise')",
            name=op.f("ck_retention_reviews_decision_known"),
        ),
        sa.CheckConstraint(
            "decision is null or length(btrim(reason)) > 0", name=op.f("ck_retention_reviews_reason_present")
        ),
        sa.CheckConstraint(
            "decision is distinct from 'keep' or review_on is not null",
            name=op.f("ck_retention_reviews_keep_has_review"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["clients.tenant_id", "clients.id"],
            name=op.f("fk_retention_reviews_tenant_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["agencies.id"], name=op.f("fk_retention_reviews_tenant_id_agencies")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_retention_reviews")),
        sa.UniqueConstraint(
            "tenant_id", "client_id", "due_on", name=op.f("uq_retention_reviews_tenant_id_client_id_due_on")
        ),
    )
    op.create_index(
        "ix_retention_reviews_pending",
        "retention_reviews",
        ["tenant_id", "due_on"],
        unique=False,
        postgresql_where=sa.text("decision IS NULL"),
    )
    rls.enable_tenant_rls("retention_reviews")
    rls.grant_all_tables()
    _archive_clients_without_an_open_case()


def _archive_clients_without_an_open_case() -> None:
    """Clients whose cases are all closed were never marked archived: they are
    now, from the start of their last closing day in the agency's zone (each
    agency in scope in turn: forced RLS). On Citus the agency is put in scope
    by SET LOCAL, which it replays on the workers (set_config it does not),
    and the time is made with the zone named, as an UPDATE there may not call
    a function that depends on the session's TimeZone on a column."""
    bind = op.get_bind()
    for agency_id, zone in bind.execute(sa.text("select id, timezone from agencies")).all():
        bind.exec_driver_sql(f"SET LOCAL app.tenant_id = '{uuid.UUID(str(agency_id))}'")
        bind.execute(
            sa.text(
                """
                update clients c set archived_at = timezone(:zone, last.closed_on::timestamp)
                from (
                  select k.tenant_id, k.client_id, max(k.closed_on) as closed_on from cases k
                  where k.tenant_id = :t group by k.tenant_id, k.client_id
                  having bool_and(k.status = 'closed')
                ) last
                where c.tenant_id = :t and last.tenant_id = c.tenant_id and last.client_id = c.id
                  and c.archived_at is null
                """
            ),
            {"t": agency_id, "zone": zone},
        )
    bind.exec_driver_sql("SET LOCAL app.tenant_id = ''")


def downgrade() -> None:
    op.drop_index(
        "ix_retention_reviews_pending", table_name="retention_reviews", postgresql_where=sa.text("decision IS NULL")
    )
    op.drop_table("retention_reviews")
    op.drop_table("platform_settings")
    op.drop_column("cases", "special_programme")
    op.drop_column("clients", "anonymised_at")
