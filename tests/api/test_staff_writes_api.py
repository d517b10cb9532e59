"""Opening and changing staff files and adding certificates over the API:
the staff pages' rules and permissions, the token's scopes, If-Match, a
repeated Idempotency-Key answered once, problem documents naming the field."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from saas import db
from saas.models import Agency, Invitation, Membership, Role
from tenants.staffing.models import Certificate, StaffFile
from tests.staffing import workforce_helpers as wf


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


NEW_STAFF = {
    "email": "dana.doe@example.net",
    "name": "Dana Doe",
    "staff_role": "carer",
    "employment_start": "2026-01-05",
    "contracted_hours": 30,
    "home_area": "North",
    "skills": ["dementia care", "cooking"],
    "languages": ["English", "Polish"],
    "availability": {"mon": [["08:00", "12:00"], ["14:00", "18:00"]], "fri": [["09:00", "13:00"]]},
    "caseload_limit": 12,
}


def count(agency, model) -> int:
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(func.count()).select_from(model))


def admin_token(factory, agency, scopes: list[str] | None = None) -> str:
    _user, membership = factory.member(agency, Role.ADMIN)
    return factory.api_token(membership, scopes)


def test_an_admin_opens_a_staff_file_once_and_changes_it_with_if_match(client, factory):
    agency = factory.agency()
    token = admin_token(factory, agency)
    key = {"Idempotency-Key": "open-dana"}
    made = client.post("/api/v1/staff", json=NEW_STAFF, headers=bearer(token, **key))
    assert made.status_code == 201, made.json
    staff_id = made.json["id"]
    assert made.json["name"] == "Dana Doe" and made.json["skills"] == ["dementia care", "cooking"]
    assert made.json["availability"] == NEW_STAFF["availability"]
    assert made.json["caseload"]["individual_limit"] == 12
    again = client.post("/api/v1/staff", json=NEW_STAFF, headers=bearer(token, **key))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == made.json
    assert count(agency, StaffFile) == 1
    with db.tenant_scope(agency.id):
        # someone new is invited, once
        assert db.session.scalar(select(func.count()).where(Invitation.email == "dana.doe@example.net")) == 1

    read = client.get(f"/api/v1/staff/{staff_id}", headers=bearer(token))
    etag = read.headers["ETag"]
    changed = client.patch(
        f"/api/v1/staff/{staff_id}",
        json={"home_area": "South", "availability": {"tue": [["10:00", "16:00"]]}, "caseload_limit": None},
        headers=bearer(token, **{"If-Match": etag}),
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["home_area"] == "South" and changed.json["availability"] == {
        "tue": [["10:00", "16:00"]]
    }
    assert changed.json["skills"] == ["dementia care", "cooking"]  # what was not sent is kept
    assert changed.json["caseload"]["individual_limit"] == 20  # the agency's setting again
    assert client.get(f"/api/v1/staff/{staff_id}", headers=bearer(token)).json == changed.json

    stale = client.patch(
        f"/api/v1/staff/{staff_id}", json={"home_area": "East"}, headers=bearer(token, **{"If-Match": etag})
    )
    assert stale.status_code == 412 and stale.json["field"] == "If-Match"
    assert stale.headers["Content-Type"] == "application/problem+json"
    assert client.get(f"/api/v1/staff/{staff_id}", headers=bearer(token)).json["home_area"] == "South"


def test_a_file_needs_only_the_address_role_and_start(client, factory):
    agency = factory.agency()
    token = admin_token(factory, agency)
    _user, member = factory.member(agency, Role.CARER, name="Jo Member")
    with db.tenant_scope(agency.id):
        email = db.session.get(type(_user), _user.id).email
    body = {"email": email, "staff_role": "social_worker", "employment_start": "2026-02-01"}
    made = client.post("/api/v1/staff", json=body, headers=bearer(token))
    assert made.status_code == 201, made.json
    assert made.json["name"] == "Jo Member" and made.json["contracted_hours"] == 0
    assert made.json["availability"] == {} and made.json["staff_number"] is None
    # an existing member keeps their membership: nobody is invited
    assert count(agency, Invitation) == 0 and count(agency, Membership) == 2
    again = client.post("/api/v1/staff", json=body, headers=bearer(token))
    assert again.status_code == 422 and again.json["field"] == "email"


def test_bad_staff_input_names_the_field_and_keeps_nothing(client, factory):
    agency = factory.agency()
    user, membership = factory.member(agency, Role.ADMIN)
    token = factory.api_token(membership)
    members = count(agency, Membership)
    cases = [
        ({k: v for k, v in NEW_STAFF.items() if k != "email"}, "email"),
        ({**NEW_STAFF, "email": "not an address"}, "email"),
        ({**NEW_STAFF, "name": ""}, "name"),  # someone new needs a name
        ({**NEW_STAFF, "staff_role": "boss"}, "staff_role"),
        ({**NEW_STAFF, "employment_start": "5 January"}, "employment_start"),
        ({**NEW_STAFF, "employment_end": "2025-01-01"}, "employment_end"),
        ({**NEW_STAFF, "contracted_hours": 200}, "contracted_hours"),
        ({**NEW_STAFF, "contracted_hours": "30"}, "contracted_hours"),
        ({**NEW_STAFF, "skills": "cooking"}, "skills"),
        ({**NEW_STAFF, "availability": {"mon": [["12:00", "08:00"]]}}, "availability-mon"),
        ({**NEW_STAFF, "availability": {"someday": []}}, "availability"),
        ({**NEW_STAFF, "caseload_limit": 10**12}, "caseload_limit"),
        ({**NEW_STAFF, "notes": "x" * 5001}, "notes"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/staff", json=body, headers=bearer(token))
        assert response.status_code == 422, (field, response.json)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json["field"] == field, (field, response.json)
        assert response.json["detail"]
    not_a_number = json.dumps(NEW_STAFF).replace('"contracted_hours": 30', '"contracted_hours": NaN')
    response = client.post(
        "/api/v1/staff", data=not_a_number, content_type="application/json", headers=bearer(token)
    )
    assert response.status_code == 422 and response.json["field"] == "contracted_hours"
    assert count(agency, StaffFile) == 0 and count(agency, Membership) == members
    assert count(agency, Invitation) == 0

    with db.tenant_scope(agency.id):
        db.session.get(type(user), user.id).locale = "zh_CN"
        db.session.commit()
    chinese = client.post("/api/v1/staff", json={**NEW_STAFF, "contracted_hours": 200}, headers=bearer(token))
    assert chinese.status_code == 422 and chinese.json["field"] == "contracted_hours"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.json["detail"]), chinese.json

    _u, _m, staff_id = wf.staff(factory, agency, name="Eve Early")
    english = factory.api_token(factory.member(agency, Role.ADMIN)[1])
    bad = client.patch(
        f"/api/v1/staff/{staff_id}", json={"email": "new@example.net"}, headers=bearer(english)
    )
    assert bad.status_code == 422 and bad.json["field"] == "email"
    bad = client.patch(
        f"/api/v1/staff/{staff_id}",
        json={"home_area": "West", "employment_end": "2019-01-01"},
        headers=bearer(english),
    )
    assert bad.status_code == 422 and bad.json["field"] == "employment_end"
    read = client.get(f"/api/v1/staff/{staff_id}", headers=bearer(english)).json
    assert read["home_area"] == "" and read["employment_end"] is None


def test_certificates_are_added_to_a_staff_file_with_the_pages_rules(client, factory):
    agency, other = factory.agency(), factory.agency()
    token = admin_token(factory, agency)
    _u, _m, staff_id = wf.staff(factory, agency, name="Fay First")
    first_aid = wf.cert_type(factory.app, agency, "First aid")
    elsewhere = wf.cert_type(factory.app, other, "First aid")
    types = client.get("/api/v1/certificate-types", headers=bearer(token))
    assert types.status_code == 200
    assert [t["id"] for t in types.json["certificate_types"]] == [str(first_aid)]

    url = f"/api/v1/staff/{staff_id}/certificates"
    body = {
        "certificate_type_id": str(first_aid),
        "number": "FA-100",
        "issuer": "Red Cross",
        "issued_on": "2025-06-01",
        "expires_on": "2028-06-01",
    }
    key = {"Idempotency-Key": "fa-100"}
    added = client.post(url, json=body, headers=bearer(token, **key))
    assert added.status_code == 201, added.json
    assert added.json["type"] == "First aid" and added.json["number"] == "FA-100"
    assert added.json["status"] == "valid" and added.json["has_document"] is False
    replayed = client.post(url, json=body, headers=bearer(token, **key))
    assert replayed.status_code == 201 and replayed.json == added.json
    assert replayed.headers["Idempotent-Replayed"] == "true"
    listed = client.get(url, headers=bearer(token)).json["certificates"]
    assert [c["id"] for c in listed] == [added.json["id"]]

    cases = [
        ({**body, "number": "FA-100"}, "number"),  # taken
        ({**body, "number": ""}, "number"),
        ({**body, "certificate_type_id": str(elsewhere)}, "certificate_type_id"),  # another agency's type
        ({**body, "certificate_type_id": "nonsense"}, "certificate_type_id"),
        ({**body, "number": "FA-101", "issued_on": "2999-01-01"}, "issued_on"),
        ({**body, "number": "FA-101", "expires_on": "2020-01-01"}, "expires_on"),
        ({**body, "number": "FA-101", "issuer": 7}, "issuer"),
    ]
    for sent, field in cases:
        response = client.post(url, json=sent, headers=bearer(token))
        assert response.status_code == 422, (field, response.json)
        assert response.json["field"] == field, (field, response.json)
    assert count(agency, Certificate) == 1


def test_only_those_who_manage_staff_write_and_only_with_the_scopes(client, factory):
    agency = factory.agency()
    _u, _m, staff_id = wf.staff(factory, agency, name="Gus Green")
    kind = wf.cert_type(factory.app, agency)
    certificate = {"certificate_type_id": str(kind), "number": "N-1", "issued_on": "2025-01-01"}
    _c, coordinator = factory.member(agency, Role.COORDINATOR)
    carer_user, carer, carer_staff = wf.staff(factory, agency, name="Cara Carer")
    for token in (factory.api_token(coordinator), factory.api_token(carer)):
        assert client.post("/api/v1/staff", json=NEW_STAFF, headers=bearer(token)).status_code == 403
        refused = client.patch(f"/api/v1/staff/{staff_id}", json={"home_area": "X"}, headers=bearer(token))
        assert refused.status_code == 404 and refused.json["error"]["status"] == 404
        added = client.post(f"/api/v1/staff/{staff_id}/certificates", json=certificate, headers=bearer(token))
        assert added.status_code == 404
        assert client.get("/api/v1/certificate-types", headers=bearer(token)).status_code == 403
    # a carer changes nothing of their own file either
    own = client.patch(
        f"/api/v1/staff/{carer_staff}", json={"home_area": "X"}, headers=bearer(factory.api_token(carer))
    )
    assert own.status_code == 404

    read_only = admin_token(factory, agency, ["read", "staffing"])
    refused = client.post("/api/v1/staff", json=NEW_STAFF, headers=bearer(read_only))
    assert (
        refused.status_code == 403 and refused.json["field"] == "scope" and "write" in refused.json["detail"]
    )
    refused = client.patch(f"/api/v1/staff/{staff_id}", json={"home_area": "X"}, headers=bearer(read_only))
    assert refused.status_code == 403 and refused.json["field"] == "scope"
    clients_only = admin_token(factory, agency, ["read", "write", "clients"])
    refused = client.post(
        f"/api/v1/staff/{staff_id}/certificates", json=certificate, headers=bearer(clients_only)
    )
    assert refused.status_code == 403 and "staffing" in refused.json["detail"]
    assert count(agency, StaffFile) == 2 and count(agency, Certificate) == 0


def test_another_agencys_staff_files_are_404(client, factory):
    agency, other = factory.agency(), factory.agency()
    token = admin_token(factory, agency)
    _u, _m, theirs = wf.staff(factory, other, name="Hal Hidden")
    kind = wf.cert_type(factory.app, other)
    assert client.get(f"/api/v1/staff/{theirs}", headers=bearer(token)).status_code == 404
    patched = client.patch(f"/api/v1/staff/{theirs}", json={"home_area": "Mine"}, headers=bearer(token))
    assert patched.status_code == 404 and str(theirs) not in patched.text
    added = client.post(
        f"/api/v1/staff/{theirs}/certificates",
        json={"certificate_type_id": str(kind), "number": "X-1", "issued_on": "2025-01-01"},
        headers=bearer(token),
    )
    assert added.status_code == 404
    with db.tenant_scope(other.id):
        assert db.session.scalar(select(StaffFile.home_area).where(StaffFile.id == theirs)) == ""
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_a_restricted_agency_opens_no_staff_file_but_changes_them(client, factory):
    agency = factory.agency()
    token = admin_token(factory, agency)
    _u, _m, staff_id = wf.staff(factory, agency, name="Ida Idle")
    db.session.get(Agency, agency.id).billing_state = "restricted"
    db.session.commit()
    refused = client.post("/api/v1/staff", json=NEW_STAFF, headers=bearer(token))
    assert refused.status_code == 403 and "restricted" in refused.json["detail"]
    assert count(agency, StaffFile) == 1
    changed = client.patch(
        f"/api/v1/staff/{staff_id}", json={"employment_end": date.today().isoformat()}, headers=bearer(token)
    )
    assert changed.status_code == 200, changed.json
