"""The notification centre's rules for pages: the list, marking read, the
unread count, a member's preferences and the agency's reminder settings."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import available_timezones

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import ScalarSelect, Select, func, select, update
from sqlalchemy.sql import ColumnElement

from saas import audit, db, tenancy
from saas.errors import DomainError, register_messages
from saas.models import Membership
from saas.notifications import kinds, reminders
from saas.notifications.delivery import release_digest
from saas.notifications.models import Notification, NotificationPreference, NotificationSettings

TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class NotificationError(DomainError):
    """Refused; `field` names the form field the message belongs next to."""


register_messages(
    {
        "time_invalid": _l("Write a time as HH:MM, for example 07:30."),
        "time_required": _l("Write a time as HH:MM, for example 07:30."),
        "quiet_both": _l("Give both the start and the end of your quiet hours, or neither."),
        "quiet_same": _l("The quiet hours cannot start and end at the same time."),
        "timezone_unknown": _l("Choose a time zone from the list."),
    },
    error=NotificationError,
)


def parse_time(text: str, field: str) -> time | None:
    """ "HH:MM" -> time; empty -> None; anything else is refused for `field`."""
    text = (text or "").strip()
    if not text:
        return None
    match = TIME_RE.match(text)
    if not match:
        raise NotificationError("time_invalid", field)
    return time(int(match.group(1)), int(match.group(2)))


# -- the list ----------------------------------------------------------------------------------


# The badge counts up to this many; beyond, it says "99+", so that the count
# costs the same however many notifications a member leaves unread.
UNREAD_SHOWN = 99
UNREAD_FIGURE = "unread_notifications"


def unread_figure(membership_id: ColumnElement[Any] | uuid.UUID) -> ScalarSelect[int]:
    """The member's unread count, up to UNREAD_SHOWN + 1, from the partial index
    ix_notifications_unread (index only)."""
    unread = (
        select(Notification.id)
        .where(
            Notification.membership_id == membership_id,
            # the index's own predicate: PostgreSQL takes `in_app IS TRUE` as
            # another condition and reads every notification the member ever had
            Notification.in_app,
            Notification.read_at.is_(None),
        )
        .limit(UNREAD_SHOWN + 1)
        # read with the membership: its id comes from the enclosing query
        # (the table or the subquery `memberships.with_membership` joins)
        .correlate_except(Notification)
        .subquery()
    )
    return select(func.count()).select_from(unread).scalar_subquery()


# every agency page reads it with the membership, in the same query
tenancy.MEMBER_FIGURES[UNREAD_FIGURE] = unread_figure


def unread_count(membership: Membership) -> int:
    """The badge's count (capped at UNREAD_SHOWN + 1): read with the membership
    when the request found it, otherwise by one query; kept for the request."""
    cache = g.setdefault("_unread_notifications", {}) if has_request_context() else {}
    if membership.id not in cache:
        kept = tenancy.member_figure(membership, UNREAD_FIGURE) if has_request_context() else None
        cache[membership.id] = (
            kept if kept is not None else db.session.scalar(select(unread_figure(membership.id)))
        )
    return cache[membership.id]


def list_query(membership: Membership) -> Select[tuple[Notification]]:
    """The member's in-app notifications, newest first (ix_notifications_member_created)."""
    return (
        select(Notification)
        .where(Notification.membership_id == membership.id, Notification.in_app.is_(True))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def own_notification(membership: Membership, notification_id: uuid.UUID) -> Notification | None:
    """Another member's notification is as absent as another agency's."""
    return db.session.scalar(
        select(Notification).where(
            Notification.id == notification_id,
            Notification.membership_id == membership.id,
            Notification.in_app.is_(True),
        )
    )


def mark_read(note: Notification) -> None:
    if note.read_at is None:
        note.read_at = db.utcnow()


def mark_all_read(membership: Membership) -> int:
    return (
        db.session.execute(
            update(Notification)
            .where(Notification.membership_id == membership.id, Notification.read_at.is_(None))
            .values(read_at=db.utcnow())
        ).rowcount
        or 0
    )


# -- preferences -------------------------------------------------------------------------------


@dataclass
class KindChoice:
    kind: kinds.Kind
    in_app: bool
    email: bool


@dataclass
class Preferences:
    choices: list[KindChoice]
    quiet_start: time | None
    quiet_end: time | None
    timezone: str
    digest: bool


def kinds_for_page() -> list[kinds.Kind]:
    return sorted(kinds.load_kinds().values(), key=lambda k: k.name)


def preferences(membership: Membership) -> Preferences:
    rows = {
        p.kind: p
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.membership_id == membership.id)
        )
    }
    settings = db.session.scalar(
        select(NotificationSettings).where(NotificationSettings.membership_id == membership.id)
    )
    return Preferences(
        choices=[
            KindChoice(kind, *reminders.channels(kind, rows.get(kind.name))) for kind in kinds_for_page()
        ],
        quiet_start=settings.quiet_start if settings else None,
        quiet_end=settings.quiet_end if settings else None,
        timezone=settings.timezone if settings else "",
        digest=bool(settings and settings.digest),
    )


def save_preferences(
    membership: Membership,
    *,
    channels: dict[str, tuple[bool, bool]],
    quiet_start: str,
    quiet_end: str,
    timezone: str,
    digest: bool,
) -> None:
    """Validate everything first, then write: nothing is half-saved.
    `channels` maps kind names to (in_app, email); kinds not in it keep their
    choice, and mandatory kinds keep both channels whatever was sent."""
    start = parse_time(quiet_start, "quiet_start")
    end = parse_time(quiet_end, "quiet_end")
    if (start is None) != (end is None):
        raise NotificationError("quiet_both", "quiet_end" if end is None else "quiet_start")
    if start is not None and start == end:
        raise NotificationError("quiet_same", "quiet_end")
    timezone = (timezone or "").strip()
    if timezone and timezone not in available_timezones():
        raise NotificationError("timezone_unknown", "timezone")
    known = kinds.load_kinds()
    existing = {
        p.kind: p
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.membership_id == membership.id)
        )
    }
    for name, kind in known.items():
        if name not in channels or kind.mandatory:
            continue  # a kind not on the form is left as it was; mandatory ones are always on
        in_app, email = channels[name]
        row = existing.get(name)
        if row is None:
            if in_app and email:
                continue  # the default: no row needed
            row = NotificationPreference(membership_id=membership.id, kind=name)
            db.session.add(row)
        row.in_app, row.email = in_app, email
    settings = db.session.scalar(
        select(NotificationSettings).where(NotificationSettings.membership_id == membership.id)
    )
    if settings is None:
        settings = NotificationSettings(membership_id=membership.id)
        db.session.add(settings)
    was_digest = bool(settings.digest)
    settings.quiet_start, settings.quiet_end = start, end
    settings.timezone = timezone
    settings.digest = digest
    if was_digest and not digest:
        db.session.flush()
        release_digest(membership.id)
    audit.record(
        "notifications.preferences_changed",
        str(membership.id),
        off=sorted(
            n for n, (a, e) in channels.items() if not (a and e) and n in known and not known[n].mandatory
        ),
        quiet=f"{quiet_start}-{quiet_end}" if start else "",
        digest=digest,
    )
