"""The appraisal of a client's file at the end of its retention."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, tenant_fk, utcnow


class Decision(enum.StrEnum):
    KEEP = "keep"
    ANONYMISE = "anonymise"
    # the file is gone with its review: the agency's audit log keeps the decision
    DESTROY = "destroy"


class RetentionReview(TenantScoped, Base):
    """A file listed for appraisal because its retention ended on `due_on`
    (or, kept before, its review date came): undecided until an admin decides."""

    __tablename__ = "retention_reviews"

    client_id: Mapped[uuid.UUID]
    due_on: Mapped[date] = mapped_column(Date)
    listed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    review_on: Mapped[date | None] = mapped_column(Date)
    decided_by_user_id: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]

    __table_args__ = (
        tenant_fk("client_id", "clients", ondelete="CASCADE"),
        # the sweep lists a file once per date it falls due
        UniqueConstraint("tenant_id", "client_id", "due_on"),
        CheckConstraint("decision is null or decision in ('keep', 'anonymise')", name="decision_known"),
        CheckConstraint("decision is null or length(btrim(reason)) > 0", name="reason_present"),
        CheckConstraint("decision is distinct from 'keep' or review_on is not null", name="keep_has_review"),
        Index("ix_retention_reviews_pending", "tenant_id", "due_on", postgresql_where="decision IS NULL"),
    )
