"""Visits: generation (daylight saving included), assignment rules, check-in
and out, late and missed flags, return visits, the portal, the feed, the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from saas import db
from saas.models import MailMessage, Role
from tenants.clients import services as clients
from tenants.scheduling import services
from tenants.scheduling.models import ServiceRecord, Visit
from tenants.scheduling.services import AssignmentRefused, VisitError
from tests.factories import login

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)


class World:
    """An agency with a client, an active plan (Mon + Thu 09:00, 60 min) and
    carers, all through the services (carers need no pre-service training in
    this agency). The service item's terms are in effect from the day the
    World is made: make it before the visits a test books."""

    def __init__(self, factory, *, tz="Europe/London", starts_on=None, weekdays=(1, 4)):
        from saas.settings import update_settings
        from tenants.catalogue.models import ServiceItem

        self.factory = factory
        self.agency = factory.agency(tz=tz)
        with db.tenant_scope(self.agency.id):
            update_settings(self.agency, {"pre_service_hours": 0})
            db.session.commit()
        self.admin, _ = factory.member(self.agency, Role.ADMIN)
        self.coordinator, _ = factory.member(self.agency, Role.COORDINATOR)
        item_id = factory.service_item(
            self.agency, "Bathing", category="Personal care", checklist=("Safe transfer", "Skin check")
        )
        with db.tenant_scope(self.agency.id):
            self.item = db.session.get(ServiceItem, (self.agency.id, item_id))
        self.client = factory.client(
            self.agency,
            address="3 Mill Lane",
            latitude=Decimal("51.500000"),
            longitude=Decimal("-0.120000"),
            checkin_radius_m=200,
        )
        self.case = factory.case(self.agency, self.client, by=self.admin)
        self.plan = factory.plan(
            self.agency,
            self.case,
            self.item.id,
            author=self.coordinator,
            approver=self.admin,
            weekdays=weekdays,
            starts_on=starts_on,
        )

    def activate(self):
        with db.tenant_scope(self.agency.id):
            clients.activate_plan(self.plan, self.case, by=self.admin)
            db.session.commit()

    def carer(self, **fields):
        """A carer's membership and staff file through `add_staff` (20
        contracted hours unless `hours`; `availability` as {"mon": [["08:00",
        "12:00"]]}), in the caller's session: no request context, which would
        end it."""
        from tenants.staffing import services as staffing

        user, membership = self.factory.member(self.agency, Role.CARER, name=fields.pop("name", "Cara Carer"))
        availability = {
            day: ", ".join(f"{a}-{b}" for a, b in spans)
            for day, spans in fields.pop("availability", {}).items()
        }
        data = staffing.StaffInput(
            staff_role="carer",
            employment_start=date(2020, 1, 1),
            contracted_hours=Decimal(fields.pop("hours", 20)),
            availability=availability,
            **fields,
        )
        with db.tenant_scope(self.agency.id):
            staff = staffing.add_staff(user.email, "", data, by=None)
            db.session.commit()
        return user, staff

    def visits(self):
        with db.tenant_scope(self.agency.id):
            return list(
                db.session.scalars(select(Visit).where(Visit.status != "cancelled").order_by(Visit.starts_at))
            )


def test_visits_follow_daylight_saving(factory, dbconn):
    # London moves to summer time on Sunday 28 March 2027
    with time_machine.travel(datetime(2027, 3, 20, 12, tzinfo=UTC)):
        world = World(factory, weekdays=(1,))
        world.activate()
        mondays = [v for v in world.visits() if v.local_day in (date(2027, 3, 22), date(2027, 3, 29))]
    assert [v.starts_at.astimezone(UTC).hour for v in mondays] == [9, 8], "09:00 local both weeks"
    assert all(v.ends_at - v.starts_at == timedelta(hours=1) for v in mondays)


def test_shanghai_has_no_daylight_saving(factory, dbconn):
    with time_machine.travel(datetime(2027, 3, 20, 12, tzinfo=UTC)):
        world = World(factory, tz="Asia/Shanghai", weekdays=(1,))
        world.activate()
        hours = {v.starts_at.astimezone(UTC).hour for v in world.visits()}
    assert hours == {1}


def test_generation_is_idempotent_and_windowed(factory, dbconn):
    world = World(factory)
    world.activate()
    first = world.visits()
    with db.tenant_scope(world.agency.id):
        assert services.generate_visits(world.agency) == 0
    assert len(world.visits()) == len(first)
    today = clients.agency_today(world.agency)
    assert all(today <= v.local_day <= today + timedelta(days=28) for v in first)
    assert {v.local_day.isoweekday() for v in first} <= {1, 4} and 7 <= len(first) <= 10


def test_visit_keeps_its_booked_terms(factory, dbconn):
    from tenants.catalogue import services as catalogue
    from tenants.catalogue.models import ServiceItem

    world = World(factory)
    world.activate()
    # new terms from tomorrow (today's are in effect), through the catalogue service
    with db.tenant_scope(world.agency.id):
        catalogue.change_terms(
            db.session.get(ServiceItem, (world.agency.id, world.item.id)),
            clients.agency_today(world.agency) + timedelta(days=1),
            catalogue.TermsInput(
                price=Decimal("99.00"), unit="per_hour", duration_minutes=60, checklist=["New"]
            ),
            by=None,
        )
        db.session.commit()
    visits = world.visits()
    assert any(v.local_day > clients.agency_today(world.agency) for v in visits)
    assert {(v.price, tuple(v.checklist)) for v in visits} == {
        (Decimal("25.00"), ("Safe transfer", "Skin check"))
    }


def test_new_plan_version_replaces_future_visits(factory, dbconn):
    world = World(factory)
    world.activate()
    before = {v.id for v in world.visits()}
    with db.tenant_scope(world.agency.id):
        v2 = clients.new_plan(world.case, by=world.coordinator)
        clients.submit_plan(v2, world.case, by=world.coordinator)
        clients.approve_plan(world.agency, v2, world.case, by=world.admin, role="admin")
        clients.activate_plan(v2, world.case, by=world.admin)
        db.session.commit()
    after = world.visits()
    assert after and {v.plan_id for v in after} == {v2.id} and not before & {v.id for v in after}


def test_a_plan_activated_in_the_afternoon_books_nothing_earlier_that_day(factory, dbconn):
    # Monday 22 March 2027, 15:00 in London: the plan's Monday visit is at 09:00
    with time_machine.travel(datetime(2027, 3, 22, 15, tzinfo=UTC), tick=False):
        world = World(factory, weekdays=(1,))
        world.activate()
        first = world.visits()
        with db.tenant_scope(world.agency.id):
            v2 = clients.new_plan(world.case, by=world.coordinator)
            clients.submit_plan(v2, world.case, by=world.coordinator)
            clients.approve_plan(world.agency, v2, world.case, by=world.admin, role="admin")
            clients.activate_plan(v2, world.case, by=world.admin)
            assert services.flag_late_and_missed(world.agency) == (0, 0), "nothing to report as missed"
            db.session.commit()
        after = world.visits()
    assert first and first[0].local_day == date(2027, 3, 29)
    assert after and after[0].local_day == date(2027, 3, 29) and {v.plan_id for v in after} == {v2.id}


def first_visit(world):
    return world.visits()[0]


def assign(world, visit, staff, **kw):
    with db.tenant_scope(world.agency.id):
        visit = db.session.scalar(
            select(Visit).where(Visit.id == visit.id).execution_options(populate_existing=True)
        )
        services.assign(
            world.agency, visit, staff.id, by=world.coordinator, role=kw.pop("role", "coordinator"), **kw
        )
        db.session.commit()


def refusal_codes(world, visit, staff):
    with db.tenant_scope(world.agency.id), pytest.raises(AssignmentRefused) as err:
        services.assign(
            world.agency,
            db.session.scalar(
                select(Visit).where(Visit.id == visit.id).execution_options(populate_existing=True)
            ),
            staff.id,
            by=world.coordinator,
            role="coordinator",
        )
    db.session.rollback()
    return {r.code.split(":")[0] for r in err.value.refusals}


def test_assignment_checks_each_alone(factory, dbconn):
    from tenants.catalogue import services as catalogue
    from tenants.catalogue.models import ServiceItem
    from tenants.staffing import services as staffing
    from tenants.staffing.models import StaffFile

    world = World(factory)
    world.activate()
    visit = first_visit(world)
    _u, ok = world.carer()
    assign(world, visit, ok)
    _u, busy = world.carer()
    # overlap including the travel buffer: another visit ending 10 minutes before
    factory.visit(
        world.agency,
        world.client.id,
        world.item.id,
        visit.starts_at - timedelta(minutes=70),
        staff_id=busy.id,
    )
    _u, unavailable = world.carer(availability={"sun": [["08:00", "12:00"]]})
    _u, away = world.carer()
    with db.tenant_scope(world.agency.id):
        staffing.add_time_off(
            db.session.get(StaffFile, (world.agency.id, away.id)), visit.local_day, visit.local_day, "Leave"
        )
        services.unassign(db.session.get(Visit, (world.agency.id, visit.id), populate_existing=True))
        db.session.commit()
    assert refusal_codes(world, visit, busy) == {"travel_time"}
    assert refusal_codes(world, visit, unavailable) == {"unavailable"}
    assert refusal_codes(world, visit, away) == {"time_off"}
    # the qualification the service requires: terms asking for one from a later day, and a visit then
    later = visit.local_day + timedelta(days=14)
    with db.tenant_scope(world.agency.id):
        kind = staffing.create_certificate_type("Manual handling")
        catalogue.change_terms(
            db.session.get(ServiceItem, (world.agency.id, world.item.id)),
            later,
            catalogue.TermsInput(
                price=Decimal("25.00"),
                unit="per_visit",
                duration_minutes=60,
                checklist=["Safe transfer", "Skin check"],
                required_certificate_type_id=kind.id,
            ),
            by=None,
        )
        db.session.commit()
    at_noon = datetime.combine(later, datetime.min.time().replace(hour=12), world.agency.zone)
    needs_it = factory.visit(world.agency, world.client.id, world.item.id, at_noon)
    assert needs_it.required_certificate_type_id == kind.id
    assert refusal_codes(world, needs_it, ok) == {"certificate_missing"}


def test_pre_service_training_and_caseload_and_all_reasons_together(factory, dbconn):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    world.agency.settings = {"pre_service_hours": 40, "caseload_limit_individual": 0}
    db.session.commit()
    _u, novice = world.carer(availability={"sun": [["08:00", "09:00"]]})
    assert refusal_codes(world, visit, novice) == {"pre_service_hours", "caseload_full", "unavailable"}


def test_override_needs_a_reason_and_the_right_role(factory, dbconn):
    from saas.models import AuditEvent
    from tenants.scheduling.models import AssignmentOverride

    world = World(factory)
    world.activate()
    visit = first_visit(world)
    _u, away = world.carer(availability={"sun": [["08:00", "09:00"]]})
    for role in ("carer", "coordinator"):
        with db.tenant_scope(world.agency.id), pytest.raises(VisitError) as err:
            services.assign(
                world.agency,
                db.session.scalar(
                    select(Visit).where(Visit.id == visit.id).execution_options(populate_existing=True)
                ),
                away.id,
                by=world.coordinator,
                role=role,
                override_reason="please",
            )
        db.session.rollback()
        assert (err.value.code, err.value.field) == ("override_not_allowed", "override_reason")
    assign(
        world, visit, away, role="admin", override_reason="Client asked for her; she agreed to the extra hour"
    )
    with db.tenant_scope(world.agency.id):
        row = db.session.scalar(
            select(Visit).where(Visit.id == visit.id).execution_options(populate_existing=True)
        )
        assert row.staff_file_id == away.id and row.assignment_override_reason.startswith("Client asked")
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit.assignment_override"))
        kept = db.session.scalars(select(AssignmentOverride)).all()
        assert [(o.visit_id, o.staff_file_id, o.refusals) for o in kept] == [
            (visit.id, away.id, ["unavailable"])
        ]


def test_refusal_page_names_every_reason(client, factory, dbconn):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    world.agency.settings = {"pre_service_hours": 40}
    db.session.commit()
    _u, novice = world.carer(name="Nina Novice", availability={"sun": [["08:00", "09:00"]]})
    login(client, world.coordinator)
    response = client.post(
        f"/a/{world.agency.slug}/visits/{visit.id}/assign", data={"staff_id": str(novice.id)}
    )
    assert response.status_code == 422
    assert "pre-service training" in response.text and "weekly pattern" in response.text


def test_suggestions_rank_continuity_and_fairness(factory, dbconn):
    world = World(factory)
    world.activate()
    visits = world.visits()
    _u, regular = world.carer(name="Regular Rita")
    _u, other = world.carer(name="Other Olga")
    assign(world, visits[0], regular)
    with db.tenant_scope(world.agency.id):
        target = db.session.scalar(select(Visit).where(Visit.id == visits[1].id))
        ranked = services.suggest(world.agency, target)
    assert [s.name for s in ranked[:2]] == ["Regular Rita", "Other Olga"]
    assert any("visited this client" in r for r in ranked[0].reasons)


def test_suggestions_leave_out_who_has_left_by_the_visit_day(factory, dbconn):
    """Employment ends on `employment_end`, exclusive (StaffFile.leaves_after):
    a carer whose last day was the day before is not suggested, one leaving
    the day after still is."""
    world = World(factory)
    world.activate()
    day = world.visits()[1].local_day
    world.carer(name="Gone Gina", employment_end=day)
    world.carer(name="Staying Sam", employment_end=day + timedelta(days=1))
    with db.tenant_scope(world.agency.id):
        target = db.session.scalar(select(Visit).where(Visit.id == world.visits()[1].id))
        names = [s.name for s in services.suggest(world.agency, target)]
    assert "Staying Sam" in names and "Gone Gina" not in names


def test_bulk_assign_plan(factory, dbconn):
    world = World(factory)
    world.activate()
    _u, carer = world.carer()
    with db.tenant_scope(world.agency.id):
        assigned, refused = services.bulk_assign(world.agency, world.plan, carer.id, by=world.coordinator)
        db.session.commit()
    assert assigned == len(world.visits()) and refused == 0
    assert {v.staff_file_id for v in world.visits()} == {carer.id}


def test_reschedule_and_cancel_notify(factory, dbconn, app):
    world = World(factory)
    world.activate()
    carer_user, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        row = db.session.scalar(
            select(Visit).where(Visit.id == visit.id).execution_options(populate_existing=True)
        )
        with pytest.raises(VisitError):
            services.reschedule(world.agency, row, day=date(2020, 1, 1), start="10:00", reason="x", by=None)
        with pytest.raises(VisitError):
            services.reschedule(
                world.agency, row, day=row.local_day + timedelta(days=1), start="10:00", reason=" ", by=None
            )
        services.reschedule(
            world.agency,
            row,
            day=row.local_day + timedelta(days=1),
            start="11:00",
            reason="Carer training",
            by=None,
        )
        services.cancel(world.agency, row, reason="Client in hospital", by=None)
        db.session.commit()
    kinds = db.session.scalars(
        select(MailMessage.kind).where(MailMessage.to_address == carer_user.email)
    ).all()
    assert sorted(kinds) == ["visit.cancelled", "visit.rescheduled"]


def test_check_in_and_out_rules(factory, dbconn):
    world = World(factory)
    world.activate()
    _u, carer = world.carer()
    _u, other = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    with (
        time_machine.travel(visit.starts_at - timedelta(minutes=5), tick=False),
        db.tenant_scope(world.agency.id),
    ):
        row = db.session.scalar(
            select(Visit).where(Visit.id == visit.id).execution_options(populate_existing=True)
        )
        record = services.RecordData([True, False], "Bathed", "hoist", "calm", "check the rash", False)
        with pytest.raises(VisitError) as err:
            services.check_out(world.agency, row, record, staff_id=carer.id, by=None)
        assert err.value.code == "not_checked_in"
        with pytest.raises(VisitError) as err:
            services.check_in(world.agency, row, staff_id=other.id)
        assert err.value.code == "not_yours"
        with pytest.raises(VisitError) as err:
            services.check_in(world.agency, row, staff_id=carer.id, latitude="north", longitude="1")
        assert err.value.code == "position_invalid"
        services.check_in(world.agency, row, staff_id=carer.id, latitude="51.510000", longitude="-0.120000")
        assert row.checkin_outside_radius and 1100 < row.checkin_distance_m < 1120, (
            "about 1.1 km away: flagged"
        )
        assert row.checked_in_at == db.utcnow(), "the server's time, frozen here"
        with pytest.raises(VisitError) as err:
            services.check_in(world.agency, row, staff_id=carer.id)
        assert err.value.code == "already_checked_in"
        with pytest.raises(VisitError) as err:
            services.check_out(
                world.agency,
                row,
                services.RecordData([True], "x", "", "", "", False),
                staff_id=carer.id,
                by=None,
            )
        assert err.value.code == "checklist_mismatch"
        # a point unticked and a check-out at once: a reason is asked for, by its field
        with pytest.raises(VisitError) as err:
            services.check_out(world.agency, row, record, staff_id=carer.id, by=None)
        assert (err.value.code, err.value.field) == ("reason_unticked_and_short", "reason")
        assert row.checked_out_at is None and row.status == "in_progress"
        record.reason = "  Skin check refused: she was cold. Left early for the GP.  "
        services.check_out(world.agency, row, record, staff_id=carer.id, by=None)
        db.session.commit()
        saved = db.session.scalar(select(ServiceRecord).where(ServiceRecord.visit_id == visit.id))
    assert saved.checklist_done == [
        {"point": "Safe transfer", "done": True},
        {"point": "Skin check", "done": False},
    ]
    assert row.status == "completed" and row.checked_out_at > row.checked_in_at
    assert saved.checkout_reason == "Skin check refused: she was cold. Left early for the GP."


def test_a_check_out_asks_for_a_reason_only_when_points_are_unticked_or_the_stay_short(factory, dbconn, app):
    world = World(factory)
    world.activate()
    _u, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    booked = visit.ends_at - visit.starts_at
    checked_in = visit.starts_at + timedelta(minutes=2)
    with db.tenant_scope(world.agency.id):
        row = db.session.get(Visit, (world.agency.id, visit.id))
        row.checked_in_at = checked_in
        # a quarter of the booked length, to the second: short just before, not from then on
        assert services.reason_needed(row, [True, True], checked_in + booked / 4) == []
        assert services.reason_needed(row, [True, True], checked_in + booked / 4 - timedelta(seconds=1)) == [
            "short"
        ]
        assert services.reason_needed(row, [True, False], checked_in + booked) == ["unticked"]
        db.session.rollback()
    # every point ticked, checked out half-way through: no reason needed, none stored
    with db.tenant_scope(world.agency.id):
        with time_machine.travel(checked_in, tick=False):
            row = db.session.get(Visit, (world.agency.id, visit.id))
            services.check_in(world.agency, row, staff_id=carer.id)
        with time_machine.travel(checked_in + booked / 2, tick=False):
            done = services.RecordData([True, True], "Bathed", "", "", "", False)
            record = services.check_out(world.agency, row, done, staff_id=carer.id, by=None)
        db.session.commit()
    assert record.checkout_reason == "" and row.status == "completed"


def test_short_check_out_without_a_reason_is_refused_and_says_the_planned_minutes(factory, dbconn, app):
    world = World(factory)
    world.activate()
    _u, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    with pytest.raises(VisitError) as err:
        factory.complete_visit(world.agency, visit.id, carer.id, reason="")
    quarter = int((visit.ends_at - visit.starts_at).total_seconds() / 60 / 4)
    assert (err.value.code, err.value.params["minutes"]) == ("reason_short", quarter)


def test_needs_attention_alerts_coordinators(factory, dbconn, app):
    world = World(factory)
    world.activate()
    _u, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    factory.complete_visit(
        world.agency, visit.id, carer.id, what_was_done="Bathed", notes="fell", needs_attention=True
    )
    to = set(db.session.scalars(select(MailMessage.to_address).where(MailMessage.kind == "visit.attention")))
    assert {world.coordinator.email, world.admin.email} <= to


def test_late_then_missed(factory, dbconn):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    with db.tenant_scope(world.agency.id):
        late, missed = services.flag_late_and_missed(world.agency, visit.starts_at + timedelta(minutes=10))
        assert (late, missed) == (0, 0), "inside the 15-minute grace"
        late, _ = services.flag_late_and_missed(world.agency, visit.starts_at + timedelta(minutes=16))
        assert late == 1
        late, missed = services.flag_late_and_missed(world.agency, visit.ends_at + timedelta(minutes=1))
        assert (late, missed) == (0, 1)
        row = db.session.scalar(
            select(Visit).where(Visit.id == visit.id).execution_options(populate_existing=True)
        )
        assert row.status == "missed" and row.late_flagged_at is not None
        with pytest.raises(VisitError):
            services.resolve_flag(row, "", None)
        services.resolve_flag(row, "Client was out; rebooked", None)
        db.session.commit()


def test_return_visits_due_by_the_seventh(factory, dbconn):
    world = World(factory)
    world.activate()
    _u, carer = world.carer(name="Rowan")
    visit = first_visit(world)
    assign(world, visit, carer)
    month = visit.local_day.replace(day=1)
    with db.tenant_scope(world.agency.id):
        rows = services.return_visits_for(month)
        assert [(r.worker, r.client, r.done_on) for r in rows] == [("Rowan", "Edith Carver", None)]
        nxt = (month + timedelta(days=32)).replace(day=7)
        assert rows[0].due_on == nxt
        with pytest.raises(VisitError):
            services.record_return_visit(
                world.agency,
                staff_id=carer.id,
                client_id=world.client.id,
                visited_on=date(2099, 1, 1),
                notes="",
            )
        # on the visit's day: it may be next month's (today is the 31st, say)
        with time_machine.travel(visit.ends_at + timedelta(hours=1), tick=False):
            services.record_return_visit(
                world.agency,
                staff_id=carer.id,
                client_id=world.client.id,
                visited_on=visit.local_day,
                notes="fine",
            )
        assert services.return_visits_for(month)[0].done_on == visit.local_day


def test_carer_schedule_pages_and_checkin_flow(client, factory, dbconn):
    world = World(factory)
    world.activate()
    carer_user, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    with time_machine.travel(visit.starts_at - timedelta(minutes=2), tick=True):
        login(client, carer_user)
        page = client.get(f"/a/{world.agency.slug}/my/schedule")
        assert page.status_code == 200 and "Edith Carver" in page.text and "3 Mill Lane" in page.text
        sheet = client.get(f"/a/{world.agency.slug}/visits/{visit.id}")
        assert "Safe transfer" in sheet.text and "Check in" in sheet.text
        client.post(f"/a/{world.agency.slug}/visits/{visit.id}/check-in", data={})
        bad = client.post(f"/a/{world.agency.slug}/visits/{visit.id}/check-out", data={"what_was_done": ""})
        assert bad.status_code == 422
        record = {"point-0": "on", "what_was_done": "Bathed and dressed"}
        # a point unticked and checked out at once: asked for a reason, next to its field
        asked = client.post(f"/a/{world.agency.slug}/visits/{visit.id}/check-out", data=record)
        assert asked.status_code == 422
        reason_field = asked.text[
            asked.text.index('name="reason"') - 600 : asked.text.index('name="reason"') + 600
        ]
        assert "Some checklist points are not ticked and the visit lasted less than a quarter" in reason_field
        assert "Bathed and dressed" in asked.text, "what was typed is kept"
        done = client.post(
            f"/a/{world.agency.slug}/visits/{visit.id}/check-out",
            data={**record, "reason": "Skin check: she did not want it today."},
        )
        assert done.status_code == 302
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(Visit.status).where(Visit.id == visit.id)) == "completed"
    # the reason is on the visit's record, for the carer and for the office
    for who in (carer_user, world.coordinator):
        login(client, who)
        shown = client.get(f"/a/{world.agency.slug}/visits/{visit.id}")
        assert 'data-testid="checkout-reason"' in shown.text
        assert "Skin check: she did not want it today." in shown.text


def test_another_carers_visit_is_not_found(client, factory, dbconn):
    world = World(factory)
    world.activate()
    _u, carer = world.carer()
    other_user, _other = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    login(client, other_user)
    assert client.get(f"/a/{world.agency.slug}/visits/{visit.id}").status_code == 404
    assert client.post(f"/a/{world.agency.slug}/visits/{visit.id}/check-in").status_code == 404


def test_client_portal_and_cancel_request(client, factory, dbconn):
    world = World(factory)
    world.activate()
    _u, carer = world.carer(name="Joan Smith")
    visit = first_visit(world)
    assign(world, visit, carer)
    portal_user, membership = factory.member(world.agency, Role.CLIENT)
    with db.tenant_scope(world.agency.id):
        clients.link_portal_member(world.client, membership, "self")
        db.session.commit()
    login(client, portal_user)
    page = client.get(f"/a/{world.agency.slug}/portal")
    assert "with Joan" in page.text and "Smith" not in page.text
    client.post(f"/a/{world.agency.slug}/portal/visits/{visit.id}/cancel-request", data={"reason": "Away"})
    from tenants.scheduling.models import CancellationRequest

    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(CancellationRequest.reason)) == "Away"


def test_calendar_feed_is_private_and_revocable(client, factory, dbconn):
    world = World(factory)
    world.activate()
    carer_user, carer = world.carer()
    assign(world, first_visit(world), carer)
    login(client, carer_user)
    page = client.post(f"/a/{world.agency.slug}/my/calendar", data={"action": "issue"})
    url = page.text.split('data-testid="feed-url">')[1].split("<")[0].replace("http://localhost", "")
    feed = client.get(url)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert "BEGIN:VEVENT" in feed.text and "Edith" in feed.text and "Carver" not in feed.text
    client.post(f"/a/{world.agency.slug}/my/calendar", data={"action": "revoke"})
    assert client.get(url).status_code == 404
    assert client.get("/calendar/nonsense.ics").status_code == 404


def test_my_visits_without_a_staff_file_offers_no_calendar(client, factory, dbconn):
    """An admin with no staff file in the agency sees "My visits" empty, and
    no link to a calendar feed of visits they cannot have (it answered 404)."""
    world = World(factory)
    world.activate()
    login(client, world.admin)
    page = client.get(f"/a/{world.agency.slug}/my/schedule")
    assert page.status_code == 200 and "You have no staff file in this agency yet." in page.text
    assert "/my/calendar" not in page.text
    assert client.get(f"/a/{world.agency.slug}/my/calendar").status_code == 404
    carer_user, _carer = world.carer()
    login(client, carer_user)
    assert (
        f'href="/a/{world.agency.slug}/my/calendar"' in client.get(f"/a/{world.agency.slug}/my/schedule").text
    )


def test_api_schedule_check_in_and_out(client, factory, dbconn):
    world = World(factory)
    world.activate()
    _carer_user, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    from tenants.staffing.models import StaffFile

    with db.tenant_scope(world.agency.id):
        membership_id = db.session.scalar(select(StaffFile.membership_id).where(StaffFile.id == carer.id))
        from saas.models import Membership

        membership = db.session.scalar(select(Membership).where(Membership.id == membership_id))
    token = factory.api_token(membership)
    headers = {"Authorization": f"Bearer {token}"}
    day = visit.starts_at.astimezone(services.tz_of(world.agency)).date()
    schedule = client.get(f"/api/v1/my/schedule?from={day}&to={day}", headers=headers).json
    assert [v["id"] for v in schedule["visits"]] == [str(visit.id)]
    assert client.get("/api/v1/my/schedule?from=2026-13-01", headers=headers).status_code == 400
    with time_machine.travel(visit.starts_at, tick=True):
        r = client.post(
            f"/api/v1/visits/{visit.id}/check-in",
            json={"latitude": 51.5, "longitude": -0.12},
            headers=headers,
        )
        assert r.status_code == 200 and r.json["status"] == "in_progress"
        again = client.post(f"/api/v1/visits/{visit.id}/check-in", json={}, headers=headers)
        assert again.status_code == 409
        body = {"checklist": [True, True], "what_was_done": "Bathed"}
        # checked out at once: the problem names the field, in the token holder's language
        short = client.post(f"/api/v1/visits/{visit.id}/check-out", json=body, headers=headers)
        assert short.status_code == 400 and short.json["error"]["field"] == "reason"
        assert "less than a quarter of its planned time" in short.json["error"]["message"]
        out = client.post(
            f"/api/v1/visits/{visit.id}/check-out",
            json={**body, "reason": "The client went to hospital."},
            headers=headers,
        )
        assert out.status_code == 200 and out.json["status"] == "completed"
    with db.tenant_scope(world.agency.id):
        reason = db.session.scalar(
            select(ServiceRecord.checkout_reason).where(ServiceRecord.visit_id == visit.id)
        )
    assert reason == "The client went to hospital."
    assert client.post("/api/v1/my/calendar", headers=headers).json["url"].endswith(".ics")


def test_schedule_and_client_file_cost_the_same_at_any_size(client, factory, dbconn):
    from tests.sqlcount import count_statements

    world = World(factory)
    world.activate()
    carer_user, carer = world.carer()
    with db.tenant_scope(world.agency.id):
        services.bulk_assign(world.agency, world.plan, carer.id, by=None)
        db.session.commit()
    login(client, carer_user)
    with count_statements() as small:
        assert client.get(f"/a/{world.agency.slug}/my/schedule").status_code == 200
    with db.tenant_scope(world.agency.id):
        now = db.utcnow()
        for i in range(40):
            start = now + timedelta(hours=2 + i)
            db.session.add(
                Visit(
                    client_id=world.client.id,
                    service_item_id=world.item.id,
                    local_day=start.date(),
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                    staff_file_id=carer.id,
                )
            )
        db.session.commit()
    with count_statements() as large:
        assert client.get(f"/a/{world.agency.slug}/my/schedule").status_code == 200
    assert large.count == small.count, large.statements
    login(client, world.admin)
    with count_statements() as small_file:
        client.get(f"/a/{world.agency.slug}/clients/{world.client.id}")
    with db.tenant_scope(world.agency.id):
        # row by row: Citus refuses an UPDATE computing a timestamptz from its own column
        for visit in db.session.scalars(select(Visit)):
            visit.starts_at -= timedelta(days=60)
            visit.status = "completed"
        db.session.commit()
    with count_statements() as large_file:
        client.get(f"/a/{world.agency.slug}/clients/{world.client.id}")
    assert large_file.count == small_file.count


def test_one_off_visit_and_bad_input(client, factory, dbconn):
    world = World(factory)
    login(client, world.coordinator)
    url = f"/a/{world.agency.slug}/clients/{world.client.id}/visits/new"
    base = {"service_item_id": str(world.item.id), "start_time": "10:00", "duration_minutes": "45"}
    past = client.post(url, data=dict(base, day="2020-01-01"))
    assert past.status_code == 422 and "cannot be booked in the past" in past.text
    bad_time = client.post(url, data=dict(base, day="2099-01-01", start_time="25:99"))
    assert bad_time.status_code == 422 and "HH:MM" in bad_time.text
    assert world.visits() == [], "nothing half-saved"
    ok = client.post(url, data=dict(base, day=str(clients.agency_today(world.agency) + timedelta(days=3))))
    assert ok.status_code == 302
    [visit] = world.visits()
    assert visit.price == Decimal("25.00") and visit.ends_at - visit.starts_at == timedelta(minutes=45)


def test_api_my_visits_for_a_client(client, factory, dbconn):
    world = World(factory)
    world.activate()
    _u, carer = world.carer(name="Joan Smith")
    assign(world, first_visit(world), carer)
    _portal_user, membership = factory.member(world.agency, Role.CLIENT)
    with db.tenant_scope(world.agency.id):
        clients.link_portal_member(world.client, membership, "self")
        db.session.commit()
    token = factory.api_token(membership)
    visits = client.get("/api/v1/my/visits", headers={"Authorization": f"Bearer {token}"}).json["visits"]
    assert visits[0]["id"] == str(first_visit(world).id) and visits[0]["carer"] == "Joan"
    assert client.get("/api/v1/my/schedule", headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_review_fixes_feed_follows_membership_and_bad_month(client, factory, dbconn, app):
    world = World(factory)
    world.activate()
    carer_user, carer = world.carer()
    assign(world, first_visit(world), carer)
    login(client, carer_user)
    page = client.post(f"/a/{world.agency.slug}/my/calendar", data={"action": "issue"})
    url = page.text.split('data-testid="feed-url">')[1].split("<")[0].replace("http://localhost", "")
    assert client.get(url).status_code == 200
    assert client.get(f"/a/{world.agency.slug}/return-visits?month=9999-12").status_code == 200
    admin = app.test_client()
    login(admin, world.admin)
    from tenants.staffing.models import StaffFile

    with db.tenant_scope(world.agency.id):
        membership_id = db.session.scalar(select(StaffFile.membership_id).where(StaffFile.id == carer.id))
    admin.post(f"/a/{world.agency.slug}/members/{membership_id}/deactivate")
    assert client.get(url).status_code == 404, "the feed stops with the membership"


def test_a_carer_taken_off_by_a_reschedule_is_told(factory, dbconn, app):
    world = World(factory)
    world.activate()
    carer_user, carer = world.carer(availability={"mon": [["08:00", "12:00"]], "thu": [["08:00", "12:00"]]})
    visit = first_visit(world)
    assign(world, visit, carer)
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        row = db.session.scalar(select(Visit).where(Visit.id == visit.id))
        services.reschedule(
            world.agency,
            row,
            day=row.local_day + timedelta(days=1),
            start="20:00",
            reason="Evening instead",
            by=None,
        )
        db.session.commit()
        assert row.staff_file_id is None, "the new time is outside her pattern"
    sent = db.session.scalar(
        select(MailMessage.kind).where(
            MailMessage.to_address == carer_user.email, MailMessage.kind == "visit.rescheduled"
        )
    )
    assert sent == "visit.rescheduled"
