"""The demo agencies' back office: the funder pays for most plans (one
split with its client, one the client's alone), a history of delivered
visits since the start of last month (worked times a little off the booked
ones, one visit cut short, one cancelled at short notice), last month's
invoice to the funder issued, the first client's in draft, and the last pay
fortnight's timesheets waiting for approval."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from saas import db
from saas.models import Agency

CANCELLED = {"en": "Client in hospital for a check-up", "zh": "服务对象住院检查"}
DONE = {
    "en": "Helped with washing and dressing; made breakfast and tidied the kitchen.",
    "zh": "协助洗漱穿衣，准备早餐，整理厨房。",
}


def seed(agencies: Sequence[Agency]) -> None:
    """Idempotent; the caller commits."""
    from tenants.demo_care import seed_agency

    for agency in agencies:
        seed_agency(agency)
        with db.tenant_scope(agency.id):
            _seed(agency)


def _seed(agency: Agency) -> None:
    from tenants.backoffice import invoicing, timesheets
    from tenants.backoffice.errors import BackOfficeError
    from tenants.backoffice.models import PaymentRule
    from tenants.clients.models import Case, Client, PlanStatus, ServicePlan, ServicePlanItem
    from tenants.outreach.models import Funder
    from tenants.scheduling.models import ServiceRecord, Visit, VisitStatus

    if db.session.scalar(select(PaymentRule.id).limit(1)) is not None:
        return
    funder = db.session.scalar(select(Funder).order_by(Funder.created_at).limit(1))
    plans = db.session.execute(
        select(ServicePlan, Client)
        .join(Case, Case.id == ServicePlan.case_id)
        .join(Client, Client.id == Case.client_id)
        .where(ServicePlan.status == PlanStatus.ACTIVE)
        .order_by(ServicePlan.created_at)
    ).all()
    if funder is None or not plans:
        return
    language = "zh" if agency.locale.startswith("zh") else "en"
    # the first client shares the cost with the funder, the last pays alone
    for index, (plan, _client) in enumerate(plans):
        if index == len(plans) - 1 and len(plans) > 2:
            continue
        share = Decimal(70) if index == 0 else Decimal(100)
        db.session.add(PaymentRule(plan_id=plan.id, funder_id=funder.id, funder_percent=share))
    # a booked visit of each plan: its slot, carer and terms
    booked = {
        v.plan_id: v
        for v in db.session.scalars(
            select(Visit)
            .where(Visit.plan_id.in_([p.id for p, _c in plans]), Visit.status == VisitStatus.SCHEDULED)
            .order_by(Visit.plan_id, Visit.starts_at.desc())
        )
    }
    today = agency.today()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    last = today - timedelta(days=8)  # the last week's visits are demo_care's
    taken = {(row[0], row[1]) for row in db.session.execute(select(Visit.plan_item_id, Visit.local_day))}
    items = {
        i.plan_id: i
        for i in db.session.scalars(
            select(ServicePlanItem).where(ServicePlanItem.plan_id.in_([p.id for p, _c in plans]))
        )
    }
    count = 0
    for plan, client in plans:
        template, item = booked.get(plan.id), items.get(plan.id)
        if template is None or item is None or template.staff_file_id is None:
            continue
        day = first
        while day <= last:
            if day.isoweekday() in item.weekdays and (item.id, day) not in taken:
                count += 1
                db.session.add(_visit(agency, template, item, client.id, day, count, language))
            day += timedelta(days=1)
    db.session.flush()
    # each delivered visit's service record, as the carer left it
    for visit in db.session.scalars(
        select(Visit).where(
            Visit.status == VisitStatus.COMPLETED,
            Visit.local_day >= first,
            Visit.local_day <= last,
            ~select(ServiceRecord.id).where(ServiceRecord.visit_id == Visit.id).exists(),
        )
    ):
        db.session.add(
            ServiceRecord(
                visit_id=visit.id,
                checklist_done=[{"point": p, "done": True} for p in visit.checklist],
                what_was_done=DONE[language],
            )
        )
    db.session.flush()
    end_of_last_month = today.replace(day=1) - timedelta(days=1)
    payer = invoicing.Payer("funder", funder.id)
    try:
        issued = invoicing.build_draft(agency, payer, first, end_of_last_month, by=None)
        invoicing.issue(issued.id, by=None)
    except BackOfficeError:
        pass  # nothing delivered last month
    try:
        invoicing.build_draft(
            agency, invoicing.Payer("client", plans[0][1].id), first, end_of_last_month, by=None
        )
    except BackOfficeError:
        pass
    sunday = today - timedelta(days=today.isoweekday())
    timesheets.build(agency, sunday - timedelta(days=13), sunday, None, by=None)
    db.session.flush()


def _visit(agency: Agency, template, item, client_id, day, count: int, language: str):  # noqa: ANN001, ANN202
    """A past visit of the plan line, delivered as carers do (a few minutes
    off the booked times, now and then cut short), or cancelled at short
    notice (the third one)."""
    from tenants.scheduling.models import Visit, VisitStatus
    from tenants.scheduling.services import at_local

    starts = at_local(agency, day, item.start_time)
    length = timedelta(minutes=item.duration_minutes)
    visit = Visit(
        client_id=client_id,
        plan_id=template.plan_id,
        plan_item_id=item.id,
        service_item_id=template.service_item_id,
        local_day=day,
        starts_at=starts,
        ends_at=starts + length,
        staff_file_id=template.staff_file_id,
        terms_id=template.terms_id,
        price=template.price,
        unit=template.unit,
        checklist=list(template.checklist),
        required_certificate_type_id=template.required_certificate_type_id,
    )
    if count == 3:
        visit.status = VisitStatus.CANCELLED
        visit.cancelled_at = starts - timedelta(hours=3)
        visit.cancel_reason = CANCELLED[language]
        return visit
    visit.status = VisitStatus.COMPLETED
    visit.checked_in_at = starts + timedelta(minutes=(count * 7) % 11 - 3)
    short = timedelta(minutes=-25) if count % 9 == 0 else timedelta(minutes=(count * 5) % 9 - 2)
    visit.checked_out_at = starts + length + short
    return visit
