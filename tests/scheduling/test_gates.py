"""The assignment gates nobody talks past, overrides only by those allowed
(and kept), visits never booked in the past, and a plan's preferred carer
given its visits where every check passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import date as date_
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from saas import db
from saas.models import AuditEvent, Membership
from tenants.clients import services as clients
from tenants.clients.models import ServicePlanItem
from tenants.scheduling import services
from tenants.scheduling.models import AssignmentOverride, Visit
from tenants.scheduling.services import AssignmentRefused
from tests.factories import login
from tests.scheduling.test_scheduling import World, first_visit

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)


def fresh(visit_id):
    return db.session.scalar(
        select(Visit).where(Visit.id == visit_id).execution_options(populate_existing=True)
    )


def try_assign(world, visit, staff, *, role, reason=""):
    """The refusal `assign` raised (None: it went through, and is committed)."""
    with db.tenant_scope(world.agency.id):
        try:
            services.assign(
                world.agency, fresh(visit.id), staff.id, by=world.admin, role=role, override_reason=reason
            )
        except services.VisitError as exc:
            db.session.rollback()
            return exc
        db.session.commit()
    return None


def busy_with(world, visit, staff, *, minutes_before):
    """Another visit for `staff` ending `minutes_before` the visit starts
    (negative: it runs into the visit)."""
    world.factory.visit(
        world.agency,
        world.client.id,
        world.item.id,
        visit.starts_at - timedelta(minutes=60 + minutes_before),
        staff_id=staff.id,
    )


def test_a_double_booking_is_refused_whoever_asks_whatever_the_reason(factory, dbconn):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    _u, busy = world.carer()
    busy_with(world, visit, busy, minutes_before=-30)
    refused = try_assign(world, visit, busy, role="admin", reason="She said she can do both")
    assert isinstance(refused, AssignmentRefused) and not refused.overridable
    assert [r.code for r in refused.refusals] == ["overlap"]
    # the other visit's own time and client: an hour starting 30 minutes before this one
    other = (visit.starts_at - timedelta(minutes=30)).astimezone(world.agency.zone)
    assert refused.refusals[0].message == (
        f"Overlaps {other:%H:%M}–{other + timedelta(hours=1):%H:%M} with {world.client.full_name}."
    )
    assert "travel time" not in refused.refusals[0].message
    with db.tenant_scope(world.agency.id):
        assert fresh(visit.id).staff_file_id is None
        assert db.session.scalars(select(AssignmentOverride)).all() == []


def test_a_near_miss_is_travel_time_which_only_an_admin_overrides(factory, dbconn):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    _u, near = world.carer()
    busy_with(world, visit, near, minutes_before=10)
    refused = try_assign(world, visit, near, role="coordinator")
    assert isinstance(refused, AssignmentRefused) and refused.overridable
    assert [r.code for r in refused.refusals] == ["travel_time"]
    assert refused.refusals[0].message.startswith("Only 10 minutes between this visit and ")
    assert refused.refusals[0].message.endswith(f"with {world.client.full_name}: travel needs 15.")
    refused = try_assign(world, visit, near, role="coordinator", reason="Next door")
    assert (refused.code, refused.field) == ("override_not_allowed", "override_reason")
    assert try_assign(world, visit, near, role="admin", reason="Next door") is None
    with db.tenant_scope(world.agency.id):
        kept = db.session.scalar(select(AssignmentOverride))
        assert (kept.refusals, kept.reason, kept.by_user_id) == (["travel_time"], "Next door", world.admin.id)


def test_certificate_training_and_caseload_gates_need_an_admin_and_are_kept(factory, dbconn):
    from saas.settings import update_settings
    from tenants.staffing import services as staffing

    world = World(factory)
    world.activate()
    visit = first_visit(world)
    with db.tenant_scope(world.agency.id):
        kind = staffing.create_certificate_type("First aid")
        update_settings(
            world.agency,
            {
                "required_certificate_types": {"carer": [str(kind.id)]},
                "pre_service_hours": 40,
                "caseload_limit_individual": 0,
            },
        )
        db.session.commit()
    _u, novice = world.carer()
    refused = try_assign(world, visit, novice, role="coordinator")
    assert {r.code.split(":")[0] for r in refused.refusals} == {
        "certificate_missing",
        "pre_service_hours",
        "caseload_full",
    }
    assert try_assign(world, visit, novice, role="coordinator", reason="x").code == "override_not_allowed"
    assert try_assign(world, visit, novice, role="admin", reason="Shadowing an experienced carer") is None
    with db.tenant_scope(world.agency.id):
        kept = db.session.scalar(select(AssignmentOverride))
        assert {c.split(":")[0] for c in kept.refusals} == {
            "certificate_missing",
            "pre_service_hours",
            "caseload_full",
        }
        entry = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit.assignment_override"))
        assert entry.details["reason"] == "Shadowing an experienced carer"
        assert fresh(visit.id).staff_file_id == novice.id


def test_the_pages_offer_the_override_to_admins_only(client, factory, dbconn):
    from saas.settings import update_settings

    world = World(factory)
    world.activate()
    visit = first_visit(world)
    with db.tenant_scope(world.agency.id):
        update_settings(world.agency, {"pre_service_hours": 40})
        db.session.commit()
    _u, novice = world.carer(name="Nina Novice")
    url = f"/a/{world.agency.slug}/visits/{visit.id}"

    login(client, world.coordinator)
    page = client.get(url)
    assert page.status_code == 200 and 'name="override_reason"' not in page.text
    refused = client.post(f"{url}/assign", data={"staff_id": str(novice.id)})
    assert refused.status_code == 422 and "pre-service training" in refused.text
    assert 'name="override_reason"' not in refused.text and "Only an admin can assign" in refused.text
    # posted all the same: refused next to the field, nothing kept
    forced = client.post(f"{url}/assign", data={"staff_id": str(novice.id), "override_reason": "Trust me"})
    assert forced.status_code == 422
    assert "Only someone allowed to override assignments" in forced.text
    assert 'name="override_reason"' in forced.text
    with db.tenant_scope(world.agency.id):
        assert fresh(visit.id).staff_file_id is None
        assert db.session.scalars(select(AssignmentOverride)).all() == []

    login(client, world.admin)
    assert 'name="override_reason"' in client.get(url).text
    too_long = client.post(f"{url}/assign", data={"staff_id": str(novice.id), "override_reason": "x" * 1001})
    assert too_long.status_code == 422
    done = client.post(
        f"{url}/assign", data={"staff_id": str(novice.id), "override_reason": "Shadowing Rosa on this visit"}
    )
    assert done.status_code == 302
    sheet = client.get(url).text
    assert "Assigned despite the checks" in sheet and "Shadowing Rosa on this visit" in sheet
    assert "pre-service training" in sheet
    staff_file = client.get(f"/a/{world.agency.slug}/staff/{novice.id}").text
    assert "Visits assigned despite the checks" in staff_file and "Shadowing Rosa on this visit" in staff_file


# -- never in the past ---------------------------------------------------------------------------


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "Europe/London", "America/New_York"])
def test_a_plan_activated_at_night_books_nothing_earlier_that_day(factory, dbconn, tz):
    # 21:20 local on a Wednesday; the plan's visits are every day at 10:00
    at = datetime(2027, 6, 16, 21, 20, tzinfo=ZoneInfo(tz))
    with time_machine.travel(at, tick=False):
        world = World(factory, tz=tz, weekdays=(1, 2, 3, 4, 5, 6, 7))
        world.activate()
        visits = world.visits()
    assert visits and min(v.local_day for v in visits) == at.date() + timedelta(days=1)
    assert all(v.starts_at > at for v in visits)


def test_a_plan_activated_now_books_only_slots_to_come(factory, dbconn):
    """At whatever instant the run is moved to: a line a minute before the
    agency's clock, one a minute after; the first is booked from tomorrow,
    the second from today (when today still has that minute)."""
    world = World(factory, tz="Asia/Shanghai", weekdays=(1, 2, 3, 4, 5, 6, 7))
    now = world.agency.local_now()
    before, after = now - timedelta(minutes=1), now + timedelta(minutes=2)
    with db.tenant_scope(world.agency.id):
        v2 = clients.new_plan(world.case, by=world.coordinator)
        for line in db.session.scalars(select(ServicePlanItem).where(ServicePlanItem.plan_id == v2.id)):
            clients.remove_plan_item(v2, line)
        for moment in (before, after):
            clients.add_plan_item(
                v2, clients.PlanItemData(world.item.id, list(range(1, 8)), moment.strftime("%H:%M"), 30)
            )
        clients.submit_plan(v2, world.case, by=world.coordinator)
        clients.approve_plan(world.agency, v2, world.case, by=world.admin, role="admin")
        clients.activate_plan(v2, world.case, by=world.admin)
        db.session.commit()
    visits = world.visits()
    cutoff = db.utcnow()
    assert visits and all(v.starts_at > cutoff - timedelta(seconds=5) for v in visits)
    by_time = {}
    for v in visits:
        by_time.setdefault(v.starts_at.astimezone(world.agency.zone).strftime("%H:%M"), []).append(
            v.local_day
        )
    today = now.date()
    if before.date() == today:
        assert min(by_time[before.strftime("%H:%M")]) == today + timedelta(days=1)
    if after.date() == today:
        assert min(by_time[after.strftime("%H:%M")]) == today


# -- the preferred carer ---------------------------------------------------------------------------


def plan_with_preferred(world, preferred, *, weekdays=(1, 2, 3, 4, 5, 6, 7), start="10:00"):
    """A new version of the world's plan: one line with `preferred` carers
    (their memberships, as the plan page stores them), approved, not active."""
    with db.tenant_scope(world.agency.id):
        plan = clients.new_plan(world.case, by=world.coordinator)
        for line in db.session.scalars(select(ServicePlanItem).where(ServicePlanItem.plan_id == plan.id)):
            clients.remove_plan_item(plan, line)
        clients.add_plan_item(
            plan,
            clients.PlanItemData(
                world.item.id,
                list(weekdays),
                start,
                60,
                preferred_staff_ids=[s.membership_id for s in preferred],
            ),
        )
        clients.submit_plan(plan, world.case, by=world.coordinator)
        clients.approve_plan(world.agency, plan, world.case, by=world.admin, role="admin")
        db.session.commit()
        return plan


def test_activation_gives_visits_to_the_preferred_carer_where_every_check_passes(client, factory, dbconn):
    with time_machine.travel(datetime(2027, 6, 14, 8, tzinfo=UTC), tick=False):  # a Monday, 09:00 London
        world = World(factory)
        _u, rosa = world.carer(name="Rosa Regular")
        _u, other = world.carer(name="Other Olga")
        plan = plan_with_preferred(world, [rosa])
        # Rosa is already out on Thursday at 10:00 for another client
        thursday = datetime(2027, 6, 17, 10, tzinfo=world.agency.zone)
        factory.visit(world.agency, world.client.id, world.item.id, thursday, staff_id=rosa.id)
        login(client, world.admin)
        response = client.post(f"/a/{world.agency.slug}/plans/{plan.id}/activate", follow_redirects=True)
        assert response.status_code == 200
        visits = [v for v in world.visits() if v.plan_id == plan.id]
    open_days = [v.local_day for v in visits if v.staff_file_id is None]
    assert open_days == [thursday.date()]
    assert {v.staff_file_id for v in visits if v.staff_file_id} == {rosa.id}
    assert f"{len(visits)} visits booked; {len(visits) - 1} given to their preferred carer." in response.text
    assert (
        "1 visit stays without a carer" in response.text
        and "another visit at the same time (1)" in response.text
    )
    assert other.id not in {v.staff_file_id for v in visits}


def test_activation_never_overrides_a_gate_for_the_preferred_carer(factory, dbconn):
    from saas.settings import update_settings

    with time_machine.travel(datetime(2027, 6, 14, 8, tzinfo=UTC), tick=False):
        world = World(factory)
        with db.tenant_scope(world.agency.id):
            update_settings(world.agency, {"pre_service_hours": 40})
            db.session.commit()
        _u, novice = world.carer(name="Nina Novice")
        plan = plan_with_preferred(world, [novice])
        with db.tenant_scope(world.agency.id):
            answers = clients.activate_plan(plan, world.case, by=world.admin)
            db.session.commit()
        visits = [v for v in world.visits() if v.plan_id == plan.id]
    assert visits and all(v.staff_file_id is None for v in visits)
    [answer] = answers
    assert (answer.booked, answer.assigned, answer.left_open) == (len(visits), 0, len(visits))
    assert answer.reasons == {"pre-service training": len(visits)}
    with db.tenant_scope(world.agency.id):
        assert db.session.scalars(select(AssignmentOverride)).all() == []


# -- visits at risk ----------------------------------------------------------------------------------


def test_visits_whose_carer_lapses_are_listed_and_the_carer_warned_at_check_in(client, factory, dbconn):
    from saas.settings import update_settings
    from tenants.scheduling import queries
    from tenants.staffing import services as staffing
    from tenants.staffing.models import StaffFile
    from tests.sqlcount import count_statements

    with time_machine.travel(datetime(2027, 6, 13, 12, tzinfo=UTC), tick=False):  # a Sunday
        world = World(factory)
        world.activate()
        visits = world.visits()
        lena_user, lapsing = world.carer(name="Lena Lapsing")
        carer_user, never = world.carer(name="Ned Never")
        with db.tenant_scope(world.agency.id):
            kind = staffing.create_certificate_type("First aid")
            staffing.add_certificate(
                db.session.get(StaffFile, (world.agency.id, lapsing.id)),
                staffing.CertificateInput(
                    kind.id, "FA-1", "Red Cross", date_(2026, 6, 1), date_(2027, 6, 20)
                ),
                by=None,
            )
            db.session.commit()
        for visit in visits[:3]:
            assert try_assign(world, visit, lapsing, role="coordinator") is None
        assert try_assign(world, visits[3], never, role="coordinator") is None
        with db.tenant_scope(world.agency.id):
            assert queries.visits_at_risk(world.agency, db.utcnow()) == []
            # the agency now requires first aid of its carers: nobody was refused, so re-check
            update_settings(world.agency, {"required_certificate_types": {"carer": [str(kind.id)]}})
            db.session.commit()
            with count_statements() as counted:
                rows = queries.visits_at_risk(world.agency, db.utcnow())
        # Mon 14 and Thu 17 are covered by Lena's certificate; Mon 21 is not, nor anything of Ned's
        assert [(r.visit_id, r.carer, r.code) for r in rows] == [
            (visits[2].id, "Lena Lapsing", "certificate_expired"),
            (visits[3].id, "Ned Never", "certificate_missing"),
        ]
        assert counted.count <= 4

        login(client, world.coordinator)
        board = client.get(f"/a/{world.agency.slug}/visits")
        assert board.status_code == 200 and "Visits at risk" in board.text
        assert (
            "Ned Never" in board.text
            and "No valid certificate on the day of the visit: First aid." in board.text
        )
        assert "A certificate expires before the visit" in board.text

    # Ned checks in all the same: warned, not refused
    with time_machine.travel(visits[3].starts_at - timedelta(minutes=5), tick=False):
        login(client, carer_user)
        response = client.post(
            f"/a/{world.agency.slug}/visits/{visits[3].id}/check-in", follow_redirects=True
        )
        assert response.status_code == 200
        assert "Checked in." in response.text and "Tell your coordinator" in response.text
        with db.tenant_scope(world.agency.id):
            assert fresh(visits[3].id).checked_in_at is not None
            entry = db.session.scalar(
                select(AuditEvent)
                .where(AuditEvent.action == "visit.checked_in")
                .order_by(AuditEvent.at.desc())
            )
            assert entry.details["lapsed"] == [f"certificate_missing:{kind.id}"]

    # Lena checks in from her phone on the visit her certificate no longer covers: warned too
    with time_machine.travel(visits[2].starts_at - timedelta(minutes=5), tick=False):
        with db.tenant_scope(world.agency.id):
            membership = db.session.scalar(select(Membership).where(Membership.user_id == lena_user.id))
        token = factory.api_token(membership)
        answer = client.post(
            f"/api/v1/visits/{visits[2].id}/check-in", json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json["status"] == "in_progress"
        (warning,) = answer.json["warnings"]
        assert "First aid" in warning


def test_training_short_of_a_raised_requirement_puts_visits_at_risk(factory, dbconn):
    from saas.settings import update_settings
    from tenants.scheduling import queries
    from tests.sqlcount import count_statements

    world = World(factory)
    world.activate()
    visits = world.visits()
    _u, carer = world.carer(name="Tia Trainee")
    for visit in visits[:2]:
        assert try_assign(world, visit, carer, role="coordinator") is None
    with db.tenant_scope(world.agency.id):
        update_settings(world.agency, {"pre_service_hours": 40})
        db.session.commit()
        with count_statements() as counted:
            rows = queries.visits_at_risk(world.agency, db.utcnow())
    assert [(r.visit_id, r.code, r.hours, r.required) for r in rows] == [
        (v.id, "pre_service_hours", 0, 40) for v in visits[:2]
    ]
    assert counted.count <= 4


def test_bad_assignment_input_is_shown_next_to_its_field_and_keeps_nothing(client, factory, dbconn):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    login(client, world.admin)
    url = f"/a/{world.agency.slug}/visits/{visit.id}/assign"
    unknown = client.post(url, data={"staff_id": "not-a-carer"})
    assert unknown.status_code == 422 and "Choose a carer from the list." in unknown.text
    missing = client.post(url, data={"staff_id": str(visit.id)})
    assert missing.status_code == 422
    with db.tenant_scope(world.agency.id):
        assert fresh(visit.id).staff_file_id is None
