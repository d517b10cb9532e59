"""The rules of webhooks: which events there are, what an endpoint's URL may
be, how a delivery is signed, sent, retried and redelivered.

Signature: `CareHub-Signature: v1=<hex>` is the HMAC-SHA256, with the
endpoint's secret, of `<CareHub-Timestamp>.<raw body>`; a receiver computes
it, compares in constant time and refuses timestamps older than 5 minutes
(replays)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from flask_babel import lazy_gettext as _l
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from saas import audit, db, jobs, sealing
from saas.errors import DomainError, register_messages
from saas.models import Agency, User
from saas.platform_settings import platform_setting
from tenants.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)


def event_labels() -> dict[str, Any]:
    """Every event an endpoint may receive, with its words."""
    return {
        "visit.checked_in": _l("A visit was checked in"),
        "visit.checked_out": _l("A visit was checked out"),
        "visit.missed": _l("A visit was missed"),
        "complaint.received": _l("A complaint was received"),
        "complaint.overdue": _l("A complaint is overdue"),
        "incident.reported": _l("An incident was reported"),
        "plan.approved": _l("A service plan was approved"),
        "summary.built": _l("A monthly quality summary was built"),
    }


EVENTS = tuple(event_labels())
# after the first attempt, the waits before each retry; then it has failed
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
TIMEOUT_S = 10
URL_MAX = 2000


class WebhookError(DomainError):
    """A rule of webhooks refused the change."""


register_messages(
    {
        "url_required": _l("Give the URL to deliver to."),
        "url_scheme": _l("The URL must start with https:// (or http://)."),
        "url_too_long": _l("At most %(max)d characters."),
        "url_unresolved": _l("This address cannot be found."),
        "url_private": _l(
            "This URL points to a private or local network address: webhooks are not sent there."
        ),
        "events_required": _l("Choose at least one event."),
        "event_unknown": _l("Choose events from the list."),
    },
    error=WebhookError,
)


# -- where a webhook may go --------------------------------------------------------------


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address the host's name has now (the one place webhooks ask
    DNS: a delivery connects to an address this gave, never to the name)."""
    found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True)
class Target:
    """A webhook URL as vetted: where it names (its host as written, for the
    Host header and TLS) and the one address, checked, to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def vet(url: str) -> Target:
    """The URL, trimmed, if webhooks may be sent to it, and the address to
    send to: http(s), a host that resolves, and none of its addresses
    private, loopback, link-local, multicast or reserved (unless the
    operators allow private ones). Resolved once here: a delivery connects
    to the address returned (see `PinnedAdapter`), so a second DNS answer
    cannot send it elsewhere."""
    url = (url or "").strip()
    if not url:
        raise WebhookError("url_required", "url")
    if len(url) > URL_MAX:
        raise WebhookError("url_too_long", "url", max=URL_MAX)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError("url_scheme", "url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = resolve(parts.hostname, port)
        forbidden = [_forbidden(address) for address in addresses]
    except (OSError, ValueError, UnicodeError):
        raise WebhookError("url_unresolved", "url") from None
    if not addresses:
        raise WebhookError("url_unresolved", "url")
    if any(forbidden) and not platform_setting("webhook_private_addresses"):
        raise WebhookError("url_private", "url")
    return Target(url, parts.scheme, parts.hostname, port, addresses[0])


def check_url(url: str) -> str:
    """The URL, trimmed, if webhooks may be sent to it (see `vet`): checked
    when the endpoint is saved, and again at each delivery by `vet`."""
    return vet(url).url


class PinnedAdapter(HTTPAdapter):
    """Connects to the vetted address only, whatever DNS answers now: the
    connection pool is opened for that IP while the request keeps its URL;
    the Host header names the URL's host (`deliver` sends it), and TLS sends
    that host as SNI and checks the certificate against it."""

    def __init__(self, target: Target) -> None:
        self.target = target
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: Any = None,
        cert: Any = None,
    ) -> Any:
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        if host_params["host"] != self.target.host or host_params["scheme"] != self.target.scheme:
            raise requests.ConnectionError("not the vetted host")  # never anywhere else
        host_params = {**host_params, "host": self.target.address, "port": self.target.port}
        if self.target.scheme == "https":
            pool_kwargs = {
                **pool_kwargs,
                "server_hostname": self.target.host,
                "assert_hostname": self.target.host,
            }
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)


# the certificates a webhook receiver's TLS is checked against (True: the usual bundle)
CA_BUNDLE: bool | str = True


def _events(events: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    if not chosen:
        raise WebhookError("events_required", "events")
    if any(e not in EVENTS for e in chosen):
        raise WebhookError("event_unknown", "events")
    return [e for e in EVENTS if e in chosen]


# -- endpoints -------------------------------------------------------------------------------


def create_endpoint(
    url: str, events: list[str], description: str, *, by: User | None
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (shown once to the admin; kept sealed)."""
    chosen, url = _events(events), check_url(url)
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        url=url,
        events=chosen,
        description=description.strip()[:200],
        secret=sealing.seal(secret),
        created_by=by.id if by else None,
    )
    db.session.add(endpoint)
    db.session.flush()
    audit.record("webhook.created", str(endpoint.id), url=url, events=chosen)
    return endpoint, secret


def update_endpoint(
    endpoint: WebhookEndpoint, url: str, events: list[str], description: str, active: bool
) -> None:
    chosen, url = _events(events), check_url(url)
    endpoint.url, endpoint.events, endpoint.active = url, chosen, active
    endpoint.description = description.strip()[:200]
    audit.record("webhook.changed", str(endpoint.id), url=url, events=chosen, active=active)


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    audit.record("webhook.removed", str(endpoint.id), url=endpoint.url)
    db.session.delete(endpoint)


def secret_of(endpoint: WebhookEndpoint) -> str:
    return sealing.unseal(endpoint.secret)


# -- events become deliveries ------------------------------------------------------------------

_ENDPOINTS_KEY = "webhook_endpoints"


def _subscribed(event: str) -> list[WebhookEndpoint]:
    """The agency's active endpoints for an event: read once per transaction
    (a sweep announcing many missed visits reads them once)."""
    info = db.session().info
    cached = info.get(_ENDPOINTS_KEY)
    if cached is None or cached[0] != db.current_tenant_id():
        endpoints = list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))))
        cached = (db.current_tenant_id(), endpoints)
        info[_ENDPOINTS_KEY] = cached
    return [e for e in cached[1] if event in (e.events or [])]


def forget_endpoints() -> None:
    db.session().info.pop(_ENDPOINTS_KEY, None)


def emit(agency_id: uuid.UUID, event: str, subject_id: str, data: dict[str, Any]) -> int:
    """A delivery per endpoint that chose this event, each sent by a job once
    the transaction commits. Returns how many."""
    endpoints = _subscribed(event)
    for endpoint in endpoints:
        delivery_id = db.new_id()
        payload = {
            "id": str(delivery_id),
            "event": event,
            "occurred_at": db.utcnow().isoformat(),
            "agency": str(agency_id),
            "data": {"id": subject_id, **data},
        }
        db.session.add(WebhookDelivery(id=delivery_id, endpoint_id=endpoint.id, event=event, payload=payload))
        jobs.enqueue("webhooks.deliver", delivery_id=delivery_id)
    return len(endpoints)


# -- sending ----------------------------------------------------------------------------------


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signed: str, *, now: float | None = None, tolerance_s: int = 300
) -> bool:
    """What a receiver does (documented, and used by the tests)."""
    try:
        moment = int(timestamp)
    except ValueError:
        return False
    if abs((now or time.time()) - moment) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, moment, body), signed)


def deliver(
    delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime | None = None
) -> WebhookAttempt:
    """One attempt: vet the URL (its host resolved once, every address
    checked), sign, POST to the vetted address (no redirects followed), keep
    the attempt; on failure, the next try after the backoff, or failed
    after the last."""
    now = now or db.utcnow()
    body = body_of(delivery)
    timestamp = int(time.time())
    status_code: int | None = None
    error = ""
    started = time.monotonic()
    try:
        target = vet(endpoint.url)
        with requests.Session() as session:
            # no proxy from the environment: it would resolve the name itself
            session.trust_env = False
            session.mount("http://", PinnedAdapter(target))
            session.mount("https://", PinnedAdapter(target))
            response = session.post(
                target.url,
                data=body,
                headers={
                    "Host": target.host_header,
                    "Content-Type": "application/json",
                    "User-Agent": "CareHub-Webhooks/1",
                    "CareHub-Event": delivery.event,
                    "CareHub-Delivery": str(delivery.id),
                    "CareHub-Timestamp": str(timestamp),
                    "CareHub-Signature": signature(secret_of(endpoint), timestamp, body),
                },
                timeout=TIMEOUT_S,
                allow_redirects=False,  # a redirect is an answer (not 2xx), never followed
                verify=CA_BUNDLE,
            )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = "status"
    except WebhookError as refused:
        error = refused.code  # the URL is no longer allowed (url_private, url_unresolved)
    except requests.Timeout:
        error = "timeout"
    except requests.RequestException as failed:
        # the kind only: the URL may carry a receiver's secret in its query
        log.info("webhook delivery failed: %s", type(failed).__name__)
        error = "connection"
    attempt = WebhookAttempt(
        delivery_id=delivery.id,
        at=now,
        status_code=status_code,
        error=error[:200],
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    db.session.add(attempt)
    delivery.attempts += 1
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
    elif delivery.attempts <= len(BACKOFF):
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
    else:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    return attempt


def redeliver(delivery: WebhookDelivery, *, by: User | None) -> None:
    """Send it again now, whatever became of it (a fresh round of retries)."""
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = None
    jobs.enqueue("webhooks.deliver", delivery_id=delivery.id)
    audit.record("webhook.redelivered", str(delivery.id), event=delivery.event, by=str(by.id) if by else None)


def due_retries(agency: Agency, now: datetime) -> int:
    """Queue the agency's deliveries whose retry time has come (set-based:
    one statement claims them by moving next_attempt_at to null)."""
    from sqlalchemy import update

    ids = list(
        db.session.scalars(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == DeliveryStatus.RETRYING, WebhookDelivery.next_attempt_at <= now)
            .values(next_attempt_at=None)
            .returning(WebhookDelivery.id)
        )
    )
    jobs.enqueue_many("webhooks.deliver", [(agency.id, {"delivery_id": str(i)}) for i in ids])
    return len(ids)
