"""The carer's phone: their staff file, training and certificates over /api/v1/my/."""

from __future__ import annotations

from datetime import date

from saas.models import Role
from tests.staffing import workforce_helpers as wf


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_my_staff_file_training_and_certificates(client, app, factory):
    agency = factory.agency()
    type_id = wf.cert_type(app, agency, "First aid")
    wf.settings(app, agency, required={"carer": [type_id]})
    _user, membership, staff_id = wf.staff(
        factory, agency, skills=["cooking"], availability={"mon": "08:00-12:00"}, caseload_limit=12
    )
    course_id = wf.course(app, agency, hours="12", title="Induction")
    wf.attend(app, agency, wf.session(app, agency, course_id, date(2026, 1, 5)), staff_id)
    wf.certificate(
        app, agency, staff_id, type_id, number="FA-9", expires=date(2020, 6, 1), issued=date(2019, 6, 1)
    )
    token = factory.api_token(membership)

    staff_file = client.get("/api/v1/my/staff-file", headers=bearer(token))
    assert staff_file.status_code == 200, staff_file.text
    body = staff_file.json
    assert body["id"] == str(staff_id) and body["staff_role"] == "carer" and body["skills"] == ["cooking"]
    assert body["availability"] == {"mon": [["08:00", "12:00"]]}
    assert body["assignable"] is False
    assert [r["code"] for r in body["reasons"]] == ["pre_service_hours", f"certificate_expired:{type_id}"]
    assert body["reasons"][0]["message"] == "12 of the 40 hours of pre-service training done."
    assert body["caseload"]["individual_limit"] == 12

    certificates = client.get("/api/v1/my/certificates", headers=bearer(token)).json["certificates"]
    assert [(c["number"], c["type"], c["status"]) for c in certificates] == [("FA-9", "First aid", "expired")]

    training = client.get("/api/v1/my/training", headers=bearer(token)).json
    assert training["pre_service"] == {"hours": 12.0, "required": 40.0}
    assert [s["course"] for s in training["sessions"]] == ["Induction"]
    assert (
        training["sessions"][0]["status"] == "completed" and training["sessions"][0]["attended_hours"] == 12.0
    )
    assert "28 more hours of pre-service training." in training["due"]


def test_no_staff_file_and_bad_tokens(client, factory):
    agency = factory.agency()
    _client_user, client_membership = factory.member(agency, Role.CLIENT)
    token = factory.api_token(client_membership)
    for path in ("/api/v1/my/staff-file", "/api/v1/my/training", "/api/v1/my/certificates"):
        assert client.get(path, headers=bearer(token)).status_code == 404, path
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers=bearer("nonsense")).status_code == 401, path


def test_each_token_sees_its_own_file_only(client, app, factory):
    agency = factory.agency()
    _a, a_membership, a_id = wf.staff(factory, agency, name="Ann")
    _b, _b_membership, b_id = wf.staff(factory, agency, name="Ben")
    body = client.get("/api/v1/my/staff-file", headers=bearer(factory.api_token(a_membership))).json
    assert body["id"] == str(a_id) != str(b_id)


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/my/staff-file", "/api/v1/my/training", "/api/v1/my/certificates"):
        operation = spec["paths"][path]["get"]
        assert operation["security"] == [{"bearerAuth": []}], path
        assert "200" in operation["responses"] and "401" in operation["responses"], path
        assert operation["tags"] == ["workforce"]
    staff_schema = spec["paths"]["/api/v1/my/staff-file"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    assert "assignable" in staff_schema["properties"] and "reasons" in staff_schema["properties"]
