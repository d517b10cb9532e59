"""Tables of the notification centre (all agency-owned, key (tenant_id, id)).

- `reminders`: one row per occurrence; UNIQUE (tenant_id, kind, subject,
  due_at) is the dedupe key that makes every reminder go exactly once,
  whatever re-runs or races the sweeps go through.
- `notifications`: one row per occurrence and recipient. `in_app` says whether
  it shows in the list and the unread count (appears at once, quiet hours or
  not); `email` is the email's state: "none" (not wanted), "pending" (to send
  once `deliver_after` is reached: quiet hours delay, never drop), "digest"
  (waiting for the recipient's daily digest), "sent" (`emailed_at`).
- `notification_preferences`: a member's choice per kind; no row means the
  defaults (in-app and email both on). Mandatory kinds ignore opt-outs.
- `notification_settings`: per member quiet hours (local times, may cross
  midnight), their time zone (empty: the agency's) and the daily digest.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, time

from sqlalchemy import Boolean, CheckConstraint, Index, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saas.db import Base, TenantScoped, tenant_fk, utcnow


class EmailState(enum.StrEnum):
    NONE = "none"
    PENDING = "pending"
    DIGEST = "digest"
    SENT = "sent"


class Reminder(TenantScoped, Base):
    """One occurrence of a reminder kind about a subject at a due moment."""

    __tablename__ = "reminders"

    kind: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "kind", "subject", "due_at"),)


class Notification(TenantScoped, Base):
    """What one member is told; the title and body are rendered in their
    language when created (no health data in them)."""

    __tablename__ = "notifications"

    membership_id: Mapped[uuid.UUID]
    reminder_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str] = mapped_column(String(10), default=EmailState.NONE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # an email is not sent before this moment (the end of the recipient's quiet hours)
    deliver_after: Mapped[datetime] = mapped_column(default=utcnow)
    emailed_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]

    __table_args__ = (
        tenant_fk("membership_id", "memberships", ondelete="CASCADE"),
        tenant_fk("reminder_id", "reminders", ondelete="CASCADE"),
        # a reminder reaches each recipient once, even if its batch is replayed
        UniqueConstraint("tenant_id", "reminder_id", "membership_id"),
        CheckConstraint("email in ('none','pending','digest','sent')", name="email_known"),
        Index("ix_notifications_member_created", "tenant_id", "membership_id", "created_at"),
        # the unread badge: one index-only count per page
        Index(
            "ix_notifications_unread",
            "tenant_id",
            "membership_id",
            postgresql_where="in_app AND read_at IS NULL",
        ),
        # the delivery sweep: emails waiting for quiet hours or the digest
        Index(
            "ix_notifications_email_waiting",
            "tenant_id",
            "deliver_after",
            postgresql_where="email IN ('pending','digest')",
        ),
    )


class NotificationPreference(TenantScoped, Base):
    """A member's channels for one kind."""

    __tablename__ = "notification_preferences"

    membership_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(60))
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        tenant_fk("membership_id", "memberships", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "membership_id", "kind"),
    )


class NotificationSettings(TenantScoped, Base):
    """A member's quiet hours, time zone and digest choice."""

    __tablename__ = "notification_settings"

    membership_id: Mapped[uuid.UUID]
    timezone: Mapped[str] = mapped_column(String(64), default="")  # "" = the agency's
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        tenant_fk("membership_id", "memberships", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "membership_id"),
        CheckConstraint(
            "(quiet_start IS NULL) = (quiet_end IS NULL) "
            "AND (quiet_start IS NULL OR quiet_start <> quiet_end)",
            name="quiet_hours_pair",
        ),
    )
