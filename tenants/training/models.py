"""Courses, their sessions, and each trainee's enrolment, attendance and evaluation."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, tenant_fk, utcnow

CATEGORIES = (
    "ethics",
    "theory_practice",
    "policy_law",
    "assessment_intervention",
    "communication_teamwork",
    "emergency_first_aid",
    "case_analysis",
)
FORMS = ("online", "classroom", "practicum", "exchange_visit", "mentorship")
COUNTS_AS = ("pre_service", "annual")
ATTENDANCE = ("enrolled", "completed", "partial", "absent")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Course(TenantScoped, Base):
    __tablename__ = "training_courses"

    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(30))
    form: Mapped[str] = mapped_column(String(20))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    counts_as: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text, default="")
    # completing the course grants this certificate, valid this many months (NULL: no expiry)
    grants_certificate_type_id: Mapped[uuid.UUID | None]
    certificate_validity_months: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("grants_certificate_type_id", "certificate_types"),
        UniqueConstraint("tenant_id", "title"),
        Index("ix_training_courses_category", "tenant_id", "category"),
        CheckConstraint(_in("category", CATEGORIES), name="category_known"),
        CheckConstraint(_in("form", FORMS), name="form_known"),
        CheckConstraint(_in("counts_as", COUNTS_AS), name="counts_as_known"),
        CheckConstraint("hours > 0 AND hours <= 1000", name="hours_range"),
        CheckConstraint(
            "certificate_validity_months IS NULL OR certificate_validity_months BETWEEN 1 AND 600",
            name="validity_range",
        ),
    )


class TrainingSession(TenantScoped, Base):
    __tablename__ = "training_sessions"

    course_id: Mapped[uuid.UUID]
    held_on: Mapped[date]
    trainer: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(300), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("course_id", "training_courses"),
        Index("ix_training_sessions_course", "tenant_id", "course_id", "held_on"),
        Index("ix_training_sessions_held_on", "tenant_id", "held_on"),
        CheckConstraint("capacity BETWEEN 1 AND 300", name="capacity_range"),
    )


class Enrolment(TenantScoped, Base):
    """A worker in a session: attendance (hours actually attended) and the
    evaluation of what they got out of it."""

    __tablename__ = "training_enrolments"

    session_id: Mapped[uuid.UUID]
    staff_file_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(10), default="enrolled")
    attended_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    attendance_recorded_at: Mapped[datetime | None]
    attendance_recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    knowledge_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    practical_rating: Mapped[int | None] = mapped_column(SmallInteger)
    teamwork_rating: Mapped[int | None] = mapped_column(SmallInteger)
    evaluation_comment: Mapped[str] = mapped_column(Text, default="")
    transfer_rating: Mapped[int | None] = mapped_column(SmallInteger)
    transfer_rated_on: Mapped[date | None]
    transfer_rated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("session_id", "training_sessions", ondelete="CASCADE"),
        tenant_fk("staff_file_id", "staff_files", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "session_id", "staff_file_id"),
        Index("ix_training_enrolments_staff", "tenant_id", "staff_file_id"),
        CheckConstraint(_in("status", ATTENDANCE), name="status_known"),
        CheckConstraint("attended_hours IS NULL OR attended_hours >= 0", name="hours_positive"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),
        CheckConstraint(
            "knowledge_score IS NULL OR knowledge_score BETWEEN 0 AND 100", name="knowledge_range"
        ),
        CheckConstraint(
            "practical_rating IS NULL OR practical_rating BETWEEN 1 AND 5", name="practical_range"
        ),
        CheckConstraint("teamwork_rating IS NULL OR teamwork_rating BETWEEN 1 AND 5", name="teamwork_range"),
        CheckConstraint("transfer_rating IS NULL OR transfer_rating BETWEEN 1 AND 5", name="transfer_range"),
    )
