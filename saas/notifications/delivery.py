"""Emails that wait: after the recipient's quiet hours, and the daily digest.

- `deliver_waiting` (every minute): notifications whose email is "pending" and
  whose `deliver_after` (the end of the quiet hours they arrived in) has come
  are emailed; quiet hours delay, never drop.
- `send_digests` (every few minutes): a member who chose the daily digest gets
  one email a day, at the agency's `digest_time` (default 17:00) on their own
  clock (delayed by their quiet hours like any email, going when they end),
  with the non-mandatory notifications that arrived before that moment. Mandatory kinds never wait
  for the digest.

Both claim rows with FOR UPDATE SKIP LOCKED, send through `saas.mail.send`
with a dedupe key, mark the rows sent and commit (per batch; digests per
agency), so concurrent or killed runs neither repeat nor lose an email.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from saas import db, mail
from saas.agencies import sweep_agencies
from saas.fields import LOCALE_CODES
from saas.jobs import periodic, relay_after_commit
from saas.models import Agency, Membership, User
from saas.notifications import kinds
from saas.notifications.models import EmailState, Notification, NotificationSettings
from saas.notifications.reminders import (
    absolute_link,
    batch_size_setting,
    member_zone,
    quiet_until,
    send_reminder_mail,
)
from saas.settings import agency_setting


def _commit() -> None:
    sess = db.session()
    sess.commit()
    relay_after_commit(sess)


def deliver_pending(agency: Agency, now: datetime) -> int:
    """Email this agency's notifications whose quiet hours are over."""
    sent = 0
    while True:
        rows = db.session.execute(
            select(Notification, User.email, User.locale, Membership.active & User.is_active)
            .join(Membership, Membership.id == Notification.membership_id)
            .join(User, User.id == Membership.user_id)
            .where(Notification.email == EmailState.PENDING, Notification.deliver_after <= now)
            .order_by(Notification.deliver_after, Notification.id)
            .limit(batch_size_setting())
            .with_for_update(of=Notification, skip_locked=True)
        ).all()
        if not rows:
            return sent
        for note, email, locale, still_member in rows:
            if not still_member:  # left the agency while the email waited: not theirs any more
                note.email = EmailState.NONE
                continue
            try:
                mail_kind = kinds.get(note.kind).mail_kind
            except KeyError:  # a kind no longer registered
                mail_kind = "notification"
            send_reminder_mail(
                agency,
                note.membership_id,
                email,
                locale if locale in LOCALE_CODES else agency.locale,
                note.reminder_id,
                note.title,
                note.body,
                note.link,
                notification_id=note.id,
                mail_kind=mail_kind,
            )
            note.email = EmailState.SENT
            note.emailed_at = now
            sent += 1
        _commit()


def digest_moment(agency: Agency, zone: ZoneInfo, now: datetime) -> datetime:
    """The latest digest time on the member's clock at or before `now` (UTC):
    today's once it has come, else yesterday's. A digest held back by quiet
    hours over its time (digest 23:00, quiet 22:00-07:00) goes when they end
    with what came before that moment, instead of waiting for a time that
    always falls inside them."""
    at = agency_setting(agency, "digest_time")
    local_day = now.astimezone(zone).date()
    moment = datetime.combine(local_day, at, tzinfo=zone).astimezone(UTC)
    if moment <= now:
        return moment
    return datetime.combine(local_day - timedelta(days=1), at, tzinfo=zone).astimezone(UTC)


def send_digests(agency: Agency, now: datetime) -> int:
    """One digest per member with what arrived before their latest digest
    moment, outside their quiet hours: one SELECT for the members, one for
    the items, one UPDATE, one commit."""
    members = db.session.execute(
        select(NotificationSettings, User.email, User.locale)
        .join(Membership, Membership.id == NotificationSettings.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(
            NotificationSettings.digest.is_(True),
            Membership.active.is_(True),
            User.is_active.is_(True),
            select(Notification.id)
            .where(
                Notification.membership_id == NotificationSettings.membership_id,
                Notification.email == EmailState.DIGEST,
            )
            .exists(),
        )
        .order_by(NotificationSettings.membership_id)
    ).all()
    ready: dict[uuid.UUID, tuple[str, str, datetime]] = {}
    for settings, email, locale in members:
        zone = member_zone(agency, settings)
        if quiet_until(now, zone, settings.quiet_start, settings.quiet_end) is not None:
            continue  # the digest waits for the end of the quiet hours
        ready[settings.membership_id] = (email, locale, digest_moment(agency, zone, now))
    if not ready:
        return 0
    waiting = db.session.scalars(
        select(Notification)
        .where(
            Notification.membership_id.in_(ready),
            Notification.email == EmailState.DIGEST,
            Notification.created_at < now,
        )
        .order_by(Notification.membership_id, Notification.created_at, Notification.id)
        .with_for_update(skip_locked=True)
    ).all()
    items: dict[uuid.UUID, list[Notification]] = {}
    for note in waiting:
        if note.created_at < ready[note.membership_id][2]:
            items.setdefault(note.membership_id, []).append(note)
    for membership_id, notes in items.items():
        email, locale, _due = ready[membership_id]
        mail.send(
            email,
            "reminder_digest",
            locale=locale if locale in LOCALE_CODES else agency.locale,
            kind="notification.digest",
            agency_id=agency.id,
            # each notification is in one digest only: its first item names it
            dedupe_key=f"digest:{membership_id}:{notes[0].id}",
            agency_name=agency.name,
            items=[{"title": n.title, "body": n.body, "link": absolute_link(n.link)} for n in notes],
            list_link=absolute_link(f"/a/{agency.slug}/notifications"),
            preferences_link=absolute_link(f"/a/{agency.slug}/notifications/preferences"),
        )
    if items:
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_([n.id for notes in items.values() for n in notes]))
            .values(email=EmailState.SENT, emailed_at=now)
        )
    _commit()
    return len(items)


def release_digest(membership_id: uuid.UUID) -> int:
    """A member who turns the digest off gets what was waiting for it as
    ordinary emails (by the next delivery sweep), never lost."""
    return (
        db.session.execute(
            update(Notification)
            .where(Notification.membership_id == membership_id, Notification.email == EmailState.DIGEST)
            .values(email=EmailState.PENDING, deliver_after=db.utcnow())
        ).rowcount
        or 0
    )


def _committed(count: int) -> int:
    _commit()
    return count


@periodic
def deliver_waiting() -> int:
    now = db.utcnow()
    stmt = select(Notification.tenant_id).where(
        Notification.email == EmailState.PENDING, Notification.deliver_after <= now
    )
    return sweep_agencies(stmt, lambda agency: _committed(deliver_pending(agency, now)))


@periodic
def digest_all() -> int:
    now = db.utcnow()
    stmt = select(Notification.tenant_id).where(
        Notification.email == EmailState.DIGEST, Notification.created_at < now
    )
    return sweep_agencies(stmt, lambda agency: _committed(send_digests(agency, now)))
