"""Visits: generated from active plans (or booked one-off), assigned to a
carer, checked in and out, recorded. A visit keeps the catalogue terms it was
booked under."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, tenant_fk, utcnow


class VisitStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    MISSED = "missed"


class Visit(TenantScoped, Base):
    __tablename__ = "visits"

    client_id: Mapped[uuid.UUID]
    plan_id: Mapped[uuid.UUID | None]
    plan_item_id: Mapped[uuid.UUID | None]
    service_item_id: Mapped[uuid.UUID]
    # the local calendar day the visit belongs to (agency time zone): the key of generation
    local_day: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=VisitStatus.SCHEDULED)
    staff_file_id: Mapped[uuid.UUID | None]
    # the catalogue terms booked, copied so later changes never alter them
    terms_id: Mapped[uuid.UUID | None]
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    unit: Mapped[str] = mapped_column(String(12), default="per_visit")
    checklist: Mapped[list[str]] = mapped_column(JSONB, default=list)
    required_certificate_type_id: Mapped[uuid.UUID | None]
    assignment_override_reason: Mapped[str | None] = mapped_column(Text)
    assignment_override_by: Mapped[uuid.UUID | None]
    # check-in / check-out, server time; position if the agency asks for it
    checked_in_at: Mapped[datetime | None]
    checkin_latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    checkin_longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    checkin_distance_m: Mapped[int | None] = mapped_column(Integer)
    checkin_outside_radius: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_out_at: Mapped[datetime | None]
    # both times of a check-in and a check-out made on the phone: the phone's
    # own clock (the carer may have been offline) and when the server received
    # it; a phone clock further off than the agency allows flags the visit
    checkin_phone_at: Mapped[datetime | None]
    checkin_received_at: Mapped[datetime | None]
    checkout_phone_at: Mapped[datetime | None]
    checkout_received_at: Mapped[datetime | None]
    phone_clock_off_s: Mapped[int | None] = mapped_column(Integer)
    phone_clock_flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # how the carer's presence was shown: "position" or "qr" (None: neither);
    # missing when the client's presence rule asked for what was not given
    checkin_presence: Mapped[str | None] = mapped_column(String(10))
    checkout_presence: Mapped[str | None] = mapped_column(String(10))
    presence_missing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # flags raised by the late/missed sweep, until a coordinator resolves them
    late_flagged_at: Mapped[datetime | None]
    missed_flagged_at: Mapped[datetime | None]
    flag_resolved_at: Mapped[datetime | None]
    flag_resolution: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    rescheduled_from: Mapped[datetime | None]
    reschedule_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("client_id", "clients"),
        tenant_fk("plan_id", "service_plans"),
        tenant_fk("plan_item_id", "service_plan_items"),
        tenant_fk("service_item_id", "service_items"),
        tenant_fk("staff_file_id", "staff_files"),
        # one generated visit per plan line and day, whatever runs the generator
        UniqueConstraint("tenant_id", "plan_item_id", "local_day"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(
            "status in ('scheduled','in_progress','completed','cancelled','missed')", name="status_known"
        ),
        CheckConstraint("checked_out_at is null or checked_in_at is not null", name="out_after_in"),
        Index("ix_visits_staff_start", "tenant_id", "staff_file_id", "starts_at"),
        Index("ix_visits_client_start", "tenant_id", "client_id", "starts_at"),
        # a client's last service record before a visit: read backwards, the first one is it
        # (a visit has its record exactly when it is completed)
        Index(
            "ix_visits_client_completed",
            "tenant_id",
            "client_id",
            "starts_at",
            postgresql_where="status = 'completed'",
        ),
        # the satisfaction statistics select visits by their local day
        Index("ix_visits_local_day", "tenant_id", "local_day", postgresql_include=["status"]),
        # covering: the month's figures of the quality summary read only the index
        Index(
            "ix_visits_start",
            "tenant_id",
            "starts_at",
            postgresql_include=[
                "client_id",
                "status",
                "local_day",
                "late_flagged_at",
                "missed_flagged_at",
                "id",
                "unit",
                "price",
                "ends_at",
                "checked_in_at",
                "checked_out_at",
                "plan_item_id",
            ],
        ),
        Index(
            "ix_visits_open_flags",
            "tenant_id",
            "starts_at",
            postgresql_where="(late_flagged_at IS NOT NULL OR missed_flagged_at IS NOT NULL) "
            "AND flag_resolved_at IS NULL",
        ),
    )

    def still_to_plan(self, now: datetime) -> bool:
        """Whether it can still be given to a carer, moved or cancelled: booked,
        not started and not over. A past visit shows its record instead."""
        return self.status == VisitStatus.SCHEDULED and self.checked_in_at is None and self.ends_at > now

    def is_past(self, now: datetime) -> bool:
        return self.ends_at <= now


class AssignmentOverride(TenantScoped, Base):
    """A visit given to a worker despite refusals someone allowed to override
    them lifted: who, when, which refusals (their codes), and why. Kept when
    the visit changes hands later: the record of the decision stays."""

    __tablename__ = "assignment_overrides"

    visit_id: Mapped[uuid.UUID]
    staff_file_id: Mapped[uuid.UUID]
    refusals: Mapped[list[str]] = mapped_column(JSONB, default=list)
    reason: Mapped[str] = mapped_column(Text)
    by_user_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("visit_id", "visits", ondelete="CASCADE"),
        tenant_fk("staff_file_id", "staff_files"),
        Index("ix_assignment_overrides_visit", "tenant_id", "visit_id", "created_at"),
        Index("ix_assignment_overrides_staff", "tenant_id", "staff_file_id", "created_at"),
    )


class ServiceRecord(TenantScoped, Base):
    """What the carer did, written at check-out."""

    __tablename__ = "service_records"

    visit_id: Mapped[uuid.UUID]
    # the booked checklist points, each ticked or not
    checklist_done: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    what_was_done: Mapped[str] = mapped_column(Text, default="")
    tools_used: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    # why the carer checked out with checklist points unticked or after a short stay
    checkout_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    attention_resolved_at: Mapped[datetime | None]
    written_by_user_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("visit_id", "visits", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "visit_id"),
        Index(
            "ix_service_records_attention",
            "tenant_id",
            "created_at",
            postgresql_where="needs_attention AND attention_resolved_at IS NULL",
        ),
    )


class ReturnVisit(TenantScoped, Base):
    """A worker's monthly return visit to a client (due by the 7th of the next month)."""

    __tablename__ = "return_visits"

    staff_file_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    month: Mapped[date] = mapped_column(Date)  # first day of the month it counts for
    visited_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("staff_file_id", "staff_files"),
        tenant_fk("client_id", "clients"),
        UniqueConstraint("tenant_id", "staff_file_id", "client_id", "month"),
        CheckConstraint("extract(day from month) = 1", name="month_start"),
    )


class CalendarFeed(TenantScoped, Base):
    """A carer's private iCalendar feed; the URL carries a secret stored hashed."""

    __tablename__ = "calendar_feeds"

    staff_file_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        tenant_fk("staff_file_id", "staff_files", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "token_hash"),
    )


class CancellationRequest(TenantScoped, Base):
    """A client (or family member) asking, from the portal, to cancel a visit."""

    __tablename__ = "visit_cancellation_requests"

    visit_id: Mapped[uuid.UUID]
    membership_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        tenant_fk("visit_id", "visits", ondelete="CASCADE"),
        tenant_fk("membership_id", "memberships"),
        Index(
            "ix_visit_cancellation_requests_open",
            "tenant_id",
            "created_at",
            postgresql_where="handled_at IS NULL",
        ),
    )
