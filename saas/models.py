"""Platform tables (agencies, users and the infrastructure that serves all of
them) and the tenant-owned tables every agency feature relies on (memberships,
invitations, API tokens, the agency audit log)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import JSONB as JSON
from sqlalchemy.orm import Mapped, mapped_column

from saas import sealing
from saas.db import Base, TenantScoped, new_id, utcnow


class AgencyStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    CARER = "carer"
    CLIENT = "client"


STAFF_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CARER)
ROLES_REQUIRING_2FA = (Role.ADMIN,)


# -- platform tables ---------------------------------------------------------


class Agency(Base):
    """A tenant. Its id is the `tenant_id` of everything it owns."""

    __tablename__ = "agencies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    locale: Mapped[str] = mapped_column(String(10), default="en")
    status: Mapped[str] = mapped_column(String(20), default=AgencyStatus.ACTIVE)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    suspended_at: Mapped[datetime | None]
    # Billing (billing/): the commercial life cycle, separate from the operator's
    # `status`. Transitions only through billing.lifecycle.
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"))
    billing_state: Mapped[str] = mapped_column(String(20), default="trial", server_default="active")
    trial_ends_at: Mapped[datetime | None]
    past_due_since: Mapped[datetime | None]
    current_period_end: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    billing_sync_requested_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "billing_state in ('trial','active','past_due','restricted','cancelled','closed')",
            name="billing_state_known",
        ),
        Index("ix_agencies_billing_state", "billing_state"),
    )

    @property
    def is_suspended(self) -> bool:
        return self.status == AgencyStatus.SUSPENDED

    @property
    def is_closed(self) -> bool:
        return self.billing_state == "closed"

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            return ZoneInfo("UTC")

    def local_now(self) -> datetime:
        """Now, on the agency's wall clock (its days, its daylight saving)."""
        return utcnow().astimezone(self.zone)

    def today(self) -> date:
        return self.local_now().date()


class User(UserMixin, Base):
    """A person. One email, possibly several agency memberships."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # sealed (saas.sealing) under TOTP_ENCRYPTION_KEY: read and set in the clear
    # through `totp_secret`, stored only as ciphertext
    totp_secret_sealed: Mapped[str | None] = mapped_column("totp_secret", Text)
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)
    locale: Mapped[str | None] = mapped_column(String(10))
    # how dates and numbers are written for them (a country code); None: the agency's
    region: Mapped[str | None] = mapped_column(String(2))
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret_sealed)

    @property
    def totp_secret(self) -> str | None:
        return sealing.unseal(self.totp_secret_sealed) if self.totp_secret_sealed else None

    @totp_secret.setter
    def totp_secret(self, secret: str | None) -> None:
        self.totp_secret_sealed = sealing.seal(secret) if secret else None

    def get_id(self) -> str:
        # Flask-Login keeps the server-side session id, not the user id.
        return str(self.current_session.id)  # type: ignore[attr-defined]


class UserSession(Base):
    """A signed-in browser. The cookie holds only this id, so sessions can be
    listed, timed out and revoked server-side."""

    __tablename__ = "user_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    two_factor_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class PasswordReset(Base):
    __tablename__ = "password_resets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class PlatformAuditEvent(Base):
    """Append-only (UPDATE and DELETE are revoked and refused by a trigger)."""

    __tablename__ = "platform_audit_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200), default="")
    agency_id: Mapped[uuid.UUID | None]
    ip: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PlatformSetting(Base):
    """A value operators set for the whole platform (`saas.platform_settings`
    declares each key, its default and range)."""

    __tablename__ = "platform_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None]


class OutboxEntry(Base):
    """Work to do after commit. Written in the same transaction as the change
    that causes it, relayed to RQ only once that transaction has committed."""

    __tablename__ = "outbox"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID | None]
    job: Mapped[str] = mapped_column(String(120))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    queue: Mapped[str] = mapped_column(String(40), default="default")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    relayed_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_outbox_pending", "created_at", postgresql_where="relayed_at IS NULL"),)


class MailMessage(Base):
    """Every email the platform sends. Without SMTP it stays here and operators
    read it at /operator/outbox."""

    __tablename__ = "mail_messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(60))
    dedupe_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="queued")
    error: Mapped[str] = mapped_column(Text, default="")


# -- tenant-owned tables -----------------------------------------------------


class Membership(TenantScoped, Base):
    """A user's place in one agency, with one role there."""

    __tablename__ = "memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        CheckConstraint("role in ('admin','coordinator','carer','client')", name="role_known"),
    )


class Invitation(TenantScoped, Base):
    __tablename__ = "invitations"

    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("role in ('admin','coordinator','carer','client')", name="role_known"),)


class ApiToken(TenantScoped, Base):
    """A personal token scoped to one membership; stored hashed."""

    __tablename__ = "api_tokens"

    membership_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64))
    # what it may do: read, write and the areas it reaches (saas.api.scopes)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "membership_id"], ["memberships.tenant_id", "memberships.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("tenant_id", "token_hash"),
    )


class IdempotencyKey(TenantScoped, Base):
    """An API write taken once: the `Idempotency-Key` a member sent with a
    POST, the hash of what it asked (method, path, body) and what it answered,
    so the same request sent again (a phone's queue replayed after a lost
    answer) gets the same answer without running again (saas.api.idempotency)."""

    __tablename__ = "idempotency_keys"

    membership_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "membership_id"], ["memberships.tenant_id", "memberships.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("tenant_id", "membership_id", "key"),
        Index("ix_idempotency_keys_created", "tenant_id", "created_at"),
    )


class AuditEvent(TenantScoped, Base):
    """An agency's own append-only audit log, hash-chained per agency: entry
    `seq` n stores the hash of entry n-1 (`prev_hash`) and its own `hash`
    (saas.audit.entry_hash), so an edited or removed row breaks the chain
    (`saas audit verify`). Written only through saas.audit.record."""

    __tablename__ = "audit_events"

    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_events_tenant_at", "tenant_id", "at"),
        UniqueConstraint("tenant_id", "seq"),
    )


APPEND_ONLY_TABLES = ("audit_events", "platform_audit_events")
