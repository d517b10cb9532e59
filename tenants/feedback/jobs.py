"""Scheduled sweep: escalate overdue opinions and complaints, agency by agency."""

from __future__ import annotations

from sqlalchemy import select

from saas import db
from saas.models import Agency, AgencyStatus
from tenants.feedback import services
from tenants.feedback.models import FeedbackItem, FeedbackStatus


def escalate_all() -> int:
    from saas.app import job_app

    with job_app().app_context():
        try:
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
            agencies = db.session.scalars(
                select(Agency).where(Agency.id.in_(ids), Agency.status == AgencyStatus.ACTIVE)
            ).all()
            for agency in agencies:
                with db.tenant_scope(agency.id):
                    total += services.escalate_overdue(agency, now)
                    db.session.commit()
            return total
        finally:
            db.session.remove()
