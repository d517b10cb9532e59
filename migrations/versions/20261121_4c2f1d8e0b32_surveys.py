"""surveys: templates, campaigns, samples, personal links, responses

Revision ID: 4c2f1d8e0b32
Revises: 3b1e0c7d9a21
Create Date: 2026-11-21 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from saas import rls

revision: str = "4c2f1d8e0b32"
down_revision: str | None = "3b1e0c7d9a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES: tuple[str, ...] = (
    "survey_templates",
    "survey_questions",
    "survey_campaigns",
    "survey_invitations",
    "survey_links",
    "survey_answers",
)


def _tenant(table: str) -> list:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
    ]


def _keys(table: str) -> list:
    return [
        sa.ForeignKeyConstraint(["tenant_id"], ["agencies.id"], name=op.f(f"fk_{table}_tenant_id_agencies")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{table}")),
    ]


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{target}.tenant_id", f"{target}.id"],
        name=op.f(f"fk_{table}_tenant_id_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "survey_templates",
        *_tenant("survey_templates"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_survey_templates_name_present")),
        sa.CheckConstraint(
            "purpose in ('satisfaction','outcome','other')", name=op.f("ck_survey_templates_purpose_known")
        ),
        *_keys("survey_templates"),
    )
    op.create_index("ix_survey_templates_name", "survey_templates", ["tenant_id", "name"], unique=False)

    op.create_table(
        "survey_questions",
        *_tenant("survey_questions"),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("text", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("choices", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind in ('scale5','single','multiple','text')", name=op.f("ck_survey_questions_kind_known")
        ),
        _fk("survey_questions", "template_id", "survey_templates", "CASCADE"),
        *_keys("survey_questions"),
    )
    op.create_index(
        "ix_survey_questions_template",
        "survey_questions",
        ["tenant_id", "template_id", "position"],
        unique=False,
    )

    op.create_table(
        "survey_campaigns",
        *_tenant("survey_campaigns"),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("audience", sa.String(length=10), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("eligible_count", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("links_expire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("audience in ('all','sample')", name=op.f("ck_survey_campaigns_audience_known")),
        sa.CheckConstraint(
            "purpose in ('satisfaction','outcome','other')", name=op.f("ck_survey_campaigns_purpose_known")
        ),
        sa.CheckConstraint(
            "audience <> 'sample' or sample_size >= 1", name=op.f("ck_survey_campaigns_sample_size_given")
        ),
        sa.CheckConstraint(
            "status = 'draft' or (sent_at is not null and links_expire_at is not null)",
            name=op.f("ck_survey_campaigns_sent_dated"),
        ),
        sa.CheckConstraint(
            "status in ('draft','sent','closed')", name=op.f("ck_survey_campaigns_status_known")
        ),
        _fk("survey_campaigns", "template_id", "survey_templates"),
        *_keys("survey_campaigns"),
    )
    op.create_index(
        "ix_survey_campaigns_sent", "survey_campaigns", ["tenant_id", "purpose", "sent_at"], unique=False
    )

    op.create_table(
        "survey_invitations",
        *_tenant("survey_invitations"),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        _fk("survey_invitations", "campaign_id", "survey_campaigns", "CASCADE"),
        _fk("survey_invitations", "client_id", "clients"),
        *_keys("survey_invitations"),
        sa.UniqueConstraint(
            "tenant_id",
            "campaign_id",
            "client_id",
            name=op.f("uq_survey_invitations_tenant_id_campaign_id_client_id"),
        ),
    )
    op.create_index(
        "ix_survey_invitations_open",
        "survey_invitations",
        ["tenant_id", "campaign_id"],
        unique=False,
        postgresql_where="responded_at IS NULL",
    )

    op.create_table(
        "survey_links",
        *_tenant("survey_links"),
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("survey_links", "invitation_id", "survey_invitations", "CASCADE"),
        *_keys("survey_links"),
        sa.UniqueConstraint("tenant_id", "token_hash", name=op.f("uq_survey_links_tenant_id_token_hash")),
    )
    op.create_index(
        "ix_survey_links_invitation", "survey_links", ["tenant_id", "invitation_id"], unique=False
    )

    op.create_table(
        "survey_answers",
        *_tenant("survey_answers"),
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.Column("question_id", sa.Uuid(), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=True),
        sa.Column("choices", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "scale is null or scale between 1 and 5", name=op.f("ck_survey_answers_scale_range")
        ),
        _fk("survey_answers", "invitation_id", "survey_invitations", "CASCADE"),
        _fk("survey_answers", "question_id", "survey_questions", "CASCADE"),
        *_keys("survey_answers"),
        sa.UniqueConstraint(
            "tenant_id",
            "invitation_id",
            "question_id",
            name=op.f("uq_survey_answers_tenant_id_invitation_id_question_id"),
        ),
    )
    op.create_index(
        "ix_survey_answers_question", "survey_answers", ["tenant_id", "question_id"], unique=False
    )

    for table in TABLES:
        rls.enable_tenant_rls(table)
    rls.grant_all_tables()


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
