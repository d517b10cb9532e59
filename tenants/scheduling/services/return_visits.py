"""Monthly return visits: each worker to each client they visited in a month."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, and_, select

from saas import audit, db
from saas.models import Agency, Membership, User
from saas.settings import agency_setting, default_of
from tenants.clients.models import Client
from tenants.scheduling.errors import VisitError
from tenants.scheduling.models import ReturnVisit, Visit, VisitStatus
from tenants.scheduling.services.timing import local_now
from tenants.staffing.models import StaffFile


def month_start(day: date) -> date:
    return day.replace(day=1)


def record_return_visit(
    agency: Agency, *, staff_id: uuid.UUID, client_id: uuid.UUID, visited_on: date, notes: str
) -> ReturnVisit:
    today = local_now(agency).date()
    if visited_on > today:
        raise VisitError("in_future", "visited_on")
    month = month_start(visited_on)
    existing = db.session.scalar(
        select(ReturnVisit).where(
            ReturnVisit.staff_file_id == staff_id,
            ReturnVisit.client_id == client_id,
            ReturnVisit.month == month,
        )
    )
    if existing is not None:
        existing.visited_on, existing.notes = visited_on, notes.strip()
        return existing
    row = ReturnVisit(
        staff_file_id=staff_id, client_id=client_id, month=month, visited_on=visited_on, notes=notes.strip()
    )
    db.session.add(row)
    audit.record("return_visit.recorded", str(client_id), staff=str(staff_id), month=str(month))
    return row


@dataclass
class ReturnVisitRow:
    staff_file_id: uuid.UUID
    worker: str
    client_id: uuid.UUID
    client: str
    done_on: date | None
    due_on: date

    @property
    def overdue(self) -> bool:
        return self.done_on is None


RETURN_VISIT_DUE_DAY_KEY = "return_visit_due_day"
# the statuses that count a client as visited in a month (page, reminders)
RETURN_VISIT_VISITED = (VisitStatus.COMPLETED, VisitStatus.IN_PROGRESS, VisitStatus.SCHEDULED)


def return_visit_due_day(agency: Agency) -> int:
    """The day of the next month by which a month's return visits are due
    (the 7th by default; the page and the reminders)."""
    return int(agency_setting(agency, RETURN_VISIT_DUE_DAY_KEY))


def visited_pairs(month: date) -> Select:
    """Each (worker, client) pair with a visit in `month` (local days) that
    counts: what a return visit is owed for."""
    return (
        select(Visit.staff_file_id, Visit.client_id)
        .where(
            Visit.staff_file_id.isnot(None),
            Visit.local_day >= month,
            Visit.local_day < (month + timedelta(days=32)).replace(day=1),
            Visit.status.in_([s.value for s in RETURN_VISIT_VISITED]),
        )
        .distinct()
    )


def return_visits_for(month: date, agency: Agency | None = None) -> list[ReturnVisitRow]:
    """Each worker x each client they visited that month, with the return
    visit logged for it (due by the agency's day of the next month)."""

    lo, hi = month, (month + timedelta(days=32)).replace(day=1)
    pairs = visited_pairs(month).subquery()
    rows = db.session.execute(
        select(pairs.c.staff_file_id, User.name, pairs.c.client_id, Client.full_name, ReturnVisit.visited_on)
        .join(StaffFile, StaffFile.id == pairs.c.staff_file_id)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .join(Client, Client.id == pairs.c.client_id)
        .outerjoin(
            ReturnVisit,
            and_(
                ReturnVisit.staff_file_id == pairs.c.staff_file_id,
                ReturnVisit.client_id == pairs.c.client_id,
                ReturnVisit.month == lo,
            ),
        )
        .order_by(User.name, Client.full_name)
    ).all()
    due = hi.replace(
        day=return_visit_due_day(agency) if agency is not None else default_of(RETURN_VISIT_DUE_DAY_KEY)
    )
    return [ReturnVisitRow(r[0], r[1], r[2], r[3], r[4], due) for r in rows]
