"""Billing tables.

`plans` and `stripe_events` are platform tables (no agency owns them). What an
agency's admins read about their own account (subscription, invoices and
payments, data exports, the operators' view-as sessions) is tenant-owned, so
row-level security keeps it isolated like everything else; operators write it
inside `db.tenant_scope(agency.id)`.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, deferred, mapped_column

from saas.db import Base, TenantScoped, new_id, utcnow


class BillingState(enum.StrEnum):
    TRIAL = "trial"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    RESTRICTED = "restricted"
    CANCELLED = "cancelled"
    CLOSED = "closed"


class Pricing(enum.StrEnum):
    PER_CARER = "per_carer"  # price per active carer per month
    FLAT = "flat"  # price per month


# -- platform tables -----------------------------------------------------------


class Plan(Base):
    """What an agency pays and gets. Managed by operators."""

    __tablename__ = "plans"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    pricing: Mapped[str] = mapped_column(String(20), default=Pricing.PER_CARER)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    max_carers: Mapped[int | None] = mapped_column(Integer)
    max_clients: Mapped[int | None] = mapped_column(Integer)
    features: Mapped[list[str]] = mapped_column(JSONB, default=list)
    trial_days: Mapped[int] = mapped_column(Integer, default=14)
    stripe_price_id: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("pricing in ('per_carer','flat')", name="pricing_known"),
        CheckConstraint("max_carers is null or max_carers >= 0", name="max_carers_not_negative"),
        CheckConstraint("max_clients is null or max_clients >= 0", name="max_clients_not_negative"),
        CheckConstraint("trial_days between 0 and 365", name="trial_days_range"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
    )


class StripeEvent(Base):
    """Every Stripe webhook event received, by Stripe's event id: a duplicate
    delivery finds its id here and changes nothing. Platform infrastructure:
    an event is stored before (and whether or not) it names a known agency."""

    __tablename__ = "stripe_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    stripe_created: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    processed_at: Mapped[datetime | None]
    agency_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    outcome: Mapped[str] = mapped_column(String(30), default="")


# -- tenant-owned tables -------------------------------------------------------


class Subscription(TenantScoped, Base):
    """The agency's subscription as last known: Stripe's object, or the
    operator's manual arrangement. One per agency."""

    __tablename__ = "subscriptions"

    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"))
    provider: Mapped[str] = mapped_column(String(10), default="manual")
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    stripe_item_id: Mapped[str | None] = mapped_column(String(255))
    stripe_created: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(30), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    synced_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("provider in ('stripe','manual')", name="provider_known"),
    )


class Invoice(TenantScoped, Base):
    """An invoice: from Stripe (by webhook) or recorded by an operator."""

    __tablename__ = "invoices"

    source: Mapped[str] = mapped_column(String(10), default="manual")
    number: Mapped[str] = mapped_column(String(60), default="")
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(String(300), default="")
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    amount_paid: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    status: Mapped[str] = mapped_column(String(20), default="open")
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    hosted_url: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        UniqueConstraint("tenant_id", "stripe_invoice_id"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("amount_paid >= 0", name="amount_paid_not_negative"),
        CheckConstraint("source in ('stripe','manual')", name="source_known"),
        CheckConstraint("status in ('open','paid','void','uncollectible')", name="status_known"),
        Index("ix_invoices_tenant_issued", "tenant_id", "issued_at"),
    )


class Payment(TenantScoped, Base):
    """Money received against an invoice."""

    __tablename__ = "payments"

    invoice_id: Mapped[uuid.UUID]
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(200), default="")
    paid_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "method in ('stripe','bank_transfer','card','cash','cheque','other')", name="method_known"
        ),
    )


class DataExport(TenantScoped, Base):
    """A zip of everything the agency owns, built by a job. The file is kept
    in PostgreSQL (`content`, never loaded unless asked for) so every web node
    can serve it, it is in the backups, and a purge removes it with the rest."""

    __tablename__ = "data_exports"

    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    by_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    rows_total: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_done: Mapped[int] = mapped_column(BigInteger, default=0)
    filename: Mapped[str] = mapped_column(String(200), default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("status in ('queued','running','ready','failed','expired')", name="status_known"),
    )

    @property
    def progress_percent(self) -> int:
        if self.status == "ready":
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(self.rows_done * 100 / self.rows_total))


class ImpersonationSession(TenantScoped, Base):
    """An operator viewing the agency as an admin: why, when, for how long.
    Kept in the agency's own tables so its admins can see every one."""

    __tablename__ = "impersonation_sessions"

    operator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    user_session_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str] = mapped_column(String(20), default="")
    pages: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("length(reason) >= 10", name="reason_given"),)

    def is_active(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at
