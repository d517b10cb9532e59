"""Reminders that go exactly once.

Public API:

    @dataclass(frozen=True)
    class Due:
        kind: str                 # a registered Kind name (saas.notifications.kinds)
        subject: str              # what it is about: str(visit_id), f"{staff_id}:{year}Q{q}"
        due_at: datetime          # tz-aware; the due moment
        membership_ids: tuple[uuid.UUID, ...]   # recipients in the agency in scope
        params: dict[str, str]    # values for the kind's title/body (no health data)
        link: str = ""            # path in the app, e.g. f"/a/{slug}/visits/{id}"

    send_due(dues, *, batch_size=None) -> int   # new occurrences; commits per batch
    send_now(dues) -> int                       # the same inside the caller's transaction (no commit)
    recipients(*roles) -> tuple[uuid.UUID, ...] # active memberships with these roles

How "exactly once" holds: the occurrence's key (agency, kind, subject,
due_at) is a UNIQUE constraint on `reminders`. Each batch is one transaction:
`INSERT ... ON CONFLICT DO NOTHING RETURNING` claims the occurrences nobody
claimed before, and the notifications and emails for exactly those are written
in the same transaction, which then commits. A sweep re-run finds the keys
taken and does nothing; two sweeps at once serialise on the unique index (the
second waits, then sees a conflict); a worker killed mid-batch rolls the whole
batch back, so the next run claims and sends it. Emails also carry a dedupe
key per reminder and recipient (`mail_messages.dedupe_key`). An occurrence
none of whose recipients is an active member is not claimed: it is sent
once someone can be told, never skipped.

Per recipient: the kind's preference (no row: in-app and email on; mandatory
kinds ignore opt-outs). The in-app notification appears at once. The email
goes at once, or, inside the recipient's quiet hours (their time zone, the
agency's by default), at the end of them (`delivery.deliver_waiting`); for a
member who chose the daily digest, non-mandatory emails wait for the digest.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from saas import db, mail
from saas.fields import LOCALE_CODES
from saas.i18n import agency_language
from saas.jobs import relay_after_commit
from saas.models import Agency, Membership, Role, User
from saas.notifications import kinds
from saas.notifications.models import (
    EmailState,
    Notification,
    NotificationPreference,
    NotificationSettings,
    Reminder,
)

DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class Due:
    kind: str
    subject: str
    due_at: datetime
    membership_ids: tuple[uuid.UUID, ...]
    params: dict[str, str] = field(default_factory=dict, compare=False)
    link: str = ""

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.kind, self.subject, self.due_at.astimezone(UTC))


def batch_size_setting() -> int:
    """REMINDER_BATCH_SIZE (app config or environment): how many occurrences
    one transaction claims; small in tests to kill a worker mid-run."""
    value = current_app.config.get("REMINDER_BATCH_SIZE") if has_app_context() else None
    return max(1, int(value or os.environ.get("REMINDER_BATCH_SIZE") or DEFAULT_BATCH_SIZE))


def recipients(*roles: Role) -> tuple[uuid.UUID, ...]:
    """Active memberships of the agency in scope with one of these roles."""
    return tuple(
        db.session.scalars(
            select(Membership.id)
            .where(Membership.active.is_(True), Membership.role.in_([str(r) for r in roles]))
            .order_by(Membership.id)
        )
    )


def _batches(dues: Iterable[Due], size: int) -> Iterator[list[Due]]:
    it = iter(dues)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def send_due(dues: Iterable[Due], *, batch_size: int | None = None) -> int:
    """Claim and send the occurrences in `dues` that were never sent, one
    transaction (commit) per batch, inside `db.tenant_scope(agency)`. Returns
    how many occurrences were new."""
    tenant_id = db.current_tenant_id()
    if tenant_id is None:
        raise db.TenantNotSet("send_due needs an agency in scope")
    size = batch_size or batch_size_setting()
    agency = db.session.get(Agency, tenant_id)
    if agency is None:
        raise db.TenantNotSet("unknown agency")
    new = 0
    for chunk in _batches(dues, size):
        new += _send_batch(agency, chunk)
        sess = db.session()
        sess.commit()
        relay_after_commit(sess)
    return new


def send_now(dues: Iterable[Due]) -> int:
    """Claim and send `dues` inside the caller's transaction, without
    committing: for a notification caused by a change (a check-out), which
    must go, or not, together with that change. Returns how many were new."""
    tenant_id = db.current_tenant_id()
    if tenant_id is None:
        raise db.TenantNotSet("send_now needs an agency in scope")
    agency = db.session.get(Agency, tenant_id)
    if agency is None:
        raise db.TenantNotSet("unknown agency")
    chunk = list(dues)
    return _send_batch(agency, chunk) if chunk else 0


def _send_batch(agency: Agency, chunk: list[Due]) -> int:
    by_key: dict[tuple[str, str, datetime], Due] = {}
    for due in chunk:
        if due.due_at.tzinfo is None:
            raise ValueError("due_at must be timezone-aware")
        kinds.get(due.kind)  # unknown kind: fail before claiming anything
        by_key.setdefault(due.key, due)
    # an occurrence nobody can receive now (no such role yet, everyone left) is
    # not claimed: it stays due, and goes once someone is there to be told
    people = _load_recipients(agency, {m for due in by_key.values() for m in due.membership_ids if m})
    by_key = {key: due for key, due in by_key.items() if any(m in people for m in due.membership_ids)}
    if not by_key:
        return 0
    # a fixed order, so two sweeps claiming overlapping batches cannot deadlock
    ordered = sorted(by_key.items(), key=lambda item: (item[0][0], item[0][1], item[0][2]))
    ids = {db.new_id(): due for _key, due in ordered}
    now = db.utcnow()
    claimed = db.session.scalars(
        insert(Reminder)
        .values(
            [
                {
                    "tenant_id": agency.id,
                    "id": rid,
                    "kind": due.kind,
                    "subject": due.subject,
                    "due_at": due.due_at,
                    "created_at": now,
                }
                for rid, due in ids.items()
            ]
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "kind", "subject", "due_at"])
        .returning(Reminder.id)
    ).all()
    if not claimed:
        return 0
    taken = set(claimed)
    new = [(rid, ids[rid]) for rid in ids if rid in taken]
    _notify(agency, new, now, people)
    return len(new)


@dataclass
class _Recipient:
    membership_id: uuid.UUID
    email: str
    locale: str
    zone: ZoneInfo
    quiet_start: time | None
    quiet_end: time | None
    digest: bool


def _load_recipients(agency: Agency, membership_ids: set[uuid.UUID]) -> dict[uuid.UUID, _Recipient]:
    if not membership_ids:
        return {}
    rows = db.session.execute(
        select(Membership.id, User.email, User.locale, NotificationSettings)
        .join(User, User.id == Membership.user_id)
        .outerjoin(NotificationSettings, NotificationSettings.membership_id == Membership.id)
        .where(Membership.id.in_(membership_ids), Membership.active.is_(True), User.is_active.is_(True))
    ).all()
    found = {}
    for membership_id, email, locale, settings in rows:
        found[membership_id] = _Recipient(
            membership_id=membership_id,
            email=email,
            locale=locale if locale in LOCALE_CODES else agency.locale,
            zone=member_zone(agency, settings),
            quiet_start=settings.quiet_start if settings else None,
            quiet_end=settings.quiet_end if settings else None,
            digest=bool(settings and settings.digest),
        )
    return found


def member_zone(agency: Agency, settings: NotificationSettings | None) -> ZoneInfo:
    if settings is not None and settings.timezone:
        try:
            return ZoneInfo(settings.timezone)
        except (KeyError, ValueError):
            pass
    return agency.zone


def quiet_until(now: datetime, zone: ZoneInfo, start: time | None, end: time | None) -> datetime | None:
    """The end of the quiet hours `now` falls in (UTC), or None when it is not
    in them. Hours may cross midnight (22:00-07:00); the end is taken on the
    local wall clock, so daylight saving changes are respected."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    end_day: date
    if start < end:
        if not (start <= clock < end):
            return None
        end_day = local.date()
    else:
        if clock >= start:
            end_day = local.date() + timedelta(days=1)
        elif clock < end:
            end_day = local.date()
        else:
            return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


def channels(kind: kinds.Kind, pref: NotificationPreference | None) -> tuple[bool, bool]:
    """(in_app, email) for a member: defaults on; mandatory kinds cannot be off."""
    if kind.mandatory or pref is None:
        return True, True
    return pref.in_app, pref.email


def absolute_link(link: str) -> str:
    if not link:
        return ""
    base = (current_app.config.get("BASE_URL") or "").rstrip("/") if has_app_context() else ""
    return f"{base}{link}"


def _notify(
    agency: Agency, new: list[tuple[uuid.UUID, Due]], now: datetime, people: dict[uuid.UUID, _Recipient]
) -> None:
    wanted = {m for _rid, due in new for m in due.membership_ids if m in people}
    prefs = {
        (p.membership_id, p.kind): p
        for p in db.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.membership_id.in_(wanted),
                NotificationPreference.kind.in_({due.kind for _rid, due in new}),
            )
        )
    }
    rows = []
    mails = []
    for reminder_id, due in new:
        kind = kinds.get(due.kind)
        for membership_id in dict.fromkeys(due.membership_ids):
            person = people.get(membership_id)
            if person is None:
                continue  # left the agency since the sweep chose them
            in_app, email = channels(kind, prefs.get((membership_id, due.kind)))
            if not (in_app or email):
                continue
            with agency_language(person.locale, agency):
                title = kind.title(due.params)[:300]
                body = kind.body(due.params)
            state, deliver_after = EmailState.NONE, now
            if email:
                until = quiet_until(now, person.zone, person.quiet_start, person.quiet_end)
                if person.digest and not kind.mandatory:
                    state = EmailState.DIGEST
                elif until is not None:
                    state, deliver_after = EmailState.PENDING, until
                else:
                    state = EmailState.SENT
            rows.append(
                {
                    "tenant_id": agency.id,
                    "id": db.new_id(),
                    "membership_id": membership_id,
                    "reminder_id": reminder_id,
                    "kind": due.kind,
                    "title": title,
                    "body": body,
                    "link": due.link,
                    "in_app": in_app,
                    "email": state,
                    "created_at": now,
                    "deliver_after": deliver_after,
                    "emailed_at": now if state == EmailState.SENT else None,
                }
            )
            if state == EmailState.SENT:
                mails.append((reminder_id, person, title, body, due.link, kind.mail_kind))
    if rows:
        db.session.execute(
            insert(Notification)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["tenant_id", "reminder_id", "membership_id"])
        )
    for reminder_id, person, title, body, link, mail_kind in mails:
        send_reminder_mail(
            agency,
            person.membership_id,
            person.email,
            person.locale,
            reminder_id,
            title,
            body,
            link,
            mail_kind=mail_kind,
        )


def send_reminder_mail(
    agency: Agency,
    membership_id: uuid.UUID,
    email: str,
    locale: str,
    reminder_id: uuid.UUID | None,
    title: str,
    body: str,
    link: str,
    notification_id: uuid.UUID | None = None,
    mail_kind: str = "notification",
) -> uuid.UUID | None:
    """One notification's email; the dedupe key makes a replay a no-op."""
    key = f"reminder:{reminder_id}:{membership_id}" if reminder_id else f"notification:{notification_id}"
    return mail.send(
        email,
        "reminder",
        locale=locale,
        kind=mail_kind,
        agency_id=agency.id,
        dedupe_key=key,
        agency_name=agency.name,
        title=title,
        body=body,
        link=absolute_link(link),
        preferences_link=absolute_link(f"/a/{agency.slug}/notifications/preferences"),
    )


# -- the agency clock, for sweeps -------------------------------------------------------------


def local_moment(agency: Agency, day: date, at: time) -> datetime:
    """A wall-clock time on a local day, in UTC (daylight saving resolved by zoneinfo)."""
    return datetime.combine(day, at, tzinfo=agency.zone).astimezone(UTC)
