"""Every call CareHub makes to Stripe, through the official SDK.

Each create or update carries an idempotency key derived from what it does
(`<agency id>:<purpose>:<what makes it unique>`), so a retry, a double click
or a job run twice never makes a second customer, session or change.
`STRIPE_API_BASE` points the SDK at another address (the tests' stand-in).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Any

import stripe
from flask import current_app

TIMEOUT_SECONDS = 20
# the SDK logs every request at INFO; failures are logged here, without their text
logging.getLogger("stripe").setLevel(logging.WARNING)


class StripeUnavailable(RuntimeError):
    """Stripe could not be reached or refused the call; nothing was changed here."""


def enabled() -> bool:
    """Stripe mode needs both keys; without them billing is manual."""
    cfg = current_app.config
    return bool(cfg.get("STRIPE_SECRET_KEY") and cfg.get("STRIPE_WEBHOOK_SECRET"))


def client() -> stripe.StripeClient:
    cfg = current_app.config
    base = cfg.get("STRIPE_API_BASE") or None
    return stripe.StripeClient(
        cfg["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else None,
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


def idempotency_key(agency_id: uuid.UUID, purpose: str, *parts: object) -> str:
    return ":".join([str(agency_id), purpose, *(str(p) for p in parts)])


def params_digest(params: dict[str, Any]) -> str:
    """Short and stable: a changed request gets a new key instead of Stripe's
    'keys can only be used with the same parameters' error."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]


def as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    return obj.to_dict()


def _call(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return as_dict(fn(*args, **kwargs))
    except stripe.StripeError as exc:
        current_app.logger.warning(
            "stripe call failed: %s %s", type(exc).__name__, getattr(exc, "code", "") or ""
        )
        raise StripeUnavailable(type(exc).__name__) from exc


def create_customer(agency_id: uuid.UUID, name: str, email: str | None, slug: str) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "metadata": {"agency_id": str(agency_id), "slug": slug}}
    if email:
        params["email"] = email
    return _call(
        client().v1.customers.create,
        params,
        {"idempotency_key": idempotency_key(agency_id, "customer", "v1")},
    )


def create_checkout_session(agency_id: uuid.UUID, params: dict[str, Any], day: str) -> dict[str, Any]:
    key = idempotency_key(agency_id, "checkout", day, params_digest(params))
    return _call(client().v1.checkout.sessions.create, params, {"idempotency_key": key})


def create_portal_session(
    agency_id: uuid.UUID, customer_id: str, return_url: str, window: int
) -> dict[str, Any]:
    params = {"customer": customer_id, "return_url": return_url}
    key = idempotency_key(agency_id, "portal", window, params_digest(params))
    return _call(client().v1.billing_portal.sessions.create, params, {"idempotency_key": key})


def retrieve_subscription(subscription_id: str) -> dict[str, Any] | None:
    """The subscription as Stripe has it now; None if Stripe does not know it."""
    try:
        return as_dict(client().v1.subscriptions.retrieve(subscription_id))
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise StripeUnavailable(type(exc).__name__) from exc
    except stripe.StripeError as exc:
        current_app.logger.warning("stripe call failed: %s", type(exc).__name__)
        raise StripeUnavailable(type(exc).__name__) from exc


def update_quantity(
    agency_id: uuid.UUID, subscription_id: str, item_id: str, quantity: int, request_marker: str
) -> dict[str, Any]:
    """The marker names the change request being synced, so going 5 -> 6 -> 5
    sends three different keys (a reused key would replay the old answer)."""
    params = {
        "items": [{"id": item_id, "quantity": quantity}],
        "proration_behavior": "create_prorations",
        "metadata": {"agency_id": str(agency_id)},
    }
    key = idempotency_key(agency_id, "quantity", subscription_id, quantity, request_marker)
    return _call(client().v1.subscriptions.update, subscription_id, params, {"idempotency_key": key})
