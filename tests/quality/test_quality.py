"""Monthly quality summary: every figure against an independent SQL count on
generated data, the month in each agency's time zone (Shanghai vs London,
daylight saving), the monthly sweep, idempotent (re)builds, targets, the peer
position without other agencies' figures, the PDF in English and Chinese, the
page's statement count and who may see what."""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import func, select, text

from saas import db
from saas.models import Agency, AuditEvent, MailMessage, OutboxEntry, Role
from tenants.feedback.models import DIMENSIONS, FeedbackItem, FeedbackTransition, Rectification, VisitRating
from tenants.quality import jobs, kpis, services, targets
from tenants.quality import queries as quality_queries
from tenants.quality.models import BuildState, QualitySummary
from tenants.scheduling.models import ReturnVisit, Visit
from tests.factories import login
from tests.scheduling.test_scheduling import World
from tests.sqlcount import count_round_trips, count_statements

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
OCTOBER = date(2026, 10, 1)


def backdate(agency: Agency, when: datetime = datetime(2025, 1, 1, tzinfo=UTC)) -> None:
    agency.created_at = when
    db.session.commit()


def make_world(factory, tz: str = "Europe/London") -> World:
    world = World(factory, tz=tz)
    backdate(world.agency)
    world.staff = [world.carer(name=f"Carer {i}")[1] for i in range(3)]
    return world


def generate(world: World, month: date, seed: int = 7, visits: int = 120) -> None:
    """Random activity around `month` (and the months either side, which must
    not count), written through the ORM in the agency's scope."""
    from tenants.clients.models import Client, FollowUp
    from tenants.staffing.models import CaseloadAssignment, Certificate, CertificateType
    from tenants.training.models import Course, Enrolment, TrainingSession

    rng = random.Random(seed)
    zone = world.agency.zone
    prev, nxt = kpis.add_months(month, -1), kpis.add_months(month, 1)
    first = datetime.combine(prev, time(0), zone)
    span = (datetime.combine(kpis.add_months(month, 2), time(0), zone) - first).total_seconds()
    with db.tenant_scope(world.agency.id):
        clients = [world.client.id]
        for i in range(4):
            c = Client(full_name=f"Client {seed}-{i}", consent_services=True)
            db.session.add(c)
            db.session.flush()
            clients.append(c.id)
        made = []
        for _ in range(visits):
            start = first + timedelta(seconds=rng.uniform(0, span))
            status = rng.choice(["completed"] * 4 + ["scheduled", "cancelled", "missed", "in_progress"])
            v = Visit(
                client_id=rng.choice(clients),
                service_item_id=world.item.id,
                local_day=start.astimezone(zone).date(),
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                status=status,
                staff_file_id=rng.choice([None, *(s.id for s in world.staff)]),
                late_flagged_at=start + timedelta(minutes=20) if rng.random() < 0.25 else None,
                missed_flagged_at=start + timedelta(hours=2) if rng.random() < 0.1 else None,
            )
            db.session.add(v)
            made.append(v)
        db.session.flush()
        for v in made:
            if v.status == "completed" and rng.random() < 0.6:
                db.session.add(
                    VisitRating(
                        visit_id=v.id,
                        client_id=v.client_id,
                        channel="portal",
                        **{d: rng.randint(1, 5) for d in DIMENSIONS},
                    )
                )
        owner = world.staff[0].membership_id
        for i in range(40):
            received = first + timedelta(seconds=rng.uniform(0, span))
            responded = received + timedelta(hours=rng.uniform(1, 120)) if rng.random() < 0.7 else None
            closed = responded + timedelta(hours=1) if responded and rng.random() < 0.6 else None
            item = FeedbackItem(
                kind=rng.choice(["complaint", "complaint", "opinion", "suggestion"]),
                category=rng.choice(["Punctuality", "Attitude", ""]),
                description=f"item {i}",
                channel="phone",
                status="closed" if closed else ("responded" if responded else "received"),
                received_at=received,
                due_at=received + timedelta(days=3),
                response="We called back." if responded else "",
                responded_at=responded,
                closed_at=closed,
            )
            db.session.add(item)
            db.session.flush()
            db.session.add(FeedbackTransition(item_id=item.id, to_status="received", at=received))
            if rng.random() < 0.8:
                step = received + timedelta(minutes=rng.uniform(5, 300))
                db.session.add(FeedbackTransition(item_id=item.id, to_status="acknowledged", at=step))
        for i in range(15):
            created = first + timedelta(seconds=rng.uniform(0, span))
            closed_at = created + timedelta(days=rng.uniform(1, 30)) if rng.random() < 0.5 else None
            db.session.add(
                Rectification(
                    source="inspection",
                    finding="f",
                    problem=f"p{i}",
                    measures="m",
                    owner_membership_id=owner,
                    deadline=(created + timedelta(days=rng.randint(-5, 20))).date(),
                    status="closed" if closed_at else "open",
                    created_at=created,
                    closed_at=closed_at,
                )
            )
        for i in range(12):
            due = prev + timedelta(days=rng.randint(0, 85))
            done = rng.choice([None, due - timedelta(days=1), due + timedelta(days=2)])
            db.session.add(FollowUp(case_id=world.case.id, label=f"f{seed}-{i}", due_on=due, done_on=done))
        # return visits of the previous month for some of the pairs visited then
        for v in made:
            if v.staff_file_id and v.local_day.replace(day=1) == prev and rng.random() < 0.6:
                exists = db.session.scalar(
                    select(ReturnVisit.id).where(
                        ReturnVisit.staff_file_id == v.staff_file_id,
                        ReturnVisit.client_id == v.client_id,
                        ReturnVisit.month == prev,
                    )
                )
                if exists is None:
                    db.session.add(
                        ReturnVisit(
                            staff_file_id=v.staff_file_id,
                            client_id=v.client_id,
                            month=prev,
                            visited_on=month + timedelta(days=rng.randint(0, 12)),
                        )
                    )
                    db.session.flush()
        world.staff[1].caseload_limit = 1
        for s in world.staff:
            for j in range(rng.randint(0, 3)):
                db.session.add(
                    CaseloadAssignment(
                        staff_file_id=s.id,
                        kind="individual",
                        label=f"c{seed}-{j}",
                        # naming a client, as assigning a visit does (a return visit is owed)
                        reference=str(clients[(j + seed) % len(clients)]),
                        starts_on=prev,
                        ends_on=rng.choice([None, month + timedelta(days=3)]),
                    )
                )
        kind = CertificateType(name=f"First aid {seed}")
        db.session.add(kind)
        db.session.flush()
        for i, s in enumerate(world.staff * 2):
            db.session.add(
                Certificate(
                    staff_file_id=s.id,
                    certificate_type_id=kind.id,
                    number=f"N{seed}-{i}",
                    issued_on=date(2020, 1, 1),
                    expires_on=month + timedelta(days=rng.randint(-10, 120)),
                )
            )
        course = Course(
            title=f"Ethics {seed}", category="ethics", form="classroom", hours=Decimal(4), counts_as="annual"
        )
        db.session.add(course)
        db.session.flush()
        for _ in range(4):
            session = TrainingSession(
                course_id=course.id,
                held_on=date(month.year, 1, 1)
                + timedelta(days=rng.randint(0, (nxt - date(month.year, 1, 1)).days)),
                trainer="T",
                capacity=10,
            )
            db.session.add(session)
            db.session.flush()
            for s in world.staff:
                if rng.random() < 0.7:
                    db.session.add(
                        Enrolment(
                            session_id=session.id,
                            staff_file_id=s.id,
                            status="completed",
                            attended_hours=Decimal(rng.choice([2, 4, 8])),
                        )
                    )
        db.session.commit()


def independent(world: World, month: date, as_of: datetime, response_target: int) -> dict:
    """The same figures, counted another way: local days with AT TIME ZONE,
    one plain query each."""
    tz = world.agency.timezone
    m1 = kpis.add_months(month, 1)
    prev = kpis.add_months(month, -1)
    p = {"tz": tz, "m0": month, "m1": m1, "prev": prev, "as_of": as_of, "rt": response_target}
    local = "(starts_at at time zone :tz)::date"
    in_month = f"{local} >= :m0 and {local} < :m1"

    def one(sql: str, **extra) -> object:
        return db.session.execute(text(sql), {**p, **extra}).scalar()

    rcv = "(received_at at time zone :tz)::date >= :m0 and (received_at at time zone :tz)::date < :m1"
    out = {
        "planned": one(f"select count(*) from visits where {in_month} and status <> 'cancelled'"),
        "delivered": one(f"select count(*) from visits where {in_month} and status = 'completed'"),
        "late": one(
            f"select count(*) from visits where {in_month} and status <> 'cancelled' and"
            " late_flagged_at is not null"
        ),
        "missed": one(
            f"select count(*) from visits where {in_month} and "
            "(status = 'missed' or (missed_flagged_at is not null and status <> 'completed'))"
        ),
        "clients_planned": one(
            f"select count(*) from (select distinct client_id from visits where {in_month}"
            " and status <> 'cancelled') x"
        ),
        "clients_served": one(
            f"select count(*) from (select distinct client_id from visits where {in_month}"
            " and status = 'completed') x"
        ),
        "ratings": one(
            "select count(*) from visit_ratings r"
            " join visits v on v.tenant_id = r.tenant_id and v.id = r.visit_id"
            " where (v.starts_at at time zone :tz)::date >= :m0"
            " and (v.starts_at at time zone :tz)::date < :m1"
        ),
        "received": one(f"select count(*) from feedback_items where {rcv}"),
        "complaints": one(f"select count(*) from feedback_items where {rcv} and kind = 'complaint'"),
        "complaints_on_time": one(
            f"select count(*) from feedback_items where {rcv} and kind = 'complaint' and"
            " responded_at <= due_at"
        ),
        "complaints_overdue": one(
            f"select count(*) from feedback_items where {rcv} and kind = 'complaint'"
            " and responded_at is null and due_at < :as_of"
        ),
        "resolved": one(
            f"select count(*) from feedback_items where {rcv} and closed_at is not null and response <> ''"
        ),
        "stepped_in_target": one(
            f"select count(*) from feedback_items i where {rcv} and exists (select 1 from"
            " feedback_transitions t"
            " where t.item_id = i.id and t.to_status <> 'received'"
            " and t.at <= i.received_at + :rt * interval '1 minute')"
        ),
        "rect_opened": one(
            "select count(*) from rectifications where (created_at at time zone :tz)::date >= :m0"
            " and (created_at at time zone :tz)::date < :m1"
        ),
        "rect_closed": one(
            "select count(*) from rectifications where (closed_at at time zone :tz)::date >= :m0"
            " and (closed_at at time zone :tz)::date < :m1"
        ),
        "follow_ups_on_time": one(
            "select count(*) from case_follow_ups where due_on >= :m0 and due_on < :m1 and done_on <= due_on"
        ),
        "follow_ups_not_done": one(
            "select count(*) from case_follow_ups where due_on >= :m0 and due_on < :m1 and done_on is null"
        ),
        # each client on each worker's individual caseload on any day of the previous month
        "return_expected": one(
            "select count(*) from (select distinct a.staff_file_id, c.id from caseload_assignments a"
            " join clients c on c.tenant_id = a.tenant_id and c.id::text = a.reference"
            " where a.kind = 'individual' and a.starts_on <= :m0 - 1"
            " and coalesce(a.ends_on, :m0) > :prev) x"
        ),
        "month_hours": one(
            "select coalesce(sum(e.attended_hours), 0) from training_enrolments e"
            " join training_sessions s on s.tenant_id = e.tenant_id and s.id = e.session_id"
            " where s.held_on >= :m0 and s.held_on < :m1"
        ),
        "expired": one(
            "select count(*) from staff_certificates where expires_on >= :m0 and expires_on < :m1"
        ),
    }
    means = {}
    for d in DIMENSIONS:
        means[d] = db.session.execute(
            text(
                f"select avg(r.{d}), stddev_pop(r.{d}) from visit_ratings r join visits v on"
                " v.tenant_id = r.tenant_id and v.id = r.visit_id"
                " where (v.starts_at at time zone :tz)::date >= :m0 and (v.starts_at at time"
                " zone :tz)::date < :m1"
            ),
            p,
        ).one()
    out["means"] = means
    return out


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _caseload(world: World, staff, person, starts_on: date, ends_on: date | None = None) -> None:
    """A client on a worker's individual caseload, as assigning a visit records it."""
    from tenants.staffing import services as staffing

    with db.tenant_scope(world.agency.id):
        staffing.assign_caseload(
            staff,
            staffing.CaseloadInput(
                kind="individual",
                label=person.full_name,
                reference=str(person.id),
                starts_on=starts_on,
                ends_on=ends_on,
            ),
            by=world.admin,
        )
        db.session.commit()


def _return_visit(world: World, staff, person, visited_on: date, recorded: datetime) -> None:
    from tenants.scheduling import services as scheduling

    with time_machine.travel(recorded, tick=False), db.tenant_scope(world.agency.id):
        scheduling.record_return_visit(
            world.agency, staff_id=staff.id, client_id=person.id, visited_on=visited_on, notes=""
        )
        db.session.commit()


def test_return_visits_are_owed_for_the_whole_caseload_and_on_time_when_recorded_by_the_due_day(
    factory, dbconn, app_ctx
):
    """September's return visits in October's summary, all made through the
    services with the clock moved: one is owed for each client on each
    worker's caseload in September, seen that month or not; on time means
    recorded by the end of the agency's due day on its own clock (Shanghai,
    8 hours ahead of UTC), whenever the visit itself was made."""
    world = make_world(factory, tz="Asia/Shanghai")
    a, b, c = world.staff
    mei, lan, hua, jun = (
        world.client,
        *(factory.client(world.agency, name, contacts=()) for name in ("Lan Zhou", "Hua Li", "Jun Wu")),
    )
    _caseload(world, a, mei, date(2026, 8, 1))  # all along
    _caseload(world, a, lan, date(2026, 9, 10), date(2026, 9, 20))  # part of September
    _caseload(world, b, hua, date(2026, 9, 1))  # never visited: missing
    _caseload(world, b, jun, date(2026, 8, 1), date(2026, 9, 1))  # ended before September
    _caseload(world, c, jun, date(2026, 10, 5))  # only from October
    sep = datetime(2026, 9, 25, 10, tzinfo=SHANGHAI)
    _return_visit(world, a, mei, date(2026, 9, 25), sep)
    # visited in September, recorded at 23:30 on 7 October in Shanghai (15:30 UTC)
    _return_visit(world, a, lan, date(2026, 9, 18), datetime(2026, 10, 7, 23, 30, tzinfo=SHANGHAI))
    # an October visit counts for October, not for September's list
    _return_visit(world, c, jun, date(2026, 10, 6), datetime(2026, 10, 6, 12, tzinfo=SHANGHAI))

    def september(due_day: int) -> dict:
        _settle(world, {"return_visit_due_day": due_day})
        agency = db.session.get(Agency, world.agency.id)
        with time_machine.travel(NOW, tick=False), db.tenant_scope(world.agency.id):
            return services.compute_figures(agency, OCTOBER)

    f = september(7)
    rv = f["return_visits"]
    assert (rv["month"], rv["due_on"]) == ("2026-09-01", "2026-10-07")
    assert (rv["expected"], rv["on_time"], rv["late"], rv["missing"]) == (3, 2, 0, 1)
    assert f["kpis"]["return_visits"]["value"] == round(100 * 2 / 3, 1)
    # with the 6th as the due day the record of the 7th is late
    rv = september(6)["return_visits"]
    assert (rv["expected"], rv["on_time"], rv["late"], rv["missing"]) == (3, 1, 1, 1)
    # recorded on 8 October at 00:30 in Shanghai, still 7 October in UTC: late by the agency's clock
    _return_visit(world, b, hua, date(2026, 9, 30), datetime(2026, 10, 8, 0, 30, tzinfo=SHANGHAI))
    rv = september(7)["return_visits"]
    assert (rv["expected"], rv["on_time"], rv["late"], rv["missing"]) == (3, 2, 1, 0)
    assert september(8)["return_visits"]["on_time"] == 3


def test_every_figure_matches_an_independent_count(factory, dbconn, app_ctx):
    world = make_world(factory)
    generate(world, OCTOBER)
    with time_machine.travel(NOW, tick=False), db.tenant_scope(world.agency.id):
        f = services.compute_figures(world.agency, OCTOBER)
        want = independent(
            world, OCTOBER, NOW, int(targets.targets_of(world.agency).targets["response_time"])
        )
    v = f["visits"]
    assert v["planned"] > 10  # the generator made a real month
    assert (v["planned"], v["delivered"], v["late"], v["missed"]) == (
        want["planned"],
        want["delivered"],
        want["late"],
        want["missed"],
    )
    assert (v["clients_planned"], v["clients_served"]) == (want["clients_planned"], want["clients_served"])
    assert f["satisfaction"]["n"] == want["ratings"] > 0
    for d in DIMENSIONS:
        mean, sd = want["means"][d]
        assert f["satisfaction"]["dimensions"][d]["mean"] == pytest.approx(float(mean), abs=0.001)
        assert f["satisfaction"]["dimensions"][d]["sd"] == pytest.approx(float(sd), abs=0.001)
    assert f["feedback"]["received"] == want["received"] > 0
    assert f["complaints"]["received"] == want["complaints"]
    assert f["complaints"]["answered_on_time"] == want["complaints_on_time"]
    assert f["complaints"]["overdue"] == want["complaints_overdue"]
    assert sum(c["received"] for c in f["complaints"]["by_category"]) == want["complaints"]
    assert f["feedback"]["resolved"] == want["resolved"]
    assert f["feedback"]["stepped_in_target"] == want["stepped_in_target"]
    assert f["rectifications"]["opened"] == want["rect_opened"]
    assert f["rectifications"]["closed"] == want["rect_closed"]
    assert f["follow_ups"]["on_time"] == want["follow_ups_on_time"]
    assert f["follow_ups"]["not_done"] == want["follow_ups_not_done"]
    assert f["return_visits"]["expected"] == want["return_expected"] > 0
    assert f["training"]["month_hours"] == pytest.approx(float(want["month_hours"]))
    assert f["certificates"]["expired"] == want["expired"]
    assert f["caseload"]["workers"] == 3
    # each KPI follows from the counts
    k = f["kpis"]
    assert k["visits_delivered"]["value"] == round(100 * v["delivered"] / v["planned"], 1)
    assert k["complaints_on_time"]["short"] == want["complaints"] - want["complaints_on_time"]
    assert k["resolution_rate"]["value"] == round(100 * want["resolved"] / want["received"], 1)
    assert 0 <= f["score"] <= 100
    assert not f["empty"]


def test_gap_is_called_out_in_plain_words(app_ctx):
    k = {"value": 91.2, "target": 98.0, "met": False, "short": 3, "of": 34}
    assert services.describe("complaints_on_time", k) == (
        "Complaints answered on time: 91.2% against a target of 98%: 3 of 34 were late."
    )
    met = {"value": 100.0, "target": 98.0, "met": True, "short": 0, "of": 5}
    assert "target 98% met" in services.describe("complaints_on_time", met)


def test_the_month_is_the_agencys_own_daylight_saving_included(factory, dbconn, app_ctx):
    """March 2027 in London starts at 00:00 GMT and ends at 00:00 BST (23:00 UTC
    on the 31st); a visit at 23:30 UTC on 31 March is April's there."""
    world = make_world(factory, tz="Europe/London")
    with db.tenant_scope(world.agency.id):
        for at in (
            datetime(2027, 3, 1, 0, 30, tzinfo=UTC),  # 00:30 GMT, March
            datetime(2027, 2, 28, 23, 30, tzinfo=UTC),  # February
            datetime(2027, 3, 31, 22, 30, tzinfo=UTC),  # 23:30 BST, March
            datetime(2027, 3, 31, 23, 30, tzinfo=UTC),  # 00:30 BST on 1 April
        ):
            db.session.add(
                Visit(
                    client_id=world.client.id,
                    service_item_id=world.item.id,
                    local_day=at.astimezone(world.agency.zone).date(),
                    starts_at=at,
                    ends_at=at + timedelta(hours=1),
                    status="completed",
                )
            )
        db.session.commit()
        with time_machine.travel(datetime(2027, 4, 2, tzinfo=UTC), tick=False):
            march = services.compute_figures(world.agency, date(2027, 3, 1))
            april = services.compute_figures(world.agency, date(2027, 4, 1))
    assert march["visits"]["planned"] == 2
    assert april["visits"]["planned"] == 1
    assert march["window"] == {"from": "2027-03-01T00:00:00+00:00", "to": "2027-04-01T00:00:00+01:00"}


def test_the_sweep_builds_on_the_first_in_each_agencys_time_zone(factory, dbconn, app_ctx):
    shanghai = factory.agency(tz="Asia/Shanghai", locale="zh_CN")
    london = factory.agency(tz="Europe/London")
    backdate(shanghai)
    backdate(london)
    ours = {shanghai.id, london.id}

    def due(now: datetime) -> dict:
        return {a.id: m for a, m in jobs.due_agencies(now) if a.id in ours}

    # 31 Oct 16:30 UTC: already 1 Nov 00:30 in Shanghai, still 31 Oct in London (GMT since 25 Oct)
    assert due(datetime(2026, 10, 31, 16, 30, tzinfo=UTC)) == {
        shanghai.id: OCTOBER,
        london.id: date(2026, 9, 1),
    }
    # in summer, London's 1st starts at 23:00 UTC the day before (BST)
    assert due(datetime(2026, 8, 31, 23, 30, tzinfo=UTC))[london.id] == date(2026, 8, 1)
    assert due(datetime(2026, 8, 31, 22, 30, tzinfo=UTC))[london.id] == date(2026, 7, 1)

    with time_machine.travel(datetime(2026, 10, 31, 16, 30, tzinfo=UTC), tick=False):
        for agency, month in jobs.due_agencies():
            if agency.id == shanghai.id:
                with db.tenant_scope(agency.id):
                    assert services.ensure_build(agency, month)
                    assert not services.ensure_build(agency, month)  # once
                    db.session.commit()
        assert shanghai.id not in due(db.utcnow())
    with db.tenant_scope(shanghai.id):
        assert db.session.scalar(select(QualitySummary.month)) == OCTOBER
    with time_machine.travel(datetime(2026, 11, 1, 0, 30, tzinfo=UTC), tick=False):
        assert due(db.utcnow()) == {london.id: OCTOBER}


def test_a_new_agency_gets_no_summary_of_a_month_before_it_existed(factory, dbconn, app_ctx):
    agency = factory.agency()
    backdate(agency, datetime(2026, 11, 5, tzinfo=UTC))
    assert agency.id not in {a.id for a, _ in jobs.due_agencies(datetime(2026, 11, 21, tzinfo=UTC))}
    assert agency.id in {a.id for a, _ in jobs.due_agencies(datetime(2026, 12, 1, 1, tzinfo=UTC))}


@pytest.fixture(autouse=True)
def _app(app):
    APP.append(app)
    yield
    APP.clear()


APP: list = []


def _build(world_agency: Agency, month: date) -> QualitySummary:
    """Ask for a build and run the job, as the worker would (in the app)."""
    with APP[0].app_context(), db.tenant_scope(world_agency.id):
        summary, queued = services.request_build(world_agency, month)
        assert queued
        db.session.commit()
        jobs.build(summary_id=str(summary.id))
        db.session.commit()
        return db.session.scalar(select(QualitySummary).where(QualitySummary.id == summary.id))


def test_a_month_with_no_data_says_so(factory, client, dbconn):
    world = make_world(factory)
    summary = _build(world.agency, OCTOBER)
    assert summary.state == "done" and summary.figures["empty"] is True
    login(client, world.admin)
    page = client.get(f"/a/{world.agency.slug}/quality/{summary.id}")
    assert page.status_code == 200
    assert "There was no activity to report this month." in page.get_data(as_text=True)
    pdf = client.get(f"/a/{world.agency.slug}/quality/{summary.id}/summary.pdf")
    assert "no activity" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()


def test_rebuild_replaces_the_summary_says_so_and_mails_again(factory, dbconn, app_ctx):
    world = make_world(factory)
    with time_machine.travel(NOW, tick=False):
        first = _build(world.agency, OCTOBER)
        assert first.rebuilds == 0 and first.replaced_at is None
        generate(world, OCTOBER)
        again = _build(world.agency, OCTOBER)
    assert again.id == first.id and again.rebuilds == 1 and again.replaced_at is not None
    assert again.figures["visits"]["planned"] > 0
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(QualitySummary)) == 1
        actions = list(
            db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("quality.%")))
        )
    assert actions.count("quality.summary_built") == 2
    mails = list(
        db.session.scalars(
            select(MailMessage).where(
                MailMessage.agency_id == world.agency.id, MailMessage.kind == "quality.summary"
            )
        )
    )
    assert len(mails) == 2
    rebuilt = [m for m in mails if m.subject.startswith("Rebuilt")]
    assert len(rebuilt) == 1 and "replaces the summary sent earlier" in rebuilt[0].body
    assert "Planned visits delivered" in rebuilt[0].body
    # a redelivered build job changes nothing
    with db.tenant_scope(world.agency.id):
        jobs.build(summary_id=str(first.id))
        db.session.commit()
        assert db.session.get(QualitySummary, (world.agency.id, first.id)).rebuilds == 1


def test_a_rebuild_asked_for_twice_at_once_runs_once(factory, dbconn, app_ctx):
    world = make_world(factory)
    with db.tenant_scope(world.agency.id):
        _, first = services.request_build(world.agency, OCTOBER)
        _, second = services.request_build(world.agency, OCTOBER)
        db.session.commit()
        builds = db.session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.agency_id == world.agency.id, OutboxEntry.job == "quality.build")
        )
    assert (first, second) == (True, False)
    assert builds == 1


def test_a_rebuild_asked_twice_from_the_page_runs_once(factory, client, dbconn):
    world = make_world(factory)
    summary = _build(world.agency, OCTOBER)
    login(client, world.admin)
    url = f"/a/{world.agency.slug}/quality/{summary.id}/rebuild"
    client.post(url)
    page = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "A build of this summary is already under way." in page
    assert 'data-state="queued"' in page
    with db.tenant_scope(world.agency.id):
        jobs_queued = db.session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.agency_id == world.agency.id, OutboxEntry.job == "quality.build")
        )
    assert jobs_queued == 2  # the first build, and one rebuild


def test_a_month_not_over_cannot_be_built(factory, dbconn, app_ctx):
    world = make_world(factory)
    with db.tenant_scope(world.agency.id), pytest.raises(ValueError):
        services.request_build(world.agency, world.agency.today())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("target_coverage", "-5", "Enter a percentage from 0 to 100."),
        ("target_complaints_on_time", "120", "Enter a percentage from 0 to 100."),
        ("target_satisfaction", "7", "Enter a score from 1 to 5."),
        ("target_response_time", "0", "Enter a number of minutes greater than 0 (at most 7 days)."),
        ("weight_coverage", "-1", "Enter a weight from 0 to 100."),
        ("target_resolution_rate", "lots", "Enter a number."),
        ("target_resolution_rate", "nan", "Enter a percentage from 0 to 100."),
    ],
)
def test_nonsense_targets_are_refused_and_nothing_is_saved(factory, client, dbconn, field, value, message):
    world = make_world(factory)
    login(client, world.admin)
    url = f"/a/{world.agency.slug}/quality/targets"
    form = {f"target_{k.key}": str(k.default_target) for k in targets.KPIS}
    form |= {f"weight_{k.key}": "1" for k in targets.KPIS}
    form["target_coverage"] = "99"  # a valid change alongside the bad one
    form[field] = value
    response = client.post(url, data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    agency = db.session.get(Agency, world.agency.id)
    db.session.refresh(agency)
    assert targets.TARGETS_KEY not in (world.agency.settings or {})


def test_targets_are_saved_per_agency_and_recorded(factory, client, dbconn):
    world = make_world(factory)
    login(client, world.admin)
    form = {f"target_{k.key}": str(k.default_target) for k in targets.KPIS}
    form |= {f"weight_{k.key}": str(k.default_weight) for k in targets.KPIS}
    form["target_response_time"] = "30"  # a community service
    form["weight_training"] = "0"
    assert client.post(f"/a/{world.agency.slug}/quality/targets", data=form).status_code == 302
    agency = db.session.get(Agency, world.agency.id)
    db.session.refresh(agency)
    saved = targets.targets_of(agency)
    assert saved.targets["response_time"] == 30 and saved.weights["training"] == 0
    with db.tenant_scope(world.agency.id):
        # the writer's (the World's own setting was recorded when it was set up)
        events = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "settings.changed", AuditEvent.actor_id == world.admin.id
            )
        ).all()
    changed = {e.subject: e.details for e in events}
    assert set(changed) == {targets.TARGETS_KEY, targets.WEIGHTS_KEY}, "each changed setting, by the writer"
    assert changed[targets.TARGETS_KEY]["old"]["response_time"] == 120
    assert changed[targets.TARGETS_KEY]["new"]["response_time"] == 30
    assert changed[targets.WEIGHTS_KEY]["new"]["training"] == 0


# a month no other test builds: browser tests leave committed October
# summaries behind, which would be peers too
PEER_MONTH = date(2025, 6, 1)


def _peer(factory, name: str, planned: int, value: float) -> Agency:
    agency = factory.agency(name=name)
    with db.tenant_scope(agency.id):
        kpi_values = {k.key: {"value": value} for k in targets.KPIS}
        db.session.add(
            QualitySummary(
                month=PEER_MONTH,
                state="done",
                figures={"visits": {"planned": planned}, "kpis": kpi_values},
                built_at=db.utcnow(),
            )
        )
        db.session.commit()
    return agency


def test_peer_position_without_any_other_agencys_name_or_figures(factory, client, dbconn):
    world = make_world(factory)
    generate(world, PEER_MONTH)
    with time_machine.travel(datetime(2025, 7, 2, 10, 0, tzinfo=UTC), tick=False):
        summary = _build(world.agency, PEER_MONTH)
    planned = summary.figures["visits"]["planned"]
    login(client, world.admin)
    url = f"/a/{world.agency.slug}/quality/{summary.id}"
    # four comparable peers: not enough to show a position
    peers = [_peer(factory, f"Peer Agency Zeta{i}", planned, 11.1 * (i + 1) + 0.07) for i in range(4)]
    _peer(factory, "Far Bigger Agency", planned * 10, 0.01)  # not comparable
    page = client.get(url).get_data(as_text=True)
    assert "better than or equal to" not in page
    peers.append(_peer(factory, "Peer Agency Zeta4", planned, 55.57))
    # "too few peers" is kept PEERS_KEPT seconds too (not read again on every view)...
    assert "better than or equal to" not in client.get(url).get_data(as_text=True)
    # ...and a process that has not kept it reads the fifth peer
    quality_queries.forget_peer_positions()
    page = client.get(url).get_data(as_text=True)
    assert "better than or equal to" in page
    pdf_text = PdfReader(io.BytesIO(client.get(url + "/summary.pdf").data)).pages[0].extract_text()
    for body in (page, pdf_text):
        for other in (*peers,):
            assert other.name not in body and other.slug not in body
        assert "Far Bigger Agency" not in body
        for i in range(4):
            assert f"{11.1 * (i + 1) + 0.07:g}" not in body
        assert "55.57" not in body


def test_pdf_text_in_english_and_chinese(factory, client, dbconn):
    world = make_world(factory)
    generate(world, OCTOBER)
    with time_machine.travel(NOW, tick=False):
        english = _build(world.agency, OCTOBER)
    login(client, world.admin)
    data = client.get(f"/a/{world.agency.slug}/quality/{english.id}/summary.pdf")
    assert data.status_code == 200 and data.mimetype == "application/pdf"
    text_en = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data.data)).pages)
    assert "Quality summary for October 2026" in text_en
    assert "Complaints answered on time" in text_en
    assert f"Planned {english.figures['visits']['planned']}\n" in text_en

    chinese = factory.agency(name="康宁居家养老服务中心", tz="Asia/Shanghai", locale="zh_CN")
    backdate(chinese)
    admin, _ = factory.member(chinese, Role.ADMIN)
    admin.locale = "zh_CN"
    db.session.commit()
    with time_machine.travel(NOW, tick=False):
        summary = _build(chinese, OCTOBER)
    assert summary.locale == "zh_CN"
    other = client.application.test_client()
    login(other, admin)
    pdf = other.get(f"/a/{chinese.slug}/quality/{summary.id}/summary.pdf")
    text_zh = "".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    # the glyphs are embedded and extractable: the agency's name and the dates as Babel writes them in Chinese
    assert "康宁居家养老服务中心" in text_zh
    assert "2026年10月质量月报" in text_zh and "2026年11月21日" in text_zh
    # and the summary's own words, translated (this agency had no activity that month)
    assert "质量月报" in text_zh and "本月没有可报告的业务数据" in text_zh


def test_summary_page_statement_count_does_not_grow_with_data(factory, client, dbconn):
    small = make_world(factory)
    big = make_world(factory)
    generate(small, OCTOBER, seed=2, visits=10)
    generate(big, OCTOBER, seed=3, visits=400)
    generate(big, kpis.add_months(OCTOBER, -2), seed=4)
    with time_machine.travel(NOW, tick=False):
        s_small, s_big = _build(small.agency, OCTOBER), _build(big.agency, OCTOBER)
    counts = []
    for world, summary in ((small, s_small), (big, s_big)):
        c = client.application.test_client()
        login(c, world.admin)
        c.get(f"/a/{world.agency.slug}/quality/{summary.id}")
        with count_statements() as counter:
            assert c.get(f"/a/{world.agency.slug}/quality/{summary.id}").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


# statements one sweep build job runs before its commit: the agency, the claim,
# the figures, storing them, the audit entry (one round trip), the admins, one admin's mail
BUILD_STATEMENTS = 7


def sections() -> int:
    """One statement more per area adding its section's figures (tenants/quality/signals.py)."""
    from tenants.quality.signals import summary_figures

    return len(summary_figures.receivers)


def test_build_statement_count_is_fixed(factory, dbconn, app_ctx):
    """One statement for all the figures, and a fixed number per build job,
    whatever the month's size."""
    figures, builds = [], []
    for seed in (0, 1):
        world = make_world(factory)
        if seed:
            generate(world, OCTOBER)
        with db.tenant_scope(world.agency.id):
            with count_statements() as counter:
                services.compute_figures(world.agency, OCTOBER)
            figures.append(counter.count)
            assert services.ensure_build(world.agency, OCTOBER)
            db.session.commit()
            summary_id = db.session.scalar(select(QualitySummary.id))
            db.session.expunge_all()  # as in the worker: nothing loaded yet
            with count_statements() as counter:
                jobs.build(summary_id=str(summary_id), show_progress=False)
            builds.append(counter.count)
            db.session.commit()
            assert db.session.scalar(select(QualitySummary.state)) == "done"
    assert figures == [1 + sections()] * 2
    assert builds == [BUILD_STATEMENTS + sections()] * 2


def test_the_sweep_queues_in_batches_once_each_without_the_progress_step(factory, dbconn, app_ctx):
    worlds = [make_world(factory) for _ in range(3)]
    due = [(w.agency, OCTOBER) for w in worlds]
    assert jobs.queue_builds(due) == 3
    assert jobs.queue_builds(due) == 0  # once
    entries = list(
        db.session.scalars(
            select(OutboxEntry).where(
                OutboxEntry.job == "quality.build", OutboxEntry.agency_id.in_([w.agency.id for w in worlds])
            )
        )
    )
    assert len(entries) == 3 and all(e.args["show_progress"] is False for e in entries)
    for entry in entries:
        with db.tenant_scope(entry.agency_id):
            jobs.build(**entry.args)
            db.session.commit()
            summary = db.session.scalar(select(QualitySummary))
            assert (summary.state, summary.rebuilds, summary.figures["month"]) == ("done", 0, "2026-10-01")
            # a redelivered job changes nothing
            jobs.build(**entry.args)
            db.session.commit()
            built = select(func.count()).where(AuditEvent.action == "quality.summary_built")
            assert db.session.scalar(built) == 1


def test_roles(factory, client, dbconn):
    world = make_world(factory)
    summary = _build(world.agency, OCTOBER)
    base = f"/a/{world.agency.slug}/quality"
    login(client, world.coordinator)
    assert client.get(f"{base}/{summary.id}").status_code == 200
    assert client.get(f"{base}/").status_code == 200
    assert client.post(f"{base}/{summary.id}/rebuild").status_code == 404  # about one object: 404
    assert client.get(f"{base}/targets").status_code == 403
    carer = client.application.test_client()
    user, _ = factory.member(world.agency, Role.CARER)
    login(carer, user)
    assert carer.get(f"{base}/{summary.id}").status_code == 404
    assert carer.get(f"{base}/").status_code == 403


def test_the_archive_lists_each_month_once(factory, client, dbconn):
    world = make_world(factory)
    _build(world.agency, OCTOBER)
    _build(world.agency, date(2026, 9, 1))
    login(client, world.admin)
    page = client.get(f"/a/{world.agency.slug}/quality/").get_data(as_text=True)
    assert page.count('data-testid="quality-row"') == 2
    assert "October 2026" in page


def test_local_month_bounds_in_shanghai():
    window = kpis.Window.of(OCTOBER, ZoneInfo("Asia/Shanghai"), NOW)
    assert window.lo == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert window.hi == datetime(2026, 10, 31, 16, tzinfo=UTC)


# -- the sweep's bulk path ---------------------------------------------------------------------


def _settle(world: World, settings: dict) -> None:
    agency = db.session.get(Agency, world.agency.id)
    agency.settings = {**(agency.settings or {}), **settings}
    db.session.commit()


def _stored(agency: Agency) -> QualitySummary | None:
    with db.tenant_scope(agency.id):
        return db.session.scalar(
            select(QualitySummary)
            .where(QualitySummary.month == OCTOBER)
            .execution_options(populate_existing=True)
        )


def _count_in(agency: Agency, action: str) -> int:
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def _deliver(agency: Agency) -> None:
    """Run the email jobs the sweep queued for this agency's summaries, as the worker would."""
    with db.tenant_scope(agency.id):
        ids = db.session.scalars(select(QualitySummary.id)).all()
        for summary_id in ids:
            jobs.email(summary_id=str(summary_id))
        db.session.commit()


def _mails(agency: Agency) -> int:
    return db.session.scalar(
        select(func.count()).where(MailMessage.agency_id == agency.id, MailMessage.kind == "quality.summary")
    )


def test_the_bulk_path_stores_exactly_the_per_agency_figures(factory, dbconn, app_ctx):
    """Several agencies in one batch, in Shanghai and London, each with its own
    targets and workforce settings: every stored figure equals what the
    per-agency build computes for that agency alone."""
    worlds = [
        make_world(factory, tz="Asia/Shanghai"),
        make_world(factory, tz="Europe/London"),
        make_world(factory, tz="Asia/Shanghai"),
        make_world(factory, tz="Europe/London"),  # no activity at all
    ]
    _settle(
        worlds[0],
        {
            targets.TARGETS_KEY: {"response_time": 30},
            "annual_training_hours": 60,
            "certificate_expiring_days": 10,
            "caseload_limit_individual": 1,
        },
    )
    _settle(worlds[1], {"annual_training_hours": 2, "certificate_expiring_days": 120})
    _settle(worlds[2], {targets.TARGETS_KEY: {"response_time": 600}, "caseload_limit_individual": 0})
    for seed, world in enumerate(worlds[:3], 11):
        generate(world, OCTOBER, seed=seed)
    agencies = [db.session.get(Agency, w.agency.id) for w in worlds]
    with time_machine.travel(NOW, tick=False):
        alone = {}
        for agency in agencies:
            with db.tenant_scope(agency.id):
                alone[agency.id] = services.compute_figures(agency, OCTOBER)
        assert jobs.build_due([(a, OCTOBER) for a in agencies]) == 4
    for agency in agencies:
        summary = _stored(agency)
        assert summary.state == "done" and summary.rebuilds == 0
        assert summary.figures == alone[agency.id]
    figures = [alone[a.id] for a in agencies]
    # the settings were each agency's own, and so were the data
    assert [f["training"]["ytd_required_each"] for f in figures] == [50.0, 1.67, 16.67, 16.67]
    assert [f["certificates"]["window_days"] for f in figures] == [10, 120, 60, 60]
    assert [f["caseload"]["limit_individual"] for f in figures] == [1, 20, 0, 20]
    assert [f["kpis"]["response_time"]["target"] for f in figures] == [30, 120, 600, 120]
    assert [f["timezone"] for f in figures] == ["Asia/Shanghai", "Europe/London"] * 2
    assert figures[0]["window"]["from"] == "2026-10-01T00:00:00+08:00"
    assert len({f["visits"]["planned"] for f in figures[:3]}) == 3 and figures[3]["empty"] is True
    for agency in agencies:
        assert _count_in(agency, "quality.summary_built") == 1
        assert _mails(agency) == 0, "the email is the worker's job, after the commit"
        _deliver(agency)
        _deliver(agency)
        assert _mails(agency) == 1  # the one admin of each world, once


def test_the_batch_store_puts_each_agency_in_scope_and_the_callers_back(factory, dbconn, app_ctx):
    """The batch's summaries and audit entries are written each under its own
    agency (row-level security checks them), each agency's chain verifies,
    and whatever agency the caller had in scope is in scope again after."""
    from saas import audit

    worlds = [make_world(factory, tz=tz) for tz in ("Asia/Shanghai", "Europe/London")]
    caller = make_world(factory)
    due = [(db.session.get(Agency, w.agency.id), OCTOBER) for w in worlds]
    with time_machine.travel(NOW, tick=False), db.tenant_scope(caller.agency.id):
        assert services.build_batch(due) == 2
        in_scope = db.session.scalar(text("select current_setting('app.tenant_id')"))
        assert in_scope == str(caller.agency.id)
        assert db.session.scalar(select(func.count()).select_from(QualitySummary)) == 0
        db.session.commit()
    for agency, _ in due:
        summary = _stored(agency)
        assert (summary.state, summary.built_at, summary.requested_at) == ("done", NOW, NOW)
        assert summary.locale == agency.locale and summary.figures["month"] == "2026-10-01"
        with db.tenant_scope(agency.id):
            entry = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "quality.summary_built"))
            assert (entry.subject, entry.details, entry.actor_id, entry.at) == (
                "2026-10-01",
                {"rebuild": 0},
                None,
                NOW,
            )
            assert audit.verify_chain()[1] == []


def test_the_sweep_run_twice_stores_once(factory, dbconn, app_ctx):
    worlds = [make_world(factory, tz=tz) for tz in ("Asia/Shanghai", "Europe/London")]
    generate(worlds[0], OCTOBER, seed=5, visits=30)
    due = [(db.session.get(Agency, w.agency.id), OCTOBER) for w in worlds]
    with time_machine.travel(NOW, tick=False):
        assert jobs.build_due(due) == 2
        first = {a.id: _stored(a).figures for a, _ in due}
        assert jobs.build_due(due) == 0
    for agency, _ in due:
        with db.tenant_scope(agency.id):
            assert db.session.scalar(select(func.count()).select_from(QualitySummary)) == 1
        assert _stored(agency).figures == first[agency.id]
        assert _count_in(agency, "quality.summary_built") == 1
        _deliver(agency)
        assert _mails(agency) == 1


def test_a_build_asked_for_during_the_sweep_is_not_clobbered(factory, dbconn, app_ctx):
    """The sweep found the agency due, then an admin asked for the month's build
    before the sweep stored it: the sweep leaves the row to that build's job,
    which then builds it with its progress state."""
    world = make_world(factory)
    generate(world, OCTOBER, seed=9, visits=40)
    agency = db.session.get(Agency, world.agency.id)
    with time_machine.travel(NOW, tick=False):
        due = [(a, m) for a, m in jobs.due_agencies() if a.id == agency.id]
        assert due == [(agency, OCTOBER)]
        with db.tenant_scope(agency.id):
            summary, queued = services.request_build(agency, OCTOBER)
            db.session.commit()
        assert queued and summary.state == "queued"
        assert jobs.build_due(due) == 0
        kept = _stored(agency)
        assert (kept.id, kept.state, kept.figures, kept.built_at) == (summary.id, "queued", {}, None)
        assert _count_in(agency, "quality.summary_built") == 0 and _mails(agency) == 0
        with db.tenant_scope(agency.id):
            jobs.build(summary_id=str(summary.id))
            db.session.commit()
    built = _stored(agency)
    assert built.state == "done" and built.figures["visits"]["planned"] > 0
    assert _count_in(agency, "quality.summary_built") == 1 and _mails(agency) == 1


def test_a_rebuild_in_progress_is_not_clobbered_by_the_sweep(factory, dbconn, app_ctx):
    world = make_world(factory)
    agency = db.session.get(Agency, world.agency.id)
    with time_machine.travel(NOW, tick=False):
        assert jobs.build_due([(agency, OCTOBER)]) == 1
        generate(world, OCTOBER, seed=4, visits=30)
        with db.tenant_scope(agency.id):
            summary, queued = services.request_build(agency, OCTOBER)
            db.session.commit()
        assert queued
        # building, as the page shows it, when the sweep comes again
        services._set_state_apart(agency.id, summary.id, BuildState.BUILDING)
        assert jobs.build_due([(agency, OCTOBER)]) == 0
        during = _stored(agency)
        assert (during.state, during.rebuilds, during.figures["empty"]) == ("building", 0, True)
        with db.tenant_scope(agency.id):
            jobs.build(summary_id=str(summary.id))
            db.session.commit()
    rebuilt = _stored(agency)
    assert (rebuilt.state, rebuilt.rebuilds, rebuilt.figures["empty"]) == ("done", 1, False)


def test_the_sweep_hands_agencies_whose_figures_cannot_be_read_to_their_own_jobs(
    factory, dbconn, app_ctx, monkeypatch
):
    worlds = [make_world(factory, tz=tz) for tz in ("Asia/Shanghai", "Europe/London")]
    due = [(db.session.get(Agency, w.agency.id), OCTOBER) for w in worlds]

    def unreadable(*_args, **_kwargs):
        raise RuntimeError("statement timeout")

    monkeypatch.setattr(services, "compute_batch", unreadable)
    with time_machine.travel(NOW, tick=False):
        assert jobs.build_due(due) == 2
    for agency, _ in due:
        summary = _stored(agency)
        assert (summary.state, summary.figures) == ("queued", {})
        entries = db.session.scalars(
            select(OutboxEntry).where(OutboxEntry.job == "quality.build", OutboxEntry.agency_id == agency.id)
        ).all()
        assert [e.args["summary_id"] for e in entries] == [str(summary.id)]


# statements of one batch of the bulk path besides one statement of figures per
# agency (each about that agency only): their summaries and audit entries (each
# agency in scope in turn, inside quality_store_first_builds), and the outbox
# rows of the jobs that email their admins (the platform's table, one INSERT)
BATCH_STATEMENTS = 2


def test_bulk_statement_count_is_one_statement_per_agency_and_the_store(factory, dbconn, app_ctx):
    """A batch costs one statement of figures per agency, whatever the data,
    each under its agency's own scope, then one statement per agency storing
    its summary and audit entry under its scope again (the scope must reach
    Citus's workers by SET LOCAL), and one for the email jobs."""
    small = [make_world(factory)]
    big = [make_world(factory, tz=tz) for tz in ("Asia/Shanghai", "Europe/London", "Asia/Shanghai")]
    for seed, world in enumerate(big):
        generate(world, OCTOBER, seed=20 + seed, visits=150)
    counts, settings, figures = [], [], []
    for worlds in (small, big):
        due = [(db.session.get(Agency, w.agency.id), OCTOBER) for w in worlds]
        db.session.commit()
        with time_machine.travel(NOW, tick=False), count_statements() as counter, count_round_trips() as all_:
            assert services.build_batch(due) == len(worlds)
        db.session.commit()
        counts.append(counter.count)
        figures.append([s for s in counter.statements if "from visits v" in s])
        settings.append(sum(1 for s in all_.statements if s.startswith("SET LOCAL app.tenant_id")))
    # and one per area adding its section's figures, per agency
    per_agency = 1 + sections()
    assert counts == [per_agency + BATCH_STATEMENTS, 3 * (per_agency + 1) + BATCH_STATEMENTS - 1]
    assert [len(f) for f in figures] == [1, 3]
    # per agency: its scope for its figures, for its store, and the caller's back
    # after the store; nothing else grows with the batch
    assert settings[0] <= 4
    assert settings[1] - settings[0] == 2 * 3


# -- cost, hours, anonymous items and the two response-time targets, through the services ----------


def _feedback(world: World, at: datetime, *, steps: dict[str, timedelta], **fields) -> None:
    """An item received at `at` through `submit_feedback`, then moved on through
    `transition` at `at` + each step's delay (the clock moved each time)."""
    from tenants.feedback import services as feedback
    from tenants.feedback.models import FeedbackItem

    with time_machine.travel(at, tick=False):
        item = world.factory.feedback_item(world.agency, **fields)
    for status, after in steps.items():
        with time_machine.travel(at + after, tick=False), db.tenant_scope(world.agency.id):
            row = db.session.scalar(
                select(FeedbackItem)
                .where(FeedbackItem.id == item.id)
                .execution_options(populate_existing=True)
            )
            response = "We called back." if status == "responded" else ""
            feedback.transition(row, status, by=world.admin, response=response)
            db.session.commit()


def test_anonymous_items_closed_without_a_response_are_answered_and_resolved(factory, dbconn, app_ctx):
    """One rule in every figure: an anonymous item (nobody to answer) may be
    closed without a response, and that closing is its answer: on time when
    closed by its deadline, resolved, never overdue."""
    world = make_world(factory)
    day = datetime(2026, 10, 6, 9, tzinfo=UTC)
    # anonymous, closed the next day without a response (its deadline is 3 days)
    _feedback(world, day, kind="opinion", steps={"closed": timedelta(days=1)})
    # anonymous, closed after its deadline: answered late
    _feedback(world, day, kind="complaint", steps={"closed": timedelta(days=5)})
    # named, answered on time and closed
    named = {"contact_name": "Kit Carver", "contact": "07700 900123"}
    _feedback(
        world,
        day,
        kind="complaint",
        steps={"responded": timedelta(days=1), "closed": timedelta(days=2)},
        **named,
    )
    # named, never answered: overdue
    _feedback(world, day, kind="opinion", steps={}, **named)
    with time_machine.travel(NOW, tick=False), db.tenant_scope(world.agency.id):
        f = services.compute_figures(world.agency, OCTOBER)
    fb, c = f["feedback"], f["complaints"]
    assert (fb["received"], fb["answered"], fb["answered_on_time"], fb["resolved"]) == (4, 3, 2, 3)
    assert (c["received"], c["answered_on_time"], c["answered_late"], c["overdue"], c["resolved"]) == (
        2,
        1,
        1,
        0,
        2,
    )
    assert f["kpis"]["resolution_rate"]["value"] == 75.0
    assert f["kpis"]["responses_on_time"]["value"] == 50.0
    assert f["kpis"]["complaints_on_time"]["value"] == 50.0


def test_community_service_requests_and_general_ones_have_their_own_response_target(factory, client, dbconn):
    world = make_world(factory)
    login(client, world.admin)
    form = {f"target_{k.key}": f"{k.default_target:g}" for k in targets.KPIS}
    form |= {f"weight_{k.key}": f"{k.default_weight:g}" for k in targets.KPIS}
    form[targets.COMMUNITY_TOPICS_KEY] = "Community canteen, 社区活动"
    assert client.post(f"/a/{world.agency.slug}/quality/targets", data=form).status_code == 302
    page = client.get(f"/a/{world.agency.slug}/quality/targets").get_data(as_text=True)
    assert "community canteen, 社区活动" in page
    goals = targets.targets_of(db.session.get(Agency, world.agency.id))
    assert goals.targets["response_time_community"] == 30 and goals.targets["response_time"] == 120
    day = datetime(2026, 10, 12, 9, tzinfo=UTC)
    ack = "acknowledged"
    # community-service requests: 20 and 45 minutes to the first step (target 30)
    _feedback(world, day, kind="opinion", category="Community canteen", steps={ack: timedelta(minutes=20)})
    _feedback(world, day, kind="complaint", category="社区活动", steps={ack: timedelta(minutes=45)})
    # general: 45 and 150 minutes (target 120)
    _feedback(world, day, kind="opinion", category="Punctuality", steps={ack: timedelta(minutes=45)})
    _feedback(world, day, kind="opinion", steps={ack: timedelta(minutes=150)})
    agency = db.session.get(Agency, world.agency.id)
    with time_machine.travel(NOW, tick=False), db.tenant_scope(world.agency.id):
        f = services.compute_figures(agency, OCTOBER)
    community, general = f["kpis"]["response_time_community"], f["kpis"]["response_time"]
    assert (community["value"], community["target"], community["short"], community["of"]) == (32.5, 30, 1, 2)
    assert community["met"] is False
    assert (general["value"], general["target"], general["short"], general["of"]) == (97.5, 120, 1, 2)
    assert general["met"] is True
    assert f["feedback"]["stepped_in_target"] == 2
    summary = _build(agency, OCTOBER)
    page = client.get(f"/a/{world.agency.slug}/quality/{summary.id}").get_data(as_text=True)
    assert "Response time, community-service requests" in page and "Response time, general requests" in page


def _check_in_and_out(world: World, visit_id, staff, minutes: int) -> None:
    """The worker checks in at the visit's start and out `minutes` later, through the services."""
    from tenants.scheduling import services as scheduling

    with db.tenant_scope(world.agency.id):
        starts_at = db.session.scalar(select(Visit.starts_at).where(Visit.id == visit_id))
    world.factory.check_in(world.agency, visit_id, staff.id, starts_at)
    with (
        time_machine.travel(starts_at + timedelta(minutes=minutes), tick=False),
        APP[0].test_request_context(),
        db.tenant_scope(world.agency.id),
    ):
        visit = db.session.scalar(
            select(Visit).where(Visit.id == visit_id).execution_options(populate_existing=True)
        )
        scheduling.check_out(
            world.agency,
            visit,
            scheduling.RecordData(
                ticked=[True] * len(visit.checklist),
                what_was_done="Washed and dressed",
                tools_used="",
                outcome="",
                notes="",
                needs_attention=False,
                reason="Finished early.",
            ),
            staff_id=staff.id,
            by=None,
        )
        db.session.commit()


def test_cost_from_the_booked_prices_and_contracted_hours_from_the_service_plans(factory, dbconn, app_ctx):
    """Cost per delivered visit and per client from the price and unit each
    visit was booked under (a per-visit item at 25.00, a per-hour one at
    30.00 for 90 minutes); contracted hours are what the service plan set
    for the month (Mondays and Thursdays, 60 minutes), delivered hours the
    time checked in on its visits."""
    from tenants.catalogue import services as catalogue
    from tenants.catalogue.models import ServiceItem
    from tenants.scheduling import services as scheduling

    with time_machine.travel(datetime(2026, 9, 1, 9, tzinfo=UTC), tick=False):
        world = make_world(factory)
        with db.tenant_scope(world.agency.id):
            category = db.session.scalar(
                select(ServiceItem.category_id).where(ServiceItem.id == world.item.id)
            )
            hourly = catalogue.create_item(
                catalogue.ItemInput(category_id=category, name="Companionship"),
                catalogue.TermsInput(
                    price=Decimal("30.00"), unit="per_hour", duration_minutes=90, checklist=[]
                ),
                by=None,
            ).id
            db.session.commit()
    carer = world.staff[0]
    with time_machine.travel(datetime(2026, 9, 30, 12, tzinfo=UTC), tick=False):
        world.activate()
    with (
        time_machine.travel(datetime(2026, 10, 15, 12, tzinfo=UTC), tick=False),
        db.tenant_scope(world.agency.id),
    ):
        scheduling.generate_visits(world.agency)
        db.session.commit()
    october = [v for v in world.visits() if v.local_day.replace(day=1) == OCTOBER and v.plan_item_id]
    assert [v.local_day.day for v in october] == [1, 5, 8, 12, 15, 19, 22, 26, 29]
    for visit in october[:2]:
        with time_machine.travel(visit.starts_at - timedelta(days=1), tick=False):
            with db.tenant_scope(world.agency.id):
                row = db.session.scalar(select(Visit).where(Visit.id == visit.id))
                scheduling.assign(world.agency, row, carer.id, by=world.coordinator, role="coordinator")
                db.session.commit()
        _check_in_and_out(world, visit.id, carer, 45)
    one_off = factory.visit(
        world.agency,
        world.client.id,
        hourly,
        datetime(2026, 10, 14, 13, tzinfo=UTC),
        minutes=90,
        staff_id=carer.id,
        by=world.coordinator,
    )
    _check_in_and_out(world, one_off.id, carer, 90)
    with time_machine.travel(NOW, tick=False), db.tenant_scope(world.agency.id):
        f = services.compute_figures(world.agency, OCTOBER)
    assert f["visits"]["delivered"] == 3 and f["visits"]["clients_served"] == 1
    assert f["cost"] == {"total": 95.0, "per_visit": 31.67, "per_client": 95.0}
    assert f["hours"] == {"contracted": 9.0, "delivered": 3.0, "delivered_on_plans": 1.5}
    k = f["kpis"]["hours_delivered"]
    assert (k["value"], k["short"], k["of"], k["met"]) == (16.7, 8, 9, False)


def test_the_summary_page_shows_hours_cost_and_the_stated_rules(factory, client, dbconn):
    world = make_world(factory)
    generate(world, OCTOBER, seed=41, visits=40)
    with time_machine.travel(NOW, tick=False):
        summary = _build(world.agency, OCTOBER)
    login(client, world.admin)
    page = client.get(f"/a/{world.agency.slug}/quality/{summary.id}").get_data(as_text=True)
    assert 'data-testid="quality-hours"' in page and "Contracted hours (service plans)" in page
    assert "contracted hours are not counted here" in page
    assert "Anonymous items (no contact, nobody to answer) may be closed without a response" in page
    # a summary built before hours, cost and the community target existed still shows
    with db.tenant_scope(world.agency.id):
        old = dict(summary.figures)
        old.pop("hours"), old.pop("cost")
        old["kpis"] = {
            k: v for k, v in old["kpis"].items() if k not in ("hours_delivered", "response_time_community")
        }
        db.session.execute(
            QualitySummary.__table__.update()
            .where(QualitySummary.__table__.c.id == summary.id)
            .values(figures=old)
        )
        db.session.commit()
    page = client.get(f"/a/{world.agency.slug}/quality/{summary.id}")
    assert page.status_code == 200 and 'data-testid="quality-hours"' not in page.get_data(as_text=True)
    assert client.get(f"/a/{world.agency.slug}/quality/{summary.id}/summary.pdf").status_code == 200
