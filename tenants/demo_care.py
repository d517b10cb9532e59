"""Demo data for the care side of each demo agency: a catalogue, staff files
with their induction done, clients with active plans, a week of visits
assigned to the demo carers, and last week's visits done, rated and talked
about (feedback, a satisfaction survey, the opinion box, a stakeholder round,
a funder's return visit, last month's quality summary asked for). Called by
`saas demo` (saas/demo.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

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
# the districts carers live in and clients are in (the rota board's area filter)
AREAS = {"en": ["Harbourside", "Millbrook", "Old Town"], "zh": ["东城", "河滨", "老城"]}
SLOTS = [([1, 4], "09:00"), ([2, 5], "10:30"), ([1, 3, 5], "14:00"), ([2, 4], "16:00"), ([3, 6], "11:00")]
# how long ago the demo plans started: last week's visits belong to them
PLAN_STARTED_DAYS = 14

# demo content in the agency's language (data, not interface strings)
TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "done": "Helped with washing and dressing; made breakfast and tidied the kitchen.",
        "outcome": "Comfortable and in good spirits.",
        # a check-out with a checklist point left unticked gives its reason
        "unticked_reason": "She did not want a bath today; washed at the sink instead.",
        "praise": ["Always kind and patient, thank you.", "Very careful with Mum's skin cream.", ""],
        "low": "The carer came 40 minutes late and had to rush.",
        "phone_good": "Happy with the help this week.",
        "opinion": "Could the Thursday visit be moved a little later in the morning?",
        "complaint": "The carer arrived 40 minutes late on Tuesday and nobody rang to warn us.",
        "complaint_contact": "Daughter of the client",
        "ack_note": "Called the family back the same day.",
        "response": "We apologise. The carer's round has been reorganised and the office now rings "
        "when a carer is running more than 15 minutes late.",
        "box_complaint": "The office phone is often busy in the morning.",
        "rect_problem": "Late visits on the Tuesday round, the family was not warned.",
        "rect_measures": "Reorganise the Tuesday round; the office rings the client when a carer "
        "is more than 15 minutes late; review at the team meeting.",
        "survey": "Client satisfaction",
        "survey_answers": [
            (5, "c1", "The carers are lovely."),
            (4, "c1", "Visits sometimes start late."),
            (3, "c2", ""),
        ],
        "box": "Front office, Harbour Row",
        "not_opened": "Office closed for the bank holiday",
        "round": "Client and family meeting at the community centre: visit times, the new "
        "phone line and the summer outings. Four opinions noted for the team meeting.",
        "funder": "Harbour District Council, Adult Social Care",
        "funder_contact": "Ms Patel",
        "attendees": "Commissioning officer, agency manager",
        "topics": "Visit punctuality, complaints handling, client numbers for next quarter",
        "findings": "Punctuality improved; complaint answers on time.",
        "follow_up": "Send the quarterly figures before the next visit.",
    },
    "zh": {
        "done": "协助洗漱穿衣，准备早餐，整理厨房。",
        "outcome": "老人状态良好，情绪稳定。",
        "unticked_reason": "老人今天不愿洗澡，改为在洗手池边擦洗。",
        "praise": ["护理员很耐心，谢谢！", "服务很细心，老人很满意。", ""],
        "low": "护理员迟到了40分钟，服务很匆忙。",
        "phone_good": "这周的服务很满意。",
        "opinion": "周四的上门时间能否推迟半小时？",
        "complaint": "周二护理员迟到40分钟，事先也没有人打电话通知。",
        "complaint_contact": "服务对象的女儿",
        "ack_note": "当天已回电家属。",
        "response": "非常抱歉。我们已调整该护理员的排班，今后护理员迟到超过15分钟，服务中心会提前电话告知。",
        "box_complaint": "上午服务中心的电话经常占线。",
        "rect_problem": "周二线路多次迟到，且未通知家属。",
        "rect_measures": "调整周二排班；护理员迟到超过15分钟由服务中心电话告知服务对象；在班组会上复盘。",
        "survey": "服务满意度调查",
        "survey_answers": [
            (5, "c1", "护理员态度很好。"),
            (4, "c1", "有时上门时间偏晚。"),
            (3, "c2", ""),
        ],
        "box": "服务中心前台",
        "not_opened": "节假日服务中心休息",
        "round": "在社区活动中心召开服务对象及家属座谈会：上门时间、新服务热线、夏季活动。"
        "记录意见4条，提交班组会讨论。",
        "funder": "康宁街道办事处",
        "funder_contact": "王主任",
        "attendees": "街道民政科科长、机构负责人",
        "topics": "上门准时率、投诉处理、下季度服务人数",
        "findings": "准时率有所提高，投诉均按时答复。",
        "follow_up": "下次回访前报送季度数据。",
    },
}


def _extra_visits(agency: Agency, people: list[Any], item_id: Any, today: date, by: Any) -> None:
    """A few extra visits in the next days that nobody has taken yet: the
    rota board's lane has something to give out."""
    from tenants.scheduling import services as scheduling

    for offset, (index, start) in enumerate(((0, "15:30"), (2, "08:00"), (4, "17:30"), (1, "12:30"))):
        scheduling.add_one_off_visit(
            agency,
            people[index % len(people)],
            service_item_id=item_id,
            day=today + timedelta(days=2 + offset),
            start=start,
            duration_minutes=45,
            by=by,
        )


def seed_agency(agency: Agency) -> None:
    from tenants.catalogue.models import ServiceItem
    from tenants.catalogue.services import catalogue_is_empty, load_preset
    from tenants.clients import services as clients
    from tenants.clients.models import ASSESSMENT_DOMAINS, Client
    from tenants.scheduling import services as scheduling
    from tenants.staffing.models import Certificate, StaffFile, Team
    from tenants.staffing.settings import workforce_settings
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
            record.home_area = AREAS[language][len(staff) % len(AREAS[language])]
            db.session.add(record)
            staff[user.email] = record
        db.session.flush()
        # the certificates the preset made required of their roles, held and valid
        required = workforce_settings(agency)
        for number, record in enumerate(staff.values(), start=1):
            for type_id in required.required_for(record.staff_role):
                db.session.add(
                    Certificate(
                        staff_file_id=record.id,
                        certificate_type_id=type_id,
                        number=f"DEMO-{number:03d}",
                        issuer="—",
                        issued_on=today - timedelta(days=400),
                        expires_on=today + timedelta(days=730),
                    )
                )
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
            course_id=course.id,
            held_on=today - timedelta(days=380),
            trainer="周敏" if language == "zh" else "Grace Holloway",
            capacity=30,
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
        # a refresher to come, every carer enrolled: what their home lists as training due
        refresher = Course(
            title="安全移位复训" if language == "zh" else "Moving and handling refresher",
            category="theory_practice",
            form="classroom",
            hours=Decimal(4),
            counts_as="annual",
        )
        db.session.add(refresher)
        db.session.flush()
        upcoming = TrainingSession(
            course_id=refresher.id,
            held_on=today + timedelta(days=12),
            trainer="周敏" if language == "zh" else "Grace Holloway",
            capacity=20,
        )
        db.session.add(upcoming)
        db.session.flush()
        for record in staff.values():
            if record.staff_role == "carer":
                db.session.add(Enrolment(session_id=upcoming.id, staff_file_id=record.id, status="enrolled"))
        item = db.session.scalar(
            select(ServiceItem).where(ServiceItem.active.is_(True)).order_by(ServiceItem.name)
        )
        coordinator = next((u for m, u in people if m.role == Role.COORDINATOR), None)
        admin = next((u for m, u in people if m.role == Role.ADMIN), None)
        portal = [m for m, _u in people if m.role == Role.CLIENT]
        carers = [s for email, s in sorted(staff.items()) if s.staff_role == "carer"]
        domains = {d: {"level": 2, "notes": ""} for d in ASSESSMENT_DOMAINS}
        plans: list[tuple[Any, Any]] = []
        portal_of: dict[Any, Membership] = {}
        for i, name in enumerate(CLIENT_NAMES[language]):
            client = clients.save_client(
                agency,
                clients.ClientData(
                    full_name=name,
                    date_of_birth=date(1940 + i * 3, 1 + i, 10 + i),
                    address=ADDRESSES[language][i],
                    area=AREAS[language][i % len(AREAS[language])],
                    access_notes=(
                        (
                            "钥匙盒在后门旁，密码 4721；楼下可临时停车"
                            if language == "zh"
                            else "Key safe by the back door, code 4721. Park on the drive."
                        )
                        if i == 0
                        else ""
                    ),
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
            if i == 1:
                # a home with no reliable signal: carers show they came by its printed code
                scheduling.set_presence_mode(client, "either")
            if i < len(portal):
                clients.link_portal_member(client, portal[i], "self")
                portal_of[client.id] = portal[i]
            case = clients.open_case(
                agency, client, channel="referral", referrer="GP", materials="", by=coordinator
            )
            clients.record_assessment(
                case,
                method="interview",
                assessed_on=today - timedelta(days=PLAN_STARTED_DAYS + 1),
                domains=domains,
                summary="",
                by=coordinator,
                today=today,
            )
            if item is None:
                continue
            plan = clients.new_plan(case, by=coordinator)
            clients.update_plan(
                plan,
                clients.PlanFields(
                    "—", None, "", today + timedelta(days=90), today - timedelta(days=PLAN_STARTED_DAYS), None
                ),
            )
            weekdays, start = SLOTS[i % len(SLOTS)]
            clients.add_plan_item(plan, clients.PlanItemData(item.id, weekdays, start, 60))
            clients.submit_plan(plan, case, by=coordinator)
            clients.approve_plan(agency, plan, case, by=admin, role="admin")
            clients.activate_plan(plan, case, by=admin)
            if carers:
                scheduling.bulk_assign(agency, plan, carers[i % len(carers)].id, by=admin)
            plans.append((client, plan))
        if item is not None and plans:
            _extra_visits(agency, [c for c, _p in plans], item.id, today, coordinator)
        db.session.flush()
        texts = TEXTS[language]
        members = {m.role: m for m, _u in reversed(people)}  # the first of each role by email
        users_of = {m.id: u for m, u in people}
        done = _last_week(agency, plans, today, texts, users_of, staff)
        _feedback(agency, done, portal_of, coordinator, admin, lead or members.get(Role.ADMIN), today, texts)
        _survey(agency, admin, texts)
        _outreach(agency, team.id, lead or members.get(Role.ADMIN), coordinator, today, texts)
        _quality(agency, admin)
        db.session.flush()


def _last_week(
    agency: Agency,
    plans: list[tuple[Any, Any]],
    today: date,
    texts: dict[str, Any],
    users_of: dict[Any, User],
    staff: dict[str, Any],
) -> list[Any]:
    """Visits are generated from today on, so the ones of the past week are
    written here as the carers would have left them: checked in, checked out,
    with a service record. The first client (client1, the demo login) gets two,
    the others one; returns them, the first client's latest last."""
    from tenants.scheduling import services as scheduling
    from tenants.scheduling.models import ServiceRecord, Visit, VisitStatus

    writer = {record.id: users_of.get(record.membership_id) for record in staff.values()}
    done: list[Any] = []
    for index, (client, plan) in enumerate(plans):
        booked = db.session.scalar(
            select(Visit).where(Visit.plan_id == plan.id).order_by(Visit.starts_at).limit(1)
        )
        if booked is None:
            continue
        weekdays, start = SLOTS[index % len(SLOTS)]
        days = [today - timedelta(days=n) for n in range(1, 8)]
        days = [d for d in days if d.isoweekday() in weekdays][: 2 if index == 0 else 1]
        for day in sorted(days):
            starts = scheduling.at_local(agency, day, start)
            visit = Visit(
                client_id=client.id,
                plan_id=plan.id,
                plan_item_id=booked.plan_item_id,
                service_item_id=booked.service_item_id,
                local_day=day,
                starts_at=starts,
                ends_at=booked.ends_at - booked.starts_at + starts,
                status=VisitStatus.COMPLETED,
                staff_file_id=booked.staff_file_id,
                terms_id=booked.terms_id,
                price=booked.price,
                unit=booked.unit,
                checklist=list(booked.checklist),
                required_certificate_type_id=booked.required_certificate_type_id,
                checked_in_at=starts + timedelta(minutes=3),
                checked_out_at=booked.ends_at - booked.starts_at + starts + timedelta(minutes=2),
            )
            db.session.add(visit)
            db.session.flush()
            author = writer.get(booked.staff_file_id)
            # the second client's record: its last checklist point unticked, and why
            unticked = index == 1 and len(visit.checklist) > 0
            db.session.add(
                ServiceRecord(
                    visit_id=visit.id,
                    checklist_done=[
                        {"point": p, "done": not (unticked and i == len(visit.checklist) - 1)}
                        for i, p in enumerate(visit.checklist)
                    ],
                    what_was_done=texts["done"],
                    outcome=texts["outcome"],
                    checkout_reason=texts["unticked_reason"] if unticked else "",
                    written_by_user_id=author.id if author else None,
                )
            )
            done.append(visit)
    db.session.flush()
    return done


def _feedback(
    agency: Agency,
    done: list[Any],
    portal_of: dict[Any, Membership],
    coordinator: User | None,
    admin: User | None,
    owner: Membership | None,
    today: date,
    texts: dict[str, Any],
) -> None:
    """Ratings on last week's visits (client1's latest left for them to rate;
    one low, by phone, which opens a follow-up for the team supervisor), an
    opinion, two complaints (one answered, with a rectification)."""
    from tenants.feedback import services as feedback
    from tenants.feedback.models import FeedbackChannel, FeedbackKind, RatingChannel, RectificationSource

    first = done[0].client_id if done else None
    latest_of_first = max((v for v in done if v.client_id == first), key=lambda v: v.starts_at, default=None)
    rated = [v for v in done if v is not latest_of_first or len(done) == 1]
    for n, visit in enumerate(rated):
        if n == 3 and coordinator is not None:  # the low one, taken down by phone
            scores = feedback.Scores(4, 3, 3, 4, 2, texts["low"])
            feedback.rate_visit(agency, visit, scores, channel=RatingChannel.PHONE, by=coordinator)
        elif n == 4 and coordinator is not None:
            scores = feedback.Scores(5, 4, 4, 5, 4, texts["phone_good"])
            feedback.rate_visit(agency, visit, scores, channel=RatingChannel.PHONE, by=coordinator)
        else:
            member = portal_of.get(visit.client_id)
            scores = feedback.Scores(5, 5, 4, 5, 5 - n % 2, texts["praise"][n % 3])
            feedback.rate_visit(
                agency,
                visit,
                scores,
                channel=RatingChannel.PORTAL,
                membership_id=member.id if member else None,
            )
    opinion_by = next(iter(portal_of.values()), None)
    feedback.submit_feedback(
        agency,
        feedback.FeedbackData(kind=FeedbackKind.OPINION, description=texts["opinion"]),
        channel=FeedbackChannel.PORTAL,
        membership_id=opinion_by.id if opinion_by else None,
    )
    complaint = feedback.submit_feedback(
        agency,
        feedback.FeedbackData(
            kind=FeedbackKind.COMPLAINT,
            description=texts["complaint"],
            about="visit",
            contact_name=texts["complaint_contact"],
            contact="000 000 000",
        ),
        channel=FeedbackChannel.PHONE,
        by=coordinator,
    )
    feedback.transition(complaint, "acknowledged", by=coordinator, note=texts["ack_note"])
    feedback.transition(complaint, "responded", by=admin, response=texts["response"])
    # an anonymous slip from the opinion box, still to be handled
    feedback.submit_feedback(
        agency,
        feedback.FeedbackData(kind=FeedbackKind.COMPLAINT, description=texts["box_complaint"]),
        channel=FeedbackChannel.BOX,
        by=coordinator,
    )
    if owner is not None:
        feedback.open_rectification(
            agency,
            feedback.RectificationData(
                source=RectificationSource.COMPLAINT,
                problem=texts["rect_problem"],
                measures=texts["rect_measures"],
                owner_membership_id=owner.id,
                deadline=today + timedelta(days=14),
                feedback_item_id=complaint.id,
            ),
            by=admin,
        )


def _survey(agency: Agency, admin: User | None, texts: dict[str, Any]) -> None:
    """A satisfaction questionnaire in both languages, sent to every client
    served (the demo clients have no email: nothing is mailed), three of them
    answered on a printed link."""
    from tenants.surveys import services as surveys
    from tenants.surveys.models import Audience, QuestionKind, SurveyInvitation, SurveyPurpose

    template = surveys.create_template(texts["survey"], SurveyPurpose.SATISFACTION, by=admin)
    scale = surveys.add_question(
        template,
        surveys.QuestionData(
            QuestionKind.SCALE5,
            {"en": "How satisfied are you with our service overall?", "zh_CN": "您对我们的服务总体满意吗？"},
        ),
    )
    single = surveys.add_question(
        template,
        surveys.QuestionData(
            QuestionKind.SINGLE,
            {"en": "Do the carers arrive on time?", "zh_CN": "护理员是否按时上门？"},
            {"en": ["Always", "Usually", "Rarely"], "zh_CN": ["总是", "通常", "很少"]},
        ),
    )
    free = surveys.add_question(
        template,
        surveys.QuestionData(
            QuestionKind.TEXT,
            {"en": "What could we do better?", "zh_CN": "您对我们还有什么建议？"},
            required=False,
        ),
    )
    campaign = surveys.create_campaign(agency, template, "", Audience.ALL, None, by=admin)
    if surveys.send_campaign(agency, campaign, by=admin) == 0:
        return
    invitations = list(
        db.session.scalars(
            select(SurveyInvitation)
            .where(SurveyInvitation.campaign_id == campaign.id)
            .order_by(SurveyInvitation.position)
        )
    )
    for invitation, (value, choice, text) in zip(invitations, texts["survey_answers"], strict=False):
        opened = surveys.open_link(surveys.issue_printed_link(agency, campaign, invitation))
        if opened is None:
            continue
        answers: dict[Any, dict[str, Any]] = {scale.id: {"scale": value}, single.id: {"choices": [choice]}}
        if text:
            answers[free.id] = {"text": text}
        surveys.submit_answers(opened, answers)


def _outreach(
    agency: Agency,
    team_id: Any,
    lead: Membership | None,
    coordinator: User | None,
    today: date,
    texts: dict[str, Any],
) -> None:
    """An opinion box logged most of the past week (yesterday left missing, so
    the reminder and the calendar show a gap), a clients' round for the team,
    a funder visited last month."""
    from tenants.outreach import services as outreach

    if lead is None:
        return
    box = outreach.add_location(agency, texts["box"])
    # the box has hung there for a week: days before today count from then on
    box.since = today - timedelta(days=7)
    for n in range(7, 1, -1):
        day = today - timedelta(days=n)
        closed = n == 6
        outreach.log_box(
            agency,
            outreach.BoxLogData(
                location_id=box.id,
                day=day,
                opened=not closed,
                slips=1 if n == 3 else 0,
                opened_by_membership_id=lead.id,
                not_opened_reason=texts["not_opened"] if closed else "",
            ),
            by=coordinator,
        )
    outreach.record_round(
        agency,
        outreach.RoundData(
            team_id=team_id,
            stakeholder_group="clients",
            held_on=today - timedelta(days=20),
            method="meeting",
            participants=9,
            opinions=4,
            summary=texts["round"],
            led_by_membership_id=lead.id,
        ),
        by=coordinator,
    )
    funder = outreach.create_funder(
        outreach.FunderData(
            name=texts["funder"],
            contact_person=texts["funder_contact"],
            phone="000 000 000",
            email=f"funder@{agency.slug}.example",
        )
    )
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=15)
    # a funder for some months already: last month's visit counts in the overview
    funder.created_at = db.utcnow() - timedelta(days=90)
    outreach.record_visit(
        agency,
        outreach.VisitData(
            funder_id=funder.id,
            visited_on=last_month,
            visited_by_membership_id=lead.id,
            attendees=texts["attendees"],
            topics=texts["topics"],
            findings=texts["findings"],
            follow_up=texts["follow_up"],
        ),
        by=coordinator,
    )
    db.session.flush()


def _quality(agency: Agency, admin: User | None) -> None:
    """Ask for last month's summary so the archive is not empty (the worker builds it)."""
    from tenants.quality import services as quality

    quality.request_build(agency, quality.previous_month(agency), by=admin)


def seed(agencies: Sequence[Agency]) -> None:
    """The demo agencies' care data (`Area.demo` of scheduling, the last step
    of the care loop); idempotent, the caller commits."""
    for agency in agencies:
        seed_agency(agency)
