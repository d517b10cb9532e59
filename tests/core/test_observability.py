"""Sentry without personal data, logs with request and agency ids, health."""

from __future__ import annotations

import io
import json
import logging

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from saas.models import Role
from tests.conftest import make_config
from tests.factories import login

CLIENT_NAME = "Margaret Thornbury"
SECRET_PASSWORD = "Hunter2-secret-password"


class CaptureTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def flush(self, timeout, callback=None):
        return None


def test_sentry_events_carry_no_personal_data(services, dbconn, factory):
    from saas.app import create_app

    transport = CaptureTransport()
    app = create_app(
        make_config(services, SENTRY_DSN="http://public@127.0.0.1:9/1", SENTRY_TRANSPORT=transport)
    )
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)

    @app.route("/a/<slug>/boom", methods=["POST"])
    def boom():
        client_email = "margaret@example.net"  # a local variable that must not travel
        raise ValueError(f"could not save {CLIENT_NAME} <{client_email}>")

    try:
        client = app.test_client()
        login(client, user)
        response = client.post(
            f"/a/{agency.slug}/boom",
            data={"email": "margaret@example.net", "password": SECRET_PASSWORD, "name": CLIENT_NAME},
        )
        assert response.status_code == 500
        assert CLIENT_NAME not in response.text
        sentry_sdk.flush()
        assert transport.envelopes, "the error reached Sentry"
        payload = "".join(
            item.payload.get_bytes().decode("utf-8", "replace")
            for env in transport.envelopes
            for item in env.items
        )
        for secret in ("margaret@example.net", user.email, SECRET_PASSWORD, CLIENT_NAME, "Thornbury"):
            assert secret not in payload, f"{secret!r} leaked to Sentry"
        events = [json.loads(item.payload.get_bytes()) for env in transport.envelopes for item in env.items
                  if item.type == "event"]  # fmt: skip
        assert events and events[0]["tags"]["agency_id"] == str(agency.id)
        assert events[0]["exception"]["values"][0]["type"] == "ValueError"
    finally:
        sentry_sdk.init()  # switch Sentry off for the rest of the suite


def test_logs_carry_request_and_agency_ids(services, dbconn, factory):
    from saas.app import create_app

    app = create_app(make_config(services))
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)

    @app.route("/a/<slug>/crash")
    def crash():
        raise RuntimeError(f"detail about {CLIENT_NAME}")

    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_saas", False))
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        client = app.test_client()
        login(client, user)
        response = client.get(f"/a/{agency.slug}/crash", headers={"X-Request-ID": "req-12345678"})
        assert response.status_code == 500
        assert response.headers["X-Request-ID"] == "req-12345678"
    finally:
        handler.setStream(old)
    output = stream.getvalue()
    assert f"[req=req-12345678 agency={agency.id}]" in output
    assert "RuntimeError" in output and CLIENT_NAME not in output


def test_health_and_readiness(client, app, monkeypatch):
    # liveness is answered before Flask: no hook of a page's runs for it
    monkeypatch.setattr(app, "preprocess_request", lambda: pytest.fail("/healthz went through Flask"))
    live = client.get("/healthz")
    assert live.status_code == 200 and live.json == {"status": "ok"}
    assert live.headers["Cache-Control"] == "no-store"
    assert client.head("/healthz").status_code == 200
    monkeypatch.undo()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"database": True, "redis": True}


def test_not_ready_without_redis(services, dbconn):
    from saas.app import create_app

    broken = create_app(make_config(services, REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_ENABLED=False))
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": True, "redis": False}


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
