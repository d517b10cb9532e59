"""Visit ratings (portal, signed link, phone), opinions and complaints with
their workflow, and rectifications closed by a re-inspection."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, enum_check, tenant_fk, utcnow

DIMENSIONS = ("attitude", "process", "effect", "environment", "timeliness")


class RatingChannel(enum.StrEnum):
    PORTAL = "portal"
    LINK = "link"
    PHONE = "phone"


class FeedbackKind(enum.StrEnum):
    OPINION = "opinion"
    SUGGESTION = "suggestion"
    COMPLAINT = "complaint"
    PRAISE = "praise"


class FeedbackAbout(enum.StrEnum):
    VISIT = "visit"
    CARER = "carer"
    SERVICE_ITEM = "service_item"
    AGENCY = "agency"


class FeedbackChannel(enum.StrEnum):
    PUBLIC = "public"
    PORTAL = "portal"
    PHONE = "phone"
    ON_SITE = "on_site"
    BOX = "opinion_box"
    THIRD_PARTY = "third_party"


class FeedbackStatus(enum.StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    RESPONDED = "responded"
    CLOSED = "closed"


class RectificationSource(enum.StrEnum):
    COMPLAINT = "complaint"
    LOW_RATING = "low_rating"
    INSPECTION = "inspection"


class RectificationStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def _score(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} between 1 and 5", name=f"{column}_range")


class VisitRating(TenantScoped, Base):
    """One rating per visit, amendable for 7 days after it was first given."""

    __tablename__ = "visit_ratings"

    visit_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    staff_file_id: Mapped[uuid.UUID | None]
    attitude: Mapped[int] = mapped_column(Integer)
    process: Mapped[int] = mapped_column(Integer)
    effect: Mapped[int] = mapped_column(Integer)
    environment: Mapped[int] = mapped_column(Integer)
    timeliness: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(10))
    # who gave it in the portal, or who recorded it from a phone call
    membership_id: Mapped[uuid.UUID | None]
    recorded_by_user_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("visit_id", "visits", ondelete="CASCADE"),
        tenant_fk("client_id", "clients"),
        tenant_fk("staff_file_id", "staff_files"),
        tenant_fk("membership_id", "memberships"),
        UniqueConstraint("tenant_id", "visit_id"),
        enum_check("channel", RatingChannel, "channel_known"),
        *(_score(d) for d in DIMENSIONS),
        CheckConstraint("channel <> 'phone' or recorded_by_user_id is not null", name="phone_recorded_by"),
        Index("ix_visit_ratings_staff_created", "tenant_id", "staff_file_id", "created_at"),
    )


class RatingLink(TenantScoped, Base):
    """A personal signed link to rate one visit: hashed, single use, expiring."""

    __tablename__ = "rating_links"

    visit_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (
        tenant_fk("visit_id", "visits", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "token_hash"),
        Index("ix_rating_links_visit", "tenant_id", "visit_id"),
    )


class FollowUpTask(TenantScoped, Base):
    """A low rating to follow up: by the carer's team supervisor when the
    carer is in a team that has one, otherwise by any coordinator."""

    __tablename__ = "feedback_tasks"

    rating_id: Mapped[uuid.UUID]
    staff_file_id: Mapped[uuid.UUID | None]
    assigned_role: Mapped[str] = mapped_column(String(20), default="coordinator")
    assignee_membership_id: Mapped[uuid.UUID | None]
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    done_by_user_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        tenant_fk("rating_id", "visit_ratings", ondelete="CASCADE"),
        tenant_fk("staff_file_id", "staff_files"),
        tenant_fk("assignee_membership_id", "memberships"),
        UniqueConstraint("tenant_id", "rating_id"),
        Index("ix_feedback_tasks_open", "tenant_id", "created_at", postgresql_where="done_at IS NULL"),
    )


class FeedbackItem(TenantScoped, Base):
    """An opinion, suggestion, complaint or praise and its handling."""

    __tablename__ = "feedback_items"

    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(100), default="")
    about: Mapped[str] = mapped_column(String(20), default=FeedbackAbout.AGENCY)
    description: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(254), default="")
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20))
    membership_id: Mapped[uuid.UUID | None]
    entered_by_user_id: Mapped[uuid.UUID | None]
    # whom it concerns, where known: the client, one of their visits, a carer
    client_id: Mapped[uuid.UUID | None]
    visit_id: Mapped[uuid.UUID | None]
    staff_file_id: Mapped[uuid.UUID | None]
    # the opinion-box day a slip was taken from
    box_log_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(20), default=FeedbackStatus.RECEIVED)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    response: Mapped[str] = mapped_column(Text, default="")
    responded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # set once by the escalation sweep when the answer is overdue
    escalated_at: Mapped[datetime | None]

    __table_args__ = (
        tenant_fk("membership_id", "memberships"),
        tenant_fk("client_id", "clients"),
        tenant_fk("visit_id", "visits"),
        tenant_fk("staff_file_id", "staff_files"),
        tenant_fk("box_log_id", "opinion_box_logs"),
        enum_check("kind", FeedbackKind, "kind_known"),
        enum_check("about", FeedbackAbout, "about_known"),
        enum_check("channel", FeedbackChannel, "channel_known"),
        enum_check("status", FeedbackStatus, "status_known"),
        CheckConstraint("length(btrim(description)) > 0", name="description_present"),
        Index("ix_feedback_items_open_due", "tenant_id", "due_at", postgresql_where="status <> 'closed'"),
        # the client's file, a worker's review, the portal's own list, a box day's slips
        Index("ix_feedback_items_client", "tenant_id", "client_id", "received_at"),
        Index("ix_feedback_items_staff", "tenant_id", "staff_file_id", "received_at"),
        Index("ix_feedback_items_member", "tenant_id", "membership_id", "received_at"),
        Index("ix_feedback_items_box_log", "tenant_id", "box_log_id"),
    )


class FeedbackTransition(TenantScoped, Base):
    __tablename__ = "feedback_transitions"

    item_id: Mapped[uuid.UUID]
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_user_id: Mapped[uuid.UUID | None]
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        tenant_fk("item_id", "feedback_items", ondelete="CASCADE"),
        Index("ix_feedback_transitions_item", "tenant_id", "item_id", "at"),
    )


class Rectification(TenantScoped, Base):
    __tablename__ = "rectifications"

    source: Mapped[str] = mapped_column(String(20))
    feedback_item_id: Mapped[uuid.UUID | None]
    rating_id: Mapped[uuid.UUID | None]
    finding: Mapped[str] = mapped_column(Text, default="")  # the inspection finding, if that is the source
    problem: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text)
    owner_membership_id: Mapped[uuid.UUID]
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=RectificationStatus.OPEN)
    opened_by_user_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        tenant_fk("feedback_item_id", "feedback_items"),
        tenant_fk("rating_id", "visit_ratings"),
        tenant_fk("owner_membership_id", "memberships"),
        enum_check("source", RectificationSource, "source_known"),
        enum_check("status", RectificationStatus, "status_known"),
        CheckConstraint(
            "(source = 'complaint' and feedback_item_id is not null) or "
            "(source = 'low_rating' and rating_id is not null) or source = 'inspection'",
            name="source_named",
        ),
        Index("ix_rectifications_open", "tenant_id", "deadline", postgresql_where="status = 'open'"),
    )


class ReInspection(TenantScoped, Base):
    __tablename__ = "rectification_inspections"

    rectification_id: Mapped[uuid.UUID]
    inspector_membership_id: Mapped[uuid.UUID]
    passed: Mapped[bool] = mapped_column(Boolean)
    notes: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("rectification_id", "rectifications", ondelete="CASCADE"),
        tenant_fk("inspector_membership_id", "memberships"),
        Index("ix_rectification_inspections_rect", "tenant_id", "rectification_id", "at"),
    )
