"""Invoices for funders and clients built from delivered visits, and carers'
timesheets for payroll.

An issued invoice is an accounting document: it carries its own copy of what
it says (payer, client names, services, amounts) and points at visits and
clients by id only, so retention's anonymisation or destruction of a client
file never rewrites or removes it (the database refuses any change to an
issued invoice or its lines: see the migration's triggers)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

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
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, enum_check, tenant_fk, utcnow


class PayerKind(enum.StrEnum):
    FUNDER = "funder"
    CLIENT = "client"


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"


class LineKind(enum.StrEnum):
    VISIT = "visit"
    LATE_CANCELLATION = "late_cancellation"
    ADJUSTMENT = "adjustment"
    CREDIT = "credit"


class TimesheetStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class EntryKind(enum.StrEnum):
    VISIT = "visit"
    TRAVEL = "travel"
    TIME_OFF = "time_off"


class PaymentRule(TenantScoped, Base):
    """Who pays for a service plan's visits: the client alone (no funder), a
    funder alone (100%), or split (the funder's percentage, the client the
    rest). A new version of the plan takes its predecessor's rule."""

    __tablename__ = "plan_payment_rules"

    plan_id: Mapped[uuid.UUID]
    funder_id: Mapped[uuid.UUID | None]
    funder_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        tenant_fk("plan_id", "service_plans", ondelete="CASCADE"),
        tenant_fk("funder_id", "funders"),
        UniqueConstraint("tenant_id", "plan_id"),
        Index("ix_plan_payment_rules_funder", "tenant_id", "funder_id"),
        CheckConstraint(
            "(funder_id IS NULL AND funder_percent = 0) OR "
            "(funder_id IS NOT NULL AND funder_percent > 0 AND funder_percent <= 100)",
            name="share_with_funder",
        ),
    )


class CareInvoice(TenantScoped, Base):
    """A month's (or any period's) invoice to one payer, or a credit note
    reversing an issued invoice: in full (once), or in part (chosen lines,
    or amounts of them, as many times as something remains uncredited).
    Numbered when issued, without gaps, per agency and kind
    (`CareInvoiceCounter`): partial and full credit notes share one sequence."""

    __tablename__ = "care_invoices"

    kind: Mapped[str] = mapped_column(String(20), default=InvoiceKind.INVOICE)
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.DRAFT)
    payer_kind: Mapped[str] = mapped_column(String(20))
    funder_id: Mapped[uuid.UUID | None]
    # the paying client (a client invoice); by id only: see the module's note
    client_id: Mapped[uuid.UUID | None]
    payer_name: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive
    number: Mapped[int | None] = mapped_column(Integer)
    credits_invoice_id: Mapped[uuid.UUID | None]
    # a credit note for chosen lines or amounts (the invoice may be credited again)
    partial: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_user_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_user_id: Mapped[uuid.UUID | None]
    issued_at: Mapped[datetime | None]
    # once issued, a trigger freezes it and its lines (see the migration)

    __table_args__ = (
        tenant_fk("funder_id", "funders"),
        tenant_fk("credits_invoice_id", "care_invoices"),
        enum_check("kind", InvoiceKind, "kind_known"),
        enum_check("status", InvoiceStatus, "status_known"),
        enum_check("payer_kind", PayerKind, "payer_kind_known"),
        CheckConstraint(
            "(payer_kind = 'funder' AND funder_id IS NOT NULL AND client_id IS NULL) OR "
            "(payer_kind = 'client' AND client_id IS NOT NULL AND funder_id IS NULL)",
            name="one_payer",
        ),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        CheckConstraint(
            "(status = 'issued') = (number IS NOT NULL AND issued_at IS NOT NULL)", name="issued_numbered"
        ),
        CheckConstraint(
            "(kind = 'credit_note') = (credits_invoice_id IS NOT NULL)", name="credit_note_credits"
        ),
        CheckConstraint("NOT partial OR kind = 'credit_note'", name="partial_is_credit"),
        # one number per agency and kind: with the counter, no gaps and no repeats
        Index(
            "uq_care_invoices_number",
            "tenant_id",
            "kind",
            "number",
            unique=True,
            postgresql_where="number IS NOT NULL",
        ),
        # an invoice is credited in full once (partial credit notes are limited by their lines)
        Index(
            "uq_care_invoices_credits",
            "tenant_id",
            "credits_invoice_id",
            unique=True,
            postgresql_where="credits_invoice_id IS NOT NULL AND NOT partial",
        ),
        Index("ix_care_invoices_credit_notes", "tenant_id", "credits_invoice_id"),
        Index("ix_care_invoices_created", "tenant_id", "created_at", "id"),
        Index("ix_care_invoices_period", "tenant_id", "period_start", "period_end"),
    )


class CareInvoiceLine(TenantScoped, Base):
    """One line: a delivered visit, a cancellation inside the notice period,
    an adjustment (who, why, amount) or a credit."""

    __tablename__ = "care_invoice_lines"

    invoice_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(20))
    visit_id: Mapped[uuid.UUID | None]  # by id only: see the module's note
    client_id: Mapped[uuid.UUID | None]
    client_name: Mapped[str] = mapped_column(String(200), default="")
    service_name: Mapped[str] = mapped_column(String(200), default="")
    day: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(1))
    unit: Mapped[str] = mapped_column(String(12), default="per_visit")
    unit_price: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    share_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(100))
    charge_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(100))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reason: Mapped[str] = mapped_column(Text, default="")
    # a credit note's line: the invoice line it credits (whole or in part)
    credits_line_id: Mapped[uuid.UUID | None]
    by_user_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        tenant_fk("invoice_id", "care_invoices", ondelete="CASCADE"),
        tenant_fk("credits_line_id", "care_invoice_lines"),
        CheckConstraint("credits_line_id IS NULL OR kind = 'credit'", name="credits_line_is_credit"),
        Index("ix_care_invoice_lines_credits", "tenant_id", "credits_line_id"),
        enum_check("kind", LineKind, "kind_known"),
        CheckConstraint("kind <> 'adjustment' OR length(btrim(reason)) > 0", name="adjustment_reason"),
        Index("ix_care_invoice_lines_invoice", "tenant_id", "invoice_id", "day"),
        Index("ix_care_invoice_lines_visit", "tenant_id", "visit_id"),
    )


class CareInvoiceCounter(TenantScoped, Base):
    """The next number of each kind of invoice, per agency: locked FOR UPDATE
    by the issuing transaction, so concurrent issues wait for each other and a
    rolled-back issue leaves no gap."""

    __tablename__ = "care_invoice_counters"

    kind: Mapped[str] = mapped_column(String(20))
    last_number: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("tenant_id", "kind"),
        enum_check("kind", InvoiceKind, "kind_known"),
        CheckConstraint("last_number >= 0", name="last_number_positive"),
    )


class Timesheet(TenantScoped, Base):
    """A carer's hours for one pay period: delivered visits (check-in to
    check-out), travel between consecutive visits, time off; approved by a
    coordinator before payroll exports it."""

    __tablename__ = "timesheets"

    staff_file_id: Mapped[uuid.UUID]
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive
    status: Mapped[str] = mapped_column(String(20), default=TimesheetStatus.DRAFT)
    visit_minutes: Mapped[int] = mapped_column(Integer, default=0)
    booked_minutes: Mapped[int] = mapped_column(Integer, default=0)
    travel_minutes: Mapped[int] = mapped_column(Integer, default=0)
    time_off_minutes: Mapped[int] = mapped_column(Integer, default=0)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_by_user_id: Mapped[uuid.UUID | None]
    approved_at: Mapped[datetime | None]
    approved_by_user_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        tenant_fk("staff_file_id", "staff_files"),
        enum_check("status", TimesheetStatus, "status_known"),
        UniqueConstraint("tenant_id", "staff_file_id", "period_start"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        CheckConstraint("(status = 'approved') = (approved_at IS NOT NULL)", name="approved_stamped"),
        Index("ix_timesheets_period", "tenant_id", "period_start", "period_end"),
    )


class TimesheetEntry(TenantScoped, Base):
    """A visit worked (booked and worked minutes), the travel before it, or a
    day off."""

    __tablename__ = "timesheet_entries"

    timesheet_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    visit_id: Mapped[uuid.UUID | None]  # by id only, as invoices
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    booked_minutes: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        tenant_fk("timesheet_id", "timesheets", ondelete="CASCADE"),
        enum_check("kind", EntryKind, "kind_known"),
        CheckConstraint("minutes >= 0 AND booked_minutes >= 0", name="minutes_positive"),
        Index("ix_timesheet_entries_sheet", "tenant_id", "timesheet_id", "day"),
    )
