"""Scheduled sweep: escalate overdue opinions and complaints, agency by agency."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, exists, select

from saas import db
from saas.agencies import sweep_agencies
from saas.jobs import periodic
from saas.models import Agency
from saas.notifications.models import Reminder
from saas.notifications.reminders import send_due
from tenants.feedback import services
from tenants.feedback.models import FeedbackItem
from tenants.feedback.reminders import FEEDBACK_OVERDUE, overdue, overdue_dues, unanswered

# how long an escalation marked but never sent is still sent
REPAIR_WINDOW = timedelta(days=7)


def escalated_unsent(now: datetime) -> list[Any]:
    """Items marked escalated whose escalation never went out: `escalate_overdue`
    marks every item before `send_due` commits its first batch, so a worker
    killed after that commit leaves the later batches marked but unsent (and
    an item with no admin to tell is left unsent until there is one)."""
    return [
        *unanswered(),
        FeedbackItem.escalated_at.isnot(None),
        FeedbackItem.escalated_at > now - REPAIR_WINDOW,
        ~exists(
            select(Reminder.id).where(
                # with the agency: across agencies (the sweep's) Citus joins shards only on it
                Reminder.tenant_id == FeedbackItem.tenant_id,
                Reminder.kind == FEEDBACK_OVERDUE.name,
                Reminder.subject == cast(FeedbackItem.id, String),
                Reminder.due_at == FeedbackItem.due_at,
            )
        ),
    ]


def _escalate(agency: Agency, now: datetime) -> int:
    total = services.escalate_overdue(agency, now)
    db.session.commit()
    unsent = list(db.session.scalars(select(FeedbackItem).where(*escalated_unsent(now))))
    send_due(overdue_dues(agency, unsent))
    db.session.commit()
    return total


@periodic
def escalate_all() -> int:
    now = db.utcnow()
    late = select(FeedbackItem.tenant_id).where(*overdue(now))
    unsent = select(FeedbackItem.tenant_id).where(*escalated_unsent(now))
    return sweep_agencies(late.union(unsent).subquery().select(), lambda agency: _escalate(agency, now))
