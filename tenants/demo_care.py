"""Demo data for the care side of each demo agency: a catalogue, staff files
with their induction done, clients with active plans, and a week of visits
assigned to the demo carers. Called by `saas demo` (saas/demo.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from saas import db
from saas.models import Agency, Membership, Role, User

CLIENT_NAMES = {
    "en": ["Margaret Ellis", "Arthur Reid", "Dorothy Hughes", "Stanley Moore", "Elsie Turner"],
    "zh": ["王秀英", "李建国", "张桂兰", "刘志强", "陈淑珍"],
}
ADDRESSES = {
    "en": ["4 Harbour Row", "17 Mill Lane", "2 Chapel Street", "9 Orchard Close", "31 Station Road"],
    "zh": ["康宁路12号3单元", "和平街5号", "新华里8栋201", "光明小区2号楼", "建设路66号"],
}
SLOTS = [([1, 4], "09:00"), ([2, 5], "10:30"), ([1, 3, 5], "14:00"), ([2, 4], "16:00"), ([3, 6], "11:00")]


def seed_agency(agency: Agency) -> None:
    from tenants.catalogue.models import ServiceItem
    from tenants.catalogue.services import catalogue_is_empty, load_preset
    from tenants.clients import services as clients
    from tenants.clients.models import Client
    from tenants.scheduling import services as scheduling
    from tenants.staffing.models import StaffFile, Team
    from tenants.training.models import Course, Enrolment, TrainingSession

    language = "zh" if agency.locale.startswith("zh") else "en"
    with db.tenant_scope(agency.id):
        if db.session.scalar(select(Client.id).limit(1)) is not None:
            return  # already seeded
        if catalogue_is_empty():
            load_preset(agency, "home_care")
        today = clients.agency_today(agency)
        people = db.session.execute(
            select(Membership, User).join(User, User.id == Membership.user_id).order_by(User.email)
        ).all()
        staff: dict[str, StaffFile] = {}
        for membership, user in people:
            if membership.role not in (Role.CARER, Role.COORDINATOR):
                continue
            record = StaffFile(
                membership_id=membership.id,
                staff_role="carer" if membership.role == Role.CARER else "coordinator",
                employment_start=today - timedelta(days=400),
                contracted_hours=Decimal(30),
                languages=["中文"] if language == "zh" else ["English"],
            )
            db.session.add(record)
            staff[user.email] = record
        db.session.flush()
        lead = next((m for m, _u in people if m.role == Role.COORDINATOR), None)
        team = Team(
            name="东区服务队" if language == "zh" else "East team",
            supervisor_membership_id=lead.id if lead else None,
        )
        db.session.add(team)
        db.session.flush()
        for record in staff.values():
            record.team_id = team.id
        course = Course(
            title="岗前培训" if language == "zh" else "Pre-service induction",
            category="ethics",
            form="classroom",
            hours=Decimal(40),
            counts_as="pre_service",
        )
        db.session.add(course)
        db.session.flush()
        session = TrainingSession(
            course_id=course.id, held_on=today - timedelta(days=380), trainer="Demo trainer", capacity=30
        )
        db.session.add(session)
        db.session.flush()
        for record in staff.values():
            db.session.add(
                Enrolment(
                    session_id=session.id,
                    staff_file_id=record.id,
                    status="completed",
                    attended_hours=Decimal(40),
                    attendance_recorded_at=db.utcnow(),
                )
            )
        item = db.session.scalar(
            select(ServiceItem).where(ServiceItem.active.is_(True)).order_by(ServiceItem.name)
        )
        coordinator = next((u for m, u in people if m.role == Role.COORDINATOR), None)
        admin = next((u for m, u in people if m.role == Role.ADMIN), None)
        portal = [m for m, _u in people if m.role == Role.CLIENT]
        carers = [s for email, s in sorted(staff.items()) if s.staff_role == "carer"]
        domains = {d: {"level": 2, "notes": ""} for d in clients.ASSESSMENT_DOMAINS}
        for i, name in enumerate(CLIENT_NAMES[language]):
            client = clients.save_client(
                agency,
                clients.ClientData(
                    full_name=name,
                    date_of_birth=date(1940 + i * 3, 1 + i, 10 + i),
                    address=ADDRESSES[language][i],
                    consent_services=True,
                    consent_data=True,
                    health_status="chronic_illness",
                    contacts=[
                        clients.ContactData(
                            "家属" if language == "zh" else "Family",
                            "子女" if language == "zh" else "child",
                            "000 000 000",
                        )
                    ],
                ),
            )
            if i < len(portal):
                clients.link_portal_member(client, portal[i], "self")
            case = clients.open_case(
                agency, client, channel="referral", referrer="GP", materials="", by=coordinator
            )
            clients.record_assessment(
                case,
                method="interview",
                assessed_on=today,
                domains=domains,
                summary="",
                by=coordinator,
                today=today,
            )
            if item is None:
                continue
            plan = clients.new_plan(case, by=coordinator)
            clients.update_plan(
                plan, clients.PlanFields("—", None, "", today + timedelta(days=90), today, None)
            )
            weekdays, start = SLOTS[i % len(SLOTS)]
            clients.add_plan_item(plan, clients.PlanItemData(item.id, weekdays, start, 60))
            clients.submit_plan(plan, case, by=coordinator)
            clients.approve_plan(agency, plan, case, by=admin, role="admin")
            clients.activate_plan(plan, case, by=admin)
            if carers:
                scheduling.bulk_assign(agency, plan, carers[i % len(carers)].id, by=admin)
        db.session.flush()
