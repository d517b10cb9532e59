"""Surveys: templates of questions in the agency's languages, campaigns sent to
all active clients or to a reproducible random sample, personal links and the
answers given through them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, enum_check, tenant_fk, utcnow


class SurveyPurpose(enum.StrEnum):
    SATISFACTION = "satisfaction"
    OUTCOME = "outcome"
    OTHER = "other"


class QuestionKind(enum.StrEnum):
    SCALE5 = "scale5"
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"


class Audience(enum.StrEnum):
    ALL = "all"
    SAMPLE = "sample"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    CLOSED = "closed"


class SurveyTemplate(TenantScoped, Base):
    """A questionnaire. Once a sent campaign uses it, its questions are frozen
    (copy it to change them) so the answers keep their meaning."""

    __tablename__ = "survey_templates"

    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(20), default=SurveyPurpose.SATISFACTION)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        enum_check("purpose", SurveyPurpose, "purpose_known"),
        CheckConstraint("length(btrim(name)) > 0", name="name_present"),
        Index("ix_survey_templates_name", "tenant_id", "name"),
    )


class SurveyQuestion(TenantScoped, Base):
    __tablename__ = "survey_questions"

    template_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    # {"en": "...", "zh_CN": "..."}: at least one language
    text: Mapped[dict[str, str]] = mapped_column(JSONB)
    # [{"key": "c1", "label": {"en": "...", "zh_CN": "..."}}] for single and multiple
    choices: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        tenant_fk("template_id", "survey_templates", ondelete="CASCADE"),
        enum_check("kind", QuestionKind, "kind_known"),
        Index("ix_survey_questions_template", "tenant_id", "template_id", "position"),
    )


class SurveyCampaign(TenantScoped, Base):
    """One sending of a template. The sample is drawn at sending with a
    recorded seed over the eligible clients in a stable order, so it can be
    drawn again and checked."""

    __tablename__ = "survey_campaigns"

    template_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(20))  # the template's, when created
    audience: Mapped[str] = mapped_column(String(10), default=Audience.ALL)
    sample_size: Mapped[int | None] = mapped_column(Integer)  # asked for (audience "sample")
    seed: Mapped[int | None] = mapped_column(BigInteger)
    eligible_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=CampaignStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[uuid.UUID | None]
    sent_at: Mapped[datetime | None]
    links_expire_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        tenant_fk("template_id", "survey_templates"),
        enum_check("purpose", SurveyPurpose, "purpose_known"),
        enum_check("audience", Audience, "audience_known"),
        enum_check("status", CampaignStatus, "status_known"),
        CheckConstraint("audience <> 'sample' or sample_size >= 1", name="sample_size_given"),
        CheckConstraint(
            "status = 'draft' or (sent_at is not null and links_expire_at is not null)", name="sent_dated"
        ),
        Index("ix_survey_campaigns_sent", "tenant_id", "purpose", "sent_at"),
    )


class SurveyInvitation(TenantScoped, Base):
    """One client invited to one campaign (for a sample: one row per sampled
    client, in the order drawn)."""

    __tablename__ = "survey_invitations"

    campaign_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(Integer)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    emailed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]

    __table_args__ = (
        tenant_fk("campaign_id", "survey_campaigns", ondelete="CASCADE"),
        tenant_fk("client_id", "clients"),
        UniqueConstraint("tenant_id", "campaign_id", "client_id"),
        Index(
            "ix_survey_invitations_open", "tenant_id", "campaign_id", postgresql_where="responded_at IS NULL"
        ),
    )


class SurveyLink(TenantScoped, Base):
    """A personal link to an invitation: only the token's hash is kept. An
    invitation may have several (the email, a reminder, a printed one); all
    stop once it is answered, the campaign closes or the links expire."""

    __tablename__ = "survey_links"

    invitation_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("invitation_id", "survey_invitations", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "token_hash"),
        Index("ix_survey_links_invitation", "tenant_id", "invitation_id"),
    )


class SurveyAnswer(TenantScoped, Base):
    """The answer to one question of one invitation."""

    __tablename__ = "survey_answers"

    invitation_id: Mapped[uuid.UUID]
    question_id: Mapped[uuid.UUID]
    scale: Mapped[int | None] = mapped_column(Integer)
    choices: Mapped[list[str]] = mapped_column(JSONB, default=list)
    text: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        tenant_fk("invitation_id", "survey_invitations", ondelete="CASCADE"),
        tenant_fk("question_id", "survey_questions", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "invitation_id", "question_id"),
        CheckConstraint("scale is null or scale between 1 and 5", name="scale_range"),
        Index("ix_survey_answers_question", "tenant_id", "question_id"),
    )
