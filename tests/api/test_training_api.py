"""Training sessions over the API: planning one (course managers), reading it
and recording its attendance (those who run training), with the training
pages' rules, the token's scopes, a repeated Idempotency-Key answered once and
problem documents naming the field."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from saas import db
from saas.models import Role
from tenants.staffing.models import Certificate
from tenants.staffing.settings import local_today
from tenants.training import services as training
from tenants.training.models import Enrolment, TrainingSession
from tests.staffing import workforce_helpers as wf


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def sessions(agency) -> int:
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(func.count()).select_from(TrainingSession))


def enrol(factory, agency, session_id, staff_id) -> uuid.UUID:
    with wf.in_agency(factory.app, agency):
        row = db.session.scalar(select(TrainingSession).where(TrainingSession.id == session_id))
        return training.enrol(row, wf.staff_file(staff_id)).id


def today_of(factory, agency):
    with wf.in_agency(factory.app, agency):
        return local_today()


def test_a_course_manager_plans_a_session_once_and_reads_it(client, factory):
    agency = factory.agency()
    _u, admin = factory.member(agency, Role.ADMIN)
    token = factory.api_token(admin)
    course_id = wf.course(factory.app, agency, title="Safe moving", hours="6")
    held_on = (today_of(factory, agency) + timedelta(days=14)).isoformat()
    body = {"course_id": str(course_id), "held_on": held_on, "trainer": "Tess Trainer", "capacity": 8}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    made = client.post("/api/v1/training/sessions", json=body, headers=bearer(token, **key))
    assert made.status_code == 201, made.json
    assert made.json["course"] == "Safe moving" and made.json["capacity"] == 8
    assert made.json["held_on"] == held_on and made.json["enrolments"] == []
    again = client.post("/api/v1/training/sessions", json=body, headers=bearer(token, **key))
    assert again.status_code == 201 and again.json == made.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert sessions(agency) == 1

    _c, coordinator = factory.member(agency, Role.COORDINATOR)
    read = client.get(
        f"/api/v1/training/sessions/{made.json['id']}", headers=bearer(factory.api_token(coordinator))
    )
    assert read.status_code == 200 and read.json == made.json and read.headers["ETag"]
    listed = client.get("/api/v1/training/sessions", headers=bearer(token)).json["items"]
    assert listed == [made.json]


def test_bad_session_input_names_the_field_and_keeps_nothing(client, factory):
    agency, other = factory.agency(), factory.agency()
    _u, admin = factory.member(agency, Role.ADMIN)
    token = factory.api_token(admin)
    course_id = wf.course(factory.app, agency)
    theirs = wf.course(factory.app, other)
    body = {"course_id": str(course_id), "held_on": "2027-03-01", "trainer": "Tess Trainer", "capacity": 8}
    cases = [
        ({**body, "course_id": str(theirs)}, "course_id"),  # another agency's course is not found
        ({**body, "course_id": "nonsense"}, "course_id"),
        ({k: v for k, v in body.items() if k != "course_id"}, "course_id"),
        ({**body, "held_on": "soon"}, "held_on"),
        ({**body, "trainer": ""}, "trainer"),
        ({**body, "capacity": 0}, "capacity"),
        ({**body, "capacity": 2.5}, "capacity"),
        ({**body, "location": "x" * 301}, "location"),
    ]
    for sent, field in cases:
        response = client.post("/api/v1/training/sessions", json=sent, headers=bearer(token))
        assert response.status_code == 422, (field, response.json)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json["field"] == field and response.json["detail"], (field, response.json)
    assert sessions(agency) == 0 and sessions(other) == 0


def test_attendance_is_recorded_all_or_nothing(client, factory):
    agency = factory.agency()
    _u, coordinator = factory.member(agency, Role.COORDINATOR)
    token = factory.api_token(coordinator)
    kind = wf.cert_type(factory.app, agency, "Moving and handling")
    course_id = wf.course(factory.app, agency, hours="6", grants=kind, validity=24)
    held_on = today_of(factory, agency) - timedelta(days=2)
    session_id = wf.session(factory.app, agency, course_id, held_on)
    people = [wf.staff(factory, agency, name=name)[2] for name in ("Ann", "Ben", "Cat")]
    enrolments = [enrol(factory, agency, session_id, staff) for staff in people]
    url = f"/api/v1/training/sessions/{session_id}/attendance"

    def statuses() -> list[str]:
        with db.tenant_scope(agency.id):
            found = dict(db.session.execute(select(Enrolment.id, Enrolment.status)).all())
        return [found[e] for e in enrolments]

    cases = [
        ([{"enrolment_id": str(enrolments[0]), "status": "partial"}], "attendance-0-hours"),
        (
            [
                {"enrolment_id": str(enrolments[0]), "status": "completed"},
                {"enrolment_id": str(enrolments[1]), "status": "completed", "hours": 7},
            ],
            "attendance-1-hours",
        ),
        ([{"enrolment_id": str(enrolments[0]), "status": "maybe"}], "attendance-0-status"),
        ([{"enrolment_id": str(uuid.uuid4()), "status": "completed"}], "attendance-0-enrolment_id"),
        ([{"enrolment_id": str(enrolments[0])}], "attendance-0-status"),
        ([{"enrolment_id": str(enrolments[0]), "status": "absent", "hours": "1"}], "attendance-0-hours"),
        ("everyone", "attendance"),
    ]
    for entries, field in cases:
        response = client.post(url, json={"attendance": entries}, headers=bearer(token))
        assert response.status_code == 422, (field, response.json)
        assert response.json["field"] == field, (field, response.json)
    assert statuses() == ["enrolled"] * 3

    entries = [
        {"enrolment_id": str(enrolments[0]), "status": "completed"},
        {"enrolment_id": str(enrolments[1]), "status": "partial", "hours": 2.5},
        {"enrolment_id": str(enrolments[2]), "status": "absent"},
    ]
    key = {"Idempotency-Key": "attendance-1"}
    recorded = client.post(url, json={"attendance": entries}, headers=bearer(token, **key))
    assert recorded.status_code == 200, recorded.json
    assert [(e["status"], e["attended_hours"]) for e in recorded.json["enrolments"]] == [
        ("completed", 6.0),
        ("partial", 2.5),
        ("absent", 0.0),
    ]
    replayed = client.post(url, json={"attendance": entries}, headers=bearer(token, **key))
    assert replayed.status_code == 200 and replayed.json == recorded.json
    assert replayed.headers["Idempotent-Replayed"] == "true"
    with db.tenant_scope(agency.id):
        # the course grants its certificate to who completed it, once
        granted = db.session.scalars(select(Certificate.staff_file_id)).all()
    assert granted == [people[0]]


def test_attendance_waits_for_the_session(client, factory):
    agency = factory.agency()
    _u, admin = factory.member(agency, Role.ADMIN)
    token = factory.api_token(admin)
    course_id = wf.course(factory.app, agency)
    session_id = wf.session(factory.app, agency, course_id, today_of(factory, agency) + timedelta(days=3))
    staff_id = wf.staff(factory, agency)[2]
    enrolment = enrol(factory, agency, session_id, staff_id)
    refused = client.post(
        f"/api/v1/training/sessions/{session_id}/attendance",
        json={"attendance": [{"enrolment_id": str(enrolment), "status": "completed"}]},
        headers=bearer(token),
    )
    assert refused.status_code == 422 and refused.json["detail"], refused.json


def test_roles_scopes_and_other_agencies(client, factory):
    agency, other = factory.agency(), factory.agency()
    course_id = wf.course(factory.app, agency)
    held_on = today_of(factory, agency) - timedelta(days=1)
    session_id = wf.session(factory.app, agency, course_id, held_on)
    enrolment = enrol(factory, agency, session_id, wf.staff(factory, agency)[2])
    their_course = wf.course(factory.app, other)
    theirs = wf.session(factory.app, other, their_course, held_on)
    their_enrolment = enrol(factory, other, theirs, wf.staff(factory, other)[2])
    body = {"course_id": str(course_id), "held_on": "2027-03-01", "trainer": "Tess Trainer", "capacity": 8}
    attendance = {"attendance": [{"enrolment_id": str(enrolment), "status": "completed"}]}

    _c, coordinator = factory.member(agency, Role.COORDINATOR)
    coordinating = factory.api_token(coordinator)
    # coordinators run training but do not plan sessions: that is the course managers'
    refused = client.post("/api/v1/training/sessions", json=body, headers=bearer(coordinating))
    assert refused.status_code == 403 and refused.json["error"]["status"] == 403
    carer_token = factory.api_token(wf.staff(factory, agency, name="Cy Carer")[1])
    assert client.post("/api/v1/training/sessions", json=body, headers=bearer(carer_token)).status_code == 403
    assert (
        client.get(f"/api/v1/training/sessions/{session_id}", headers=bearer(carer_token)).status_code == 404
    )
    refused = client.post(
        f"/api/v1/training/sessions/{session_id}/attendance", json=attendance, headers=bearer(carer_token)
    )
    assert refused.status_code == 404

    _a, admin = factory.member(agency, Role.ADMIN)
    read_only = factory.api_token(admin, ["read", "training"])
    refused = client.post("/api/v1/training/sessions", json=body, headers=bearer(read_only))
    assert (
        refused.status_code == 403 and refused.json["field"] == "scope" and "write" in refused.json["detail"]
    )
    staffing_only = factory.api_token(admin, ["read", "write", "staffing"])
    refused = client.post(
        f"/api/v1/training/sessions/{session_id}/attendance", json=attendance, headers=bearer(staffing_only)
    )
    assert refused.status_code == 403 and "training" in refused.json["detail"]
    assert sessions(agency) == 1

    token = factory.api_token(admin)
    assert client.get(f"/api/v1/training/sessions/{theirs}", headers=bearer(token)).status_code == 404
    foreign = client.post(
        f"/api/v1/training/sessions/{theirs}/attendance",
        json={"attendance": [{"enrolment_id": str(their_enrolment), "status": "completed"}]},
        headers=bearer(token),
    )
    assert foreign.status_code == 404 and str(theirs) not in foreign.text
    # another agency's enrolment in one's own session is not one of its enrolments
    mixed = client.post(
        f"/api/v1/training/sessions/{session_id}/attendance",
        json={"attendance": [{"enrolment_id": str(their_enrolment), "status": "completed"}]},
        headers=bearer(token),
    )
    assert mixed.status_code == 422 and mixed.json["field"] == "attendance-0-enrolment_id"
    with db.tenant_scope(other.id):
        assert (
            db.session.scalar(select(Enrolment.status).where(Enrolment.id == their_enrolment)) == "enrolled"
        )
