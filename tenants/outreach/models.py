"""The opinion box (its locations and a daily log), stakeholder opinion
rounds per team, and funders with their return visits."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, enum_check, tenant_fk, utcnow


class StakeholderGroup(enum.StrEnum):
    CLIENTS = "clients"
    FUNDERS = "funders"
    PARTNERS = "partners"


class RoundMethod(enum.StrEnum):
    MEETING = "meeting"
    SURVEY = "survey"
    INTERVIEWS = "interviews"
    VISIT = "visit"
    PHONE = "phone"
    OTHER = "other"


class BoxLocation(TenantScoped, Base):
    """Where an opinion box hangs. Logged from `since` on, while active."""

    __tablename__ = "opinion_box_locations"

    name: Mapped[str] = mapped_column(String(120))
    since: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("length(btrim(name)) > 0", name="name_present"),
    )


class BoxLog(TenantScoped, Base):
    """One day at one box: opened (and how many slips), or why it was not."""

    __tablename__ = "opinion_box_logs"

    location_id: Mapped[uuid.UUID]
    day: Mapped[date] = mapped_column(Date)
    opened: Mapped[bool] = mapped_column(Boolean)
    not_opened_reason: Mapped[str] = mapped_column(Text, default="")
    slips: Mapped[int] = mapped_column(Integer, default=0)
    opened_by_membership_id: Mapped[uuid.UUID]
    notes: Mapped[str] = mapped_column(Text, default="")
    # entered after the day itself: who entered it and when is kept
    backfilled: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_user_id: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    __table_args__ = (
        tenant_fk("location_id", "opinion_box_locations"),
        tenant_fk("opened_by_membership_id", "memberships"),
        UniqueConstraint("tenant_id", "location_id", "day"),
        CheckConstraint("slips >= 0", name="slips_not_negative"),
        CheckConstraint("opened or slips = 0", name="no_slips_unopened"),
        CheckConstraint("opened or length(btrim(not_opened_reason)) > 0", name="reason_when_unopened"),
        Index("ix_opinion_box_logs_day", "tenant_id", "day"),
    )


class StakeholderRound(TenantScoped, Base):
    """One team collecting opinions from one stakeholder group."""

    __tablename__ = "stakeholder_rounds"

    team_id: Mapped[uuid.UUID]
    stakeholder_group: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    participants: Mapped[int] = mapped_column(Integer, default=0)
    opinions: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text)
    led_by_membership_id: Mapped[uuid.UUID]
    recorded_by_user_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    __table_args__ = (
        tenant_fk("team_id", "teams"),
        tenant_fk("led_by_membership_id", "memberships"),
        enum_check("stakeholder_group", StakeholderGroup, "group_known"),
        enum_check("method", RoundMethod, "method_known"),
        CheckConstraint("participants >= 0", name="participants_not_negative"),
        CheckConstraint("opinions >= 0", name="opinions_not_negative"),
        CheckConstraint("length(btrim(summary)) > 0", name="summary_present"),
        Index("ix_stakeholder_rounds_team_group", "tenant_id", "team_id", "stakeholder_group", "held_on"),
    )


class Funder(TenantScoped, Base):
    """A purchasing organisation the agency visits at least monthly."""

    __tablename__ = "funders"

    name: Mapped[str] = mapped_column(String(200))
    contact_person: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("length(btrim(name)) > 0", name="name_present"),
    )


class FunderVisit(TenantScoped, Base):
    """A return visit to a funder and what came of it."""

    __tablename__ = "funder_visits"

    funder_id: Mapped[uuid.UUID]
    visited_on: Mapped[date] = mapped_column(Date)
    visited_by_membership_id: Mapped[uuid.UUID]
    attendees: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[str] = mapped_column(Text, default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    follow_up: Mapped[str] = mapped_column(Text, default="")
    recorded_by_user_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    __table_args__ = (
        tenant_fk("funder_id", "funders"),
        tenant_fk("visited_by_membership_id", "memberships"),
        Index("ix_funder_visits_funder_day", "tenant_id", "funder_id", "visited_on"),
    )
