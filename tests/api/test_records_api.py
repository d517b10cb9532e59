"""The catalogue, training sessions with attendance and the quality
summaries over the API, for the roles that read them."""

from __future__ import annotations

from saas.models import Role


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_catalogue_items_with_the_terms_of_a_day(client, factory):
    agency = factory.agency()
    factory.service_item(agency, "Bathing", price="25.00")
    factory.service_item(agency, "Shopping", category="Daily living", price="12.50")
    _user, membership = factory.member(agency, Role.COORDINATOR)
    token = factory.api_token(membership)
    page = client.get("/api/v1/catalogue/items", query_string={"limit": 1}, headers=bearer(token))
    assert page.status_code == 200 and page.json["next_cursor"]
    rest = client.get(
        "/api/v1/catalogue/items", query_string={"cursor": page.json["next_cursor"]}, headers=bearer(token)
    )
    items = {i["name"]: i for i in page.json["items"] + rest.json["items"]}
    assert items["Shopping"]["terms"]["price"] == "12.50" and items["Bathing"]["terms"]["unit"] == "per_visit"
    before = client.get("/api/v1/catalogue/items", query_string={"on": "2000-01-01"}, headers=bearer(token))
    assert all(i["terms"] is None for i in before.json["items"])
    carer = factory.api_token(factory.member(agency, Role.CARER)[1])
    assert client.get("/api/v1/catalogue/items", headers=bearer(carer)).status_code == 403


def test_training_sessions_and_quality_summaries_for_the_office(client, factory):
    agency = factory.agency()
    _user, membership = factory.member(agency, Role.ADMIN)
    token = factory.api_token(membership)
    sessions = client.get("/api/v1/training/sessions", headers=bearer(token))
    assert sessions.status_code == 200 and sessions.json == {"items": [], "next_cursor": None}
    bad = client.get("/api/v1/training/sessions", query_string={"course_id": "x"}, headers=bearer(token))
    assert bad.status_code == 400 and bad.json["field"] == "course_id"
    summaries = client.get("/api/v1/quality/summaries", headers=bearer(token))
    assert summaries.status_code == 200 and summaries.json["items"] == []
    carer = factory.api_token(factory.member(agency, Role.CARER)[1])
    assert client.get("/api/v1/quality/summaries", headers=bearer(carer)).status_code == 403
    assert client.get("/api/v1/training/sessions", headers=bearer(carer)).status_code == 403


def test_a_session_with_its_attendance(client, factory, dbconn):
    from datetime import timedelta
    from decimal import Decimal

    from saas import db
    from tenants.staffing.settings import local_today
    from tenants.training import services as training
    from tests.scheduling.test_scheduling import World

    world = World(factory)
    _u, staff = world.carer(name="Tia Trainee")
    with db.tenant_scope(world.agency.id):
        course = training.create_course(
            training.CourseInput("Safeguarding adults", "policy_law", "classroom", Decimal(6), "annual")
        )
        session = training.create_session(
            course, training.SessionInput(held_on=local_today() - timedelta(days=1), trainer="Dr Rao")
        )
        enrolment = training.enrol(session, staff)
        training.record_attendance(
            session, {enrolment.id: training.AttendanceInput("completed", Decimal(6))}, by=None
        )
        db.session.commit()
        session_id, course_id = session.id, course.id
    token = factory.api_token(factory.member(world.agency, Role.COORDINATOR)[1])
    listed = client.get(
        "/api/v1/training/sessions", query_string={"course_id": str(course_id)}, headers=bearer(token)
    )
    assert listed.status_code == 200, listed.json
    (row,) = listed.json["items"]
    assert row["id"] == str(session_id) and row["course"] == "Safeguarding adults"
    assert row["enrolments"][0]["staff_id"] == str(staff.id) and row["enrolments"][0]["attended_hours"] == 6
