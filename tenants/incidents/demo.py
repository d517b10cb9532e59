"""The demo agencies' incidents: a fall on one of last week's visits, under
investigation, and a power outage handled and closed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from saas import db
from saas.models import Agency, Membership, Role


def seed(agencies: Sequence[Agency]) -> None:
    """Idempotent; the caller commits. The care data (clients, visits) comes
    first: scheduling's demo is idempotent, so it is asked for here too."""
    from tenants.demo_care import seed_agency

    for agency in agencies:
        seed_agency(agency)
        with db.tenant_scope(agency.id):
            _seed(agency)


def _seed(agency: Agency) -> None:
    from tenants.incidents import services
    from tenants.incidents.models import Incident
    from tenants.scheduling.models import Visit, VisitStatus

    if db.session.scalar(select(Incident.id).limit(1)) is not None:
        return
    members = {m.role: m for m in db.session.scalars(select(Membership).order_by(Membership.created_at))}
    admin, coordinator, carer = (members.get(r) for r in (Role.ADMIN, Role.COORDINATOR, Role.CARER))
    if admin is None or coordinator is None:
        return
    zh = agency.locale.startswith("zh")
    now = db.utcnow()
    visit = db.session.scalar(
        select(Visit)
        .where(Visit.status == VisitStatus.COMPLETED, Visit.staff_file_id.isnot(None))
        .order_by(Visit.starts_at.desc())
        .limit(1)
    )
    # the visit's own carer reports it, as from their visit page
    on_visit = visit is not None and carer is not None and services.reports_on(visit.staff_file_id, carer)
    reporter = carer if on_visit and carer is not None else coordinator
    fall = services.report(
        agency,
        services.ReportData(
            type="fall",
            severity="moderate",
            place="卫生间" if zh else "Bathroom",
            occurred_at=(visit.starts_at + timedelta(minutes=20)) if visit else now - timedelta(days=2),
            description="服务对象出浴时滑倒，右手腕疼痛。"
            if zh
            else "Slipped getting out of the bath; pain in the right wrist.",
            immediate_response="扶起并冰敷，联系家属，送社区医院检查。"
            if zh
            else "Helped up, cold compress, called the daughter, taken to the clinic.",
            visit_id=visit.id if visit else None,
        ),
        by=reporter,
    )
    services.investigate(
        agency,
        fall,
        investigator_id=coordinator.id,
        deadline=agency.today() + timedelta(days=5),
        by=coordinator,
    )
    outage = services.report(
        agency,
        services.ReportData(
            type="outage",
            severity="minor",
            place="办公室" if zh else "Office",
            occurred_at=now - timedelta(days=6),
            description="停电两小时，排班系统无法使用。"
            if zh
            else "Power cut for two hours; the rota could not be opened.",
            immediate_response="改用纸质排班表电话通知护理员。"
            if zh
            else "Paper rota; carers told by phone.",
        ),
        by=coordinator,
    )
    services.investigate(
        agency, outage, investigator_id=coordinator.id, deadline=agency.today(), by=coordinator
    )
    services.record_findings(
        outage,
        findings="供电公司检修。" if zh else "Planned grid maintenance.",
        root_cause="未收到停电通知。" if zh else "The notice of the cut did not reach the office.",
        by=coordinator,
    )
    action = services.add_action(
        agency,
        outage,
        description="打印每周排班表备份。" if zh else "Print a backup of each week's rota.",
        owner_id=coordinator.id,
        due_on=agency.today(),
        by=coordinator,
    )
    services.complete_action(outage, action, by=coordinator)
    services.close(outage, note="", by=admin)
    db.session.flush()
