"""Scheduled sweep: escalate overdue opinions and complaints, agency by agency."""

from __future__ import annotations

from sqlalchemy import select

from saas import db
from saas.agencies import active_agencies
from saas.jobs import periodic
from tenants.feedback import services
from tenants.feedback.models import FeedbackItem, FeedbackStatus


@periodic
def escalate_all() -> int:
    now = db.utcnow()
    with db.platform_reader() as reader:
        ids = set(
            reader.scalars(
                select(FeedbackItem.tenant_id)
                .where(
                    FeedbackItem.status != FeedbackStatus.CLOSED,
                    FeedbackItem.responded_at.is_(None),
                    FeedbackItem.escalated_at.is_(None),
                    FeedbackItem.due_at < now,
                )
                .distinct()
            )
        )
    if not ids:
        return 0
    total = 0
    agencies = active_agencies(ids)
    for agency in agencies:
        with db.tenant_scope(agency.id):
            total += services.escalate_overdue(agency, now)
            db.session.commit()
    return total
