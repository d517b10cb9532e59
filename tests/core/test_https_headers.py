"""Served over https (BASE_URL https://...): HSTS on every response and the
session cookie as a __Host- cookie (Secure, Path=/, no Domain), so neither a
plain-http request nor a sibling subdomain can plant or read it."""

from __future__ import annotations

from saas.models import Role
from tests.conftest import make_config
from tests.factories import login

HSTS = "max-age=63072000; includeSubDomains"


def https_app(services, **extra):
    from saas.app import create_app

    config = make_config(services, **extra)
    config.BASE_URL = "https://carehub.example"
    return create_app(config)


def test_https_sends_hsts_and_a_host_prefixed_session_cookie(services, dbconn, factory):
    app = https_app(services)
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost")
    assert page.headers["Strict-Transport-Security"] == HSTS
    agency = factory.agency()
    carer, _ = factory.member(agency, Role.CARER)
    response = client.post(
        "/login",
        data={"email": carer.email, "password": "correct-horse-battery-9"},
        base_url="https://localhost",
        # over https Flask-WTF also checks the Referer a browser sends (same origin)
        headers={"Referer": "https://localhost/login"},
    )
    assert response.status_code == 302, response.text[:500]
    assert response.headers["Strict-Transport-Security"] == HSTS
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if "session=" in c]
    assert cookie.startswith("__Host-session="), cookie
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path"} <= attributes and "domain" not in attributes
    assert "Path=/" in cookie and "SameSite=Lax" in cookie
    # the browser sends it back and the person stays signed in
    assert client.get("/", base_url="https://localhost").status_code == 302
    assert client.get_cookie("__Host-session", domain="localhost") is not None


def test_plain_http_has_no_hsts_and_the_plain_cookie(client, factory):
    agency = factory.agency()
    carer, _ = factory.member(agency, Role.CARER)
    page = client.get("/login")
    assert "Strict-Transport-Security" not in page.headers
    login(client, carer, through_pages=True)  # the cookie the sign-in answer sets
    assert client.get_cookie("session") is not None
