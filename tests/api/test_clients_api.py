"""Clients, cases and plans over the API: the same rules as the pages, paged
lists, ETags, If-Match, problem documents naming the field, logged reads."""

from __future__ import annotations

from sqlalchemy import func, select

from saas import db
from saas.models import Role
from tenants.clients.models import ClientFileAccess


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


NEW_CLIENT = {
    "full_name": "Rose Tyler",
    "preferred_name": "Rose",
    "date_of_birth": "1940-05-01",
    "gender": "female",
    "languages": ["English", "Welsh"],
    "consent_services": True,
    "contacts": [{"name": "Jackie Tyler", "relationship": "mother", "phone": "07700 900001"}],
}


def test_a_coordinator_adds_reads_and_changes_a_client(client, factory):
    agency = factory.agency()
    _user, membership = factory.member(agency, Role.COORDINATOR)
    token = factory.api_token(membership)
    made = client.post("/api/v1/clients", json=NEW_CLIENT, headers=bearer(token))
    assert made.status_code == 201, made.json
    client_id = made.json["id"]
    assert made.json["contacts"] == [NEW_CLIENT["contacts"][0]]
    assert made.json["languages"] == ["English", "Welsh"]

    read = client.get(f"/api/v1/clients/{client_id}", headers=bearer(token))
    assert read.status_code == 200 and read.headers["ETag"]
    etag = read.headers["ETag"]
    again = client.get(f"/api/v1/clients/{client_id}", headers=bearer(token, **{"If-None-Match": etag}))
    assert again.status_code == 304

    changed = client.patch(
        f"/api/v1/clients/{client_id}",
        json={"phone": "020 7946 0000"},
        headers=bearer(token, **{"If-Match": etag}),
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["phone"] == "020 7946 0000" and changed.json["full_name"] == "Rose Tyler"
    stale = client.patch(
        f"/api/v1/clients/{client_id}", json={"phone": "1"}, headers=bearer(token, **{"If-Match": etag})
    )
    assert stale.status_code == 412
    assert stale.headers["Content-Type"] == "application/problem+json"
    assert stale.json["field"] == "If-Match"
    with db.tenant_scope(agency.id):
        logged = db.session.scalar(
            select(func.count()).where(
                ClientFileAccess.client_id == client_id, ClientFileAccess.section == "api"
            )
        )
    assert logged >= 3  # created, read twice, changed: each read of the file logged


def test_bad_input_is_a_problem_naming_the_field_in_the_users_language(client, factory):
    agency = factory.agency()
    user, membership = factory.member(agency, Role.COORDINATOR)
    token = factory.api_token(membership)
    cases = [
        ({**NEW_CLIENT, "full_name": ""}, "full_name"),
        ({**NEW_CLIENT, "email": "not an email"}, "email"),
        ({**NEW_CLIENT, "consent_services": False}, "consent_services"),
        ({**NEW_CLIENT, "date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({**NEW_CLIENT, "contacts": [{"name": "Only a name"}]}, "contacts-0-phone"),
        ({**NEW_CLIENT, "full_name": {"a": 1}}, "full_name"),
        ({**NEW_CLIENT, "full_name": "x" * 201}, "full_name"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/clients", json=body, headers=bearer(token))
        assert response.status_code == 422, (field, response.json)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json["field"] == field, response.json
        assert response.json["detail"]
    with db.tenant_scope(agency.id):
        from tenants.clients.models import Client

        assert db.session.scalar(select(func.count()).select_from(Client)) == 0
    with factory.app.app_context():
        with db.tenant_scope(agency.id):
            db.session.get(type(user), user.id).locale = "zh_CN"
            db.session.commit()
    chinese = client.post("/api/v1/clients", json={**NEW_CLIENT, "full_name": ""}, headers=bearer(token))
    assert chinese.status_code == 422 and chinese.json["field"] == "full_name"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.json["detail"]), chinese.json


def test_lists_are_paged_by_cursor_and_filtered(client, factory):
    agency = factory.agency()
    _user, membership = factory.member(agency, Role.ADMIN)
    token = factory.api_token(membership)
    for n in range(5):
        factory.client(agency, f"Client {n}")
    factory.client(agency, "Someone Else")
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/clients", query_string=query, headers=bearer(token))
        assert page.status_code == 200
        seen += [c["full_name"] for c in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([f"Client {n}" for n in range(5)] + ["Someone Else"])
    assert len(seen) == len(set(seen))
    found = client.get("/api/v1/clients", query_string={"q": "else"}, headers=bearer(token))
    assert [c["full_name"] for c in found.json["items"]] == ["Someone Else"]
    bad = client.get("/api/v1/clients", query_string={"cursor": "nonsense!"}, headers=bearer(token))
    assert bad.status_code == 400 and bad.json["field"] == "cursor"
    bad = client.get("/api/v1/clients", query_string={"limit": "0"}, headers=bearer(token))
    assert bad.status_code == 422 and bad.json["field"] == "limit"


def test_carers_do_not_get_clients_files(client, factory):
    agency = factory.agency()
    _user, membership = factory.member(agency, Role.CARER)
    token = factory.api_token(membership)
    someone = factory.client(agency)
    assert client.get("/api/v1/clients", headers=bearer(token)).status_code == 403
    assert client.get(f"/api/v1/clients/{someone.id}", headers=bearer(token)).status_code == 404


def test_a_scope_the_token_lacks_is_refused(client, factory):
    agency = factory.agency()
    _user, membership = factory.member(agency, Role.COORDINATOR)
    read_only = factory.api_token(membership, ["read", "clients"])
    visits_only = factory.api_token(membership, ["read", "write", "scheduling"])
    assert client.get("/api/v1/clients", headers=bearer(read_only)).status_code == 200
    refused = client.post("/api/v1/clients", json=NEW_CLIENT, headers=bearer(read_only))
    assert refused.status_code == 403 and refused.json["field"] == "scope"
    assert "write" in refused.json["detail"]
    refused = client.get("/api/v1/clients", headers=bearer(visits_only))
    assert refused.status_code == 403 and "clients" in refused.json["detail"]
    assert client.get("/api/v1/me", headers=bearer(visits_only)).status_code == 200


def test_a_case_and_its_plan_through_the_api(client, factory):
    agency = factory.agency()
    author, author_m = factory.member(agency, Role.COORDINATOR)
    _approver, approver_m = factory.member(agency, Role.ADMIN)
    token, approver_token = factory.api_token(author_m), factory.api_token(approver_m)
    item_id = factory.service_item(agency)
    someone = factory.client(agency)
    opened = client.post(
        f"/api/v1/clients/{someone.id}/cases", json={"intake_channel": "phone"}, headers=bearer(token)
    )
    assert opened.status_code == 201, opened.json
    case_id = opened.json["id"]
    levels = {
        f"{d}_level": 2 for d in ("physical", "psychological", "social", "family_network", "quality_of_life")
    }
    with factory.app.app_context():
        from tenants.clients.services import agency_today

        today = agency_today(agency).isoformat()
    assessed = client.post(
        f"/api/v1/cases/{case_id}/assessments",
        json={"method": "interview", "assessed_on": today, **levels},
        headers=bearer(token),
    )
    assert assessed.status_code == 201, assessed.json
    plan = client.post(f"/api/v1/cases/{case_id}/plans", headers=bearer(token))
    assert plan.status_code == 201, plan.json
    plan_id = plan.json["id"]
    patched = client.patch(
        f"/api/v1/plans/{plan_id}", json={"goals": "Eat well", "starts_on": today}, headers=bearer(token)
    )
    assert patched.status_code == 200 and patched.json["goals"] == "Eat well", patched.json
    bad = client.post(
        f"/api/v1/plans/{plan_id}/items",
        json={
            "service_item_id": str(item_id),
            "weekdays": [9],
            "start_time": "09:00",
            "duration_minutes": 30,
        },
        headers=bearer(token),
    )
    assert bad.status_code == 422 and bad.json["field"] == "weekdays", bad.json
    added = client.post(
        f"/api/v1/plans/{plan_id}/items",
        json={
            "service_item_id": str(item_id),
            "weekdays": [1, 3],
            "start_time": "09:00",
            "duration_minutes": 30,
        },
        headers=bearer(token),
    )
    assert added.status_code == 201 and len(added.json["items"]) == 1, added.json
    assert client.post(f"/api/v1/plans/{plan_id}/submit", headers=bearer(token)).status_code == 200
    own = client.post(f"/api/v1/plans/{plan_id}/approve", headers=bearer(token))
    assert own.status_code in (409, 422) and own.headers["Content-Type"] == "application/problem+json"
    approved = client.post(f"/api/v1/plans/{plan_id}/approve", headers=bearer(approver_token))
    assert approved.status_code == 200 and approved.json["status"] == "approved", approved.json
    listed = client.get("/api/v1/plans", query_string={"case_id": case_id}, headers=bearer(token))
    assert [p["id"] for p in listed.json["items"]] == [plan_id]
