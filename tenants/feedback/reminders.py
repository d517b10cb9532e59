"""Opinion and complaint deadlines, through the notification centre, so every
opinion is answered in time and an unanswered one reaches the agency head.

- `feedback.due_soon`: an item still unanswered 24 hours before its answer is
  due; to the admins and coordinators, once per item (due at `due_at - 24h`).
  Swept every 15 minutes (`reminder_sweep`); an item already overdue when the
  sweep first sees it gets only the escalation.
- `feedback.overdue`: mandatory (cannot be turned off): the escalation to the
  agency head (its admins) once the deadline has passed unanswered, due at the
  item's `due_at`. Sent by `services.escalate_overdue` (the `escalate_all`
  sweep), which also marks `escalated_at` in the same transaction.

No description or contact in the messages: only the kind and the deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from saas import db
from saas.agencies import sweep_agencies
from saas.jobs import periodic
from saas.models import Agency, Role
from saas.notifications.kinds import Kind, register
from saas.notifications.reminders import Due, recipients, send_due
from tenants.feedback.labels import kind_label
from tenants.feedback.models import FeedbackItem, FeedbackStatus
from tenants.staffing.reminders import date_param

# an unanswered item this close to its deadline is "due soon" (page badge and reminder)
DUE_SOON = timedelta(days=1)

OPEN_STATUSES = (FeedbackStatus.RECEIVED, FeedbackStatus.ACKNOWLEDGED, FeedbackStatus.INVESTIGATING)


FEEDBACK_DUE_SOON = register(
    Kind(
        name="feedback.due_soon",
        label=_l("Opinions and complaints due within 24 hours"),
        title=lambda p: _(
            "%(kind)s to answer by %(date)s %(time)s",
            kind=kind_label(p["kind"]),
            date=date_param(p["date"]),
            time=p["time"],
        ),
        body=lambda p: _("It has not been answered yet and is due within 24 hours."),
    )
)
FEEDBACK_OVERDUE = register(
    Kind(
        name="feedback.overdue",
        label=_l("Overdue opinions and complaints (escalation)"),
        mandatory=True,
        title=lambda p: _(
            "Overdue: %(kind)s not answered by %(date)s %(time)s",
            kind=kind_label(p["kind"]),
            date=date_param(p["date"]),
            time=p["time"],
        ),
        body=lambda p: _("Escalated to the agency head: the answer is past its deadline."),
    )
)


def _params(agency: Agency, item_kind: str, due_at: datetime) -> dict[str, str]:
    local = due_at.astimezone(agency.zone)
    return {"kind": item_kind, "date": local.date().isoformat(), "time": local.strftime("%H:%M")}


def _link(agency: Agency, item_id: object) -> str:
    return f"/a/{agency.slug}/feedback/items/{item_id}"


def unanswered() -> list:
    return [
        FeedbackItem.status.in_([s.value for s in OPEN_STATUSES]),
        FeedbackItem.responded_at.is_(None),
    ]


def overdue(now: datetime) -> list:
    """Unanswered, past due and not escalated yet: what `escalate_overdue` escalates."""
    return [*unanswered(), FeedbackItem.escalated_at.is_(None), FeedbackItem.due_at < now]


def due_soon_dues(agency: Agency, now: datetime | None = None) -> list[Due]:
    """Items due within the next 24 hours, unanswered (one SELECT)."""
    now = now or db.utcnow()
    rows = db.session.execute(
        select(FeedbackItem.id, FeedbackItem.kind, FeedbackItem.due_at)
        .where(*unanswered(), FeedbackItem.due_at > now, FeedbackItem.due_at <= now + DUE_SOON)
        .order_by(FeedbackItem.due_at, FeedbackItem.id)
    ).all()
    if not rows:
        return []
    managers = recipients(Role.ADMIN, Role.COORDINATOR)
    return [
        Due(
            kind=FEEDBACK_DUE_SOON.name,
            subject=str(row.id),
            due_at=row.due_at - DUE_SOON,
            membership_ids=managers,
            params=_params(agency, row.kind, row.due_at),
            link=_link(agency, row.id),
        )
        for row in rows
    ]


def overdue_dues(agency: Agency, items: list[FeedbackItem]) -> list[Due]:
    """The escalation occurrences of these overdue items, to the admins."""
    if not items:
        return []
    heads = recipients(Role.ADMIN)
    return [
        Due(
            kind=FEEDBACK_OVERDUE.name,
            subject=str(item.id),
            due_at=item.due_at,
            membership_ids=heads,
            params=_params(agency, item.kind, item.due_at),
            link=_link(agency, item.id),
        )
        for item in items
    ]


@periodic
def reminder_sweep() -> int:
    """Every 15 minutes (saas/schedule.py): the 24-hour reminders."""
    now = db.utcnow()
    stmt = select(FeedbackItem.tenant_id).where(
        *unanswered(), FeedbackItem.due_at > now, FeedbackItem.due_at <= now + DUE_SOON
    )
    return sweep_agencies(stmt, lambda agency: send_due(due_soon_dues(agency, now)))
