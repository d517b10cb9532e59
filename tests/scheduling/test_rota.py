"""The rota board: the week's grid (hours, caseload, the lane), its filters,
assigning from it with the visit sheet's checks and override, its bulk
actions (each reporting what was done and what was refused, and why), the
carers told, and a page that costs the same however many carers and visits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from saas import db
from saas.notifications.models import Notification
from tenants.clients import services as clients
from tenants.scheduling import services
from tenants.scheduling.models import Visit
from tenants.scheduling.services import AssignmentRefused
from tenants.staffing import services as staffing
from tenants.staffing import teams
from tenants.staffing.models import StaffFile, StaffTimeOff
from tests.factories import login
from tests.scheduling.test_scheduling import World, assign, first_visit

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)

HX = {"HX-Request": "true"}


def reload(world, visit_id):
    with db.tenant_scope(world.agency.id):
        return db.session.scalar(
            select(Visit).where(Visit.id == visit_id).execution_options(populate_existing=True)
        )


def week_of(day: date) -> str:
    return (day - timedelta(days=day.weekday())).isoformat()


def told(world, staff, kind):
    with db.tenant_scope(world.agency.id):
        member = db.session.scalar(select(StaffFile.membership_id).where(StaffFile.id == staff.id))
        return db.session.scalars(
            select(Notification.title).where(Notification.membership_id == member, Notification.kind == kind)
        ).all()


# -- the refusal names the real reason ----------------------------------------------------------


def test_a_double_booking_names_the_other_visit_and_its_client(factory, dbconn, app):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    _u, busy = world.carer(name="Bea Busy")
    other = factory.client(world.agency, "Mrs Xu")
    factory.visit(
        world.agency, other.id, world.item.id, visit.starts_at + timedelta(minutes=30), staff_id=busy.id
    )
    _u, close = world.carer(name="Cal Close")
    # ends 10 minutes before: no overlap, but no time to travel either
    factory.visit(
        world.agency, other.id, world.item.id, visit.starts_at - timedelta(minutes=70), staff_id=close.id
    )
    start = visit.starts_at.astimezone(world.agency.zone)
    for staff, expected in (
        (
            busy,
            f"Overlaps {start + timedelta(minutes=30):%H:%M}–{start + timedelta(minutes=90):%H:%M}"
            " with Mrs Xu.",
        ),
        (
            close,
            f"Only 10 minutes between this visit and {(start - timedelta(minutes=70)):%H:%M}–"
            f"{(start - timedelta(minutes=10)):%H:%M} with Mrs Xu: travel needs 15.",
        ),
    ):
        with (
            app.test_request_context(),
            db.tenant_scope(world.agency.id),
            pytest.raises(AssignmentRefused) as err,
        ):
            services.assign(world.agency, reload(world, visit.id), staff.id, by=None, role="admin")
        db.session.rollback()
        assert [r.message for r in err.value.refusals] == [expected]
    assert err.value.refusals[0].overridable, "travel time may be overridden, with a reason"
    with (
        app.test_request_context(),
        db.tenant_scope(world.agency.id),
        pytest.raises(AssignmentRefused) as err,
    ):
        services.assign(
            world.agency, reload(world, visit.id), busy.id, by=None, role="admin", override_reason="x"
        )
    db.session.rollback()
    assert not err.value.overridable, "a double booking is never overridden"


def test_the_chinese_refusal_names_the_other_visit_too(factory, dbconn, app):
    from flask_babel import force_locale

    world = World(factory, tz="Asia/Shanghai")
    world.activate()
    visit = first_visit(world)
    _u, busy = world.carer()
    other = factory.client(world.agency, "王阿姨")
    factory.visit(world.agency, other.id, world.item.id, visit.starts_at, staff_id=busy.id)
    with app.test_request_context(), force_locale("zh_Hans_CN"), db.tenant_scope(world.agency.id):
        with pytest.raises(AssignmentRefused) as err:
            services.assign(world.agency, reload(world, visit.id), busy.id, by=None, role="admin")
        message = err.value.refusals[0].message
    db.session.rollback()
    assert message == "与 王阿姨 09:00–10:00 的探访时间重叠。"


# -- the board --------------------------------------------------------------------------------


def test_the_board_shows_hours_caseload_and_the_lane(client, factory, dbconn):
    world = World(factory)
    world.activate()
    visits = world.visits()
    _u, rita = world.carer(name="Rita Rowe", hours=20)
    _u, olga = world.carer(name="Olga Oak", hours=10)
    assign(world, visits[0], rita)
    login(client, world.coordinator)
    week = week_of(visits[0].local_day)
    page = client.get(f"/a/{world.agency.slug}/rota?week={week}")
    assert page.status_code == 200
    text = page.text
    assert "Rita Rowe" in text and "Olga Oak" in text
    assert "1 of 20 h" in text and "0 of 10 h" in text
    assert "caseload 1/20" in text and "caseload 0/20" in text
    # the lane: the week's other visits of the plan, without a carer
    in_week = [v for v in visits if week_of(v.local_day) == week]
    assert f"{len(in_week) - 1} visit" in text
    assert f'id="c-{rita.id.hex}-{visits[0].local_day.isoformat()}"' in text
    # the day view and bad input: never a 500
    assert client.get(f"/a/{world.agency.slug}/rota?view=day&day={visits[0].local_day}").status_code == 200
    for bad in (
        "week=2026-13-45",
        "day=x&view=day",
        "team=nope&item=zzz&qualification=1",
        "week=1900-01-01",
        "area=" + "a" * 500,
    ):
        assert client.get(f"/a/{world.agency.slug}/rota?{bad}").status_code == 200, bad


def test_filters_narrow_carers_and_lane(client, factory, dbconn):
    world = World(factory)
    with db.tenant_scope(world.agency.id):
        team = teams.create_team(teams.TeamInput(name="North team"))
        kind = staffing.create_certificate_type("Dementia care")
        db.session.commit()
    _u, north = world.carer(name="Nina North", home_area="Northside")
    _u, south = world.carer(name="Sam South", home_area="Southside")
    with db.tenant_scope(world.agency.id):
        teams.place_in_team(db.session.get(StaffFile, (world.agency.id, north.id)), team.id)
        staffing.add_certificate(
            db.session.get(StaffFile, (world.agency.id, south.id)),
            staffing.CertificateInput(kind.id, "DC-1", "Board", date(2020, 1, 1), None),
            by=None,
        )
        db.session.commit()
    world.activate()
    week = week_of(first_visit(world).local_day)
    login(client, world.coordinator)
    base = f"/a/{world.agency.slug}/rota?week={week}"
    by_team = client.get(f"{base}&team={team.id}").text
    assert "Nina North" in by_team and "Sam South" not in by_team
    by_area = client.get(f"{base}&area=Southside").text
    assert "Sam South" in by_area and "Nina North" not in by_area
    assert 'data-testid="rota-lane"' in by_area and "Edith Carver" not in by_area, "the client is in no area"
    by_qualification = client.get(f"{base}&qualification={kind.id}").text
    assert "Sam South" in by_qualification and "Nina North" not in by_qualification
    by_item = client.get(f"{base}&item={world.item.id}").text
    assert "Edith Carver" in by_item


def test_the_board_costs_the_same_at_any_size(client, factory, dbconn):
    from tests.sqlcount import count_statements

    world = World(factory)
    world.activate()
    _u, first = world.carer(name="Ada First")
    assign(world, first_visit(world), first)
    week = week_of(first_visit(world).local_day)
    login(client, world.coordinator)
    url = f"/a/{world.agency.slug}/rota?week={week}"
    with count_statements() as small:
        assert client.get(url).status_code == 200
    monday = date.fromisoformat(week)
    with db.tenant_scope(world.agency.id):
        team = teams.create_team(teams.TeamInput(name="East"))
        db.session.commit()
    for i in range(8):
        _u, carer = world.carer(name=f"Carer {i:02d}", home_area=f"Area {i}")
        with db.tenant_scope(world.agency.id):
            teams.place_in_team(db.session.get(StaffFile, (world.agency.id, carer.id)), team.id)
            staffing.add_time_off(
                db.session.get(StaffFile, (world.agency.id, carer.id)), monday, monday, "Leave"
            )
            for day in range(7):
                for hour in (8, 11, 14):
                    start = services.at_local(world.agency, monday + timedelta(days=day), f"{hour:02d}:00")
                    db.session.add(
                        Visit(
                            client_id=world.client.id,
                            service_item_id=world.item.id,
                            local_day=monday + timedelta(days=day),
                            starts_at=start,
                            ends_at=start + timedelta(minutes=45),
                            staff_file_id=carer.id if hour != 14 else None,
                        )
                    )
            db.session.commit()
    with count_statements() as large:
        page = client.get(url)
    assert page.status_code == 200 and "Carer 07" in page.text
    assert large.count == small.count, large.statements


# -- assigning from the board ---------------------------------------------------------------------


def test_assign_from_the_board_tells_both_carers(client, factory, dbconn):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    _u, rita = world.carer(name="Rita Rowe")
    _u, olga = world.carer(name="Olga Oak")
    assign(world, visit, rita)
    login(client, world.coordinator)
    response = client.post(
        f"/a/{world.agency.slug}/rota/visits/{visit.id}/assign", data={"staff_id": str(olga.id)}, headers=HX
    )
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "rota-changed"
    assert "Visit given to Olga Oak" in response.text and "<html" not in response.text
    assert reload(world, visit.id).staff_file_id == olga.id
    assert told(world, olga, "visit.given") == ["1 visit added to your schedule"]
    assert told(world, rita, "visit.taken_off") == ["1 visit taken off your schedule"]
    response = client.post(f"/a/{world.agency.slug}/rota/visits/{visit.id}/unassign", headers=HX)
    assert response.status_code == 200 and reload(world, visit.id).staff_file_id is None
    assert len(told(world, olga, "visit.taken_off")) == 1
    # without script: the whole page, back to the board
    response = client.post(
        f"/a/{world.agency.slug}/rota/visits/{visit.id}/assign", data={"staff_id": str(rita.id)}
    )
    assert response.status_code == 302 and "/rota" in response.location


def test_a_refusal_from_the_board_names_every_reason_and_offers_the_override_to_admins(
    client, factory, dbconn
):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    world.agency.settings = {"pre_service_hours": 40}
    db.session.commit()
    _u, novice = world.carer(name="Nina Novice", availability={"sun": [["08:00", "09:00"]]})
    url = f"/a/{world.agency.slug}/rota/visits/{visit.id}/assign"
    login(client, world.coordinator)
    response = client.post(url, data={"staff_id": str(novice.id)}, headers=HX)
    assert response.status_code == 200 and "HX-Trigger" not in response.headers
    assert "pre-service training" in response.text and "weekly pattern" in response.text
    assert f'hx-swap-oob="beforeend:#c-{novice.id.hex}-{visit.local_day.isoformat()}"' in response.text
    assert "Only an admin can assign despite these checks." in response.text
    assert 'name="override_reason"' not in response.text
    # a coordinator's reason changes nothing
    client.post(url, data={"staff_id": str(novice.id), "override_reason": "please"}, headers=HX)
    assert reload(world, visit.id).staff_file_id is None
    login(client, world.admin)
    response = client.post(url, data={"staff_id": str(novice.id)}, headers=HX)
    assert 'name="override_reason"' in response.text
    response = client.post(url, data={"staff_id": str(novice.id), "override_reason": "Shadowing"}, headers=HX)
    assert "Visit given to Nina Novice" in response.text
    assert reload(world, visit.id).assignment_override_reason == "Shadowing"
    # without script, a refusal is the whole page with the reasons
    other = world.visits()[1]
    response = client.post(
        f"/a/{world.agency.slug}/rota/visits/{other.id}/assign", data={"staff_id": str(novice.id)}
    )
    assert response.status_code == 422 and "<html" in response.text and "weekly pattern" in response.text


# -- bulk actions --------------------------------------------------------------------------------


def test_a_plans_visits_go_to_its_preferred_carer_except_where_refused(factory, dbconn, app):
    world = World(factory)
    _u, pat = world.carer(name="Pat Preferred")
    today = world.agency.today()
    with db.tenant_scope(world.agency.id):
        staff = db.session.get(StaffFile, (world.agency.id, pat.id))
        away = staffing.add_time_off(staff, today, today + timedelta(days=60), "Holiday")
        plan = clients.new_plan(world.case, by=world.coordinator)
        clients.update_plan(plan, clients.PlanFields("Wash safely", None, "", None, today, None))
        clients.add_plan_item(plan, clients.PlanItemData(world.item.id, [1, 4], "11:00", 60, [pat.id]))
        clients.submit_plan(plan, world.case, by=world.coordinator)
        clients.approve_plan(world.agency, plan, world.case, by=world.admin, role="admin")
        clients.activate_plan(plan, world.case, by=world.admin)
        db.session.commit()
    # the new plan keeps the case's 09:00 line too, which names nobody
    booked = [
        v
        for v in world.visits()
        if v.plan_id == plan.id and v.starts_at.astimezone(world.agency.zone).hour == 11
    ]
    assert booked and all(v.staff_file_id is None for v in booked), "on holiday when the plan started"
    kept_off = booked[1].local_day
    with db.tenant_scope(world.agency.id):
        staffing.remove_time_off(db.session.get(StaffTimeOff, (world.agency.id, away.id)))
        staffing.add_time_off(
            db.session.get(StaffFile, (world.agency.id, pat.id)), kept_off, kept_off, "Dentist"
        )
        db.session.commit()
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        outcome = services.preferred_for_plan(
            world.agency, db.session.get(type(plan), (world.agency.id, plan.id)), by=world.coordinator
        )
        db.session.commit()
    assert len(outcome.placed) == len(booked) - 1
    assert [(left.visit_id, left.carer, left.reasons) for left in outcome.left] == [
        (booked[1].id, "Pat Preferred", ["On time off that day."])
    ]
    assert told(world, pat, "visit.given") == [f"{len(booked) - 1} visits added to your schedule"]


def test_moving_a_carers_day_keeps_what_the_other_cannot_take(factory, dbconn, app):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    day = visit.local_day
    _u, ann = world.carer(name="Ann Away")
    _u, ben = world.carer(name="Ben Busy")
    assign(world, visit, ann)
    later = factory.visit(
        world.agency, world.client.id, world.item.id, visit.starts_at + timedelta(hours=4), staff_id=ann.id
    )
    other = factory.client(world.agency, "Mrs Xu")
    factory.visit(
        world.agency, other.id, world.item.id, visit.starts_at + timedelta(hours=4), staff_id=ben.id
    )
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        with pytest.raises(services.VisitError):
            services.move_day(world.agency, ann.id, day, ann.id, by=None)
        outcome = services.move_day(world.agency, ann.id, day, ben.id, by=world.coordinator)
        db.session.commit()
    assert [p.visit_id for p in outcome.placed] == [visit.id]
    assert [left.visit_id for left in outcome.left] == [later.id]
    assert "with Mrs Xu" in outcome.left[0].reasons[0]
    assert reload(world, later.id).staff_file_id == ann.id, "refused: stays with the first carer"
    assert reload(world, visit.id).staff_file_id == ben.id
    assert told(world, ann, "visit.taken_off") == ["1 visit taken off your schedule"]
    assert told(world, ben, "visit.given") == ["1 visit added to your schedule"]


def test_the_fill_ranks_never_double_books_and_does_what_was_confirmed(client, factory, dbconn):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    _u, regular = world.carer(name="Regular Rita")
    _u, spare = world.carer(name="Spare Sue", availability={"sun": [["08:00", "09:00"]]})
    # Rita has seen the client before (continuity); a second visit at the same time as the first
    earlier = world.visits()[1]
    assign(world, earlier, regular)
    twin = factory.visit(world.agency, world.client.id, world.item.id, visit.starts_at)
    login(client, world.coordinator)
    week = week_of(visit.local_day)
    proposal = client.get(f"/a/{world.agency.slug}/rota/fill?week={week}", headers=HX)
    assert proposal.status_code == 200
    text = proposal.text
    assert f'value="{visit.id}:{regular.id}"' in text or f'value="{twin.id}:{regular.id}"' in text
    assert "Nobody passes every check" in text and "Overlaps" in text, "the twin cannot go to Rita as well"
    assert reload(world, visit.id).staff_file_id is None, "a proposal changes nothing"
    pairs = [p.split('"')[0] for p in text.split('name="pair" value="')[1:]]
    response = client.post(f"/a/{world.agency.slug}/rota/fill", data={"pair": pairs}, headers=HX)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "rota-changed"
    assert f"{len(pairs)} visits given." in response.text or "1 visit given." in response.text
    assert {reload(world, visit.id).staff_file_id, reload(world, twin.id).staff_file_id} == {regular.id, None}
    # confirming the same again: every visit has a carer now, and says so
    again = client.post(f"/a/{world.agency.slug}/rota/fill", data={"pair": pairs[:1]}, headers=HX)
    assert "Someone gave this visit a carer meanwhile." in again.text
    # nothing posted, another agency's ids, rubbish: a message, never a 500
    assert "nothing to fill" in client.post(f"/a/{world.agency.slug}/rota/fill", headers=HX).text
    junk = client.post(
        f"/a/{world.agency.slug}/rota/fill", data={"pair": ["x:y", f"{visit.id}:nope"]}, headers=HX
    )
    assert junk.status_code == 200
    assert f":{spare.id}" not in text, "Sue is never proposed: outside her pattern"


def test_the_fill_confirmation_is_checked_again(factory, dbconn, app):
    """What was proposed is checked again when confirmed: a carer who went on
    leave meanwhile does not get the visit."""
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    _u, rita = world.carer(name="Rita Rowe")
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        proposals = services.propose_fill(world.agency, [reload(world, visit.id)], [rita.id])
        assert [p.staff_file_id for p in proposals] == [rita.id]
        staffing.add_time_off(
            db.session.get(StaffFile, (world.agency.id, rita.id)), visit.local_day, visit.local_day, "Sick"
        )
        outcome = services.fill(world.agency, [(visit.id, rita.id)], by=None)
    assert not outcome.placed and outcome.left[0].reasons == ["On time off that day."]


def test_bulk_pages_without_script_and_a_carer_is_refused(client, factory, dbconn):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    _u, ann = world.carer(name="Ann Away")
    _u, ben = world.carer(name="Ben Busy")
    assign(world, visit, ann)
    login(client, world.coordinator)
    response = client.post(
        f"/a/{world.agency.slug}/rota/move-day",
        data={"from_staff": str(ann.id), "day": visit.local_day.isoformat(), "to_staff": str(ben.id)},
    )
    assert response.status_code == 200 and "<html" in response.text and "1 visit given." in response.text
    bad = client.post(
        f"/a/{world.agency.slug}/rota/move-day",
        data={"from_staff": str(ann.id), "day": "nope", "to_staff": str(ben.id)},
    )
    assert bad.status_code == 422 and "Choose whose day" in bad.text
    same = client.post(
        f"/a/{world.agency.slug}/rota/move-day",
        data={"from_staff": str(ben.id), "day": visit.local_day.isoformat(), "to_staff": str(ben.id)},
    )
    assert same.status_code == 422 and "Choose another carer" in same.text
    no_preferred = client.post(f"/a/{world.agency.slug}/rota/plans/{world.plan.id}/preferred")
    assert no_preferred.status_code == 422 and "no preferred carer" in no_preferred.text
    carer_user, _m = factory.member(world.agency, "carer")
    login(client, carer_user)
    assert client.get(f"/a/{world.agency.slug}/rota").status_code == 403


def test_giving_a_plan_to_one_carer_never_double_books_its_own_visits(factory, dbconn, app):
    """Two lines of one plan at the same hour: the carer takes one of each
    pair; the other stays open (the visit sheet's bulk assignment)."""
    world = World(factory)
    _u, carer = world.carer()
    today = world.agency.today()
    with db.tenant_scope(world.agency.id):
        plan = clients.new_plan(world.case, by=world.coordinator)
        clients.update_plan(plan, clients.PlanFields("Wash safely", None, "", None, today, None))
        clients.add_plan_item(plan, clients.PlanItemData(world.item.id, [1, 4], "09:30", 30))
        clients.submit_plan(plan, world.case, by=world.coordinator)
        clients.approve_plan(world.agency, plan, world.case, by=world.admin, role="admin")
        clients.activate_plan(plan, world.case, by=world.admin)
        db.session.commit()
        assigned, refused = services.bulk_assign(world.agency, plan, carer.id, by=world.coordinator)
        db.session.commit()
    booked = [v for v in world.visits() if v.plan_id == plan.id]
    assert assigned == refused == len(booked) // 2
    for day in {v.local_day for v in booked}:
        assert sum(1 for v in booked if v.local_day == day and v.staff_file_id == carer.id) == 1


def test_the_board_translates_as_much_for_more_carers_and_visits(client, factory, dbconn, monkeypatch):
    """Each row's words (hours, caseload, time off, a visit's status) are
    translated once per page, never once per carer or visit."""
    import flask_babel

    world = World(factory)
    world.activate()
    visit = first_visit(world)
    _u, ada = world.carer(name="Ada First")
    assign(world, visit, ada)
    url = f"/a/{world.agency.slug}/rota?week={week_of(visit.local_day)}"
    login(client, world.coordinator)
    client.get(url)  # the menu's links are rendered once per process (saas.menu)
    lookups: list[int] = []
    real = flask_babel.Domain.get_translations

    def counting(self: flask_babel.Domain) -> object:
        lookups.append(1)
        return real(self)

    monkeypatch.setattr(flask_babel.Domain, "get_translations", counting)
    client.get(url)
    few = len(lookups)
    monday = date.fromisoformat(week_of(visit.local_day))
    for i in range(4):
        _u, carer = world.carer(name=f"Carer {i}", availability={"sun": [["08:00", "12:00"]]})
        with db.tenant_scope(world.agency.id):
            staffing.add_time_off(
                db.session.get(StaffFile, (world.agency.id, carer.id)), monday, monday, "Leave"
            )
            start = services.at_local(world.agency, monday + timedelta(days=2), "13:00")
            db.session.add(
                Visit(
                    client_id=world.client.id,
                    service_item_id=world.item.id,
                    local_day=monday + timedelta(days=2),
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                    staff_file_id=carer.id,
                    status="missed",
                )
            )
            db.session.commit()
    lookups.clear()
    page = client.get(url)
    assert page.text.count('data-testid="rota-carer"') == 5 and page.text.count("(Missed)") == 4
    assert len(lookups) == few
