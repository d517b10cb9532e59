"""How scheduling reacts to the other areas' events (connected when the app
is made: `Area.receivers`)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from saas import db
from tenants.clients.signals import (
    PlanActivated,
    TimelineEntry,
    TimelineWanted,
    client_timeline,
    plan_activated,
)
from tenants.scheduling.labels import visit_status_label
from tenants.scheduling.models import ServiceRecord, Visit, VisitStatus
from tenants.scheduling.services import replace_plan_visits
from tenants.staffing.settings import agency_in_scope


def book_plan_visits(event: PlanActivated) -> None:
    """A plan became active: its visits are (re)booked in the same transaction."""
    replace_plan_visits(agency_in_scope(), event.plan, event.case)


def visits_in_client_file(event: TimelineWanted) -> list[TimelineEntry]:
    """Past visits and their records, for the client's one-matter file."""
    rows = db.session.execute(
        select(Visit, ServiceRecord.what_was_done)
        .outerjoin(ServiceRecord, ServiceRecord.visit_id == Visit.id)
        .where(
            Visit.client_id == event.client.id,
            Visit.starts_at < db.utcnow(),
            Visit.status != VisitStatus.SCHEDULED,
        )
        .order_by(Visit.starts_at.desc())
        .limit(200)
    ).all()
    return [
        TimelineEntry(
            v.local_day,
            "visit",
            _("Visit (%(status)s)", status=visit_status_label(v.status)),
            done or v.cancel_reason,
            url_for("scheduling.visit", visit_id=v.id),
        )
        for v, done in rows
    ]


plan_activated.connect(book_plan_visits)
client_timeline.connect(visits_in_client_file)
