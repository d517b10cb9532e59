"""Webhooks against a real HTTP receiver on this machine: signed deliveries,
retries while the receiver is down, the delivery log and redelivery, and the
refusal of private and loopback addresses unless the operators allow them."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from sqlalchemy import select

from saas import db
from saas.models import Agency, Role
from saas.platform_settings import update_platform_setting
from tenants.webhooks import services
from tenants.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.factories import login, run_jobs


class Receiver:
    """An HTTP server in a thread that keeps what it is sent."""

    def __init__(self, port: int = 0) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _allow_private(allowed: bool) -> None:
    update_platform_setting("webhook_private_addresses", 1 if allowed else 0, by=None)
    db.session.commit()


def _approve_a_plan(factory, agency) -> None:
    author, _ = factory.member(agency, Role.COORDINATOR)
    approver, _ = factory.member(agency, Role.ADMIN)
    item = factory.service_item(agency, f"Bathing {author.id.hex[-8:]}")
    case = factory.case(agency, factory.client(agency), by=author)
    factory.plan(agency, case, item, author=author, approver=approver)


def test_a_private_address_is_refused_naming_the_url(client, factory, dbconn, receiver):
    agency = factory.agency()
    _user, membership = factory.member(agency, Role.ADMIN)
    token = factory.api_token(membership)
    coordinator = factory.api_token(factory.member(agency, Role.COORDINATOR)[1])
    _allow_private(False)
    for url in (receiver.url, "http://10.0.0.5/hook", "http://169.254.169.254/latest", "http://[::1]/x"):
        refused = client.post(
            "/api/v1/webhooks", json={"url": url, "events": ["plan.approved"]}, headers=bearer(token)
        )
        assert refused.status_code == 422, refused.json
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json["field"] == "url" and "private" in refused.json["detail"]
    bad = client.post(
        "/api/v1/webhooks",
        json={"url": "ftp://x.example/", "events": ["plan.approved"]},
        headers=bearer(token),
    )
    assert bad.status_code == 422 and bad.json["field"] == "url"
    none = client.post(
        "/api/v1/webhooks", json={"url": "https://example.com/", "events": []}, headers=bearer(token)
    )
    assert none.status_code == 422 and none.json["field"] == "events"
    listed = client.get("/api/v1/webhooks", headers=bearer(token))
    assert listed.json["items"] == []
    assert client.get("/api/v1/webhooks", headers=bearer(coordinator)).status_code == 403


def test_signed_delivery_retries_while_down_and_redelivery(client, factory, dbconn, receiver):
    agency = factory.agency()
    agency_id = agency.id
    admin, membership = factory.member(agency, Role.ADMIN)
    token = factory.api_token(membership)
    _allow_private(True)
    made = client.post(
        "/api/v1/webhooks",
        json={
            "url": receiver.url,
            "events": ["plan.approved", "incident.reported"],
            "description": "Payroll",
        },
        headers=bearer(token),
    )
    assert made.status_code == 201, made.json
    secret, endpoint_id = made.json["secret"], made.json["id"]

    _approve_a_plan(factory, agency)
    run_jobs("webhooks.deliver")
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert headers["CareHub-Event"] == "plan.approved"
    assert services.verify(secret, headers["CareHub-Timestamp"], body, headers["CareHub-Signature"])
    assert not services.verify(
        "whsec_wrong", headers["CareHub-Timestamp"], body, headers["CareHub-Signature"]
    )
    assert not services.verify(
        secret, headers["CareHub-Timestamp"], body + b" ", headers["CareHub-Signature"]
    )
    stale = int(headers["CareHub-Timestamp"]) - 600
    assert not services.verify(secret, str(stale), body, services.signature(secret, stale, body))
    payload = json.loads(body)
    assert payload["event"] == "plan.approved" and payload["agency"] == str(agency.id)
    assert payload["id"] == headers["CareHub-Delivery"]

    # the receiver goes down: the attempt is kept and a retry is set
    port = receiver.port
    receiver.stop()
    _approve_a_plan(factory, agency)
    run_jobs("webhooks.deliver")
    with db.tenant_scope(agency_id):
        agency = db.session.get(Agency, agency_id)
        waiting = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.status == "retrying"))
        assert waiting is not None and waiting.attempts == 1 and waiting.next_attempt_at is not None
        failed = db.session.scalar(select(WebhookAttempt).where(WebhookAttempt.delivery_id == waiting.id))
        assert failed.error == "connection" and failed.status_code is None
        waiting_id, retry_at = waiting.id, waiting.next_attempt_at
    # nothing is retried before its time
    with db.tenant_scope(agency_id):
        assert services.due_retries(db.session.get(Agency, agency_id), db.utcnow()) == 0
    back = Receiver(port)
    try:
        with time_machine.travel(retry_at + timedelta(seconds=1), tick=False), db.tenant_scope(agency_id):
            assert services.due_retries(db.session.get(Agency, agency_id), db.utcnow()) == 1
            db.session.commit()
        run_jobs("webhooks.deliver")
        assert [h["CareHub-Delivery"] for h, _b in back.received] == [str(waiting_id)]
        with db.tenant_scope(agency_id):
            done = db.session.get(WebhookDelivery, (agency_id, waiting_id))
            db.session.refresh(done)
            assert done.status == "delivered" and done.attempts == 2

        # the log shows both attempts; redelivery sends it once more
        login(client, admin)
        slug = db.session.get(Agency, agency_id).slug
        page = client.get(f"/a/{slug}/webhooks/{endpoint_id}")
        assert page.status_code == 200 and "Delivery log" in page.text
        assert page.text.count('data-testid="delivery-row"') == 2
        assert "could not be reached" in page.text
        redone = client.post(f"/a/{slug}/webhooks/deliveries/{waiting_id}/redeliver")
        assert redone.status_code == 302
        run_jobs("webhooks.deliver")
        assert [h["CareHub-Delivery"] for h, _b in back.received] == [str(waiting_id)] * 2
        log = client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=bearer(token))
        assert log.status_code == 200
        attempts = {d["id"]: len(d["attempts"]) for d in log.json["items"]}
        assert attempts[str(waiting_id)] == 3
    finally:
        back.stop()


def test_retries_stop_after_the_last_and_only_chosen_events_go(factory, dbconn):
    agency = factory.agency()
    _allow_private(True)
    with db.tenant_scope(agency.id):
        endpoint, _secret = services.create_endpoint(
            "http://127.0.0.1:9/nothing-listens", ["incident.reported"], "", by=None
        )
        assert services.emit(agency.id, "plan.approved", "x", {}) == 0
        services.forget_endpoints()
        assert services.emit(agency.id, "incident.reported", "x", {}) == 1
        delivery = db.session.scalar(select(WebhookDelivery))
        start = db.utcnow()
        for n in range(len(services.BACKOFF) + 1):
            services.deliver(delivery, endpoint, now=start + timedelta(days=n))
        assert delivery.status == "failed" and delivery.next_attempt_at is None
        assert delivery.attempts == len(services.BACKOFF) + 1
        db.session.rollback()


def test_the_pages_in_both_languages(client, factory, dbconn, receiver):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    _allow_private(False)
    refused = client.post(
        f"/a/{agency.slug}/webhooks", data={"url": receiver.url, "events": ["visit.missed"]}
    )
    assert refused.status_code == 422 and "private or local network" in refused.text
    _allow_private(True)
    made = client.post(f"/a/{agency.slug}/webhooks", data={"url": receiver.url, "events": ["visit.missed"]})
    assert made.status_code == 200 and 'data-testid="webhook-secret"' in made.text
    with factory.app.app_context(), db.tenant_scope(agency.id):
        db.session.get(type(admin), admin.id).locale = "zh_CN"
        db.session.commit()
    chinese = client.get(f"/a/{agency.slug}/webhooks")
    assert chinese.status_code == 200 and receiver.url in chinese.text
    assert "添加网络回调" in chinese.text and "Add a webhook" not in chinese.text


def test_only_operators_allow_private_addresses(client, factory, dbconn):
    from saas.platform_settings import platform_setting

    operator = factory.user(operator=True, totp=True)
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    assert client.get("/operator/webhooks").status_code == 404
    login(client, operator)
    page = client.get("/operator/webhooks")
    assert page.status_code == 200 and "private and loopback addresses" in page.text
    assert client.post("/operator/webhooks", data={"allowed": "y"}).status_code == 302
    assert platform_setting("webhook_private_addresses") == 1
    assert client.post("/operator/webhooks", data={}).status_code == 302
    assert platform_setting("webhook_private_addresses") == 0
