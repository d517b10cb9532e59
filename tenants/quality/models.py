"""One stored summary per agency and month: the figures as numbers (no
personal data), the locale they were rendered in and the build state. The page,
the PDF and the archive all render from these stored figures, so the archive
shows what was sent."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, utcnow
from tenants.clients.models import FollowUp
from tenants.feedback.models import FeedbackItem, Rectification
from tenants.scheduling.models import ReturnVisit


class BuildState(enum.StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    DONE = "done"
    FAILED = "failed"


class QualitySummary(TenantScoped, Base):
    __tablename__ = "quality_summaries"

    month: Mapped[date] = mapped_column(Date)  # first day of the month summarised
    state: Mapped[str] = mapped_column(String(10), default=BuildState.QUEUED)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_at: Mapped[datetime | None]
    # how many times a built summary was rebuilt, and when the last rebuild replaced it
    rebuilds: Mapped[int] = mapped_column(Integer, default=0)
    replaced_at: Mapped[datetime | None]
    # published to the agency's public page of the month (residents and funders),
    # with the KPIs the admin chose; unpublishing clears published_at (the audit log keeps it)
    published_at: Mapped[datetime | None]
    # a server default too: the sweep's first builds insert summaries in SQL (quality_store_first_builds)
    published_kpis: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    published_by_user_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        UniqueConstraint("tenant_id", "month"),
        CheckConstraint("state in ('queued','building','done','failed')", name="state_known"),
        CheckConstraint("extract(day from month) = 1", name="month_start"),
        CheckConstraint("rebuilds >= 0", name="rebuilds_positive"),
        # the peer comparison reads one month of every agency's stored figures
        Index("ix_quality_summaries_month", "month", "state"),
    )


# Indexes the month's set-based statements need on other areas' tables, so the
# cost follows the month's activity, not the agency's history (visits already
# have (tenant_id, starts_at), training sessions (tenant_id, held_on)).
Index("ix_feedback_items_received", FeedbackItem.tenant_id, FeedbackItem.received_at)
Index("ix_rectifications_created", Rectification.tenant_id, Rectification.created_at)
Index("ix_return_visits_month", ReturnVisit.tenant_id, ReturnVisit.month)
Index("ix_case_follow_ups_due_all", FollowUp.tenant_id, FollowUp.due_on)
