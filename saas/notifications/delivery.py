"""Emails that wait: after the recipient's quiet hours, and the daily digest.

- `deliver_waiting` (every minute): notifications whose email is "pending" and
  whose `deliver_after` (the end of the quiet hours they arrived in) has come
  are emailed; quiet hours delay, never drop.
- `send_digests` (every few minutes): a member who chose the daily digest gets
  one email a day, at the agency's `digest_time` (default 17:00) on their own
  clock (delayed by their quiet hours like any email), with the non-mandatory
  notifications that arrived before that moment. Mandatory kinds never wait
  for the digest.

Both claim rows with FOR UPDATE SKIP LOCKED, send through `saas.mail.send`
with a dedupe key, mark the rows sent and commit per batch, so concurrent or
killed runs neither repeat nor lose an email.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from saas import db, mail
from saas.agencies import active_agencies
from saas.fields import LOCALE_CODES
from saas.jobs import periodic, relay_after_commit
from saas.models import Agency, Membership, User
from saas.notifications.models import EmailState, Notification, NotificationSettings
from saas.notifications.reminders import (
    absolute_link,
    batch_size_setting,
    member_zone,
    quiet_until,
    send_reminder_mail,
)
from saas.notifications.sweeps import setting_time

DEFAULT_DIGEST_TIME = "17:00"


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
            )
            note.email = EmailState.SENT
            note.emailed_at = now
            sent += 1
        _commit()


def digest_moment(agency: Agency, zone: ZoneInfo, now: datetime) -> datetime:
    """Today's digest time on the member's clock (UTC)."""
    at = setting_time(agency, "digest_time", DEFAULT_DIGEST_TIME)
    return datetime.combine(now.astimezone(zone).date(), at, tzinfo=zone).astimezone(UTC)


def send_digests(agency: Agency, now: datetime) -> int:
    """One digest per member and local day, once their digest time has come."""
    members = db.session.execute(
        select(NotificationSettings, User.email, User.locale)
        .join(Membership, Membership.id == NotificationSettings.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(
            NotificationSettings.digest.is_(True),
            Membership.active.is_(True),
            select(Notification.id)
            .where(
                Notification.membership_id == NotificationSettings.membership_id,
                Notification.email == EmailState.DIGEST,
            )
            .exists(),
        )
        .order_by(NotificationSettings.membership_id)
    ).all()
    sent = 0
    for settings, email, locale in members:
        zone = member_zone(agency, settings)
        due = digest_moment(agency, zone, now)
        if now < due:
            continue
        if quiet_until(now, zone, settings.quiet_start, settings.quiet_end) is not None:
            continue  # the digest waits for the end of the quiet hours
        items = db.session.scalars(
            select(Notification)
            .where(
                Notification.membership_id == settings.membership_id,
                Notification.email == EmailState.DIGEST,
                Notification.created_at < due,
            )
            .order_by(Notification.created_at, Notification.id)
            .with_for_update(skip_locked=True)
        ).all()
        if not items:
            continue
        day = now.astimezone(zone).date()
        mail.send(
            email,
            "reminder_digest",
            locale=locale if locale in LOCALE_CODES else agency.locale,
            kind="notification.digest",
            agency_id=agency.id,
            dedupe_key=f"digest:{settings.membership_id}:{day.isoformat()}",
            agency_name=agency.name,
            items=[{"title": n.title, "body": n.body, "link": absolute_link(n.link)} for n in items],
            list_link=absolute_link(f"/a/{agency.slug}/notifications"),
            preferences_link=absolute_link(f"/a/{agency.slug}/notifications/preferences"),
        )
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_([n.id for n in items]))
            .values(email=EmailState.SENT, emailed_at=now)
        )
        _commit()
        sent += 1
    return sent


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


@periodic
def deliver_waiting() -> int:
    now = db.utcnow()
    with db.platform_reader() as reader:
        ids: set[uuid.UUID] = set(
            reader.scalars(
                select(Notification.tenant_id)
                .where(Notification.email == EmailState.PENDING, Notification.deliver_after <= now)
                .distinct()
            )
        )
    sent = 0
    for agency in active_agencies(ids):
        with db.tenant_scope(agency.id):
            sent += deliver_pending(agency, now)
            db.session.commit()
    return sent


@periodic
def digest_all() -> int:
    now = db.utcnow()
    with db.platform_reader() as reader:
        ids: set[uuid.UUID] = set(
            reader.scalars(
                select(Notification.tenant_id)
                .where(Notification.email == EmailState.DIGEST, Notification.created_at < now)
                .distinct()
            )
        )
    sent = 0
    for agency in active_agencies(ids):
        with db.tenant_scope(agency.id):
            sent += send_digests(agency, now)
            db.session.commit()
    return sent
