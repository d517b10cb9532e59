"""Staff files: adding people, certificates and their scans, time off,
recruitment, caseload limits, reviews, rewards and penalties, settings, roles,
and the assignable rule with each of its reasons and the override."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from saas import db
from saas.models import Agency, AuditEvent, Invitation, MailMessage, Membership, Role, User
from tenants.members import services as members
from tenants.staffing import services as staffing
from tenants.staffing.models import (
    CaseloadAssignment,
    Certificate,
    RecruitmentRecord,
    RewardPenalty,
    StaffDocument,
    StaffFile,
    StaffTimeOff,
)
from tests.factories import login, run_jobs, unique
from tests.sqlcount import count_statements
from tests.staffing import workforce_helpers as wf

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)

TODAY = date(2026, 6, 15)
# a role refused: 403 on a page, 403 or 404 on a page about one object (saas.permissions.require)
REFUSED = (403, 404)


@pytest.fixture
def agency(factory):
    return factory.agency()


@pytest.fixture
def admin(factory, agency, client):
    user, _ = factory.member(agency, Role.ADMIN, name="Ada Admin")
    login(client, user)
    return user


def staff_form(**overrides: object) -> dict[str, object]:
    data = {
        "staff_role": "carer",
        "employment_start": "2026-01-05",
        "contracted_hours": "37.5",
        "home_area": "North",
        "skills": "dementia care, cooking",
        "languages": "English, 普通话",
        "availability_mon": "08:00-12:00, 14:00-18:00",
    }
    data.update(overrides)
    return data


def audit_actions(agency) -> list[str]:
    with db.tenant_scope(agency.id):
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.at)))


def count(agency, model) -> int:
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(func.count()).select_from(model)) or 0


# -- staff files ------------------------------------------------------------------


def test_admin_adds_someone_new_who_is_invited(client, agency, admin):
    response = client.post(
        f"/a/{agency.slug}/staff/new", data=staff_form(email="New.Carer@Example.net", name="Nora New")
    )
    assert response.status_code == 302, response.text[:2000]
    with db.tenant_scope(agency.id):
        staff = db.session.scalar(select(StaffFile))
        membership = db.session.scalar(select(Membership).where(Membership.id == staff.membership_id))
        user = db.session.scalar(select(User).where(User.id == membership.user_id))
        assert (
            db.session.scalar(select(Invitation.role).where(Invitation.email == "new.carer@example.net"))
            == "carer"
        )
        assert (
            db.session.scalar(
                select(RecruitmentRecord.decision).where(RecruitmentRecord.staff_file_id == staff.id)
            )
            == "pending"
        )
    assert user.email == "new.carer@example.net" and user.name == "Nora New" and user.password_hash is None
    assert membership.role == "carer" and membership.active
    assert staff.skills == ["dementia care", "cooking"] and staff.languages == ["English", "普通话"]
    assert staff.availability == {"mon": [["08:00", "12:00"], ["14:00", "18:00"]]}
    assert staff.contracted_hours == Decimal("37.5")
    assert run_jobs("auth.send_invitation") == 1, "the worker mails the invitation"
    assert db.session.scalar(
        select(MailMessage.subject).where(MailMessage.to_address == "new.carer@example.net")
    )
    page = client.get(response.location)
    assert "Nora New" in page.text and "dementia care, cooking" in page.text
    assert "staff.created" in audit_actions(agency)


def test_an_existing_member_keeps_their_membership(client, factory, agency, admin):
    carer, membership = factory.member(agency, Role.COORDINATOR, name="Cora")
    response = client.post(
        f"/a/{agency.slug}/staff/new", data=staff_form(email=carer.email, staff_role="coordinator")
    )
    assert response.status_code == 302
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(StaffFile.membership_id)) == membership.id
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0
    again = client.post(f"/a/{agency.slug}/staff/new", data=staff_form(email=carer.email))
    assert again.status_code == 422 and "already has a staff file" in again.text


def test_someone_from_another_agency_joins_with_their_own_account(client, factory, agency, admin):
    elsewhere = factory.agency()
    person, _ = factory.member(elsewhere, Role.CARER, name="Their Own Name")
    response = client.post(
        f"/a/{agency.slug}/staff/new", data=staff_form(email=person.email, name="Typed By Admin")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(User.name).where(User.id == person.id)) == "Their Own Name"
    with db.tenant_scope(agency.id):
        membership = db.session.scalar(select(Membership).where(Membership.user_id == person.id))
        assert db.session.scalar(select(Invitation.email)) == person.email
    assert membership is not None and membership.role == "carer"


def test_adding_staff_tells_nothing_about_accounts_elsewhere(client, factory, agency, admin):
    """The same answer and the same work whether the address has an account in
    another agency or none: adding staff is no way to probe for accounts."""
    person, _ = factory.member(factory.agency(), Role.CARER, name="Their Own Name")
    nobody = f"{unique('nobody')}@example.net"
    new = f"/a/{agency.slug}/staff/new"
    client.get(new)
    for email in (person.email, nobody):
        unnamed = client.post(new, data=staff_form(email=email))
        assert unnamed.status_code == 422 and "This is required." in unnamed.text, email
    with count_statements() as known:
        first = client.post(new, data=staff_form(email=person.email.upper(), name="Typed By Admin"))
    with count_statements() as unknown:
        second = client.post(new, data=staff_form(email=nobody, name="Typed By Admin"))
    assert first.status_code == second.status_code == 302
    assert known.statements == unknown.statements, "the same work whether the account exists or not"
    assert not any("mail_messages" in s for s in known.statements), "the job mails the invitation"
    assert run_jobs("auth.send_invitation") == 2
    mailed = db.session.scalars(
        select(MailMessage.to_address).where(
            MailMessage.kind == "invitation", MailMessage.to_address.in_([person.email, nobody])
        )
    ).all()
    assert sorted(mailed) == sorted([person.email, nobody])


def test_staff_bad_input_saves_nothing(client, factory, agency, admin):
    client_user, _ = factory.member(agency, Role.CLIENT)
    cases = [
        (
            staff_form(email="a@example.net", name="A", employment_end="2025-01-01"),
            "cannot be before its start",
        ),
        (staff_form(email="a@example.net", name="A", contracted_hours="-1"), "from 0 to 168"),
        (
            staff_form(email="a@example.net", name="A", availability_tue="9-5"),
            "Write time ranges like 08:00-12:00",
        ),
        (staff_form(email="a@example.net", name="A", availability_tue="12:00-08:00"), "Write time ranges"),
        (staff_form(email="a@example.net", name="A", caseload_limit="-3"), "cannot be negative"),
        (staff_form(email="a@example.net", name="A", staff_role="king"), "Not a valid choice"),
        (staff_form(email="a@example.net", name=""), "This is required"),
        (staff_form(email=client_user.email), "is a client of the agency"),
    ]
    for data, message in cases:
        response = client.post(f"/a/{agency.slug}/staff/new", data=data)
        assert response.status_code == 422, data
        assert message in response.text, (message, data)
    assert count(agency, StaffFile) == 0
    assert count(agency, Invitation) == 0
    assert db.session.scalar(select(User.id).where(User.email == "a@example.net")) is None


def test_duplicate_staff_number(client, factory, agency, admin):
    wf.staff(factory, agency, staff_number="S-1")
    response = client.post(
        f"/a/{agency.slug}/staff/new", data=staff_form(email="b@example.net", name="B", staff_number="S-1")
    )
    assert response.status_code == 422 and "already has this staff number" in response.text


def test_edit_staff_file(client, factory, agency, admin):
    _u, _m, staff_id = wf.staff(factory, agency)
    page = client.get(f"/a/{agency.slug}/staff/{staff_id}/edit")
    assert page.status_code == 200
    response = client.post(
        f"/a/{agency.slug}/staff/{staff_id}/edit",
        data=staff_form(
            staff_role="social_worker", employment_end="2027-01-01", availability_sun="10:00-14:00"
        ),
    )
    assert response.status_code == 302
    with db.tenant_scope(agency.id):
        staff = wf.staff_file(staff_id)
        assert staff.staff_role == "social_worker" and staff.employment_end == date(2027, 1, 1)
        assert staff.availability["sun"] == [["10:00", "14:00"]]


# -- time off ---------------------------------------------------------------------------


def test_time_off(client, factory, agency, admin):
    _u, _m, staff_id = wf.staff(factory, agency)
    bad = client.post(
        f"/a/{agency.slug}/staff/{staff_id}/time-off",
        data={"starts_on": "2030-05-10", "ends_on": "2030-05-01"},
    )
    assert bad.status_code == 422 and "end date cannot be before the start date" in bad.text
    assert count(agency, StaffTimeOff) == 0
    ok = client.post(
        f"/a/{agency.slug}/staff/{staff_id}/time-off",
        data={"starts_on": "2030-05-01", "ends_on": "2030-05-10", "reason": "Holiday"},
    )
    assert ok.status_code == 302
    with db.tenant_scope(agency.id):
        entry = db.session.scalar(select(StaffTimeOff))
    assert "Holiday" in client.get(f"/a/{agency.slug}/staff/{staff_id}").text
    client.post(f"/a/{agency.slug}/staff/{staff_id}/time-off/{entry.id}/delete")
    assert count(agency, StaffTimeOff) == 0


# -- certificates and scans ----------------------------------------------------------------


def cert_form(type_id, **overrides: object) -> dict[str, object]:
    data = {
        "certificate_type_id": str(type_id),
        "number": "FA-100",
        "issuer": "Red Cross",
        "issued_on": "2025-01-10",
        "expires_on": "2028-01-10",
    }
    data.update(overrides)
    return data


def test_certificate_with_a_scan_downloads_safely(client, app, factory, agency, admin):
    import io

    type_id = wf.cert_type(app, agency)
    carer, _m, staff_id = wf.staff(factory, agency)
    data = cert_form(type_id)
    data["document"] = (io.BytesIO(wf.PDF), "../../etc/scan <1>.PDF")
    response = client.post(
        f"/a/{agency.slug}/staff/{staff_id}/certificates/new", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.text[:3000]
    with db.tenant_scope(agency.id):
        cert = db.session.scalar(select(Certificate))
        document = db.session.scalar(select(StaffDocument))
    assert cert.number == "FA-100" and cert.document_id == document.id
    assert document.content_type == "application/pdf" and document.filename == "scan <1>.pdf"
    url = f"/a/{agency.slug}/certificates/{cert.id}/document"
    download = client.get(url)
    assert download.status_code == 200 and download.data == wf.PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]

    # the carer downloads their own; another carer and a client cannot
    own = app.test_client()
    login(own, carer)
    assert own.get(url).status_code == 200
    other_carer, _ = factory.member(agency, Role.CARER)
    other = app.test_client()
    login(other, other_carer)
    assert other.get(url).status_code == 404
    client_user, _ = factory.member(agency, Role.CLIENT)
    family = app.test_client()
    login(family, client_user)
    assert family.get(url).status_code in REFUSED


def test_certificate_bad_input_saves_nothing(client, app, factory, agency, admin):
    import io

    type_id = wf.cert_type(app, agency)
    other_agency = factory.agency()
    foreign_type = wf.cert_type(app, other_agency, "Foreign")
    _u, _m, staff_id = wf.staff(factory, agency)
    wf.certificate(app, agency, staff_id, type_id, number="TAKEN-1")
    url = f"/a/{agency.slug}/staff/{staff_id}/certificates/new"
    cases = [
        (cert_form(type_id, expires_on="2024-01-01"), "expiry date cannot be before the issue date"),
        (cert_form(foreign_type), "Choose a certificate type from the agency"),
        (cert_form("not-a-uuid"), "Choose a certificate type from the agency"),
        (cert_form(type_id, number="TAKEN-1"), "already has the number TAKEN-1"),
        (cert_form(type_id, issued_on="2999-01-01", expires_on=""), "cannot be in the future"),
        (
            {**cert_form(type_id), "document": (io.BytesIO(b"MZ\x90\x00 not a scan"), "scan.pdf")},
            "Upload a PDF, PNG or JPEG",
        ),
        (
            {**cert_form(type_id), "document": (io.BytesIO(b"<svg onload=alert(1)>"), "x.png")},
            "Upload a PDF, PNG or JPEG",
        ),
        (
            {**cert_form(type_id), "document": (io.BytesIO(b"%PDF-" + b"0" * (5 * 1024 * 1024)), "big.pdf")},
            "larger than 5 MB",
        ),
    ]
    for data, message in cases:
        response = client.post(url, data=data, content_type="multipart/form-data")
        assert response.status_code == 422, message
        assert message in response.text, message
    assert count(agency, Certificate) == 1
    assert count(agency, StaffDocument) == 0


def test_png_and_jpeg_scans_are_accepted(app, factory, agency):
    _u, _m, staff_id = wf.staff(factory, agency)
    with wf.in_agency(app, agency):
        staff = wf.staff_file(staff_id)
        png = staffing.store_document(staff, "a.png", wf.PNG, by=None)
        jpeg = staffing.store_document(staff, "b", b"\xff\xd8\xff\xe0" + b"\x00" * 10, by=None)
    assert (png.content_type, png.filename) == ("image/png", "a.png")
    assert (jpeg.content_type, jpeg.filename) == ("image/jpeg", "b.jpg")


def test_certificate_status_follows_the_configurable_window(app, factory, agency):
    type_id = wf.cert_type(app, agency)
    _u, _m, staff_id = wf.staff(factory, agency)
    wf.certificate(app, agency, staff_id, type_id, number="A", expires=TODAY + timedelta(days=61))
    wf.certificate(app, agency, staff_id, type_id, number="B", expires=TODAY + timedelta(days=60))
    wf.certificate(app, agency, staff_id, type_id, number="C", expires=TODAY - timedelta(days=1))
    wf.certificate(app, agency, staff_id, type_id, number="D", expires=None)

    def statuses() -> dict[str, str]:
        with wf.in_agency(app, agency):
            return {r.certificate.number: r.status for r in staffing.certificates_of([staff_id])[staff_id]}

    with time_machine.travel(TODAY, tick=False):
        assert statuses() == {"A": "valid", "B": "expiring", "C": "expired", "D": "valid"}
        wf.settings(app, agency, certificate_expiring_days=90)
        assert statuses()["A"] == "expiring"
    with time_machine.travel(TODAY + timedelta(days=62), tick=False):
        assert statuses()["A"] == "expired"


def test_remove_a_certificate_and_its_scan(client, app, factory, agency, admin):
    type_id = wf.cert_type(app, agency)
    _u, _m, staff_id = wf.staff(factory, agency)
    with wf.in_agency(app, agency):
        cert = staffing.add_certificate(
            wf.staff_file(staff_id),
            staffing.CertificateInput(type_id, "N1", "", date(2024, 1, 1), None),
            document=("scan.pdf", wf.PDF),
            by=None,
        )
    assert client.post(f"/a/{agency.slug}/certificates/{cert.id}/delete").status_code == 302
    assert count(agency, Certificate) == 0 and count(agency, StaffDocument) == 0


def test_certificate_types(client, app, agency, admin):
    assert (
        client.post(f"/a/{agency.slug}/certificate-types", data={"name": "Food hygiene"}).status_code == 302
    )
    dup = client.post(f"/a/{agency.slug}/certificate-types", data={"name": "food HYGIENE"})
    assert dup.status_code == 422 and "already a certificate type with this name" in dup.text
    with db.tenant_scope(agency.id):
        type_id = db.session.scalar(select(staffing.CertificateType.id))
    wf.settings(app, agency, required={"carer": [type_id]})
    client.post(f"/a/{agency.slug}/certificate-types/{type_id}/retire")
    with wf.in_agency(app, agency):
        assert staffing.workforce_settings().required_for("carer") == ()


# -- recruitment ---------------------------------------------------------------------------


def test_recruitment_record(client, factory, agency, admin):
    _u, _m, staff_id = wf.staff(factory, agency)
    url = f"/a/{agency.slug}/staff/{staff_id}/recruitment"
    assert client.get(url).status_code == 200
    data = {
        "screening_result": "passed", "screening_on": "2026-01-02",
        "interview_result": "passed", "interview_on": "2026-01-05",
        "practical_result": "failed", "practical_on": "2026-01-07",
        "decision": "hired", "decided_on": "",
    }  # fmt: skip
    bad = client.post(url, data=data)
    assert bad.status_code == 422
    assert "Give the date of the decision" in bad.text and "Hiring needs the screening" in bad.text
    ok = client.post(url, data={**data, "practical_result": "passed", "decided_on": "2026-01-08"})
    assert ok.status_code == 302
    with db.tenant_scope(agency.id):
        record = db.session.scalar(
            select(RecruitmentRecord).where(RecruitmentRecord.staff_file_id == staff_id)
        )
    assert (
        record.decision == "hired"
        and record.decided_on == date(2026, 1, 8)
        and record.decided_by_id == admin.id
    )
    assert "Ada Admin" in client.get(f"/a/{agency.slug}/staff/{staff_id}").text


# -- caseload --------------------------------------------------------------------------------


def assign(client, agency, staff_id, **overrides: object):
    data = {"kind": "individual", "label": "Mrs A", "starts_on": "2026-01-01", "residents": "1"}
    data.update(overrides)
    return client.post(f"/a/{agency.slug}/staff/{staff_id}/caseload", data=data)


def test_caseload_limit_refuses_and_an_admin_overrides(client, app, factory, agency, admin):
    _u, _m, staff_id = wf.staff(factory, agency, caseload_limit=2)
    assert assign(client, agency, staff_id, label="Mrs A").status_code == 302
    assert assign(client, agency, staff_id, label="Mr B").status_code == 302
    refused = assign(client, agency, staff_id, label="Ms C")
    assert refused.status_code == 422
    assert "would take the caseload to 3, over the limit of 2" in refused.text
    assert count(agency, CaseloadAssignment) == 2
    over = assign(client, agency, staff_id, label="Ms C", override_reason="Her usual carer is on leave")
    assert over.status_code == 302
    with db.tenant_scope(agency.id):
        row = db.session.scalar(select(CaseloadAssignment).where(CaseloadAssignment.label == "Ms C"))
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "caseload.over_limit_override")
        )
    assert row.override_reason == "Her usual carer is on leave" and row.override_by_id == admin.id
    assert event.details["reason"] == "Her usual carer is on leave" and event.details["limit"] == 2
    # an assignment that has ended no longer counts
    client.post(f"/a/{agency.slug}/caseload/{row.id}/end")
    with wf.in_agency(app, agency):
        assert staffing.current_loads([staff_id])[staff_id] == (2, 0)


def test_community_limit_counts_residents_and_default_limits_apply(client, app, factory, agency, admin):
    _u, _m, staff_id = wf.staff(factory, agency)
    assert (
        assign(client, agency, staff_id, kind="community", label="Estate", residents="450").status_code == 302
    )
    refused = assign(client, agency, staff_id, kind="community", label="Block B", residents="51")
    assert refused.status_code == 422 and "to 501, over the limit of 500" in refused.text
    bad = assign(client, agency, staff_id, kind="community", label="Block B", residents="0")
    assert bad.status_code == 422 and "from 1 to 100000" in bad.text
    wf.settings(app, agency, caseload_limit_individual=1)
    assert assign(client, agency, staff_id, label="One").status_code == 302
    assert assign(client, agency, staff_id, label="Two").status_code == 422


def test_caseload_limit_looks_at_the_whole_period(app, factory, agency):
    """A future assignment counts on the days it will run, not before."""
    _u, _m, staff_id = wf.staff(factory, agency, caseload_limit=1)
    with wf.in_agency(app, agency):
        staff = wf.staff_file(staff_id)
        data = staffing.CaseloadInput
        staffing.assign_caseload(staff, data("individual", "Later", starts_on=date(2030, 1, 1)), by=None)
        staffing.assign_caseload(
            staff, data("individual", "Now", starts_on=date(2029, 1, 1), ends_on=date(2029, 6, 1)), by=None
        )
        with pytest.raises(staffing.Invalid):
            staffing.assign_caseload(
                staff, data("individual", "Overlaps", starts_on=date(2029, 3, 1)), by=None
            )


def test_caseload_page(client, factory, agency, admin):
    _u, _m, full_id = wf.staff(factory, agency, name="Fully Booked", caseload_limit=1)
    wf.staff(factory, agency, name="Free Fred")
    assign(client, agency, full_id, starts_on="2020-01-01")
    page = client.get(f"/a/{agency.slug}/caseload")
    assert page.status_code == 200
    assert page.text.index("Fully Booked") < page.text.index("Free Fred"), "fullest first"
    assert "1 / 1" in page.text and "0 / 20" in page.text
    only_full = client.get(f"/a/{agency.slug}/caseload?full=1").text
    assert "Fully Booked" in only_full and "Free Fred" not in only_full


# -- reviews, rewards and penalties ---------------------------------------------------------------


def test_reviews_with_360_ratings(client, app, factory, agency, admin):
    carer, _m, staff_id = wf.staff(factory, agency)
    response = client.post(
        f"/a/{agency.slug}/staff/{staff_id}/reviews",
        data={"kind": "quarterly", "period_start": "2026-01-01", "period_end": "2026-03-31"},
    )
    assert response.status_code == 302
    review_url = response.location
    review_id = review_url.rsplit("/", 1)[-1]
    scores = {
        "quality_of_care": "4",
        "reliability": "5",
        "communication": "3",
        "teamwork": "4",
        "professionalism": "4",
    }
    bad = client.post(f"{review_url}/ratings", data={**scores, "source": "peer", "reliability": "6"})
    assert bad.status_code == 422 and "Scores go from 1 to 5" in bad.text
    assert (
        client.post(
            f"{review_url}/ratings", data={**scores, "source": "supervisor", "comment": "Solid"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"{review_url}/ratings", data={**scores, "source": "peer", "communication": "5"}
        ).status_code
        == 302
    )
    page = client.get(review_url)
    assert "No client ratings yet" in page.text and "Solid" in page.text
    dup = client.post(
        f"/a/{agency.slug}/staff/{staff_id}/reviews",
        data={"kind": "quarterly", "period_start": "2026-01-01", "period_end": "2026-03-31"},
    )
    assert dup.status_code == 422 and "already starts on this date" in dup.text

    # the worker adds their own self-assessment, and nothing else
    own = app.test_client()
    login(own, carer)
    assert own.post(f"{review_url}/ratings", data={**scores, "source": "supervisor"}).status_code == 422
    assert own.post(f"{review_url}/ratings", data={**scores, "source": "self"}).status_code == 302

    # client ratings come from the feedback area, as answers to a signal
    from tenants.staffing import services
    from tenants.staffing.signals import client_ratings_wanted

    def answer(event):
        return dict.fromkeys(event.staff_ids, Decimal("4.5"))

    with client_ratings_wanted.connected_to(answer):
        with wf.in_agency(app, agency):
            review = db.session.get(
                services.PerformanceReview, (agency.id, __import__("uuid").UUID(review_id))
            )
            ratings = list(
                db.session.scalars(
                    select(services.ReviewRating).where(services.ReviewRating.review_id == review.id)
                )
            )
            summary = services.review_summary(review, ratings)
    assert summary.raters == {"self": 1, "peer": 1, "supervisor": 1}
    assert summary.by_source["peer"]["communication"] == Decimal("5.00")
    assert summary.client_average == Decimal("4.5")
    # self 4.0, peer 4.4, supervisor 4.0, clients 4.5
    assert summary.overall == Decimal("4.23")


def test_rewards_and_penalties(client, factory, agency, admin):
    _u, _m, staff_id = wf.staff(factory, agency)
    bad = client.post(
        f"/a/{agency.slug}/staff/{staff_id}/rewards", data={"kind": "penalty", "on_date": "2026-02-01"}
    )
    assert bad.status_code == 422
    ok = client.post(
        f"/a/{agency.slug}/staff/{staff_id}/rewards",
        data={"kind": "penalty", "on_date": "2026-02-01", "reason": "Late three times"},
    )
    assert ok.status_code == 302
    with db.tenant_scope(agency.id):
        entry = db.session.scalar(select(RewardPenalty))
    assert (entry.kind, entry.reason, entry.recorded_by_id) == ("penalty", "Late three times", admin.id)
    page = client.get(f"/a/{agency.slug}/staff/{staff_id}").text
    assert "Late three times" in page and "Ada Admin" in page


# -- who may be assigned ---------------------------------------------------------------------------


def fit(app, agency, staff_id, at=TODAY, **kwargs):
    with wf.in_agency(app, agency):
        return staffing.assignability(staff_id, at, **kwargs)[staff_id]


def test_assignable_when_employed_trained_and_certified(app, factory, agency):
    type_id = wf.cert_type(app, agency)
    wf.settings(app, agency, required={"carer": [type_id]})
    _u, _m, staff_id = wf.staff(factory, agency)
    wf.pre_service_done(app, agency, staff_id)
    wf.certificate(app, agency, staff_id, type_id, expires=date(2027, 1, 1))
    result = fit(app, agency, staff_id)
    assert result.assignable and result.reasons == [] and result.override is None
    assert result.pre_service_hours == Decimal(40)
    with wf.in_agency(app, agency):
        assert staffing.is_assignable(staff_id, TODAY)


def test_each_reason_not_to_assign(app, factory, agency):
    type_id = wf.cert_type(app, agency, "Care certificate")
    wf.settings(app, agency, required={"carer": [type_id]})
    _u, membership, staff_id = wf.staff(factory, agency)

    # no training, no certificate
    result = fit(app, agency, staff_id)
    assert not result.assignable
    assert result.reason_codes == ["pre_service_hours", f"certificate_missing:{type_id}"]
    with wf.in_agency(app, agency):
        assert result.reasons[0].message() == "0 of the 40 hours of pre-service training done."
        assert result.reasons[1].message() == "Missing a certificate their role requires: Care certificate."

    # 39.5 hours are not 40
    course_id = wf.course(app, agency, hours="39.5")
    wf.attend(app, agency, wf.session(app, agency, course_id, date(2026, 1, 10)), staff_id)
    assert fit(app, agency, staff_id).reasons[0].hours == Decimal("39.5")
    # annual training does not count as pre-service
    annual = wf.course(app, agency, hours="10", counts_as="annual")
    wf.attend(app, agency, wf.session(app, agency, annual, date(2026, 1, 11)), staff_id)
    assert "pre_service_hours" in fit(app, agency, staff_id).reason_codes
    more = wf.course(app, agency, hours="1")
    wf.attend(app, agency, wf.session(app, agency, more, date(2026, 1, 12)), staff_id, "partial", "0.5")
    assert "pre_service_hours" not in fit(app, agency, staff_id).reason_codes
    # ... but not before the sessions took place
    assert "pre_service_hours" in fit(app, agency, staff_id, at=date(2026, 1, 11)).reason_codes

    # an expired certificate
    wf.certificate(app, agency, staff_id, type_id, issued=date(2024, 1, 1), expires=date(2026, 6, 1))
    result = fit(app, agency, staff_id)
    assert result.reason_codes == [f"certificate_expired:{type_id}"]
    assert result.reasons[0].expired_on == date(2026, 6, 1)
    assert fit(app, agency, staff_id, at=date(2026, 5, 31)).assignable
    # a renewed one
    wf.certificate(app, agency, staff_id, type_id, issued=date(2026, 6, 10), expires=date(2028, 6, 10))
    assert fit(app, agency, staff_id).assignable
    # a visit's own required qualification
    other = wf.cert_type(app, agency, "Manual handling")
    result = fit(app, agency, staff_id, require=[other])
    assert result.reason_codes == [f"certificate_missing:{other}"]
    with wf.in_agency(app, agency):
        assert result.reasons[0].message() == "Missing a certificate this work requires: Manual handling."

    # employment: ended, not started (the staff file changed through update_staff)
    wf.change_staff(app, agency, staff_id, employment_end=TODAY)
    assert fit(app, agency, staff_id).reason_codes == ["employment_ended"]
    assert fit(app, agency, staff_id, at=TODAY - timedelta(days=1)).assignable
    wf.change_staff(app, agency, staff_id, employment_end=None, employment_start=TODAY + timedelta(days=1))
    assert fit(app, agency, staff_id).reason_codes == ["employment_not_started"]
    wf.change_staff(app, agency, staff_id, employment_start=date(2020, 1, 1))
    admin, _ = factory.member(agency, Role.ADMIN)
    with wf.in_agency(app, agency):
        members.deactivate(db.session.get(Membership, (agency.id, membership.id)), by=admin)
    assert fit(app, agency, staff_id).reason_codes == ["inactive"]


def test_override_makes_assignable_and_is_shown_and_audited(client, app, factory, agency, admin):
    _u, membership, staff_id = wf.staff(factory, agency)
    no_reason = client.post(f"/a/{agency.slug}/staff/{staff_id}/override", data={"reason": "  "})
    assert no_reason.status_code == 422
    past = client.post(
        f"/a/{agency.slug}/staff/{staff_id}/override", data={"reason": "x", "expires_on": "2000-01-01"}
    )
    assert past.status_code == 422 and "cannot be in the past" in past.text
    reason = "Agency nurse with 20 years of experience; induction booked next week"
    ok = client.post(f"/a/{agency.slug}/staff/{staff_id}/override", data={"reason": reason})
    assert ok.status_code == 302
    result = fit(app, agency, staff_id, at=date.today())
    assert result.assignable and result.overridden
    assert result.reason_codes == ["pre_service_hours"], "the reasons stay visible"
    assert result.override.reason == reason and result.override.by_id == admin.id
    page = client.get(f"/a/{agency.slug}/staff/{staff_id}")
    assert (
        'data-assignable="yes"' in page.text and reason in page.text and "pre-service training" in page.text
    )
    with db.tenant_scope(agency.id):
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "staff.assignability_override")
        )
    assert event.details["reason"] == reason and event.details["reasons"] == ["pre_service_hours"]
    assert event.actor_id == admin.id

    # an override cannot make a deactivated member assignable
    with wf.in_agency(app, agency):
        members.deactivate(db.session.get(Membership, (agency.id, membership.id)), by=admin)
    result = fit(app, agency, staff_id, at=date.today())
    assert not result.assignable and "inactive" in result.reason_codes

    # withdrawn
    with wf.in_agency(app, agency):
        members.reactivate(db.session.get(Membership, (agency.id, membership.id)))
    client.post(f"/a/{agency.slug}/overrides/{result.override.id}/revoke")
    result = fit(app, agency, staff_id, at=date.today())
    assert not result.assignable and result.override is None
    assert "staff.assignability_override_revoked" in audit_actions(agency)


def test_override_expires(app, factory, agency):
    _u, _m, staff_id = wf.staff(factory, agency)
    with time_machine.travel(TODAY, tick=False):
        with wf.in_agency(app, agency):
            staffing.grant_override(
                wf.staff_file(staff_id), "Temporary cover", TODAY + timedelta(days=7), by=None
            )
        assert fit(app, agency, staff_id, at=TODAY + timedelta(days=7)).assignable
        assert not fit(app, agency, staff_id, at=TODAY + timedelta(days=8)).assignable


def test_assignability_is_set_based(app, factory, agency):
    type_id = wf.cert_type(app, agency)
    wf.settings(app, agency, required={"carer": [type_id], "social_worker": [type_id]})
    ids = [wf.staff(factory, agency, name=f"Worker {i}")[2] for i in range(3)]
    with wf.in_agency(app, agency):
        with count_statements() as small:
            few = staffing.assignability(ids, TODAY)
    ids += [wf.staff(factory, agency, name=f"Worker {i}")[2] for i in range(3, 20)]
    for staff_id in ids[:5]:
        wf.certificate(app, agency, staff_id, type_id)
    with wf.in_agency(app, agency):
        staffing.grant_override(wf.staff_file(ids[7]), "cover", None, by=None)
    with wf.in_agency(app, agency):
        with count_statements() as large:
            many = staffing.assignability(ids, TODAY)
    assert len(few) == 3 and len(many) == 20
    assert large.count == small.count, large.statements
    assert many[ids[7]].assignable and not many[ids[8]].assignable
    assert staffing.assignability([], TODAY) == {}


# -- settings ---------------------------------------------------------------------------------------


def test_workforce_settings(client, app, agency, admin):
    type_id = wf.cert_type(app, agency)
    url = f"/a/{agency.slug}/workforce/settings"
    page = client.get(url)
    assert page.status_code == 200 and 'value="40"' in page.text and 'value="60"' in page.text
    assert "From 0 to 1000." in page.text, "the range, from the declaration"
    data = {
        "certificate_expiring_days": "30",
        "pre_service_hours": "24",
        "annual_training_hours": "12",
        "caseload_limit_individual": "15",
        "caseload_limit_community": "400",
    }
    negative = client.post(url, data={**data, "pre_service_hours": "-5"})
    assert negative.status_code == 422 and "Enter a number from 0 to 1000." in negative.text
    not_a_number = client.post(url, data={**data, "caseload_limit_individual": "x"})
    assert not_a_number.status_code == 422 and 'id="caseload_limit_individual-error"' in not_a_number.text
    assert "Enter a whole number." in not_a_number.text
    too_many = client.post(url, data={**data, "pre_service_hours": "5000", "caseload_limit_community": "-1"})
    assert "Enter a number from 0 to 100000." in too_many.text, "each refused number next to its field"
    foreign = client.post(
        f"{url}/certificates", data={"required_coordinator": ["00000000-0000-0000-0000-000000000001"]}
    )
    assert foreign.status_code == 422 and "Choose a certificate type" in foreign.text
    with wf.in_agency(app, agency):
        assert staffing.workforce_settings().pre_service_hours == 40
    assert client.post(url, data=data).status_code == 302
    assert client.post(f"{url}/certificates", data={"required_carer": [str(type_id)]}).status_code == 302
    stored = db.session.scalar(select(Agency.settings).where(Agency.id == agency.id))
    assert stored["pre_service_hours"] == 24
    assert stored["required_certificate_types"]["carer"] == [str(type_id)]
    with wf.in_agency(app, agency):
        current = staffing.workforce_settings()
    assert (current.certificate_expiring_days, current.caseload_limit_community) == (30, 400)
    assert current.required_for("carer") == (type_id,)


def test_settings_keep_other_features_keys(app, factory):
    agency = factory.agency()
    db.session.execute(
        Agency.__table__.update().where(Agency.id == agency.id).values(settings={"session_idle_minutes": 15})
    )
    db.session.commit()
    wf.settings(app, agency, pre_service_hours=10)
    stored = db.session.scalar(select(Agency.settings).where(Agency.id == agency.id))
    assert stored["session_idle_minutes"] == 15 and stored["pre_service_hours"] == 10


# -- roles -------------------------------------------------------------------------------------------


def test_roles(app, factory, agency):
    _u, _m, staff_id = wf.staff(factory, agency, name="Other Carer")
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    coord = app.test_client()
    login(coord, coordinator)
    for url in ("/staff", f"/staff/{staff_id}", "/caseload", "/staff/export.csv"):
        assert coord.get(f"/a/{agency.slug}{url}").status_code == 200, url
    for url in ("/staff/new", f"/staff/{staff_id}/edit", "/workforce/settings", "/staff/import"):
        assert coord.get(f"/a/{agency.slug}{url}").status_code in REFUSED, url
    assert (
        coord.post(f"/a/{agency.slug}/staff/{staff_id}/override", data={"reason": "x"}).status_code in REFUSED
    )

    carer, _m2, own_id = wf.staff(factory, agency, name="Own Carer")
    own = app.test_client()
    login(own, carer)
    assert own.get(f"/a/{agency.slug}/staff").status_code == 403
    assert own.get(f"/a/{agency.slug}/caseload").status_code == 403
    assert own.get(f"/a/{agency.slug}/staff/{staff_id}").status_code == 404
    mine = own.get(f"/a/{agency.slug}/my/staff-file")
    assert mine.status_code == 302 and mine.location.endswith(f"/staff/{own_id}")
    page = own.get(f"/a/{agency.slug}/staff/{own_id}")
    assert page.status_code == 200 and "Own Carer" in page.text and "Recruitment" not in page.text

    client_user, _ = factory.member(agency, Role.CLIENT)
    family = app.test_client()
    login(family, client_user)
    for url in ("/staff", f"/staff/{own_id}", "/my/staff-file", "/caseload", "/my/training"):
        assert family.get(f"/a/{agency.slug}{url}").status_code in REFUSED, url

    nobody, _ = factory.member(agency, Role.CARER)
    no_file = app.test_client()
    login(no_file, nobody)
    assert "No staff file yet" in no_file.get(f"/a/{agency.slug}/my/staff-file").text


# -- the staff list ------------------------------------------------------------------------------------


def test_staff_list_filters(client, factory, agency, admin):
    wf.staff(
        factory,
        agency,
        name="Alice North",
        home_area="North",
        skills=["dementia care"],
        languages=["English"],
    )
    wf.staff(
        factory, agency, name="Bo South", staff_role="social_worker", home_area="South", languages=["粤语"]
    )
    wf.staff(factory, agency, name="Cy Gone", end=date(2021, 1, 1), staff_number="S-9")
    base = f"/a/{agency.slug}/staff"

    def names(query: str) -> set[str]:
        text = client.get(base + query).text
        return {n for n in ("Alice North", "Bo South", "Cy Gone") if n in text}

    assert names("") == {"Alice North", "Bo South"}
    assert names("?status=all") == {"Alice North", "Bo South", "Cy Gone"}
    assert names("?status=inactive") == {"Cy Gone"}
    assert names("?role=social_worker") == {"Bo South"}
    assert names("?area=North") == {"Alice North"}
    assert names("?skill=dementia+care") == {"Alice North"}
    assert names("?language=%E7%B2%A4%E8%AF%AD") == {"Bo South"}
    assert names("?q=alice") == {"Alice North"}
    assert names("?q=S-9&status=all") == {"Cy Gone"}
    assert names("?q=%25") == set(), "% is not a wildcard"


def test_staff_list_costs_the_same_at_any_size(client, app, factory, agency, admin):
    type_id = wf.cert_type(app, agency)
    wf.settings(app, agency, required={"carer": [type_id]})
    for i in range(5):
        wf.staff(factory, agency, name=f"Small {i}")
    with count_statements() as small:
        assert client.get(f"/a/{agency.slug}/staff").status_code == 200
    for i in range(45):
        _u, _m, staff_id = wf.staff(factory, agency, name=f"Large {i}")
        if i % 3 == 0:
            wf.certificate(app, agency, staff_id, type_id)
    with count_statements() as large:
        page = client.get(f"/a/{agency.slug}/staff")
    assert page.status_code == 200 and page.text.count("data-staff=") == 50
    assert large.count == small.count, large.statements


def test_caseload_page_costs_the_same_at_any_size(client, factory, agency, admin):
    _u, _m, first = wf.staff(factory, agency, name="First")
    assign(client, agency, first)
    with count_statements() as small:
        assert client.get(f"/a/{agency.slug}/caseload").status_code == 200
    for i in range(45):
        _u, _m, staff_id = wf.staff(factory, agency, name=f"Worker {i}")
        if i % 5 == 0:
            with db.tenant_scope(agency.id):
                staffing.assign_caseload(
                    wf.staff_file(staff_id),
                    staffing.CaseloadInput("individual", "X", starts_on=date(2020, 1, 1)),
                    by=None,
                )
                db.session.commit()
    with count_statements() as large:
        assert client.get(f"/a/{agency.slug}/caseload").status_code == 200
    assert large.count == small.count, large.statements
