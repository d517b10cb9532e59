"""A local stand-in for the parts of Stripe's API CareHub calls.

A real HTTP server on 127.0.0.1 (a random port) that the official SDK is
pointed at (STRIPE_API_BASE). It records every request (method, path, the
form-encoded body decoded into nested dicts, the Idempotency-Key header) and
answers with realistic objects. Like Stripe, a repeated idempotency key
replays the first answer. Tests build and sign webhook events with
`event()` and `sign()` (Stripe's own signing helper).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import stripe


@dataclass
class Recorded:
    method: str
    path: str
    body: dict[str, Any]
    idempotency_key: str | None


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """a[b][0][c]=1 -> {"a": {"b": {"0": {"c": "1"}}}} (lists stay dicts keyed by index)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


@dataclass
class StripeStandIn:
    requests: list[Recorded] = field(default_factory=list)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    replies: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    fail_next: int = 0
    url: str = ""

    # -- objects ---------------------------------------------------------------------

    def subscription(
        self,
        customer: str,
        *,
        status: str = "active",
        quantity: int = 1,
        price: str = "price_standard",
        period_end: int | None = None,
        cancel_at_period_end: bool = False,
        agency_id: str = "",
        sub_id: str | None = None,
        created: int | None = None,
    ) -> dict[str, Any]:
        """A subscription as Stripe returns it (2025+ API: the period is on the item)."""
        now = int(time.time())
        sub_id = sub_id or _id("sub")
        sub = {
            "id": sub_id,
            "object": "subscription",
            "customer": customer,
            "status": status,
            "created": created or now,
            "cancel_at_period_end": cancel_at_period_end,
            "cancel_at": None,
            "ended_at": now if status == "canceled" else None,
            "metadata": {"agency_id": agency_id},
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": _id("si"),
                        "object": "subscription_item",
                        "quantity": quantity,
                        "price": {"id": price, "object": "price"},
                        "current_period_start": now,
                        "current_period_end": period_end or now + 30 * 86400,
                    }
                ],
            },
        }
        self.subscriptions[sub_id] = sub
        return sub

    # -- requests --------------------------------------------------------------------

    def calls(self, path_prefix: str, method: str = "POST") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def handle(
        self, method: str, path: str, body: dict[str, Any], key: str | None
    ) -> tuple[int, dict[str, Any]]:
        self.requests.append(Recorded(method, path, body, key))
        if self.fail_next:
            self.fail_next -= 1
            return 500, {"error": {"type": "api_error", "message": "stand-in failure"}}
        if key and key in self.replies:
            return self.replies[key]
        reply = self._answer(method, path, body)
        if key and method == "POST":
            self.replies[key] = reply
        return reply

    def _answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/customers":
            return 200, {
                "id": _id("cus"),
                "object": "customer",
                "name": body.get("name"),
                "email": body.get("email"),
                "metadata": body.get("metadata", {}),
            }
        if method == "POST" and path == "/v1/checkout/sessions":
            sid = _id("cs_test")
            return 200, {
                "id": sid,
                "object": "checkout.session",
                "mode": body.get("mode"),
                "customer": body.get("customer"),
                "url": f"https://checkout.stripe.test/c/pay/{sid}",
            }
        if method == "POST" and path == "/v1/billing_portal/sessions":
            sid = _id("bps")
            return 200, {
                "id": sid,
                "object": "billing_portal.session",
                "customer": body.get("customer"),
                "url": f"https://billing.stripe.test/p/session/{sid}",
            }
        match = re.fullmatch(r"/v1/subscriptions/([\w]+)", path)
        if match:
            sub = self.subscriptions.get(match.group(1))
            if sub is None:
                return 404, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "message": "No such subscription",
                    }
                }
            if method == "POST":
                for item in (body.get("items") or {}).values():
                    for existing in sub["items"]["data"]:
                        if existing["id"] == item.get("id"):
                            existing["quantity"] = int(item["quantity"])
            return 200, sub
        return 404, {"error": {"type": "invalid_request_error", "message": f"no route {method} {path}"}}

    # -- server ----------------------------------------------------------------------

    def start(self) -> StripeStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                path, _, query = self.path.partition("?")
                pairs = parse_qsl(raw if method == "POST" else query, keep_blank_values=True)
                status, payload = standin.handle(
                    method, path, _nest(pairs), self.headers.get("Idempotency-Key")
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", _id("req"))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's hook names
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- webhook events -------------------------------------------------------------------------


def event(
    event_type: str, obj: dict[str, Any], *, created: int | None = None, event_id: str | None = None
) -> dict:
    return {
        "id": event_id or _id("evt"),
        "object": "event",
        "api_version": stripe.api_version,
        "created": created or int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj},
    }


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header, computed by Stripe's own helper."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
