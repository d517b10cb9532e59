"""Staff files and everything kept on them.

A staff file belongs to one membership (admin, coordinator or carer) of the
agency. Whether a worker may be assigned is never stored: it is computed by
`tenants.staffing.services.assignability()` from these rows.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, deferred, mapped_column

from saas.db import Base, TenantScoped, tenant_fk, utcnow
from tenants.staffing.required import JOB_ROLES

CASELOAD_KINDS = ("individual", "community")
STAGE_RESULTS = ("pending", "passed", "failed")
DECISIONS = ("pending", "hired", "rejected")
REVIEW_KINDS = ("quarterly", "yearly")
RATING_SOURCES = ("self", "peer", "supervisor")
REVIEW_DIMENSIONS = ("quality_of_care", "reliability", "communication", "teamwork", "professionalism")
REWARD_KINDS = ("reward", "penalty")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class CertificateType(TenantScoped, Base):
    """A kind of qualification or certificate, from the agency's own list."""

    __tablename__ = "certificate_types"

    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "name"),)


class Team(TenantScoped, Base):
    """A team of workers under one supervisor: the unit that collects
    stakeholder opinions, answers for rectifications and is compared in the
    statistics."""

    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(120))
    # who follows up the team's low ratings and re-inspects its rectifications
    supervisor_membership_id: Mapped[uuid.UUID | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("supervisor_membership_id", "memberships"),
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("length(btrim(name)) > 0", name="name_present"),
    )


class StaffFile(TenantScoped, Base):
    __tablename__ = "staff_files"

    membership_id: Mapped[uuid.UUID]
    team_id: Mapped[uuid.UUID | None]
    staff_role: Mapped[str] = mapped_column(String(20))
    staff_number: Mapped[str | None] = mapped_column(String(40))
    employment_start: Mapped[date]
    employment_end: Mapped[date | None]
    skills: Mapped[list[str]] = mapped_column(JSONB, default=list)
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    home_area: Mapped[str] = mapped_column(String(120), default="")
    contracted_hours: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0))
    # {"mon": [["08:00", "12:00"], ...], ...}
    availability: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # per-worker limits; NULL: the agency's setting
    caseload_limit: Mapped[int | None] = mapped_column(Integer)
    community_limit: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        tenant_fk("membership_id", "memberships"),
        tenant_fk("team_id", "teams"),
        UniqueConstraint("tenant_id", "membership_id"),
        Index("ix_staff_files_team", "tenant_id", "team_id"),
        Index(
            "uq_staff_files_staff_number",
            "tenant_id",
            "staff_number",
            unique=True,
            postgresql_where="staff_number IS NOT NULL",
        ),
        Index("ix_staff_files_tenant_role", "tenant_id", "staff_role"),
        Index("ix_staff_files_tenant_area", "tenant_id", "home_area"),
        Index("ix_staff_files_tenant_end", "tenant_id", "employment_end"),
        Index("ix_staff_files_skills", "skills", postgresql_using="gin"),
        Index("ix_staff_files_languages", "languages", postgresql_using="gin"),
        CheckConstraint(_in("staff_role", JOB_ROLES), name="staff_role_known"),
        CheckConstraint(
            "employment_end IS NULL OR employment_end >= employment_start", name="employment_dates"
        ),
        CheckConstraint("contracted_hours >= 0 AND contracted_hours <= 168", name="contracted_hours_range"),
        CheckConstraint("caseload_limit IS NULL OR caseload_limit >= 0", name="caseload_limit_positive"),
        CheckConstraint("community_limit IS NULL OR community_limit >= 0", name="community_limit_positive"),
    )

    # Employment runs from `employment_start` until `employment_end` exclusive
    # (NULL: open-ended). Each predicate works on a loaded file and in SQL.

    @hybrid_method
    def employed_on(self, day: date) -> bool:
        """Employed on `day` (whether their account is active is the membership's)."""
        return self.started_by(day) and self.leaves_after(day)

    @employed_on.inplace.expression
    @classmethod
    def _employed_on(cls, day: date) -> ColumnElement[bool]:
        return and_(cls.started_by(day), cls.leaves_after(day))

    @hybrid_method
    def started_by(self, day: date) -> bool:
        """Their employment has started on or before `day`."""
        return self.employment_start <= day

    @hybrid_method
    def leaves_after(self, day: date) -> bool:
        """Their employment has not ended by `day`: employed on it, or starting later."""
        return self.employment_end is None or self.employment_end > day

    @leaves_after.inplace.expression
    @classmethod
    def _leaves_after(cls, day: date) -> ColumnElement[bool]:
        return or_(cls.employment_end.is_(None), cls.employment_end > day)


class StaffTimeOff(TenantScoped, Base):
    __tablename__ = "staff_time_off"

    staff_file_id: Mapped[uuid.UUID]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("staff_file_id", "staff_files", ondelete="CASCADE"),
        Index("ix_staff_time_off_staff", "tenant_id", "staff_file_id", "starts_on"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
    )


class StaffDocument(TenantScoped, Base):
    """An uploaded scan, kept in the database (never on disk, never served
    statically); read only through an authorised download view."""

    __tablename__ = "staff_documents"

    staff_file_id: Mapped[uuid.UUID]
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("staff_file_id", "staff_files", ondelete="CASCADE"),
        Index("ix_staff_documents_staff", "tenant_id", "staff_file_id"),
        CheckConstraint("size_bytes > 0", name="not_empty"),
    )


class Certificate(TenantScoped, Base):
    """A qualification or certificate a worker holds. Its status (valid,
    expiring, expired) is derived from `expires_on`; NULL never expires."""

    __tablename__ = "staff_certificates"

    staff_file_id: Mapped[uuid.UUID]
    certificate_type_id: Mapped[uuid.UUID]
    number: Mapped[str] = mapped_column(String(80))
    issuer: Mapped[str] = mapped_column(String(200), default="")
    issued_on: Mapped[date]
    expires_on: Mapped[date | None]
    document_id: Mapped[uuid.UUID | None]
    # set when granted by completing a training course (one per enrolment)
    enrolment_id: Mapped[uuid.UUID | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("staff_file_id", "staff_files", ondelete="CASCADE"),
        tenant_fk("certificate_type_id", "certificate_types"),
        tenant_fk("document_id", "staff_documents"),
        tenant_fk("enrolment_id", "training_enrolments", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "certificate_type_id", "number"),
        UniqueConstraint("tenant_id", "enrolment_id"),
        Index("ix_staff_certificates_staff", "tenant_id", "staff_file_id", "certificate_type_id"),
        Index("ix_staff_certificates_expiry", "tenant_id", "expires_on"),
        CheckConstraint("expires_on IS NULL OR expires_on >= issued_on", name="expiry_after_issue"),
    )

    @hybrid_method
    def valid_on(self, day: date) -> bool:
        """Counts on `day`: issued by then, and expiring on it at the earliest."""
        return self.issued_on <= day and (self.expires_on is None or self.expires_on >= day)

    @valid_on.inplace.expression
    @classmethod
    def _valid_on(cls, day: date) -> ColumnElement[bool]:
        return and_(cls.issued_on <= day, or_(cls.expires_on.is_(None), cls.expires_on >= day))


class RecruitmentRecord(TenantScoped, Base):
    __tablename__ = "recruitment_records"

    staff_file_id: Mapped[uuid.UUID]
    screening_result: Mapped[str] = mapped_column(String(10), default="pending")
    screening_on: Mapped[date | None]
    interview_result: Mapped[str] = mapped_column(String(10), default="pending")
    interview_on: Mapped[date | None]
    practical_result: Mapped[str] = mapped_column(String(10), default="pending")
    practical_on: Mapped[date | None]
    decision: Mapped[str] = mapped_column(String(10), default="pending")
    decided_on: Mapped[date | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        tenant_fk("staff_file_id", "staff_files", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "staff_file_id"),
        CheckConstraint(_in("screening_result", STAGE_RESULTS), name="screening_known"),
        CheckConstraint(_in("interview_result", STAGE_RESULTS), name="interview_known"),
        CheckConstraint(_in("practical_result", STAGE_RESULTS), name="practical_known"),
        CheckConstraint(_in("decision", DECISIONS), name="decision_known"),
    )


class CaseloadAssignment(TenantScoped, Base):
    """Whom a worker is responsible for: one individual client, or a community
    programme with a number of residents. Counts against the worker's limit
    while it runs (from `starts_on`, until `ends_on` exclusive)."""

    __tablename__ = "caseload_assignments"

    staff_file_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(12))
    label: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(100), default="")
    residents: Mapped[int] = mapped_column(Integer, default=1)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("staff_file_id", "staff_files", ondelete="CASCADE"),
        Index("ix_caseload_assignments_staff", "tenant_id", "staff_file_id", "ends_on"),
        CheckConstraint(_in("kind", CASELOAD_KINDS), name="kind_known"),
        CheckConstraint("residents >= 1", name="residents_positive"),
        CheckConstraint("kind = 'community' OR residents = 1", name="individual_is_one"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
    )

    @hybrid_method
    def running_on(self, day: date) -> bool:
        """Counts on `day`: started, and not ended."""
        return self.starts_on <= day and self.ends_after(day)

    @running_on.inplace.expression
    @classmethod
    def _running_on(cls, day: date) -> ColumnElement[bool]:
        return and_(cls.starts_on <= day, cls.ends_after(day))

    @hybrid_method
    def ends_after(self, day: date) -> bool:
        """Not ended by `day`: running on it, or starting later."""
        return self.ends_on is None or self.ends_on > day

    @ends_after.inplace.expression
    @classmethod
    def _ends_after(cls, day: date) -> ColumnElement[bool]:
        return or_(cls.ends_on.is_(None), cls.ends_on > day)


class PerformanceReview(TenantScoped, Base):
    __tablename__ = "performance_reviews"

    staff_file_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[date]
    period_end: Mapped[date]
    summary: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("staff_file_id", "staff_files", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "staff_file_id", "kind", "period_start"),
        CheckConstraint(_in("kind", REVIEW_KINDS), name="kind_known"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
    )


class ReviewRating(TenantScoped, Base):
    """One rater's scores (1 to 5 per dimension) in a 360-degree review."""

    __tablename__ = "performance_review_ratings"

    review_id: Mapped[uuid.UUID]
    source: Mapped[str] = mapped_column(String(12))
    rater_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    scores: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("review_id", "performance_reviews", ondelete="CASCADE"),
        Index("ix_performance_review_ratings_review", "tenant_id", "review_id"),
        CheckConstraint(_in("source", RATING_SOURCES), name="source_known"),
    )


class RewardPenalty(TenantScoped, Base):
    __tablename__ = "staff_rewards_penalties"

    staff_file_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(10))
    on_date: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("staff_file_id", "staff_files", ondelete="CASCADE"),
        Index("ix_staff_rewards_penalties_staff", "tenant_id", "staff_file_id"),
        CheckConstraint(_in("kind", REWARD_KINDS), name="kind_known"),
    )


class AssignabilityOverride(TenantScoped, Base):
    """An admin's written decision that a worker may be assigned despite
    missing training or certificates. Active until revoked or past `expires_on`."""

    __tablename__ = "assignability_overrides"

    staff_file_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_on: Mapped[date | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        tenant_fk("staff_file_id", "staff_files", ondelete="CASCADE"),
        Index("ix_assignability_overrides_staff", "tenant_id", "staff_file_id"),
    )

    @hybrid_method
    def active_on(self, day: date) -> bool:
        """Lifts reasons on `day`: not revoked, and expiring on it at the earliest."""
        return self.revoked_at is None and (self.expires_on is None or self.expires_on >= day)

    @active_on.inplace.expression
    @classmethod
    def _active_on(cls, day: date) -> ColumnElement[bool]:
        return and_(cls.revoked_at.is_(None), or_(cls.expires_on.is_(None), cls.expires_on >= day))


class ImportBatch(TenantScoped, Base):
    """An uploaded spreadsheet between its preview and its saving. The rows are
    dropped once it is saved or discarded."""

    __tablename__ = "import_batches"

    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(200), default="")
    rows: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_import_batches_created", "tenant_id", "created_at"),
        CheckConstraint("status in ('pending', 'saved', 'discarded')", name="status_known"),
    )
