"""The JSON API: personal tokens, one agency per token, OpenAPI document."""

from __future__ import annotations

from sqlalchemy import select

from saas import db
from saas.models import AgencyStatus, ApiToken, Role
from tests.factories import login


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_me_lists_profile_and_memberships(client, factory):
    a = factory.agency()
    b = factory.agency()
    user, membership = factory.member(a, Role.CARER)
    factory.member(b, Role.COORDINATOR, user=user)
    token = factory.api_token(membership)
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    body = response.json
    assert body["user"]["email"] == user.email
    assert body["token_agency"] == {"slug": a.slug, "name": a.name, "role": "carer"}
    assert {m["agency"]["slug"] for m in body["memberships"]} == {a.slug, b.slug}
    with db.tenant_scope(a.id):
        assert db.session.scalar(select(ApiToken.last_used_at)) is not None


def test_bad_tokens_are_401(client, factory):
    agency = factory.agency()
    _user, membership = factory.member(agency, Role.CARER)
    token = factory.api_token(membership)
    for header in ({}, bearer("nonsense"), bearer(token[:-2] + "xx"), {"Authorization": f"Basic {token}"},
                   bearer("00000000000000000000000000000000.abc")):  # fmt: skip
        response = client.get("/api/v1/me", headers=header)
        assert response.status_code == 401 and response.json["error"]["status"] == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_cannot_sign_in_to_pages(client, factory):
    agency = factory.agency()
    _user, membership = factory.member(agency, Role.CARER)
    token = factory.api_token(membership)
    response = client.get(f"/a/{agency.slug}/", headers=bearer(token))
    assert response.status_code == 302 and "/login" in response.location


def test_session_cookie_does_not_open_the_api(client, factory):
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)
    login(client, user)
    assert client.get("/api/v1/me").status_code == 401


def test_roles_and_deactivation_apply_to_tokens(client, factory):
    agency = factory.agency()
    admin, admin_m = factory.member(agency, Role.ADMIN)
    _carer, carer_m = factory.member(agency, Role.CARER)
    carer_token = factory.api_token(carer_m)
    admin_token = factory.api_token(admin_m)
    assert client.get(f"/api/v1/members/{admin_m.id}", headers=bearer(carer_token)).status_code == 403
    assert client.get(f"/api/v1/members/{carer_m.id}", headers=bearer(admin_token)).json["role"] == "carer"
    login(client, admin)
    client.post(f"/a/{agency.slug}/members/{carer_m.id}/deactivate")
    assert client.get("/api/v1/me", headers=bearer(carer_token)).status_code == 401


def test_suspended_agency_token(client, factory):
    agency = factory.agency()
    _user, membership = factory.member(agency, Role.CARER)
    token = factory.api_token(membership)
    agency.status = AgencyStatus.SUSPENDED
    db.session.commit()
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 403 and "suspended" in response.json["error"]["message"]


def test_malformed_ids_are_404_json(client, factory):
    agency = factory.agency()
    _user, membership = factory.member(agency, Role.ADMIN)
    token = factory.api_token(membership)
    response = client.get("/api/v1/members/not-a-uuid", headers=bearer(token))
    assert response.status_code == 404 and response.json["error"]["status"] == 404


def test_openapi_document(client, app):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/me" in doc["paths"] and "/api/v1/members/{member_id}" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    documented = set(doc["paths"])
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi":
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<uuid:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
            assert path in documented, f"{rule.rule} is not in the OpenAPI document"
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in doc["paths"][path], f"{method} {rule.rule} is not documented"
    for path, operations in doc["paths"].items():
        for op in operations.values():
            successes = [s for s in op["responses"] if s.startswith("2")]
            assert successes and "401" in op["responses"], path
            # every operation shows an example of its answer (and of its body)
            for status in successes:
                for content in op["responses"][status].get("content", {}).values():
                    assert "example" in content, (path, status)
            for content in op.get("requestBody", {}).get("content", {}).values():
                assert "example" in content, path
            assert op["x-scopes"][0] in ("read", "write"), path
