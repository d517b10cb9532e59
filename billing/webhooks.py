"""POST /billing/stripe/webhook: Stripe tells us what happened.

1. The signature is verified with Stripe's library (5 minutes' tolerance)
   before anything in the body is read; a bad or stale one gets 400, logged.
   The library only refuses a timestamp too far in the past: one too far in
   the future is refused here (a signature made ahead of time, to be
   replayed later, must not pass).
2. The event id is stored (unique) in the same transaction as its effects: a
   duplicate delivery finds it and changes nothing.
3. State is taken from the subscription as Stripe has it now (fetched), not
   from the event, so events arriving out of order cannot roll it back.
4. An unknown event type, or a customer that is not ours, is acknowledged
   and changes nothing.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import stripe
from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from billing import lifecycle, services, stripe_client
from billing.models import StripeEvent
from saas import db
from saas.extensions import csrf
from saas.models import Agency

log = logging.getLogger(__name__)

bp = Blueprint("billing_webhooks", __name__, url_prefix="/billing/stripe")

TOLERANCE_SECONDS = 300

Handler = Callable[[dict[str, Any], dict[str, Any]], tuple[Agency | None, str]]
HANDLERS: dict[str, Handler] = {}


def handles(*types: str) -> Callable[[Handler], Handler]:
    def decorator(fn: Handler) -> Handler:
        for event_type in types:
            HANDLERS[event_type] = fn
        return fn

    return decorator


@bp.route("/webhook", methods=["POST"])
@csrf.exempt
def stripe_webhook() -> Any:
    if not stripe_client.enabled():
        abort(404)
    payload = request.get_data(cache=False)
    try:
        event = stripe.Webhook.construct_event(
            payload,
            request.headers.get("Stripe-Signature"),
            current_app.config["STRIPE_WEBHOOK_SECRET"],
            tolerance=TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as exc:
        reason = "stale" if "tolerance" in str(exc) else "bad signature"
        log.warning("stripe webhook refused: %s", reason)
        return jsonify(error={"status": 400, "message": f"Webhook signature refused ({reason})."}), 400
    except ValueError:
        log.warning("stripe webhook refused: not a Stripe event")
        return jsonify(error={"status": 400, "message": "Not a Stripe event."}), 400
    signed_at = signature_timestamp(request.headers.get("Stripe-Signature", ""))
    if signed_at is None or signed_at > time.time() + TOLERANCE_SECONDS:
        log.warning("stripe webhook refused: signed in the future")
        return jsonify(
            error={"status": 400, "message": "Webhook signature refused (signed in the future)."}
        ), 400
    try:
        outcome = handle_event(stripe_client.as_dict(event))
    except stripe_client.StripeUnavailable:
        # nothing stored (a 503 is rolled back): Stripe delivers the event again later
        return jsonify(error={"status": 503, "message": "Stripe unavailable; retry later."}), 503
    return jsonify(received=True, outcome=outcome)


def signature_timestamp(header: str) -> int | None:
    """The `t=` of a Stripe-Signature header (the moment Stripe signed), read
    as Stripe's library reads it (the first `t`), so the time checked here is
    the time its signature check used."""
    stamps = [part.split("=", 2) for part in header.split(",")]
    first = next((item[1] for item in stamps if item[0] == "t" and len(item) > 1), None)
    try:
        return int(first) if first is not None else None
    except ValueError:
        return None


def handle_event(event: dict[str, Any]) -> str:
    """Store the event once and apply it, in the request's transaction."""
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    if not event_id:
        return "ignored"
    stored = db.session.scalar(
        insert(StripeEvent)
        .values(
            id=db.new_id(),
            event_id=event_id[:255],
            type=event_type[:100],
            stripe_created=services._ts(event.get("created")),
            received_at=db.utcnow(),
            outcome="",
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(StripeEvent.id)
    )
    if stored is None:
        return "duplicate"
    handler = HANDLERS.get(event_type)
    agency: Agency | None = None
    if handler is None:
        outcome = "ignored"
    else:
        obj = (event.get("data") or {}).get("object") or {}
        agency, outcome = handler(obj, event)
    if outcome == "unknown_customer":
        log.warning("stripe webhook for a customer that is not ours: %s", event_type)
    db.session.execute(
        update(StripeEvent)
        .where(StripeEvent.id == stored)
        .values(processed_at=db.utcnow(), agency_id=agency.id if agency else None, outcome=outcome)
    )
    return outcome


def agency_for(customer_id: str | None, hint: str | None = None) -> Agency | None:
    """Our agency for a Stripe customer. The agency id we put in the metadata
    links a customer only to an agency that has none yet."""
    if customer_id:
        agency = db.session.scalar(
            select(Agency).where(Agency.stripe_customer_id == customer_id).with_for_update()
        )
        if agency is not None:
            return None if agency.purged_at else agency  # nothing is written for a purged agency
    if not hint:
        return None
    try:
        agency_id = uuid.UUID(str(hint))
    except ValueError:
        return None
    agency = db.session.scalar(select(Agency).where(Agency.id == agency_id).with_for_update())
    if agency is None or agency.stripe_customer_id is not None or not customer_id or agency.purged_at:
        return None
    agency.stripe_customer_id = customer_id
    return agency


def _customer(obj: dict[str, Any]) -> str | None:
    customer = obj.get("customer")
    if isinstance(customer, dict):
        return customer.get("id")
    return customer


def _hint(obj: dict[str, Any]) -> str | None:
    return (obj.get("metadata") or {}).get("agency_id") or obj.get("client_reference_id")


def latest_subscription(subscription_id: str, fallback: dict[str, Any] | None) -> dict[str, Any] | None:
    """Stripe's current version of the subscription; the event's copy only if
    Stripe no longer knows it."""
    found = stripe_client.retrieve_subscription(subscription_id)
    return found if found is not None else fallback


@handles("checkout.session.completed")
def _checkout_completed(obj: dict[str, Any], event: dict[str, Any]) -> tuple[Agency | None, str]:
    agency = agency_for(_customer(obj), _hint(obj))
    if agency is None:
        return None, "unknown_customer"
    subscription_id = obj.get("subscription")
    if isinstance(subscription_id, dict):
        subscription_id = subscription_id.get("id")
    if obj.get("mode") != "subscription" or not subscription_id:
        return agency, "ignored"
    sub = latest_subscription(subscription_id, None)
    if sub is None:
        return agency, "ignored"
    return agency, services.apply_subscription(agency, sub, event_type=event["type"])


@handles("customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted")
def _subscription_changed(obj: dict[str, Any], event: dict[str, Any]) -> tuple[Agency | None, str]:
    agency = agency_for(_customer(obj), _hint(obj))
    if agency is None:
        return None, "unknown_customer"
    sub = latest_subscription(obj["id"], obj)
    return agency, services.apply_subscription(agency, sub, event_type=event["type"])


@handles("customer.subscription.trial_will_end")
def _trial_will_end(obj: dict[str, Any], event: dict[str, Any]) -> tuple[Agency | None, str]:
    agency = agency_for(_customer(obj), _hint(obj))
    if agency is None:
        return None, "unknown_customer"
    ends = services._ts(obj.get("trial_end"))
    lifecycle.notify_admins(agency, "trial_ending", marker=f"{obj['id']}:{obj.get('trial_end')}", ends=ends)
    return agency, "processed"


@handles("invoice.paid", "invoice.payment_failed")
def _invoice(obj: dict[str, Any], event: dict[str, Any]) -> tuple[Agency | None, str]:
    agency = agency_for(_customer(obj), _hint(obj))
    if agency is None:
        return None, "unknown_customer"
    paid = event["type"] == "invoice.paid"
    invoice = services.record_stripe_invoice(agency, obj, paid=paid)
    if not paid:
        lifecycle.notify_admins(
            agency,
            "payment_failed",
            marker=f"{obj['id']}:{obj.get('attempt_count') or 0}",
            amount=invoice.amount,
            currency=invoice.currency,
            next_attempt=services._ts(obj.get("next_payment_attempt")),
        )
    subscription_id = services.invoice_subscription_id(obj)
    if subscription_id:
        sub = latest_subscription(subscription_id, None)
        if sub is not None:
            return agency, services.apply_subscription(agency, sub, event_type=event["type"])
    return agency, "processed"
