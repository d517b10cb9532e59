"""The areas' reminder kinds (certificates, training, feedback deadlines,
follow-ups, plan reviews, return visits) sent through the notification
centre: each at its local due moment (Asia/Shanghai and Europe/London, across
daylight saving), exactly once however often the sweep runs, set-based."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from saas import db
from saas.models import Agency, MailMessage, Membership
from saas.notifications.models import Notification, NotificationPreference, Reminder
from saas.settings import update_settings
from tenants.clients import reminders as case_reminders
from tenants.clients import services as clients
from tenants.clients.models import Case, FollowUp, ServicePlan
from tenants.feedback import jobs as feedback_jobs
from tenants.feedback import reminders as feedback_reminders
from tenants.feedback.models import FeedbackItem
from tenants.feedback.services import FeedbackData, response_days, submit_feedback
from tenants.outreach import reminders as outreach_reminders
from tenants.scheduling import reminders as return_reminders
from tenants.scheduling.models import Visit
from tenants.scheduling.services import assign, record_return_visit
from tenants.staffing import reminders as certificate_reminders
from tenants.surveys import reminders as survey_reminders
from tenants.training import reminders as training_reminders
from tests.factories import our_reminders
from tests.scheduling.test_scheduling import World
from tests.sqlcount import count_statements
from tests.staffing import workforce_helpers as wf

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)

SHANGHAI, LONDON = "Asia/Shanghai", "Europe/London"
MINUTE = timedelta(minutes=1)


# -- helpers --------------------------------------------------------------------------------


def run(app, sweep) -> int:
    """The sweep's body as `rq cron` runs it (the @periodic wrapper only adds
    a fresh app context and removes the session); the new occurrences of this
    test's agencies (others left committed by browser tests are swept too)."""
    before = our_reminders()
    with app.app_context():
        sweep.__wrapped__()
    return our_reminders() - before


def at(when: datetime):
    return time_machine.travel(when, tick=False)


def midnight(tz: str, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


def told(agency: Agency, kind: str) -> list[Any]:
    """(membership, title, due_at, subject) of every notification of `kind`."""
    with db.tenant_scope(agency.id):
        return db.session.execute(
            select(Notification.membership_id, Notification.title, Reminder.due_at, Reminder.subject)
            .join(Reminder, Reminder.id == Notification.reminder_id)
            .where(Notification.kind == kind)
            .order_by(Reminder.due_at, Reminder.subject, Notification.membership_id)
        ).all()


def occurrences(agency: Agency, kind: str) -> list[Any]:
    with db.tenant_scope(agency.id):
        return db.session.execute(
            select(Reminder.subject, Reminder.due_at).where(Reminder.kind == kind).order_by(Reminder.due_at)
        ).all()


def membership_of(agency: Agency, user) -> uuid.UUID:
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(Membership.id).where(Membership.user_id == user.id))


def set_settings(agency: Agency, **values: Any) -> None:
    """Through `update_settings`, as the settings pages change them."""
    with db.tenant_scope(agency.id):
        fresh = db.session.get(Agency, agency.id, populate_existing=True)
        update_settings(fresh, values)
        db.session.commit()
    set_committed_value(agency, "settings", fresh.settings)


def add_visit(
    world: World, staff_id: uuid.UUID, day: date, status: str = "completed", *, override: str = ""
) -> None:
    """A one-off visit at 10:00 on `day`, booked and assigned to the worker
    through the scheduling services (an hour before it, if it is past) and,
    if `completed`, checked in and out at its time (an `override` reason
    assigns a worker the rules would refuse, as an admin may)."""
    starts = midnight(world.agency.timezone, day) + timedelta(hours=10)
    factory = world.factory
    visit = factory.visit(
        world.agency, world.client.id, world.item.id, starts, staff_id=staff_id, override_reason=override
    )
    if status == "completed":
        factory.complete_visit(world.agency, visit.id, staff_id)
    else:
        assert status == "scheduled", status


# the worlds are set up on this day, before every date the tests here use
SET_UP_ON = datetime(2026, 11, 2, 12, tzinfo=UTC)


def make_world(factory, tz: str) -> World:
    """A World set up on 2 November 2026 (its plan approved, not active) and
    one carer, Casey Carer."""
    with time_machine.travel(min(SET_UP_ON, db.utcnow()), tick=True):
        world = World(factory, tz=tz)
    world.carer_user, world.staff = world.carer(name="Casey Carer")
    world.people = {
        "admin": membership_of(world.agency, world.admin),
        "coordinator": membership_of(world.agency, world.coordinator),
        "carer": membership_of(world.agency, world.carer_user),
    }
    return world


# -- one scenario per kind: data whose reminder is due at local midnight of `day` ---------


def cert_expiring(world: World, day: date) -> None:
    set_settings(world.agency, certificate_reminder_days=[7])
    type_id = wf.cert_type(world.factory.app, world.agency)
    wf.certificate(world.factory.app, world.agency, world.staff.id, type_id, expires=day + timedelta(days=7))


def cert_expired(world: World, day: date) -> None:
    type_id = wf.cert_type(world.factory.app, world.agency)
    wf.certificate(world.factory.app, world.agency, world.staff.id, type_id, expires=day - timedelta(days=1))


def training_behind(world: World, day: date) -> None:
    """No role training at all: behind at every quarter's end."""


def pre_service(world: World, day: date) -> None:
    set_settings(world.agency, pre_service_hours=40)
    wf.change_staff(world.factory.app, world.agency, world.staff.id, employment_start=day)


def follow_up(world: World, day: date, *, done: str | None = None) -> None:
    """A case closed a week before `day`, its 1-week follow-up due on `day`;
    its plan went active 25 days before, and the carer did its first visit.
    With `done`, a follow-up of that label, also due on `day`, is done then."""
    agency, factory = world.agency, world.factory
    if done:
        set_settings(agency, follow_up_schedule=["1w", done, "1m"])
    with at(midnight(agency.timezone, day - timedelta(days=25)) + timedelta(hours=8)):
        with db.tenant_scope(agency.id):
            # loaded here: a request context (a factory's) ends the session the World's rows were in
            case = db.session.get(Case, (agency.id, world.case.id), populate_existing=True)
            plan = db.session.get(ServicePlan, (agency.id, world.plan.id), populate_existing=True)
            clients.activate_plan(plan, case, by=world.admin)
            first = db.session.scalar(
                select(Visit).where(Visit.plan_id == world.plan.id).order_by(Visit.starts_at).limit(1)
            )
            assign(agency, first, world.staff.id, by=world.coordinator, role="coordinator")
            db.session.commit()
    factory.complete_visit(agency, first.id, world.staff.id)
    closed_on = day - timedelta(days=7)
    with at(midnight(agency.timezone, closed_on) + timedelta(hours=12)), db.tenant_scope(agency.id):
        case = db.session.get(Case, (agency.id, world.case.id), populate_existing=True)
        clients.close_case(agency, case, reason="Goals met", closed_on=closed_on, by=world.coordinator)
        db.session.commit()
    if done:
        with at(midnight(agency.timezone, day) + timedelta(hours=9)), db.tenant_scope(agency.id):
            case = db.session.get(Case, (agency.id, world.case.id))
            row = db.session.scalar(
                select(FollowUp).where(FollowUp.case_id == case.id, FollowUp.label == done)
            )
            clients.record_follow_up(
                row,
                case,
                done_on=day,
                method="phone",
                outcome="Doing well",
                new_intervention=False,
                reopen=False,
                by=world.coordinator,
                today=day,
            )
            db.session.commit()


def review(world: World, on: date) -> None:
    """A revision of the plan with a review on `on`, drafted and submitted by
    the coordinator and approved by the admin eight days before (or now)."""
    agency = world.agency
    with at(min(midnight(agency.timezone, on - timedelta(days=8)), db.utcnow())), db.tenant_scope(agency.id):
        case = db.session.get(Case, (agency.id, world.case.id), populate_existing=True)
        plan = clients.new_plan(case, by=world.coordinator)
        clients.update_plan(
            plan,
            clients.PlanFields(plan.goals, plan.budget, plan.risk_plan, on, plan.starts_on, plan.ends_on),
            by=world.coordinator,
        )
        clients.submit_plan(plan, case, by=world.coordinator)
        clients.approve_plan(agency, plan, case, by=world.admin, role="admin")
        db.session.commit()


def review_due(world: World, day: date) -> None:
    review(world, day)


def review_soon(world: World, day: date) -> None:
    review(world, day + timedelta(days=7))


def return_visit(world: World, day: date) -> None:
    """A client visited in the month before the one `day` falls in, no return visit."""
    last_month = (day.replace(day=1) - timedelta(days=1)).replace(day=10)
    add_visit(world, world.staff.id, last_month)


def box_missed(world: World, day: date) -> None:
    """A box set up the day before `day`, never logged; reminders from midnight."""
    set_settings(world.agency, opinion_box_reminder_hour=0)
    world.factory.box_location(world.agency, "Front desk", since=day - timedelta(days=1))


def round_due(world: World, day: date) -> None:
    """A team whose last round with every group was two months before `day`."""
    with db.tenant_scope(world.agency.id):
        admin, coordinator = (
            db.session.get(Membership, (world.agency.id, world.people[role]))
            for role in ("admin", "coordinator")
        )
    team = world.factory.team(world.agency, "North team", supervisor=admin)
    for group in ("clients", "funders", "partners"):
        world.factory.stakeholder_round(
            world.agency, team.id, group, day - relativedelta(months=2), led_by=coordinator
        )


def funder_missing(world: World, day: date) -> None:
    """A funder on the list since the month before `day`, never visited."""
    world.factory.funder(
        world.agency, "City Welfare Office", at=midnight(world.agency.timezone, day - timedelta(days=22))
    )


def outcome_due(world: World, day: date) -> None:
    """An agency that never sent an outcome survey, created on `day`."""
    created = midnight(world.agency.timezone, day) + timedelta(hours=1)
    db.session.execute(update(Agency).where(Agency.id == world.agency.id).values(created_at=created))
    db.session.commit()


@dataclass(frozen=True)
class Scenario:
    kind: str
    sweep: Any
    build: Any
    day: date  # a month start (the Shanghai / London day change of the issue)
    dst_day: date  # in London's first summer-time days (spring 2027: 28 March)
    to: tuple[str, ...]  # who is told, by role in the World

    def __str__(self) -> str:
        return self.kind


SCENARIOS = [
    Scenario(
        "certificate.expiring",
        certificate_reminders.certificate_sweep,
        cert_expiring,
        date(2027, 2, 1),
        date(2027, 3, 29),
        ("carer", "coordinator"),
    ),
    Scenario(
        "certificate.expired",
        certificate_reminders.certificate_sweep,
        cert_expired,
        date(2027, 2, 1),
        date(2027, 3, 29),
        ("admin", "carer", "coordinator"),
    ),
    Scenario(
        "training.behind",
        training_reminders.training_sweep,
        training_behind,
        date(2027, 1, 1),
        date(2027, 4, 1),
        ("carer",),
    ),
    Scenario(
        "training.behind_summary",
        training_reminders.training_sweep,
        training_behind,
        date(2027, 1, 1),
        date(2027, 4, 1),
        ("admin",),
    ),
    Scenario(
        "training.pre_service_missing",
        training_reminders.training_sweep,
        pre_service,
        date(2027, 2, 1),
        date(2027, 3, 29),
        ("coordinator",),
    ),
    Scenario(
        "case.follow_up_due",
        case_reminders.case_sweep,
        follow_up,
        date(2027, 2, 1),
        date(2027, 3, 29),
        ("carer", "coordinator"),
    ),
    Scenario(
        "plan.review_due",
        case_reminders.case_sweep,
        review_due,
        date(2027, 2, 1),
        date(2027, 3, 29),
        ("coordinator",),
    ),
    Scenario(
        "plan.review_soon",
        case_reminders.case_sweep,
        review_soon,
        date(2027, 2, 1),
        date(2027, 3, 29),
        ("coordinator",),
    ),
    Scenario(
        "return_visit.missing",
        return_reminders.return_visit_sweep,
        return_visit,
        date(2027, 2, 1),
        date(2027, 4, 1),
        ("carer",),
    ),
    Scenario(
        "return_visit.overdue",
        return_reminders.return_visit_sweep,
        return_visit,
        date(2027, 2, 8),
        date(2027, 4, 8),
        ("coordinator",),
    ),
    Scenario(
        "outreach.box_missed",
        outreach_reminders.outreach_sweep,
        box_missed,
        date(2027, 2, 1),
        date(2027, 3, 29),
        ("admin", "coordinator"),
    ),
    Scenario(
        "outreach.round_due",
        outreach_reminders.outreach_sweep,
        round_due,
        date(2027, 2, 1),
        date(2027, 3, 29),
        ("admin", "coordinator"),
    ),
    Scenario(
        "outreach.funder_visit_missing",
        outreach_reminders.outreach_sweep,
        funder_missing,
        date(2027, 2, 1),
        date(2027, 4, 1),
        ("admin", "coordinator"),
    ),
    Scenario(
        "survey.outcome_due",
        survey_reminders.outcome_sweep,
        outcome_due,
        date(2027, 2, 1),
        date(2027, 3, 29),
        ("admin",),
    ),
]


def roles_told(world: World, rows: list[Any]) -> tuple[str, ...]:
    names = {v: k for k, v in world.people.items()}
    return tuple(sorted({names[r.membership_id] for r in rows}))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_each_kind_is_due_at_local_midnight_in_shanghai_and_london(app, factory, dbconn, scenario):
    worlds = {tz: make_world(factory, tz) for tz in (SHANGHAI, LONDON)}
    for world in worlds.values():
        scenario.build(world, scenario.day)
    shanghai, london = midnight(SHANGHAI, scenario.day), midnight(LONDON, scenario.day)
    assert london - shanghai == timedelta(hours=8)

    with at(shanghai - MINUTE):
        run(app, scenario.sweep)
    assert told(worlds[SHANGHAI].agency, scenario.kind) == [], "not before the local day"

    with at(shanghai + MINUTE):
        assert run(app, scenario.sweep) >= 1
        assert run(app, scenario.sweep) == 0, "a second run sends nothing"
    assert {r.due_at for r in occurrences(worlds[SHANGHAI].agency, scenario.kind)} == {shanghai}
    assert told(worlds[LONDON].agency, scenario.kind) == [], "still the day before in London"

    with at(london - MINUTE):
        run(app, scenario.sweep)
    assert told(worlds[LONDON].agency, scenario.kind) == []

    with at(london + MINUTE):
        assert run(app, scenario.sweep) >= 1
        assert run(app, scenario.sweep) == 0
    for tz, world in worlds.items():
        rows = told(world.agency, scenario.kind)
        assert roles_told(world, rows) == scenario.to, tz
        # once per recipient and occurrence, however many runs
        assert len(rows) == len({(r.membership_id, r.subject) for r in rows})
        assert {r.due_at for r in rows} == {midnight(tz, scenario.day)}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_each_kind_across_londons_daylight_saving_change(app, factory, dbconn, scenario):
    world = make_world(factory, LONDON)
    scenario.build(world, scenario.dst_day)
    due = midnight(LONDON, scenario.dst_day)
    assert due.utcoffset() == timedelta(hours=1), "summer time"
    assert due.astimezone(UTC).hour == 23, "local midnight is 23:00 UTC the day before"
    with at(due - MINUTE):
        run(app, scenario.sweep)
    assert told(world.agency, scenario.kind) == []
    with at(due + MINUTE):
        assert run(app, scenario.sweep) >= 1
        assert run(app, scenario.sweep) == 0, "a second run sends nothing"
    assert {r.due_at for r in occurrences(world.agency, scenario.kind)} == {due}
    assert roles_told(world, told(world.agency, scenario.kind)) == scenario.to


# -- certificates ---------------------------------------------------------------------------


def test_certificate_thresholds_once_each_and_only_the_most_urgent_after_a_gap(app, factory, dbconn):
    world = make_world(factory, LONDON)
    type_id = wf.cert_type(app, world.agency)
    expires = date(2027, 3, 1)
    wf.certificate(app, world.agency, world.staff.id, type_id, expires=expires)

    with at(datetime(2026, 12, 20, 12, tzinfo=UTC)):
        assert run(app, certificate_reminders.certificate_sweep) == 0, "71 days ahead: nothing yet"
    with at(datetime(2026, 12, 31, 9, tzinfo=UTC)):
        assert run(app, certificate_reminders.certificate_sweep) == 1
    with at(datetime(2027, 1, 5, 9, tzinfo=UTC)):
        assert run(app, certificate_reminders.certificate_sweep) == 0, "60 already sent"
    # the sweep did not run from 5 January to 26 February: 30 and 7 both passed
    with at(datetime(2027, 2, 26, 9, tzinfo=UTC)):
        assert run(app, certificate_reminders.certificate_sweep) == 1
        assert run(app, certificate_reminders.certificate_sweep) == 0
    with at(datetime(2027, 3, 1, 23, 30, tzinfo=UTC)):
        assert run(app, certificate_reminders.certificate_sweep) == 0, "valid through its expiry date"
    with at(datetime(2027, 3, 2, 0, 30, tzinfo=UTC)):
        assert run(app, certificate_reminders.certificate_sweep) == 1

    expiring = occurrences(world.agency, "certificate.expiring")
    assert [r.due_at for r in expiring] == [
        midnight(LONDON, date(2026, 12, 31)),  # 60 days before
        midnight(LONDON, date(2027, 2, 22)),  # 7 days before; the 30-day one was skipped
    ]
    assert [r.due_at for r in occurrences(world.agency, "certificate.expired")] == [
        midnight(LONDON, date(2027, 3, 2))
    ]
    titles = {r.title for r in told(world.agency, "certificate.expiring")}
    assert titles == {"Certificate of Casey Carer expires on 1 Mar 2027: First aid"}


def test_renewed_or_left_staff_certificates_are_not_reminded(app, factory, dbconn):
    world = make_world(factory, LONDON)
    type_id = wf.cert_type(app, world.agency)
    wf.certificate(app, world.agency, world.staff.id, type_id, expires=date(2027, 3, 1))
    wf.certificate(
        app, world.agency, world.staff.id, type_id, issued=date(2026, 11, 1), expires=date(2030, 3, 1)
    )
    _, leaver = world.carer(name="Lee Leaver", employment_end=date(2026, 12, 1))
    wf.certificate(app, world.agency, leaver.id, type_id, expires=date(2027, 3, 1))
    with at(datetime(2027, 2, 26, 9, tzinfo=UTC)):
        assert run(app, certificate_reminders.certificate_sweep) == 0


def test_certificate_thresholds_are_an_agency_setting(app, factory, dbconn):
    world = make_world(factory, LONDON)
    set_settings(world.agency, certificate_reminder_days=[90, 14])
    type_id = wf.cert_type(app, world.agency)
    wf.certificate(app, world.agency, world.staff.id, type_id, expires=date(2027, 3, 1))
    for day in (date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 15), date(2027, 2, 20)):
        with at(midnight(LONDON, day) + timedelta(hours=9)):
            run(app, certificate_reminders.certificate_sweep)
    assert [r.due_at.date() for r in occurrences(world.agency, "certificate.expiring")] == [
        date(2026, 12, 1),
        date(2027, 2, 15),
    ]
    assert certificate_reminders.reminder_days(world.agency) == (90, 14)
    # a stored value the settings pages would refuse (an older release's, say)
    bad = {**world.agency.settings, "certificate_reminder_days": "soon"}
    db.session.execute(update(Agency).where(Agency.id == world.agency.id).values(settings=bad))
    db.session.commit()
    set_committed_value(world.agency, "settings", bad)
    assert certificate_reminders.reminder_days(world.agency) == (60, 30, 7), "bad setting: defaults"


def test_certificate_selection_is_set_based(app, factory, dbconn):
    world = make_world(factory, LONDON)
    type_id = wf.cert_type(app, world.agency)
    counts = []
    for extra in (1, 6):
        for _ in range(extra):
            _, other = world.carer(name="Another Carer")
            wf.certificate(app, world.agency, other.id, type_id, expires=date(2027, 3, 1))
        with at(datetime(2027, 2, 26, 9, tzinfo=UTC)), app.app_context(), db.tenant_scope(world.agency.id):
            agency = db.session.get(Agency, world.agency.id)
            with count_statements() as counter:
                dues = certificate_reminders.certificate_dues(agency)
            counts.append(counter.count)
            assert len(dues) >= extra
    assert counts[0] == counts[1], "the same statements for 1 or 7 certificates"


# -- training -------------------------------------------------------------------------------


def test_quarter_end_counts_hours_to_the_quarter_and_pro_rata(app, factory, dbconn):
    world = make_world(factory, LONDON)
    _, on_track = world.carer(name="Olive Ontrack")
    _, behind = world.carer(name="Bea Behind")
    _, newcomer = world.carer(name="Nina New")
    wf.change_staff(app, world.agency, newcomer.id, employment_start=date(2027, 2, 1))
    with at(datetime(2027, 4, 3, 9, tzinfo=UTC)):
        course = wf.course(app, world.agency, hours="6", counts_as="annual")
        january, february = (wf.session(app, world.agency, course, date(2027, m, 10)) for m in (1, 2))
        wf.attend(app, world.agency, february, on_track.id)
        wf.attend(app, world.agency, january, behind.id, "partial", "4")
        late = wf.session(app, world.agency, course, date(2027, 4, 2))  # after the quarter: does not count
        wf.attend(app, world.agency, late, behind.id)
        run(app, training_reminders.training_sweep)
    subjects = {r.subject for r in occurrences(world.agency, "training.behind")}
    # Q1: 20 hours a year x 1/4 = 5 hours; 6 on track, 4 behind, 0 (World's carer) behind
    assert subjects == {f"{behind.id}:2027Q1", f"{world.staff.id}:2027Q1"}
    summary = told(world.agency, "training.behind_summary")
    assert [r.title for r in summary] == ["2 workers behind on training at the end of Q1 2027"]
    with at(datetime(2027, 4, 20, 9, tzinfo=UTC)):
        assert run(app, training_reminders.training_sweep) == 0, "past the first days of the quarter"


def test_pre_service_reminder_once_and_not_once_trained(app, factory, dbconn):
    world = make_world(factory, LONDON)
    set_settings(world.agency, pre_service_hours=40)
    _, trained = world.carer(name="Tara Trained")
    wf.pre_service_done(app, world.agency, trained.id)
    _, future = world.carer(name="Finn Future")
    _, coordinator = world.carer(name="Cora Coordinator")
    wf.change_staff(app, world.agency, future.id, employment_start=date(2027, 6, 1))
    wf.change_staff(app, world.agency, coordinator.id, staff_role="coordinator")
    with at(datetime(2027, 2, 1, 9, tzinfo=UTC)):
        run(app, training_reminders.training_sweep)
        assert {r.subject for r in occurrences(world.agency, "training.pre_service_missing")} == {
            str(world.staff.id)
        }, "not the trained one, not the coordinator, not one starting later without visits"
    # Finn is given a visit while due to start on 1 February (untrained: a coordinator
    # overrides that), then his start moves to June: a visit assigned before starting
    wf.change_staff(app, world.agency, future.id, employment_start=date(2027, 2, 1))
    add_visit(world, future.id, date(2027, 2, 10), status="scheduled", override="Shadows Casey first")
    wf.change_staff(app, world.agency, future.id, employment_start=date(2027, 6, 1))
    with at(datetime(2027, 2, 2, 9, tzinfo=UTC)):
        run(app, training_reminders.training_sweep)
        run(app, training_reminders.training_sweep)
    subjects = [r.subject for r in occurrences(world.agency, "training.pre_service_missing")]
    assert sorted(subjects) == sorted([str(world.staff.id), str(future.id)]), (
        "visits assigned before starting"
    )
    title = told(world.agency, "training.pre_service_missing")[0].title
    assert title.endswith("has 0 of 40 pre-service training hours")


# -- feedback deadlines ---------------------------------------------------------------------


def complaint(app, world: World, due_at: datetime) -> FeedbackItem:
    """A complaint taken by phone, received the agency's response days before `due_at`."""
    received = due_at - timedelta(days=response_days(world.agency, "complaint"))
    with at(received), app.test_request_context(), db.tenant_scope(world.agency.id):
        item = submit_feedback(
            world.agency,
            FeedbackData(kind="complaint", description="Nobody came on Tuesday"),
            channel="phone",
        )
        db.session.commit()
    assert item.due_at == due_at
    return item


def test_due_in_24_hours_once_to_managers_with_the_local_deadline(app, factory, dbconn):
    deadline = datetime(2027, 1, 31, 20, 0, tzinfo=UTC)  # Shanghai: 1 February 04:00
    worlds = {tz: make_world(factory, tz) for tz in (SHANGHAI, LONDON)}
    for world in worlds.values():
        complaint(app, world, deadline)
    with at(deadline - timedelta(hours=24) - MINUTE):
        run(app, feedback_reminders.reminder_sweep)
    assert all(told(w.agency, "feedback.due_soon") == [] for w in worlds.values())
    with at(deadline - timedelta(hours=24) + MINUTE):
        run(app, feedback_reminders.reminder_sweep)
        run(app, feedback_reminders.reminder_sweep)
    for tz, world in worlds.items():
        rows = told(world.agency, "feedback.due_soon")
        assert roles_told(world, rows) == ("admin", "coordinator")
        assert {r.due_at for r in rows} == {deadline - timedelta(hours=24)}
        local = "1 Feb 2027 04:00" if tz == SHANGHAI else "31 Jan 2027 20:00"
        assert {r.title for r in rows} == {f"Complaint to answer by {local}"}
        assert "Nobody came" not in " ".join(r.title for r in rows), "no description in reminders"


def test_answered_items_get_no_deadline_reminders(app, factory, dbconn):
    from tenants.feedback.services import transition

    world = make_world(factory, LONDON)
    deadline = datetime(2027, 1, 31, 20, 0, tzinfo=UTC)
    item = complaint(app, world, deadline)
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        fresh = db.session.get(FeedbackItem, (world.agency.id, item.id))
        transition(fresh, "responded", by=world.coordinator, response="Sorry")
        db.session.commit()
    with at(deadline - timedelta(hours=2)):
        assert run(app, feedback_reminders.reminder_sweep) == 0
    with at(deadline + timedelta(hours=2)):
        assert run(app, feedback_jobs.escalate_all) == 0


def test_overdue_escalates_to_the_agency_head_through_the_centre_mandatory(app, factory, dbconn):
    world = make_world(factory, SHANGHAI)
    deadline = datetime(2027, 1, 31, 20, 0, tzinfo=UTC)
    item = complaint(app, world, deadline)
    with db.tenant_scope(world.agency.id):
        # an escalation cannot be turned off
        db.session.add(
            NotificationPreference(
                membership_id=world.people["admin"], kind="feedback.overdue", in_app=False, email=False
            )
        )
        db.session.commit()
    with at(deadline - MINUTE):
        assert run(app, feedback_jobs.escalate_all) == 0
    with at(deadline + MINUTE):
        assert run(app, feedback_jobs.escalate_all) == 1
    with at(deadline + timedelta(hours=1)):
        assert run(app, feedback_jobs.escalate_all) == 0, "escalated once"
    rows = told(world.agency, "feedback.overdue")
    assert roles_told(world, rows) == ("admin",)
    assert [r.due_at for r in rows] == [deadline]
    assert rows[0].title == "Overdue: Complaint not answered by 1 Feb 2027 04:00"
    with db.tenant_scope(world.agency.id):
        escalated = db.session.scalar(
            select(FeedbackItem.escalated_at)
            .where(FeedbackItem.id == item.id)
            .execution_options(populate_existing=True)
        )
    assert escalated == deadline + MINUTE
    mails = db.session.scalars(
        select(MailMessage.to_address).where(
            MailMessage.agency_id == world.agency.id, MailMessage.subject.contains("Overdue")
        )
    ).all()
    assert mails == [world.admin.email]


# -- follow-ups, plan reviews, return visits --------------------------------------------------


def test_follow_up_done_or_reopened_case_is_not_reminded(app, factory, dbconn):
    world = make_world(factory, LONDON)
    # two follow-ups due on the day (1 week and 7 days after closure): the 7-day one done
    follow_up(world, date(2027, 2, 1), done="7d")
    with at(datetime(2027, 2, 1, 9, tzinfo=UTC)):
        assert run(app, case_reminders.case_sweep) == 2, "coordinators' and workers' occurrences of 1w"
    subjects = {r.subject for r in occurrences(world.agency, "case.follow_up_due")}
    assert len(subjects) == 2
    rows = told(world.agency, "case.follow_up_due")
    assert any("1 week after closure" in r.title for r in rows)


def test_plan_review_sends_soon_then_due_and_only_the_most_urgent(app, factory, dbconn):
    world = make_world(factory, LONDON)
    review(world, date(2027, 3, 10))
    with at(datetime(2027, 3, 3, 9, tzinfo=UTC)):
        run(app, case_reminders.case_sweep)
    with at(datetime(2027, 3, 10, 9, tzinfo=UTC)):
        run(app, case_reminders.case_sweep)
    assert [r.due_at.date() for r in occurrences(world.agency, "plan.review_soon")] == [date(2027, 3, 3)]
    assert [r.due_at.date() for r in occurrences(world.agency, "plan.review_due")] == [date(2027, 3, 10)]

    other = make_world(factory, LONDON)
    set_settings(other.agency, plan_review_reminder_days=3)
    review(other, date(2027, 3, 10))
    with at(datetime(2027, 3, 6, 9, tzinfo=UTC)):
        assert run(app, case_reminders.case_sweep) == 0, "3 days ahead in that agency"
    with at(datetime(2027, 3, 11, 9, tzinfo=UTC)):
        run(app, case_reminders.case_sweep)
    assert occurrences(other.agency, "plan.review_soon") == [], "first seen after the day: only 'due'"
    assert len(occurrences(other.agency, "plan.review_due")) == 1


def test_return_visits_recorded_clear_the_reminder_and_escalation(app, factory, dbconn):
    world = make_world(factory, SHANGHAI)
    _, second = world.carer(name="Sam Second")
    add_visit(world, world.staff.id, date(2027, 1, 12))
    add_visit(world, world.staff.id, date(2027, 1, 19))
    add_visit(world, second.id, date(2027, 1, 20))
    with at(midnight(SHANGHAI, date(2027, 1, 28)) + timedelta(hours=15)), db.tenant_scope(world.agency.id):
        record_return_visit(
            world.agency,
            staff_id=second.id,
            client_id=world.client.id,
            visited_on=date(2027, 1, 28),
            notes="",
        )
        db.session.commit()
    with at(datetime(2027, 2, 3, 2, tzinfo=UTC)):
        run(app, return_reminders.return_visit_sweep)
    rows = told(world.agency, "return_visit.missing")
    assert [r.subject for r in rows] == [f"{world.staff.id}:2027-01"], "the second carer recorded theirs"
    assert rows[0].title == "1 client without a return visit for January 2027"
    with at(datetime(2027, 2, 10, 2, tzinfo=UTC)):
        run(app, return_reminders.return_visit_sweep)
    escalated = told(world.agency, "return_visit.overdue")
    assert [r.title for r in escalated] == ["Casey Carer: 1 return visit for January 2027 overdue"]


def test_return_visit_selection_is_set_based(app, factory, dbconn):
    world = make_world(factory, LONDON)
    counts = []
    for extra in (1, 5):
        for _ in range(extra):
            _, other = world.carer(name="More Carers")
            add_visit(world, other.id, date(2027, 1, 12))
        with at(datetime(2027, 2, 3, 9, tzinfo=UTC)), app.app_context(), db.tenant_scope(world.agency.id):
            agency = db.session.get(Agency, world.agency.id)
            with count_statements() as counter:
                dues = return_reminders.return_visit_dues(agency)
            counts.append(counter.count)
            assert len(dues) >= extra
    assert counts[0] == counts[1]


def test_kinds_have_labels_and_escalations_are_mandatory(app_ctx):
    from saas.notifications.kinds import KINDS

    mine = {
        "certificate.expiring": False,
        "certificate.expired": False,
        "training.behind": False,
        "training.behind_summary": False,
        "training.pre_service_missing": False,
        "feedback.due_soon": False,
        "feedback.overdue": True,
        "case.follow_up_due": False,
        "plan.review_soon": False,
        "plan.review_due": False,
        "return_visit.missing": False,
        "return_visit.overdue": True,
        "outreach.box_missed": False,
        "outreach.round_due": False,
        "outreach.funder_visit_missing": False,
        "survey.outcome_due": False,
    }
    assert {name: KINDS[name].mandatory for name in mine} == mine
    assert all(str(KINDS[name].label) for name in mine)


def test_opinion_box_missed_day_is_due_at_the_agency_reminder_hour(app, factory, dbconn):
    world = make_world(factory, SHANGHAI)
    factory.box_location(world.agency, "Lobby", since=date(2027, 2, 1))
    eight = datetime(2027, 2, 2, 8, tzinfo=ZoneInfo(SHANGHAI))  # the default hour, the next morning
    with at(eight - MINUTE):
        assert run(app, outreach_reminders.outreach_sweep) == 0
    with at(eight + MINUTE):
        assert run(app, outreach_reminders.outreach_sweep) == 1
        assert run(app, outreach_reminders.outreach_sweep) == 0
    # the sweep then stops for two days: both missed days are still told, once each
    with at(eight + timedelta(days=2, hours=1)):
        assert run(app, outreach_reminders.outreach_sweep) == 2
    rows = occurrences(world.agency, "outreach.box_missed")
    assert [r.due_at for r in rows] == [eight + timedelta(days=n) for n in range(3)]
    titles = {r.title for r in told(world.agency, "outreach.box_missed")}
    assert "Opinion box at Lobby not logged on 1 Feb 2027" in titles
