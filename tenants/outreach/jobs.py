"""Scheduled sweep: mail the agency's admins and coordinators about opinion
boxes not logged yesterday, each agency on its own clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from saas import db
from saas.agencies import active_agencies
from saas.jobs import periodic
from tenants.outreach import services
from tenants.outreach.models import BoxLocation


def remind_box_days(now: datetime | None = None) -> int:
    """Hourly, so every agency's morning is met in its own time zone; the
    dedupe key keeps each reminder to one mail per person, box and day."""
    now = now or db.utcnow()
    with db.platform_reader() as reader:
        ids = set(
            reader.scalars(select(BoxLocation.tenant_id).where(BoxLocation.active.is_(True)).distinct())
        )
    total = 0
    for agency in active_agencies(ids):
        with db.tenant_scope(agency.id):
            total += services.remind_missed_box_days(agency, now)
            db.session.commit()
    return total


@periodic
def remind_box_days_all() -> int:
    return remind_box_days()
