"""Bad input through the API and the pages: a body that is not a JSON object,
dates at the ends of the calendar, dates outside the sane range and text over
the page's limit get a clear 4xx naming what is wrong, never a 500, and
nothing is saved."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from saas import db
from saas.models import Membership
from tenants.clients import services as clients
from tenants.clients.models import Case
from tenants.feedback.models import FeedbackItem
from tenants.scheduling import services
from tenants.scheduling.models import Visit
from tests.factories import login
from tests.feedback.test_feedback import completed_world, portal_member
from tests.scheduling.test_scheduling import World, assign, first_visit


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def carer_token(factory, world, carer) -> str:
    from tenants.staffing.models import StaffFile

    with db.tenant_scope(world.agency.id):
        membership_id = db.session.scalar(select(StaffFile.membership_id).where(StaffFile.id == carer.id))
        membership = db.session.scalar(select(Membership).where(Membership.id == membership_id))
    return factory.api_token(membership)


def staff_token(factory, world, user) -> str:
    with db.tenant_scope(world.agency.id):
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    return factory.api_token(membership)


NOT_OBJECTS = ("[1, 2]", "5", '"text"', "null", "true", "{", "[" * 100_000 + "]" * 100_000)


def assert_refused_body(client, url: str, token: str) -> None:
    for raw in NOT_OBJECTS:
        response = client.post(url, data=raw, content_type="application/json", headers=bearer(token))
        assert response.status_code == 400, (raw[:20], response.status_code)
        assert "JSON object" in response.json["error"]["message"], raw[:20]


# -- JSON bodies -----------------------------------------------------------------------------


def test_api_bodies_that_are_not_json_objects_are_400(client, factory, dbconn):
    world = completed_world(factory)
    _user, membership = portal_member(factory, world)
    client_token = factory.api_token(membership)
    carer = carer_token(factory, world, world.staff)
    coordinator = staff_token(factory, world, world.coordinator)
    with db.tenant_scope(world.agency.id):
        upcoming = db.session.scalar(
            select(Visit).where(Visit.id != world.visit.id).order_by(Visit.starts_at).limit(1)
        )
    assign(world, upcoming, world.staff)
    # requests that roll back expire the test's objects
    upcoming_id, rated_id, agency_id = upcoming.id, world.visit.id, world.agency.id
    assert_refused_body(client, f"/api/v1/visits/{upcoming_id}/check-in", carer)
    assert_refused_body(client, f"/api/v1/visits/{upcoming_id}/check-out", carer)
    assert_refused_body(client, f"/api/v1/visits/{rated_id}/rating", client_token)
    assert_refused_body(client, "/api/v1/feedback", client_token)
    made = client.post(
        "/api/v1/feedback", json={"kind": "complaint", "description": "Late"}, headers=bearer(client_token)
    )
    assert made.status_code == 200
    assert_refused_body(client, f"/api/v1/feedback/{made.json['id']}/transition", coordinator)
    # a form-encoded body is not JSON either
    form = client.post("/api/v1/feedback", data={"kind": "complaint"}, headers=bearer(client_token))
    assert form.status_code == 400 and "JSON object" in form.json["error"]["message"]
    with db.tenant_scope(agency_id):
        assert db.session.scalar(select(func.count()).select_from(FeedbackItem)) == 1
        fresh = db.session.scalar(
            select(Visit).where(Visit.id == upcoming_id).execution_options(populate_existing=True)
        )
        assert fresh.checked_in_at is None


def test_api_check_in_without_a_body_still_works(client, factory, dbconn):
    import time_machine

    world = World(factory)
    world.activate()
    _user, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    token = carer_token(factory, world, carer)
    with time_machine.travel(visit.starts_at, tick=True):
        response = client.post(f"/api/v1/visits/{visit.id}/check-in", headers=bearer(token))
    assert response.status_code == 200 and response.json["status"] == "in_progress"


def test_api_wrong_types_in_a_body_are_named(client, factory, dbconn):
    world = completed_world(factory)
    _user, membership = portal_member(factory, world)
    token = factory.api_token(membership)
    refused = client.post(
        "/api/v1/feedback", json={"kind": "complaint", "description": ["Late"]}, headers=bearer(token)
    )
    assert refused.status_code == 422 and "description" in refused.json["error"]["message"]
    carer = carer_token(factory, world, world.staff)
    with db.tenant_scope(world.agency.id):
        upcoming = db.session.scalar(
            select(Visit).where(Visit.id != world.visit.id).order_by(Visit.starts_at).limit(1)
        )
    assign(world, upcoming, world.staff)
    out = client.post(
        f"/api/v1/visits/{upcoming.id}/check-out",
        json={"checklist": "yes", "what_was_done": "Bathed"},
        headers=bearer(carer),
    )
    assert out.status_code == 422 and "checklist" in out.json["error"]["message"]


# -- text over the page's limit -----------------------------------------------------------------


def test_api_feedback_over_the_pages_limit_is_refused_not_cut(client, factory, dbconn):
    world = completed_world(factory)
    _user, membership = portal_member(factory, world)
    token = factory.api_token(membership)
    long = client.post(
        "/api/v1/feedback", json={"kind": "complaint", "description": "x" * 100_000}, headers=bearer(token)
    )
    assert long.status_code == 422
    assert "description" in long.json["error"]["message"] and "10000" in long.json["error"]["message"]
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(FeedbackItem)) == 0, "nothing cut and kept"
    at_limit = client.post(
        "/api/v1/feedback", json={"kind": "complaint", "description": "x" * 10_000}, headers=bearer(token)
    )
    assert at_limit.status_code == 200 and len(at_limit.json["description"]) == 10_000
    # the rating comment takes what the page takes (4000), where the API cut at 2000
    good = {"attitude": 5, "process": 4, "effect": 5, "environment": 4, "timeliness": 5}
    url = f"/api/v1/visits/{world.visit.id}/rating"
    too_long = client.post(url, json=dict(good, comment="y" * 4001), headers=bearer(token))
    assert too_long.status_code == 422 and "comment" in too_long.json["error"]["message"]
    rated = client.post(url, json=dict(good, comment="y" * 4000), headers=bearer(token))
    assert rated.status_code == 200 and len(rated.json["comment"]) == 4000


def test_api_service_record_over_the_pages_limit_is_refused(client, factory, dbconn):
    world = World(factory)
    world.activate()
    _user, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    token = carer_token(factory, world, carer)
    import time_machine

    with time_machine.travel(visit.starts_at, tick=True):
        assert (
            client.post(f"/api/v1/visits/{visit.id}/check-in", json={}, headers=bearer(token)).status_code
            == 200
        )
        record = {"checklist": [True, True], "what_was_done": "Bathed", "tools_used": "t" * 501}
        refused = client.post(f"/api/v1/visits/{visit.id}/check-out", json=record, headers=bearer(token))
        assert refused.status_code == 422 and "tools_used" in refused.json["error"]["message"]
        with db.tenant_scope(world.agency.id):
            row = db.session.scalar(
                select(Visit).where(Visit.id == visit.id).execution_options(populate_existing=True)
            )
            assert row.checked_out_at is None


# -- the schedule's date range ------------------------------------------------------------------


def test_api_schedule_refuses_dates_at_the_ends_of_the_calendar(client, factory, dbconn):
    world = World(factory, tz="Asia/Shanghai")
    world.activate()
    _user, carer = world.carer()
    token = carer_token(factory, world, carer)
    for query in (
        "from=9999-12-30&to=9999-12-31",
        "from=0001-01-01&to=0001-01-02",
        "from=3026-01-01&to=3026-01-02",
    ):
        response = client.get(f"/api/v1/my/schedule?{query}", headers=bearer(token))
        assert response.status_code == 422, query
        assert "from" in response.json["error"]["message"], query
    today = clients.agency_today(world.agency)
    wide = client.get(
        f"/api/v1/my/schedule?from={today}&to={today + timedelta(days=400)}", headers=bearer(token)
    )
    assert wide.status_code == 422 and "62" in wide.json["error"]["message"]
    assert client.get("/api/v1/my/schedule?from=9999-99-99", headers=bearer(token)).status_code == 400
    ok = client.get(
        f"/api/v1/my/schedule?from={today}&to={today + timedelta(days=62)}", headers=bearer(token)
    )
    assert ok.status_code == 200


# -- visits: within two years ahead -------------------------------------------------------------


def test_booking_at_the_end_of_the_calendar_is_refused_next_to_the_date(client, factory, dbconn):
    world = World(factory)
    login(client, world.coordinator)
    url = f"/a/{world.agency.slug}/clients/{world.client.id}/visits/new"
    base = {"service_item_id": str(world.item.id), "duration_minutes": "45"}
    for day, start in (("9999-12-31", "23:50"), ("3026-06-01", "10:00")):
        page = client.post(url, data=dict(base, day=day, start_time=start))
        assert page.status_code == 422, day
        assert "within two years" in page.text, day
    assert world.visits() == [], "nothing booked"
    today = clients.agency_today(world.agency)
    ok = client.post(url, data=dict(base, day=str(today + timedelta(days=700)), start_time="10:00"))
    assert ok.status_code == 302


def test_far_ahead_refused_in_the_users_language(client, factory, dbconn):
    world = World(factory)
    world.coordinator.locale = "zh_CN"  # chosen on the profile page
    db.session.commit()
    login(client, world.coordinator)
    url = f"/a/{world.agency.slug}/clients/{world.client.id}/visits/new"
    page = client.post(
        url, data={"service_item_id": str(world.item.id), "duration_minutes": "45", "day": "3026-06-01",
                   "start_time": "10:00"},
    )  # fmt: skip
    assert page.status_code == 422 and "两年" in page.text


def test_rescheduling_to_the_end_of_the_calendar_is_refused(client, factory, dbconn, app):
    world = World(factory)
    world.activate()
    visit = first_visit(world)
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        row = db.session.scalar(select(Visit).where(Visit.id == visit.id))
        for day in (date(9999, 12, 31), date(3026, 1, 1)):
            try:
                services.reschedule(world.agency, row, day=day, start="23:50", reason="x", by=None)
            except services.VisitError as exc:
                assert (exc.code, exc.field) == ("too_far_ahead", "day")
            else:
                raise AssertionError(f"{day} accepted")
    login(client, world.coordinator)
    page = client.post(
        f"/a/{world.agency.slug}/visits/{visit.id}/reschedule",
        data={"day": "9999-12-31", "start_time": "23:50", "reason": "Moved"},
        follow_redirects=True,
    )
    assert page.status_code == 200 and "within two years" in page.text
    [same] = [v for v in world.visits() if v.id == visit.id]
    assert same.starts_at == visit.starts_at


# -- plans: the review date is not in the past --------------------------------------------------


def draft_plan(world):
    with db.tenant_scope(world.agency.id):
        case = db.session.scalar(select(Case).where(Case.id == world.case.id))
        plan = clients.new_plan(case, by=world.coordinator)
        db.session.commit()
    return plan


def test_plan_review_date_in_the_past_is_refused(client, factory, dbconn):
    world = World(factory)
    world.activate()
    plan = draft_plan(world)
    today = clients.agency_today(world.agency)
    with db.tenant_scope(world.agency.id):
        try:
            clients.update_plan(plan, clients.PlanFields("Goal", None, "", date(1999, 1, 1), today, None))
        except clients.ClientError as exc:
            assert (exc.code, exc.field) == ("review_in_past", "review_on")
        else:
            raise AssertionError("a review in 1999 was accepted")
        db.session.rollback()
    login(client, world.coordinator)
    url = f"/a/{world.agency.slug}/plans/{plan.id}"
    form = {"plan-goals": "Goal", "plan-starts_on": str(today), "plan-review_on": "1999-01-01"}
    page = client.post(url, data=form)
    assert page.status_code == 422 and "review date cannot be in the past" in page.text
    ok = client.post(url, data=dict(form, **{"plan-review_on": str(today)}))
    assert ok.status_code == 302


def test_a_plan_ending_before_it_starts_says_so_next_to_the_field(client, factory, dbconn):
    """Not the vague "This change is not allowed.": the plan's own reason."""
    world = World(factory)
    world.activate()
    plan = draft_plan(world)
    today = clients.agency_today(world.agency)
    login(client, world.coordinator)
    form = {
        "plan-goals": "Goal",
        "plan-starts_on": str(today + timedelta(days=10)),
        "plan-ends_on": str(today + timedelta(days=5)),
    }
    page = client.post(f"/a/{world.agency.slug}/plans/{plan.id}", data=form)
    assert page.status_code == 422
    assert "The end cannot be before the start." in page.text
    assert "This change is not allowed." not in page.text


# -- numbers typed with characters Python calls digits but int() refuses ----------------------


def test_superscript_digits_are_refused_not_a_500(client, factory, dbconn):
    """'²'.isdigit() is True but int('²') raises: a page number or a plan's
    start time checked with isdigit() answered 500."""
    world = World(factory)
    world.activate()
    login(client, world.coordinator)
    slug = world.agency.slug
    assert client.get(f"/a/{slug}/clients?page=²").status_code == 200
    plan = draft_plan(world)
    with db.tenant_scope(world.agency.id):
        try:
            clients.add_plan_item(plan, clients.PlanItemData(world.item.id, [1], "²:00", 60))
        except clients.ClientError as exc:
            assert (exc.code, exc.field) == ("time_format", "start_time")
        else:
            raise AssertionError("a start time of ²:00 was accepted")
