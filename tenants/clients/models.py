"""Clients and their cases: intake, assessments, risk, service plans,
closure and follow-ups. Contact and health data are personal data."""

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
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, enum_check, tenant_fk, utcnow


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNDISCLOSED = "undisclosed"


class FamilyStatus(enum.StrEnum):
    SINGLE = "single"
    MARRIED = "married"
    WIDOWED = "widowed"
    DIVORCED = "divorced"


class EconomicStatus(enum.StrEnum):
    LOW = "low"
    MIDDLE = "middle"
    HIGH = "high"


class HealthStatus(enum.StrEnum):
    HEALTHY = "healthy"
    CHRONIC = "chronic_illness"
    DISABILITY = "disability"
    SERIOUS = "serious_illness"


class PsychologicalState(enum.StrEnum):
    NORMAL = "normal"
    ANXIETY = "anxiety"
    DEPRESSION = "depression"
    DISORDER = "mental_disorder"


class CaseStatus(enum.StrEnum):
    INTAKE = "intake"
    ASSESSMENT = "assessment"
    PLANNING = "planning"
    ACTIVE = "active"
    CLOSED = "closed"


class IntakeChannel(enum.StrEnum):
    PHONE = "phone"
    WALK_IN = "walk_in"
    ONLINE = "online"
    REFERRAL = "referral"


class AssessmentMethod(enum.StrEnum):
    QUESTIONNAIRE = "questionnaire"
    INTERVIEW = "interview"
    OBSERVATION = "observation"
    RECORDS = "records"


ASSESSMENT_DOMAINS = ("physical", "psychological", "social", "family_network", "quality_of_life")


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    ACTIVE = "active"
    CLOSED = "closed"
    SUPERSEDED = "superseded"


class FollowUpMethod(enum.StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    GROUP = "group_meeting"
    NETWORK = "support_network"


class Client(TenantScoped, Base):
    __tablename__ = "clients"

    full_name: Mapped[str] = mapped_column(String(200))
    preferred_name: Mapped[str] = mapped_column(String(100), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(20), default=Gender.UNDISCLOSED)
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    # the district or neighbourhood, as the agency names it (the rota board's area filter)
    area: Mapped[str] = mapped_column(String(120), default="")
    # how to get in (key safe, door code, parking, a dog): on the carer's visit sheet
    access_notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    checkin_radius_m: Mapped[int] = mapped_column(Integer, default=300)
    # how a carer shows they are at the home: "position", "qr" (the printed
    # code) or "either"; the code's version is bumped to revoke a printed code
    presence_mode: Mapped[str] = mapped_column(String(10), default="position", server_default="position")
    presence_code_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    family_status: Mapped[str | None] = mapped_column(String(20))
    economic_status: Mapped[str | None] = mapped_column(String(20))
    health_status: Mapped[str | None] = mapped_column(String(30))
    psychological_state: Mapped[str | None] = mapped_column(String(30))
    consent_services: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_data: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_recorded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # set when the client's last case closes, cleared when one opens again
    archived_at: Mapped[datetime | None]
    # after an appraisal: names, contacts and free text gone, the counts kept
    anonymised_at: Mapped[datetime | None]

    __table_args__ = (
        enum_check("gender", Gender, "gender_known"),
        CheckConstraint(
            "(latitude is null and longitude is null) or "
            "(latitude between -90 and 90 and longitude between -180 and 180)",
            name="position_valid",
        ),
        CheckConstraint("checkin_radius_m between 10 and 50000", name="radius_range"),
        CheckConstraint("presence_mode in ('position','qr','either')", name="presence_mode_known"),
        Index("ix_clients_tenant_name", "tenant_id", "full_name"),
    )


class EmergencyContact(TenantScoped, Base):
    __tablename__ = "client_emergency_contacts"

    client_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    relationship: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40))

    __table_args__ = (
        tenant_fk("client_id", "clients", ondelete="CASCADE"),
        Index("ix_client_emergency_contacts_client", "tenant_id", "client_id"),
    )


class PortalLink(TenantScoped, Base):
    """A client-role member (the client or a family member or guardian) who
    may see this client's visits in the portal."""

    __tablename__ = "client_portal_links"

    client_id: Mapped[uuid.UUID]
    membership_id: Mapped[uuid.UUID]
    relationship: Mapped[str] = mapped_column(String(40), default="self")

    __table_args__ = (
        tenant_fk("client_id", "clients", ondelete="CASCADE"),
        tenant_fk("membership_id", "memberships", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "client_id", "membership_id"),
        Index("ix_client_portal_links_membership", "tenant_id", "membership_id"),
    )


class Case(TenantScoped, Base):
    """One episode of service: intake to closure (and follow-ups)."""

    __tablename__ = "cases"

    client_id: Mapped[uuid.UUID]
    number: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.INTAKE)
    intake_channel: Mapped[str] = mapped_column(String(20))
    referrer: Mapped[str] = mapped_column(String(200), default="")
    materials_received: Mapped[str] = mapped_column(Text, default="")
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    closure_reason: Mapped[str] = mapped_column(Text, default="")
    # a case of a programme the agency marks special: its file is kept longer
    special_programme: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("client_id", "clients"),
        UniqueConstraint("tenant_id", "number"),
        enum_check("status", CaseStatus, "status_known"),
        enum_check("intake_channel", IntakeChannel, "channel_known"),
        Index("ix_cases_client", "tenant_id", "client_id"),
    )


class CaseTransition(TenantScoped, Base):
    __tablename__ = "case_transitions"

    case_id: Mapped[uuid.UUID]
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_user_id: Mapped[uuid.UUID | None]
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        Index("ix_case_transitions_case", "tenant_id", "case_id", "at"),
    )


class NeedsAssessment(TenantScoped, Base):
    """Each (re-)assessment is a new row: history is kept."""

    __tablename__ = "needs_assessments"

    case_id: Mapped[uuid.UUID]
    method: Mapped[str] = mapped_column(String(20))
    assessed_on: Mapped[date] = mapped_column(Date)
    assessor_user_id: Mapped[uuid.UUID | None]
    # {"physical": {"level": 1-5, "notes": "..."}, ...} for ASSESSMENT_DOMAINS
    domains: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        enum_check("method", AssessmentMethod, "method_known"),
        Index("ix_needs_assessments_case", "tenant_id", "case_id", "assessed_on"),
    )


class RiskAssessment(TenantScoped, Base):
    """Hazards of the home and the tasks, each scored likelihood x impact (5x5)."""

    __tablename__ = "risk_assessments"

    case_id: Mapped[uuid.UUID]
    assessed_on: Mapped[date] = mapped_column(Date)
    assessor_user_id: Mapped[uuid.UUID | None]
    # [{"hazard": str, "likelihood": 1-5, "impact": 1-5, "mitigation": str}]
    hazards: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        Index("ix_risk_assessments_case", "tenant_id", "case_id", "assessed_on"),
    )


class ServicePlan(TenantScoped, Base):
    """A plan version. A change after approval creates a new version; the old
    one stays readable (status superseded)."""

    __tablename__ = "service_plans"

    case_id: Mapped[uuid.UUID]
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default=PlanStatus.DRAFT)
    goals: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    risk_plan: Mapped[str] = mapped_column(Text, default="")
    review_on: Mapped[date | None] = mapped_column(Date)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    author_user_id: Mapped[uuid.UUID | None]
    # everyone who changed this version; none of them may approve it
    editor_user_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    submitted_at: Mapped[datetime | None]
    approved_by_user_id: Mapped[uuid.UUID | None]
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "case_id", "version"),
        enum_check("status", PlanStatus, "status_known"),
        CheckConstraint("budget is null or budget >= 0", name="budget_positive"),
        CheckConstraint("ends_on is null or starts_on is null or ends_on >= starts_on", name="dates_ordered"),
        CheckConstraint(
            "approved_by_user_id is null or approved_by_user_id <> author_user_id", name="approver_not_author"
        ),
    )


class FollowUp(TenantScoped, Base):
    __tablename__ = "case_follow_ups"

    case_id: Mapped[uuid.UUID]
    label: Mapped[str] = mapped_column(String(20))  # "1w", "2w", "1m", "2m" or configured
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(Text, default="")
    new_intervention_needed: Mapped[bool | None] = mapped_column(Boolean)
    by_user_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        tenant_fk("case_id", "cases", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "case_id", "label"),
        Index("ix_case_follow_ups_due", "tenant_id", "due_on", postgresql_where="done_on IS NULL"),
    )


class ClientFileAccess(TenantScoped, Base):
    """Who read which client's file, when, and which part."""

    __tablename__ = "client_file_access"

    client_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    section: Mapped[str] = mapped_column(String(40))

    __table_args__ = (
        tenant_fk("client_id", "clients", ondelete="CASCADE"),
        Index("ix_client_file_access_client", "tenant_id", "client_id", "at"),
    )


class ServicePlanItem(TenantScoped, Base):
    """A catalogue item the plan delivers, how often and when."""

    __tablename__ = "service_plan_items"

    plan_id: Mapped[uuid.UUID]
    service_item_id: Mapped[uuid.UUID]
    # ISO weekdays the visits fall on: 1 = Monday ... 7 = Sunday
    weekdays: Mapped[list[int]] = mapped_column(JSONB, default=list)
    start_time: Mapped[str] = mapped_column(String(5))  # "HH:MM", agency time
    duration_minutes: Mapped[int] = mapped_column(Integer)
    preferred_staff_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        tenant_fk("plan_id", "service_plans", ondelete="CASCADE"),
        tenant_fk("service_item_id", "service_items"),
        CheckConstraint("duration_minutes between 5 and 1440", name="duration_range"),
        CheckConstraint("start_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'", name="start_time_format"),
        CheckConstraint("jsonb_array_length(weekdays) between 1 and 7", name="weekdays_present"),
        Index("ix_service_plan_items_plan", "tenant_id", "plan_id"),
    )
