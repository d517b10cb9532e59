"""Training: courses, sessions, enrolment, attendance (all or nothing),
certificates granted by courses, evaluations, transcripts, compliance."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlalchemy import func, select

from saas import db
from saas.models import Role
from tenants.staffing import services as staffing
from tenants.staffing.models import Certificate
from tenants.training import services as training
from tenants.training import transcripts
from tenants.training.models import Course, Enrolment, TrainingSession
from tests.factories import login
from tests.sqlcount import count_statements
from tests.staffing import workforce_helpers as wf

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)

TODAY = date(2026, 6, 15)


def course_form(**overrides: object) -> dict[str, object]:
    data = {
        "title": "Safeguarding adults",
        "category": "policy_law",
        "form": "classroom",
        "hours": "6",
        "counts_as": "annual",
        "grants_certificate_type_id": "",
        "certificate_validity_months": "",
        "active": "y",
    }
    data.update(overrides)
    return data


def enrolments(agency) -> list[Enrolment]:
    with db.tenant_scope(agency.id):
        return list(db.session.scalars(select(Enrolment)))


def test_course_and_its_bad_input(client, app, agency, admin):
    type_id = wf.cert_type(app, agency)
    url = f"/a/{agency.slug}/training/courses/new"
    cases = [
        (course_form(hours="-4"), "greater than 0 and at most 1000"),
        (course_form(hours="0"), "greater than 0 and at most 1000"),
        (course_form(certificate_validity_months="12"), "only makes sense with a certificate"),
        (
            course_form(grants_certificate_type_id=str(type_id), certificate_validity_months="0"),
            "from 1 to 600",
        ),
        (
            course_form(grants_certificate_type_id="00000000-0000-0000-0000-000000000001"),
            "Choose a certificate type",
        ),
        (course_form(category="cooking"), "Not a valid choice"),
        (course_form(title=""), "This field is required"),
    ]
    for data, message in cases:
        response = client.post(url, data=data)
        assert response.status_code == 422 and message in response.text, message
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(Course)) == 0
    ok = client.post(
        url, data=course_form(grants_certificate_type_id=str(type_id), certificate_validity_months="24")
    )
    assert ok.status_code == 302
    page = client.get(ok.location)
    assert (
        "Safeguarding adults" in page.text
        and "Policy, law and standards" in page.text
        and "valid 24 months" in page.text
    )
    dup = client.post(url, data=course_form(title="SAFEGUARDING adults"))
    assert dup.status_code == 422 and "already a course with this title" in dup.text
    course_id = ok.location.rsplit("/", 1)[-1]
    edit = client.post(f"/a/{agency.slug}/training/courses/{course_id}/edit", data=course_form(hours="7.5"))
    assert edit.status_code == 302
    with db.tenant_scope(agency.id):
        assert str(db.session.scalar(select(Course.hours))) == "7.50"


def test_sessions_capacity_and_enrolment(client, app, factory, agency, admin):
    course_id = wf.course(app, agency)
    bad = client.post(
        f"/a/{agency.slug}/training/courses/{course_id}/sessions",
        data={"held_on": "2026-07-01", "trainer": "Tess", "capacity": "0"},
    )
    assert bad.status_code == 422 and "capacity from 1 to 300" in bad.text
    created = client.post(
        f"/a/{agency.slug}/training/courses/{course_id}/sessions",
        data={
            "held_on": "2026-07-01",
            "trainer": "Tess",
            "location": "https://meet.example/abc",
            "capacity": "1",
        },
    )
    assert created.status_code == 302
    session_url = created.location
    a, _m, _id = wf.staff(factory, agency, name="Ann", staff_number="N-1")
    wf.staff(factory, agency, name="Ben")
    assert client.post(f"{session_url}/enrol", data={"who": a.email.upper()}).status_code == 302
    again = client.post(f"{session_url}/enrol", data={"who": "N-1"})
    assert again.status_code == 422 and "already enrolled" in again.text
    full = client.post(f"{session_url}/enrol", data={"who": "Ben"})
    assert full.status_code == 422 and "No staff file matches Ben" in full.text
    _b, _m2, _ = wf.staff(factory, agency, name="Cat", staff_number="N-3")
    full = client.post(f"{session_url}/enrol", data={"who": "N-3"})
    assert full.status_code == 422 and "The session is full (1 places)" in full.text
    assert len(enrolments(agency)) == 1
    session_id = session_url.rsplit("/", 1)[-1]
    lower = client.post(
        f"{session_url}/edit", data={"held_on": "2026-07-01", "trainer": "Tess", "capacity": "0"}
    )
    assert lower.status_code == 422
    removed = client.post(f"/a/{agency.slug}/training/enrolments/{enrolments(agency)[0].id}/remove")
    assert removed.status_code == 302 and enrolments(agency) == []
    assert client.get(f"/a/{agency.slug}/training/sessions/{session_id}").status_code == 200


def attendance(client, agency, session_id, entries: dict) -> object:
    data = {}
    for enrolment_id, (status, hours) in entries.items():
        data[f"status_{enrolment_id}"] = status
        data[f"hours_{enrolment_id}"] = hours
    return client.post(f"/a/{agency.slug}/training/sessions/{session_id}/attendance", data=data)


def test_attendance_is_all_or_nothing_and_grants_certificates(client, app, factory, agency, admin):
    type_id = wf.cert_type(app, agency, "Moving and handling")
    course_id = wf.course(app, agency, hours="8", grants=type_id, validity=36)
    session_id = wf.session(app, agency, course_id, date(2024, 1, 31))
    people = [wf.staff(factory, agency, name=n)[2] for n in ("Ann", "Ben", "Cat")]
    with wf.in_agency(app, agency):
        row = db.session.scalar(select(TrainingSession).where(TrainingSession.id == session_id))
        ids = [training.enrol(row, wf.staff_file(p)).id for p in people]

    bad_cases = [
        ({ids[0]: ("completed", ""), ids[1]: ("partial", "9"), ids[2]: ("absent", "")}, "from 0 to 8"),
        ({ids[0]: ("completed", "-2")}, "cannot be negative"),
        ({ids[0]: ("absent", "3")}, "Someone absent attended 0 hours"),
        ({ids[0]: ("partial", "")}, "Give the hours attended"),
        ({ids[0]: ("partial", "lots")}, "Enter a number"),
        ({ids[0]: ("graduated", "8")}, "Choose one of"),
    ]
    for entries, message in bad_cases:
        response = attendance(client, agency, session_id, entries)
        assert response.status_code == 422 and message in response.text, message
        assert "Nothing was saved" in response.text
    assert {e.status for e in enrolments(agency)} == {"enrolled"}
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0

    ok = attendance(
        client,
        agency,
        session_id,
        {ids[0]: ("completed", ""), ids[1]: ("partial", "4"), ids[2]: ("absent", "")},
    )
    assert ok.status_code == 302
    state = {e.id: (e.status, e.attended_hours) for e in enrolments(agency)}
    assert (
        state[ids[0]] == ("completed", 8)
        and state[ids[1]] == ("partial", 4)
        and state[ids[2]] == ("absent", 0)
    )
    with db.tenant_scope(agency.id):
        cert = db.session.scalar(select(Certificate))
    # issued on the session's date, valid 36 months; 31 January + 36 months is the last day of January
    assert (cert.staff_file_id, cert.certificate_type_id) == (people[0], type_id)
    assert (cert.issued_on, cert.expires_on) == (date(2024, 1, 31), date(2027, 1, 31))
    assert cert.number.startswith("TRN-20240131-") and cert.enrolment_id == ids[0]

    # recording it again changes nothing; changing it withdraws the certificate
    assert attendance(client, agency, session_id, {ids[0]: ("completed", "8")}).status_code == 302
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
    assert attendance(client, agency, session_id, {ids[0]: ("partial", "5")}).status_code == 302
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_month_end_validity():
    assert training.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert training.add_months(date(2023, 1, 31), 13) == date(2024, 2, 29)
    assert training.add_months(date(2024, 3, 15), 24) == date(2026, 3, 15)


def test_attendance_only_once_the_session_took_place(client, app, factory, agency, admin):
    course_id = wf.course(app, agency, hours="2")
    session_id = wf.session(app, agency, course_id, date(2026, 7, 1))
    _u, _m, staff_id = wf.staff(factory, agency)
    with wf.in_agency(app, agency):
        row = db.session.scalar(select(TrainingSession).where(TrainingSession.id == session_id))
        enrolment_id = training.enrol(row, wf.staff_file(staff_id)).id
    with time_machine.travel(date(2026, 6, 30)):
        login(client, admin)  # a session cookie signed later than "now" is refused
        early = attendance(client, agency, session_id, {enrolment_id: ("completed", "2")})
        assert early.status_code == 422 and "once the session has taken place" in early.text
    with time_machine.travel(date(2026, 7, 1)):
        login(client, admin)
        assert attendance(client, agency, session_id, {enrolment_id: ("completed", "2")}).status_code == 302


def test_evaluation_and_session_averages(client, app, factory, agency, admin):
    course_id = wf.course(app, agency, hours="3")
    session_id = wf.session(app, agency, course_id, date(2026, 1, 10))
    ids = [wf.attend(app, agency, session_id, wf.staff(factory, agency, name=n)[2]) for n in ("Ann", "Ben")]
    url = f"/a/{agency.slug}/training/enrolments/{ids[0]}/evaluation"
    assert client.get(url).status_code == 200
    for field, value, message in (
        ("satisfaction", "6", "Ratings go from 1 to 5"),
        ("satisfaction", "0", "Ratings go from 1 to 5"),
        ("knowledge_score", "101", "test score from 0 to 100"),
        ("knowledge_score", "-1", "test score from 0 to 100"),
        ("practical_rating", "9", "Ratings go from 1 to 5"),
        ("teamwork_rating", "-2", "Ratings go from 1 to 5"),
        ("transfer_rating", "7", "Ratings go from 1 to 5"),
    ):
        response = client.post(url, data={field: value})
        assert response.status_code == 422 and message in response.text, (field, value)
    assert enrolments(agency)[0].satisfaction is None
    client.post(
        url,
        data={"satisfaction": "5", "knowledge_score": "90", "practical_rating": "4", "teamwork_rating": "5"},
    )
    client.post(
        f"/a/{agency.slug}/training/enrolments/{ids[1]}/evaluation",
        data={
            "satisfaction": "4",
            "knowledge_score": "75.5",
            "practical_rating": "3",
            "teamwork_rating": "4",
            "transfer_rating": "4",
        },
    )
    page = client.get(f"/a/{agency.slug}/training/sessions/{session_id}")
    assert '<dd data-testid="avg-satisfaction">4.50 / 5</dd>' in page.text
    assert "82.75 / 100" in page.text and "3.50 / 5" in page.text and "4.00 / 5" in page.text
    with db.tenant_scope(agency.id):
        rated = db.session.scalar(select(Enrolment).where(Enrolment.id == ids[1]))
    assert rated.transfer_rated_by_id == admin.id and rated.transfer_rated_on is not None


def test_transcript_and_my_training(client, app, factory, agency):
    type_id = wf.cert_type(app, agency, "Care certificate")
    wf.settings(app, agency, required={"carer": [type_id]})
    carer, _m, staff_id = wf.staff(factory, agency)
    pre = wf.course(app, agency, hours="30", title="Induction")
    annual_course = wf.course(app, agency, hours="6", counts_as="annual", title="Dementia update")
    wf.attend(app, agency, wf.session(app, agency, pre, date(2025, 12, 1)), staff_id)
    wf.attend(app, agency, wf.session(app, agency, annual_course, date(2025, 12, 2)), staff_id)  # last year
    wf.attend(app, agency, wf.session(app, agency, annual_course, date(2026, 3, 2)), staff_id, "partial", "5")
    coming = wf.session(app, agency, annual_course, date(2026, 9, 1))
    with wf.in_agency(app, agency):
        training.enrol(
            db.session.scalar(select(TrainingSession).where(TrainingSession.id == coming)),
            wf.staff_file(staff_id),
        )
    with wf.in_agency(app, agency):
        other_type = staffing.create_certificate_type("Food hygiene")
    wf.certificate(app, agency, staff_id, other_type.id, expires=date(2026, 7, 1))

    with time_machine.travel(TODAY, tick=False):
        with wf.in_agency(app, agency):
            t = transcripts.transcript(wf.staff_file(staff_id))
        assert (t.pre_service_hours, t.annual_hours, t.year) == (30, 5, 2026)
        assert [line.course.title for line in t.lines] == ["Dementia update", "Dementia update", "Induction"]
        assert [line.session.held_on for line in t.upcoming] == [date(2026, 9, 1)]
        assert t.due == [
            "10 more hours of pre-service training.",
            "15 more hours of role training by the end of 2026.",
            "A certificate your role requires: Care certificate.",
            "Your certificate expires on 1 Jul 2026: Food hygiene.",
        ]
        login(client, carer)
        page = client.get(f"/a/{agency.slug}/my/training")
        assert page.status_code == 200 and "My training" in page.text
        assert "30 of 40 hours" in page.text and "5 of 20 hours" in page.text
        assert "10 more hours of pre-service training." in page.text and "Expiring soon" in page.text
        assert client.get(f"/a/{agency.slug}/training/staff/{staff_id}").status_code == 200
        other, _m2, other_id = wf.staff(factory, agency, name="Someone else")
        assert client.get(f"/a/{agency.slug}/training/staff/{other_id}").status_code == 404
        assert client.get(f"/a/{agency.slug}/training").status_code == 403
        assert client.get(f"/a/{agency.slug}/training/compliance").status_code == 403


def test_coordinator_records_attendance_but_does_not_plan(app, factory, agency):
    course_id = wf.course(app, agency, hours="2")
    session_id = wf.session(app, agency, course_id, date(2026, 1, 5))
    carer, _m, staff_id = wf.staff(factory, agency)
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    client = app.test_client()
    login(client, coordinator)
    assert (
        client.post(
            f"/a/{agency.slug}/training/sessions/{session_id}/enrol", data={"who": carer.email}
        ).status_code
        == 302
    )
    enrolment_id = enrolments(agency)[0].id
    assert attendance(client, agency, session_id, {enrolment_id: ("completed", "2")}).status_code == 302
    assert client.get(f"/a/{agency.slug}/training/courses/new").status_code == 403
    refused = client.post(f"/a/{agency.slug}/training/courses/{course_id}/sessions", data={})
    assert refused.status_code in (403, 404), "403 on a page, 403 or 404 on a page about one object"


def test_compliance_page(client, app, factory, agency, admin):
    type_id = wf.cert_type(app, agency, "Care certificate")
    wf.settings(app, agency, required={"carer": [type_id]})
    annual = wf.course(app, agency, hours="20", counts_as="annual")
    _a, _m, done = wf.staff(factory, agency, name="Done Dora")
    wf.pre_service_done(app, agency, done)
    wf.attend(app, agency, wf.session(app, agency, annual, date(2026, 2, 1)), done)
    wf.certificate(app, agency, done, type_id, expires=date(2030, 1, 1))
    _b, _m, no_cert = wf.staff(factory, agency, name="Certless Carl")
    wf.pre_service_done(app, agency, no_cert)
    wf.attend(app, agency, wf.session(app, agency, annual, date(2026, 2, 2)), no_cert)
    _c, _m, new = wf.staff(factory, agency, name="New Nina")
    wf.certificate(app, agency, new, type_id, expires=date(2026, 7, 1))
    _d, _m, gone = wf.staff(factory, agency, name="Gone Gus", end=date(2025, 1, 1))

    base = f"/a/{agency.slug}/training/compliance"

    def names(query: str = "") -> list[str]:
        text = client.get(base + query).text
        found = [
            (text.find(n), n) for n in ("Done Dora", "Certless Carl", "New Nina", "Gone Gus") if n in text
        ]
        return [n for _pos, n in sorted(found)]

    with time_machine.travel(TODAY, tick=False):
        login(client, admin)  # a session cookie signed later than "now" is refused
        assert names() == ["Certless Carl", "New Nina"]
        assert names("?reason=all") == ["Certless Carl", "Done Dora", "New Nina"]
        assert names("?reason=pre_service") == ["New Nina"]
        assert names("?reason=annual") == ["New Nina"]
        assert names("?reason=certificates") == ["Certless Carl"]
        assert names("?reason=expiring") == ["New Nina"]
        assert names("?reason=all&sort=pre_service") == ["New Nina", "Certless Carl", "Done Dora"]
        assert names("?reason=all&sort=certificates")[0] == "Certless Carl"
        assert names("?q=nina&reason=all") == ["New Nina"]
        assert names("?reason=bogus&sort=bogus") == ["Certless Carl", "New Nina"]
        csv = client.get(base + ".csv?reason=all")
        assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
        lines = csv.data.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("name,email,staff_role,pre_service_hours")
        assert len(lines) == 4 and any(
            line.startswith("New Nina,") and "pre-service hours; annual hours" in line for line in lines
        )


def test_compliance_page_costs_the_same_at_any_size(client, app, factory, agency, admin):
    type_id = wf.cert_type(app, agency)
    wf.settings(app, agency, required={"carer": [type_id]})
    course_id = wf.course(app, agency, hours="40")
    session_id = wf.session(app, agency, course_id, date(2026, 1, 5), capacity=100)
    for i in range(5):
        wf.staff(factory, agency, name=f"Small {i}")
    with count_statements() as small:
        assert client.get(f"/a/{agency.slug}/training/compliance?reason=all").status_code == 200
    for i in range(45):
        _u, _m, staff_id = wf.staff(factory, agency, name=f"Large {i}")
        if i % 4 == 0:
            wf.attend(app, agency, session_id, staff_id)
        if i % 3 == 0:
            wf.certificate(app, agency, staff_id, type_id)
    with count_statements() as large:
        page = client.get(f"/a/{agency.slug}/training/compliance?reason=all")
    assert page.text.count("data-staff=") == 50
    assert large.count == small.count, large.statements


def test_a_carer_becomes_assignable_through_training(app, factory, agency):
    type_id = wf.cert_type(app, agency, "First aid")
    wf.settings(app, agency, required={"carer": [type_id]}, pre_service_hours=16)
    _u, _m, staff_id = wf.staff(factory, agency)
    first_aid = wf.course(app, agency, hours="8", grants=type_id, validity=12)
    basics = wf.course(app, agency, hours="8")
    with wf.in_agency(app, agency):
        before = staffing.assignability(staff_id, date(2026, 3, 1))[staff_id]
    assert set(before.reason_codes) == {"pre_service_hours", f"certificate_missing:{type_id}"}
    wf.attend(app, agency, wf.session(app, agency, first_aid, date(2026, 2, 1)), staff_id)
    wf.attend(app, agency, wf.session(app, agency, basics, date(2026, 2, 2)), staff_id)
    with wf.in_agency(app, agency):
        result = staffing.assignability(staff_id, date(2026, 3, 1))
        later = staffing.assignability(staff_id, date(2027, 2, 2))
    assert result[staff_id].assignable
    assert later[staff_id].reason_codes == [f"certificate_expired:{type_id}"], (
        "the granted certificate expires"
    )


def test_training_records_are_kept(client, app, factory, agency, admin):
    course_id = wf.course(app, agency, hours="4")
    session_id = wf.session(app, agency, course_id, date(2026, 1, 5))
    _u, _m, staff_id = wf.staff(factory, agency)
    enrolment_id = wf.attend(app, agency, session_id, staff_id, "partial", "2")
    moved = client.post(
        f"/a/{agency.slug}/training/sessions/{session_id}/edit",
        data={"held_on": "2026-01-06", "trainer": "Tess", "capacity": "10"},
    )
    assert moved.status_code == 422 and "its date can no longer change" in moved.text
    same_day = client.post(
        f"/a/{agency.slug}/training/sessions/{session_id}/edit",
        data={"held_on": "2026-01-05", "trainer": "Tom", "capacity": "10"},
    )
    assert same_day.status_code == 302
    removed = client.post(
        f"/a/{agency.slug}/training/enrolments/{enrolment_id}/remove", follow_redirects=True
    )
    assert "this training record is kept" in removed.text and len(enrolments(agency)) == 1
    with wf.in_agency(app, agency):  # the course retired through update_course
        course = db.session.get(Course, (agency.id, course_id))
        training.update_course(
            course,
            training.CourseInput(
                title=course.title,
                category=course.category,
                form=course.form,
                hours=course.hours,
                counts_as=course.counts_as,
                description=course.description,
                grants_certificate_type_id=course.grants_certificate_type_id,
                certificate_validity_months=course.certificate_validity_months,
                active=False,
            ),
        )
    retired = client.post(
        f"/a/{agency.slug}/training/courses/{course_id}/sessions",
        data={"held_on": "2026-07-01", "trainer": "Tess", "capacity": "5"},
    )
    assert retired.status_code == 422 and "no longer offered" in retired.text
