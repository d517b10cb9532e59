"""Incident reports and their actions of accountability and prevention."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, enum_check, tenant_fk, utcnow


class IncidentType(enum.StrEnum):
    FALL = "fall"
    INJURY = "injury"
    MEDICATION_ERROR = "medication_error"
    ABUSE_NEGLECT = "abuse_neglect"
    FIRE = "fire"
    OUTAGE = "outage"
    MISSING_PERSON = "missing_person"
    PROPERTY_DAMAGE = "property_damage"
    OTHER = "other"


class Severity(enum.StrEnum):
    MINOR = "minor"
    MODERATE = "moderate"
    SERIOUS = "serious"
    CRITICAL = "critical"


class IncidentStatus(enum.StrEnum):
    REPORTED = "reported"
    RESPONDED = "responded"
    INVESTIGATING = "investigating"
    INVESTIGATED = "investigated"
    CLOSED = "closed"


# abuse or neglect reports: seen only by the admins and the people named on them
SAFEGUARDING = IncidentType.ABUSE_NEGLECT
# whatever their severity, these the agency head must acknowledge
SERIOUS_TYPES = (IncidentType.ABUSE_NEGLECT, IncidentType.FIRE, IncidentType.MISSING_PERSON)
SERIOUS_SEVERITIES = (Severity.SERIOUS, Severity.CRITICAL)


class Incident(TenantScoped, Base):
    __tablename__ = "incidents"

    type: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=IncidentStatus.REPORTED)
    client_id: Mapped[uuid.UUID | None]
    visit_id: Mapped[uuid.UUID | None]
    people_involved: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(300))
    occurred_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text)
    reporter_membership_id: Mapped[uuid.UUID | None]
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    immediate_response: Mapped[str] = mapped_column(Text, default="")
    responded_at: Mapped[datetime | None]
    responded_by_membership_id: Mapped[uuid.UUID | None]
    # set when reported for a serious one: the head acknowledges by then
    acknowledge_by: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_membership_id: Mapped[uuid.UUID | None]
    investigator_membership_id: Mapped[uuid.UUID | None]
    investigation_deadline: Mapped[date | None] = mapped_column(Date)
    findings: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    investigated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_membership_id: Mapped[uuid.UUID | None]
    closing_note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        tenant_fk("client_id", "clients"),
        tenant_fk("visit_id", "visits"),
        tenant_fk("reporter_membership_id", "memberships"),
        tenant_fk("responded_by_membership_id", "memberships"),
        tenant_fk("acknowledged_by_membership_id", "memberships"),
        tenant_fk("investigator_membership_id", "memberships"),
        tenant_fk("closed_by_membership_id", "memberships"),
        enum_check("type", IncidentType, "type_known"),
        enum_check("severity", Severity, "severity_known"),
        enum_check("status", IncidentStatus, "status_known"),
        CheckConstraint("length(btrim(description)) > 0", name="description_present"),
        CheckConstraint(
            "closed_by_membership_id is null or investigator_membership_id is null "
            "or closed_by_membership_id <> investigator_membership_id",
            name="closer_not_investigator",
        ),
        Index("ix_incidents_reported", "tenant_id", "reported_at"),
        Index("ix_incidents_client", "tenant_id", "client_id", "occurred_at"),
        Index("ix_incidents_open", "tenant_id", "status", postgresql_where="status <> 'closed'"),
    )


class IncidentStaff(TenantScoped, Base):
    """A member of staff involved in an incident (besides the people named in words)."""

    __tablename__ = "incident_staff"

    incident_id: Mapped[uuid.UUID]
    staff_file_id: Mapped[uuid.UUID]

    __table_args__ = (
        tenant_fk("incident_id", "incidents", ondelete="CASCADE"),
        tenant_fk("staff_file_id", "staff_files"),
        UniqueConstraint("tenant_id", "incident_id", "staff_file_id"),
    )


class IncidentAction(TenantScoped, Base):
    """One action of accountability or prevention: an owner and a due date;
    it may have opened a rectification (closed by its own re-inspection)."""

    __tablename__ = "incident_actions"

    incident_id: Mapped[uuid.UUID]
    description: Mapped[str] = mapped_column(Text)
    owner_membership_id: Mapped[uuid.UUID]
    due_on: Mapped[date] = mapped_column(Date)
    rectification_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_membership_id: Mapped[uuid.UUID | None]
    done_at: Mapped[datetime | None]
    done_by_membership_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        tenant_fk("incident_id", "incidents", ondelete="CASCADE"),
        tenant_fk("owner_membership_id", "memberships"),
        tenant_fk("rectification_id", "rectifications"),
        tenant_fk("created_by_membership_id", "memberships"),
        tenant_fk("done_by_membership_id", "memberships"),
        CheckConstraint("length(btrim(description)) > 0", name="description_present"),
        Index("ix_incident_actions_incident", "tenant_id", "incident_id", "created_at"),
        Index("ix_incident_actions_open", "tenant_id", "due_on", postgresql_where="done_at IS NULL"),
    )
