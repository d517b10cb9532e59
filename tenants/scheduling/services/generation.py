"""Visits booked from active plans for the rolling window, and one-off visits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from saas import audit, db
from saas.models import Agency, User
from saas.settings import agency_setting
from tenants.catalogue.models import ItemTerms, ServiceItem
from tenants.clients.models import (
    Case,
    CaseStatus,
    Client,
    PlanStatus,
    ServicePlan,
    ServicePlanItem,
)
from tenants.scheduling.errors import VisitError
from tenants.scheduling.models import Visit, VisitStatus
from tenants.scheduling.services.assignment import PreferredOutcome, assign_preferred
from tenants.scheduling.services.timing import at_local, future_start, local_now


def _terms_by_item(item_ids: Iterable[uuid.UUID], until: date) -> dict[uuid.UUID, list[Any]]:

    rows = db.session.scalars(
        select(ItemTerms)
        .where(ItemTerms.item_id.in_(set(item_ids)), ItemTerms.effective_from <= until)
        .order_by(ItemTerms.item_id, ItemTerms.effective_from)
    ).all()
    out: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        out[row.item_id].append(row)
    return out


def terms_for_day(terms: list[Any], day: date) -> Any | None:
    """The row in effect on `day`: the latest effective_from not after it."""
    current = None
    for row in terms:
        if row.effective_from <= day:
            current = row
    return current


def _visit_values(
    agency: Agency,
    item: ServicePlanItem,
    plan: ServicePlan,
    client_id: uuid.UUID,
    day: date,
    terms: Any | None,
) -> dict[str, Any]:
    starts = at_local(agency, day, item.start_time)
    return {
        "tenant_id": agency.id,
        "id": db.new_id(),
        "client_id": client_id,
        "plan_id": plan.id,
        "plan_item_id": item.id,
        "service_item_id": item.service_item_id,
        "local_day": day,
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=item.duration_minutes),
        "status": VisitStatus.SCHEDULED,
        "terms_id": terms.id if terms else None,
        "price": terms.price if terms else Decimal(0),
        "unit": terms.unit if terms else "per_visit",
        "checklist": list(terms.checklist) if terms else [],
        "required_certificate_type_id": terms.required_certificate_type_id if terms else None,
        "checkin_outside_radius": False,
        "flag_resolution": "",
        "cancel_reason": "",
        "reschedule_reason": "",
        "created_at": db.utcnow(),
    }


def generate_visits(agency: Agency, *, today: date | None = None, plan_id: uuid.UUID | None = None) -> int:
    """Create the visits of active plans for the rolling window (default four
    weeks), in the agency's time zone. Idempotent: a plan line has at most one
    visit per local day, so running it again, or twice at once, adds nothing.
    A time of today already past is not booked: nobody could keep it, and the
    late and missed sweep would report it at once (a plan activated, or a new
    version replacing the visits not started, in the afternoon)."""
    now = db.utcnow()
    today = today or local_now(agency).date()
    until = today + timedelta(days=agency_setting(agency, "visit_window_days"))
    stmt = (
        select(ServicePlanItem, ServicePlan, Case.client_id)
        .join(ServicePlan, ServicePlan.id == ServicePlanItem.plan_id)
        .join(Case, Case.id == ServicePlan.case_id)
        .where(ServicePlan.status == PlanStatus.ACTIVE, Case.status == CaseStatus.ACTIVE)
    )
    if plan_id is not None:
        stmt = stmt.where(ServicePlan.id == plan_id)
    lines = db.session.execute(stmt).all()
    if not lines:
        return 0
    terms = _terms_by_item({line[0].service_item_id for line in lines}, until)
    rows = []
    for item, plan, client_id in lines:
        first = max(today, plan.starts_on or today)
        last = min(until, plan.ends_on) if plan.ends_on else until
        day = first
        while day <= last:
            if day.isoweekday() in item.weekdays:
                values = _visit_values(
                    agency, item, plan, client_id, day, terms_for_day(terms[item.service_item_id], day)
                )
                if values["starts_at"] > now:
                    rows.append(values)
            day += timedelta(days=1)
    created = 0
    for start in range(0, len(rows), 1000):
        result = db.session.execute(
            insert(Visit)
            .values(rows[start : start + 1000])
            .on_conflict_do_nothing(index_elements=["tenant_id", "plan_item_id", "local_day"])
            .returning(Visit.id)
        )
        created += len(result.all())
    return created


def replace_plan_visits(
    agency: Agency, plan: ServicePlan, case: Case, *, by: User | None = None
) -> tuple[int, PreferredOutcome]:
    """A new plan version replaces the visits the earlier versions had booked
    from now on (those not started); then the new version's are generated
    from the next slot to come, and given to their preferred carer where every
    check passes. Returns (visits booked, what the preferred carers got)."""
    now = db.utcnow()
    db.session.execute(
        update(Visit)
        .where(
            Visit.client_id == case.client_id,
            Visit.plan_id.isnot(None),
            Visit.plan_id != plan.id,
            Visit.status == VisitStatus.SCHEDULED,
            Visit.checked_in_at.is_(None),
            Visit.starts_at > now,
        )
        .values(
            status=VisitStatus.CANCELLED, cancelled_at=now, cancel_reason=f"replaced by plan v{plan.version}"
        )
    )
    booked = generate_visits(agency, plan_id=plan.id)
    return booked, assign_preferred(agency, plan, by=by)


def add_one_off_visit(
    agency: Agency,
    client: Client,
    *,
    service_item_id: uuid.UUID,
    day: date,
    start: str,
    duration_minutes: int,
    by: User | None,
) -> Visit:

    item = db.session.scalar(select(ServiceItem).where(ServiceItem.id == service_item_id))
    if item is None or not item.active:
        raise VisitError("item_unknown", "service_item_id")
    if not 5 <= duration_minutes <= 1440:
        raise VisitError("duration_range", "duration_minutes")
    starts = future_start(agency, day, start)
    terms = terms_for_day(_terms_by_item([item.id], day)[item.id], day)
    visit = Visit(
        client_id=client.id,
        service_item_id=item.id,
        local_day=day,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=duration_minutes),
        status=VisitStatus.SCHEDULED,
        terms_id=terms.id if terms else None,
        price=terms.price if terms else Decimal(0),
        unit=terms.unit if terms else "per_visit",
        checklist=list(terms.checklist) if terms else [],
        required_certificate_type_id=terms.required_certificate_type_id if terms else None,
    )
    db.session.add(visit)
    db.session.flush()
    audit.record("visit.booked", str(visit.id), client=str(client.id))
    return visit
