"""The agency's service catalogue. An item's price, duration, quality checklist
and required qualification live in dated `ItemTerms` rows: a change takes effect
from a date and never rewrites terms that may already have been booked."""

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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, tenant_fk, utcnow

UNITS = ("per_visit", "per_hour")


class ServiceCategory(TenantScoped, Base):
    __tablename__ = "service_categories"

    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "name"),)


class ServiceItem(TenantScoped, Base):
    __tablename__ = "service_items"

    category_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    scope_included: Mapped[str] = mapped_column(Text, default="")
    scope_excluded: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        tenant_fk("category_id", "service_categories"),
        UniqueConstraint("tenant_id", "name"),
        Index("ix_service_items_category", "tenant_id", "category_id", "name"),
        Index("ix_service_items_active", "tenant_id", "active", "name"),
    )


class ItemTerms(TenantScoped, Base):
    """What an item costs and what doing it well means, from `effective_from`
    until the next row of the same item. Rows already in effect are never edited."""

    __tablename__ = "service_item_terms"

    item_id: Mapped[uuid.UUID]
    effective_from: Mapped[date]
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit: Mapped[str] = mapped_column(String(12))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    # the quality standard: points the carer ticks on each visit
    checklist: Mapped[list[str]] = mapped_column(JSONB, default=list)
    required_certificate_type_id: Mapped[uuid.UUID | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("item_id", "service_items", ondelete="CASCADE"),
        tenant_fk("required_certificate_type_id", "certificate_types"),
        UniqueConstraint("tenant_id", "item_id", "effective_from"),
        CheckConstraint("price >= 0", name="price_positive"),
        CheckConstraint("unit in ('per_visit', 'per_hour')", name="unit_known"),
        CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name="duration_range"),
    )
