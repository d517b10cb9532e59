"""Bad input gets a clear answer, never a 500, and nothing half-saved."""

from __future__ import annotations

from sqlalchemy import func, select

from saas import db
from saas.models import Agency, Role
from tests.conftest import make_config
from tests.factories import login


def test_unknown_agency_and_malformed_ids(client, agency, admin):
    assert client.get("/a/no-such-agency/").status_code == 404
    assert client.get("/a/" + "x" * 300 + "/").status_code == 404
    assert client.get(f"/a/{agency.slug}/members/not-a-uuid/role").status_code == 404
    assert client.post(f"/a/{agency.slug}/members/12345/role", data={"role": "carer"}).status_code == 404
    assert (
        client.post(
            f"/a/{agency.slug}/members/00000000-0000-0000-0000-000000000000/role", data={"role": "carer"}
        ).status_code
        == 404
    )
    assert client.get("/a/%00%ff/").status_code == 404


def test_oversized_form_is_413(client):
    response = client.post("/login", data={"email": "a@example.net", "password": "x" * (9 * 1024 * 1024)})
    assert response.status_code == 413
    assert "too large" in response.text


def test_csrf_is_enforced(client):
    response = client.post(
        "/login", data={"email": "a@example.net", "password": "whatever-password", "csrf_token": None}
    )
    assert response.status_code == 400 and "This form has expired" in response.text
    page = client.get("/login").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    ok = client.post(
        "/login", data={"email": "a@example.net", "password": "whatever-password", "csrf_token": token}
    )
    assert ok.status_code == 200 and "not right" in ok.text


def test_script_in_input_is_shown_as_text(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN, name="<script>alert(1)</script>")
    login(client, admin)
    page = client.get(f"/a/{agency.slug}/members")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_duplicate_slug_saves_nothing(client, factory):
    operator = factory.user(operator=True, totp=True)
    login(client, operator)
    existing = factory.agency()
    before = db.session.scalar(select(func.count()).select_from(Agency))
    client.post(
        "/operator/agencies/new",
        data={"name": "Copy", "slug": existing.slug, "timezone": "Europe/London", "locale": "en",
              "admin_email": "x@example.net"},
    )  # fmt: skip
    assert db.session.scalar(select(func.count()).select_from(Agency)) == before


def test_errors_render_in_the_users_language(client):
    response = client.get("/a/nowhere/", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert 'lang="zh-Hans"' in response.text


def test_a_nul_character_is_a_400_never_a_500(client, factory):
    from tenants.staffing.models import Team

    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    refused = client.post(f"/a/{agency.slug}/teams", data={"name": "North\x00"})
    assert refused.status_code == 400 and "could not be understood" in refused.text
    assert client.get(f"/a/{agency.slug}/feedback/statistics?start=2026-01-01\x00").status_code == 400
    api = client.post(
        f"/a/{agency.slug}/feedback", data='{"description": "a\\u0000b"}', content_type="application/json"
    )
    assert api.status_code == 400
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(Team)) == 0


def test_personal_links_need_no_session_cookie(services, factory, dbconn):
    """A rating link opened in a mail app's browser that drops cookies still
    takes the answers: the link's secret is the credential, not a session."""
    from saas.app import create_app
    from tenants.feedback import services as feedback
    from tenants.feedback.models import VisitRating
    from tests.feedback.test_feedback import GOOD, completed_world

    app = create_app(make_config(services))
    world = completed_world(factory)
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        token = feedback.issue_rating_link(world.agency, world.visit)
        db.session.commit()
    client = app.test_client(use_cookies=False)
    response = client.post(f"/r/{token}", data={**GOOD, "comment": ""})
    assert response.status_code == 200 and "Thank you for your rating." in response.text
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(VisitRating)) == 1
