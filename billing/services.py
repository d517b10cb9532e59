"""Billing rules shared by the pages, the webhook, the jobs and the CLI:
plans, onboarding, Stripe subscriptions and manual invoicing."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from billing import lifecycle, stripe_client
from billing.models import BillingState, Invoice, Payment, Plan, Pricing, Subscription
from saas import audit, db
from saas.errors import DomainError, register_messages
from saas.models import Agency, User

STRIPE_PRICE_RE = re.compile(r"^price_[A-Za-z0-9]{1,200}$")
LIVE_STRIPE_STATUSES = ("active", "trialing", "past_due", "unpaid", "paused", "incomplete")
PAYMENT_METHODS = ("bank_transfer", "card", "cash", "cheque", "other")


class BillingError(DomainError):
    """Refused; `field` names the form field the message belongs next to."""


register_messages(
    {
        # plans
        "name_missing": _l("Enter a name."),
        "name_taken": _l("Another plan already has this name."),
        "price_negative": _l("The price cannot be negative."),
        "pricing_unknown": _l("Choose how the plan is priced."),
        "currency_invalid": _l("Use a three-letter currency code, for example GBP."),
        "limit_negative": _l("A limit cannot be negative; leave it empty for no limit."),
        "trial_days_range": _l("A trial lasts from 0 to 365 days."),
        "stripe_price_invalid": _l("A Stripe price id starts with price_."),
        # invoices, payments, plan changes
        "amount_negative": _l("The amount cannot be negative."),
        "amount_not_positive": _l("The amount must be more than zero."),
        "period_order": _l("The period must end after it starts."),
        "method_unknown": _l("Choose how it was paid."),
        "invoice_not_open": _l("This invoice is not open for payment."),
        "plan_on_stripe": _l("This agency pays through Stripe: its plan changes there."),
        # view-as sessions
        "reason_missing": _l("Write at least 10 characters, at most 1000."),
        "not_operator": _l("Only operators can do this."),
        # the agency's own subscription
        "plan_not_on_stripe": _l("This plan cannot be subscribed to online. Contact the CareHub team."),
        "already_subscribed": _l(
            "Your agency already has a subscription: change it with \u201cPayment details and invoices\u201d."
        ),
        "no_customer": _l("Your agency has no billing account yet."),
        # onboarding
        "preset_unknown": _l("Choose a catalogue from the list."),
    },
    error=BillingError,
)


# -- plans ---------------------------------------------------------------------------


def active_plans() -> list[Plan]:
    return list(db.session.scalars(select(Plan).where(Plan.active.is_(True)).order_by(Plan.price, Plan.name)))


def save_plan(plan: Plan | None, *, by: User | None = None, **fields: Any) -> Plan:
    """Create (plan=None) or change a plan, after checking every field."""
    name = (fields.get("name") or "").strip()
    if not name:
        raise BillingError("name_missing", "name")
    price = fields.get("price")
    if price is None or Decimal(price) < 0:
        raise BillingError("price_negative", "price")
    if fields.get("pricing") not in {p.value for p in Pricing}:
        raise BillingError("pricing_unknown", "pricing")
    currency = (fields.get("currency") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise BillingError("currency_invalid", "currency")
    for limit in ("max_carers", "max_clients"):
        if fields.get(limit) is not None and fields[limit] < 0:
            raise BillingError("limit_negative", limit)
    trial = fields.get("trial_days")
    if trial is None or not 0 <= trial <= 365:
        raise BillingError("trial_days_range", "trial_days")
    price_id = (fields.get("stripe_price_id") or "").strip() or None
    if price_id and not STRIPE_PRICE_RE.match(price_id):
        raise BillingError("stripe_price_invalid", "stripe_price_id")
    clash = select(Plan.id).where(func.lower(Plan.name) == name.lower())
    if plan is not None:
        clash = clash.where(Plan.id != plan.id)
    if db.session.scalar(clash) is not None:
        raise BillingError("name_taken", "name")
    values = {
        "name": name,
        "pricing": fields["pricing"],
        "price": Decimal(price).quantize(Decimal("0.01")),
        "currency": currency,
        "max_carers": fields.get("max_carers"),
        "max_clients": fields.get("max_clients"),
        "features": [f for f in (fields.get("features") or []) if f],
        "trial_days": trial,
        "stripe_price_id": price_id,
        "active": bool(fields.get("active", True)),
    }
    created = plan is None
    if plan is None:
        plan = Plan(**values)
        db.session.add(plan)
    else:
        for key, value in values.items():
            setattr(plan, key, value)
    db.session.flush()
    audit.record_platform(
        "plan.created" if created else "plan.changed",
        plan.name,
        actor_id=by.id if by else None,
        price=str(plan.price),
        pricing=plan.pricing,
        currency=plan.currency,
        stripe_price_id=plan.stripe_price_id,
        active=plan.active,
    )
    return plan


def monthly_amount(plan: Plan | None, carers: int) -> Decimal:
    """What the agency pays a month on this plan (per-carer plans bill at least one)."""
    if plan is None:
        return Decimal("0")
    if plan.pricing == Pricing.FLAT:
        return plan.price
    return plan.price * max(1, carers)


def billed_quantity(plan: Plan | None, carers: int) -> int:
    if plan is not None and plan.pricing == Pricing.FLAT:
        return 1
    return max(1, carers)


# -- onboarding and plan changes ------------------------------------------------------


def onboard(agency: Agency, *, plan: Plan | None, trial_days: int, by: User | None) -> None:
    """The wizard's billing step: the plan and the length of the trial."""
    if not 0 <= trial_days <= 365:
        raise BillingError("trial_days_range", "trial_days")
    lifecycle.start_trial(agency, days=trial_days, plan=plan, actor_id=by.id if by else None)


def set_plan(agency: Agency, plan: Plan, *, by: User | None) -> None:
    """An operator's plan change. A Stripe subscription changes plan through
    Stripe (the billing portal), and the webhook follows it."""
    row = subscription_of(agency)
    if row is not None and row.provider == "stripe" and row.status in LIVE_STRIPE_STATUSES:
        raise BillingError("plan_on_stripe", "plan")
    if agency.plan_id == plan.id:
        return
    before = db.session.get(Plan, agency.plan_id) if agency.plan_id else None
    agency.plan_id = plan.id
    with db.tenant_scope(agency.id):
        if row is not None:
            row.plan_id = plan.id
        audit.record("billing.plan_changed", plan.name, before=before.name if before else None)
    audit.record_platform(
        "billing.plan_changed", agency.slug, agency_id=agency.id, plan=plan.name,
        before=before.name if before else None,
    )  # fmt: skip
    request_quantity_sync([agency.id])


def subscription_of(agency: Agency) -> Subscription | None:
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(Subscription))


# -- Stripe: customer, Checkout, the billing portal ----------------------------------------


def ensure_customer(agency: Agency, email: str | None) -> str:
    """The agency's Stripe customer, created once. It exists at Stripe whatever
    becomes of the request that made it, so its id is kept at once, in a
    transaction of its own: a failure after it never loses it."""
    if agency.stripe_customer_id:
        return agency.stripe_customer_id
    customer = stripe_client.create_customer(agency.id, agency.name, email, agency.slug)
    with db.new_session() as own:
        own.execute(update(Agency).where(Agency.id == agency.id).values(stripe_customer_id=customer["id"]))
        audit.record_platform("billing.customer_created", agency.slug, agency_id=agency.id, session=own)
        own.commit()
    agency.stripe_customer_id = customer["id"]
    return customer["id"]


def start_checkout(agency: Agency, plan: Plan, *, success_url: str, cancel_url: str, by: User) -> str:
    """A Stripe Checkout session for the plan; returns the page to send the admin to."""
    if not plan.active or not plan.stripe_price_id:
        raise BillingError("plan_not_on_stripe", "plan")
    row = subscription_of(agency)
    if row is not None and row.provider == "stripe" and row.status in LIVE_STRIPE_STATUSES:
        # a live subscription (even one set to end) changes or resumes in the portal
        raise BillingError("already_subscribed", "plan")
    if not agency.stripe_customer_id:
        raise BillingError("no_customer", "plan")
    with db.tenant_scope(agency.id):
        quantity = billed_quantity(plan, lifecycle.active_carers())
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": agency.stripe_customer_id,
        "client_reference_id": str(agency.id),
        "line_items": [{"price": plan.stripe_price_id, "quantity": quantity}],
        "metadata": {"agency_id": str(agency.id), "plan_id": str(plan.id)},
        "subscription_data": {"metadata": {"agency_id": str(agency.id), "plan_id": str(plan.id)}},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": "zh" if agency.locale.startswith("zh") else "en",
    }
    now = db.utcnow()
    if (
        agency.billing_state == BillingState.TRIAL
        and agency.trial_ends_at is not None
        and agency.trial_ends_at > now + timedelta(days=2)
    ):
        # not charged before the trial they were promised ends (Stripe needs 48 h)
        params["subscription_data"]["trial_end"] = int(agency.trial_ends_at.timestamp())
    session = stripe_client.create_checkout_session(agency.id, params, now.strftime("%Y%m%d"))
    with db.tenant_scope(agency.id):
        audit.record("billing.checkout_started", plan.name, actor_id=by.id, quantity=quantity)
    return session["url"]


def portal_url(agency: Agency, *, return_url: str) -> str:
    if not agency.stripe_customer_id:
        raise BillingError("no_customer", "plan")
    session = stripe_client.create_portal_session(
        agency.id, agency.stripe_customer_id, return_url, int(time.time() // 300)
    )
    return session["url"]


# -- Stripe: following the subscription ---------------------------------------------------


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _first_item(sub: dict[str, Any]) -> dict[str, Any]:
    items = (sub.get("items") or {}).get("data") or []
    return items[0] if items else {}


def apply_subscription(agency: Agency, sub: dict[str, Any], *, event_type: str) -> str:
    """Set the agency's state from the subscription's latest state (fetched from
    Stripe by the caller), whatever order events arrived in."""
    item = _first_item(sub)
    with db.tenant_scope(agency.id):
        row = db.session.scalar(select(Subscription))
        if row is not None and row.stripe_subscription_id and row.stripe_subscription_id != sub["id"]:
            # another subscription of the same customer: only a newer one replaces
            # the one followed, and an ended one never replaces a live one
            older = (sub.get("created") or 0) < (row.stripe_created or 0)
            ended = sub.get("status") in ("canceled", "incomplete_expired")
            if older or (ended and row.status in LIVE_STRIPE_STATUSES):
                return "stale"
        if row is None:
            row = Subscription(provider="stripe")
            db.session.add(row)
        price_id = (item.get("price") or {}).get("id")
        plan = db.session.scalar(select(Plan).where(Plan.stripe_price_id == price_id)) if price_id else None
        period_end = _ts(item.get("current_period_end") or sub.get("current_period_end"))
        cancel_at = _ts(sub.get("cancel_at"))
        row.provider = "stripe"
        row.stripe_subscription_id = sub["id"]
        row.stripe_item_id = item.get("id")
        row.stripe_created = sub.get("created")
        row.status = sub.get("status") or ""
        row.quantity = int(item.get("quantity") or sub.get("quantity") or 0)
        row.current_period_end = period_end
        row.cancel_at_period_end = bool(sub.get("cancel_at_period_end") or cancel_at)
        if plan is not None:
            row.plan_id = plan.id
        audit.record(
            "billing.subscription_updated",
            sub["id"],
            event=event_type,
            status=row.status,
            quantity=row.quantity,
            cancel_at_period_end=row.cancel_at_period_end,
        )
    if plan is not None:
        agency.plan_id = plan.id
    _follow_status(agency, row, period_end, cancel_at, _ts(sub.get("ended_at")))
    return "processed"


def _follow_status(
    agency: Agency,
    row: Subscription,
    period_end: datetime | None,
    cancel_at: datetime | None,
    ended_at: datetime | None,
) -> None:
    status = row.status
    if status in ("active", "trialing"):
        if row.cancel_at_period_end:
            lifecycle.cancel(agency, reason="subscription_cancelled", access_until=cancel_at or period_end)
        elif agency.billing_state == BillingState.CANCELLED:
            lifecycle.reinstate(agency, reason="subscription_resumed")
            agency.current_period_end = period_end
        else:
            lifecycle.mark_paid(agency, reason="subscription_" + status, period_end=period_end)
    elif status in ("past_due", "unpaid", "paused"):
        lifecycle.mark_past_due(agency, reason="subscription_" + status)
    elif status == "canceled":
        if agency.billing_state in (BillingState.PAST_DUE, BillingState.RESTRICTED):
            # ended for non-payment: care goes on, an operator decides what next
            audit.record_platform("billing.subscription_ended_unpaid", agency.slug, agency_id=agency.id)
            return
        candidates = [d for d in (period_end, ended_at) if d is not None]
        lifecycle.cancel(agency, reason="subscription_ended", access_until=max(candidates, default=None))
    # incomplete / incomplete_expired: the first payment is not through; nothing changes


# Stripe amounts are in the currency's smallest unit; these have no minor unit
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())


def _amount(minor: Any, currency: str) -> Decimal:
    value = Decimal(minor or 0)
    return value if currency.lower() in ZERO_DECIMAL else value / 100


def record_stripe_invoice(agency: Agency, inv: dict[str, Any], *, paid: bool) -> Invoice:
    """Keep Stripe's invoice in the agency's billing history (by Stripe's id)."""
    with db.tenant_scope(agency.id):
        row = db.session.scalar(select(Invoice).where(Invoice.stripe_invoice_id == inv["id"]))
        if row is None:
            row = Invoice(source="stripe", stripe_invoice_id=inv["id"], amount=Decimal("0"))
            db.session.add(row)
        row.number = inv.get("number") or ""
        currency = inv.get("currency") or "gbp"
        row.amount = _amount(inv.get("amount_due") or inv.get("total"), currency)
        row.currency = currency.upper()
        row.hosted_url = (inv.get("hosted_invoice_url") or "")[:500]
        row.period_start = _ts(inv.get("period_start"))
        row.period_end = _ts(inv.get("period_end"))
        row.issued_at = _ts(inv.get("created")) or db.utcnow()
        row.due_at = _ts(inv.get("due_date"))
        if paid and row.status != "paid":
            row.status = "paid"
            row.amount_paid = _amount(inv.get("amount_paid"), currency)
            row.paid_at = _ts((inv.get("status_transitions") or {}).get("paid_at")) or db.utcnow()
            db.session.flush()
            if row.amount_paid > 0:
                db.session.add(
                    Payment(
                        invoice_id=row.id,
                        amount=row.amount_paid,
                        currency=row.currency,
                        method="stripe",
                        reference=inv["id"],
                        paid_at=row.paid_at,
                    )
                )
            audit.record("billing.invoice_paid", row.number or inv["id"], amount=str(row.amount_paid))
        elif not paid and row.status == "open":
            audit.record("billing.payment_failed", row.number or inv["id"], amount=str(row.amount))
        db.session.flush()
        return row


def invoice_subscription_id(inv: dict[str, Any]) -> str | None:
    """Where the invoice names its subscription (older and newer API versions)."""
    sub = inv.get("subscription")
    if sub:
        return sub if isinstance(sub, str) else sub.get("id")
    details = ((inv.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    if details:
        return details if isinstance(details, str) else details.get("id")
    return None


# -- Stripe: the number of active carers -----------------------------------------------------

SYNC_DEBOUNCE = timedelta(seconds=60)


def request_quantity_sync(agency_ids: Any, sess: Session | None = None) -> None:
    """Staff changed: ask for the subscription quantity to follow. The sweep
    syncs once the agency has been quiet for a minute (debounce)."""
    ids = list(agency_ids)
    if not ids:
        return
    sess = sess or db.session()
    sess.execute(update(Agency).where(Agency.id.in_(ids)).values(billing_sync_requested_at=db.utcnow()))


def sync_quantity(agency: Agency, marker: str) -> str:
    """Make the Stripe subscription's quantity the number of active carers."""
    if not stripe_client.enabled():
        return "manual"
    with db.tenant_scope(agency.id):
        row = db.session.scalar(select(Subscription).with_for_update())
        if (
            row is None
            or row.provider != "stripe"
            or not row.stripe_subscription_id
            or not row.stripe_item_id
            or row.status not in LIVE_STRIPE_STATUSES
        ):
            return "no_subscription"
        plan = (
            db.session.get(Plan, row.plan_id or agency.plan_id) if (row.plan_id or agency.plan_id) else None
        )
        wanted = billed_quantity(plan, lifecycle.active_carers())
        if row.quantity == wanted:
            row.synced_at = db.utcnow()
            return "unchanged"
        sub = stripe_client.update_quantity(
            agency.id, row.stripe_subscription_id, row.stripe_item_id, wanted, marker
        )
        before = row.quantity
        row.quantity = int(_first_item(sub).get("quantity") or wanted)
        row.synced_at = db.utcnow()
        audit.record("billing.quantity_synced", row.stripe_subscription_id, before=before, after=row.quantity)
    return "updated"


# -- manual billing (no Stripe keys) ----------------------------------------------------------


def _next_invoice_number(agency: Agency) -> str:
    count = (
        db.session.scalar(select(func.count()).select_from(Invoice).where(Invoice.source == "manual")) or 0
    )
    return f"{agency.slug.upper()}-{db.utcnow():%Y%m}-{count + 1:03d}"


def record_invoice(
    agency: Agency,
    *,
    amount: Decimal,
    currency: str,
    description: str,
    period_start: datetime | None,
    period_end: datetime | None,
    due_at: datetime | None,
    by: User | None,
) -> Invoice:
    if amount is None or amount < 0:
        raise BillingError("amount_negative", "amount")
    if not re.fullmatch(r"[A-Z]{3}", (currency or "").upper()):
        raise BillingError("currency_invalid", "currency")
    if period_start and period_end and period_end < period_start:
        raise BillingError("period_order", "period_end")
    with db.tenant_scope(agency.id):
        invoice = Invoice(
            source="manual",
            number=_next_invoice_number(agency),
            description=description,
            amount=Decimal(amount).quantize(Decimal("0.01")),
            currency=currency.upper(),
            period_start=period_start,
            period_end=period_end,
            due_at=due_at,
            created_by_id=by.id if by else None,
        )
        db.session.add(invoice)
        db.session.flush()
        audit.record(
            "billing.invoice_recorded", invoice.number, amount=str(invoice.amount), currency=invoice.currency
        )
    audit.record_platform(
        "billing.invoice_recorded", agency.slug, agency_id=agency.id, number=invoice.number,
        amount=str(invoice.amount), currency=invoice.currency,
    )  # fmt: skip
    return invoice


def record_payment(
    agency: Agency,
    invoice: Invoice,
    *,
    amount: Decimal,
    method: str,
    reference: str,
    paid_at: datetime | None,
    by: User | None,
) -> Payment:
    """Money received; a fully paid invoice restores an overdue agency at once."""
    if amount is None or amount <= 0:
        raise BillingError("amount_not_positive", "amount")
    if method not in PAYMENT_METHODS:
        raise BillingError("method_unknown", "method")
    if invoice.status != "open":
        raise BillingError("invoice_not_open", "amount")
    with db.tenant_scope(agency.id):
        payment = Payment(
            invoice_id=invoice.id,
            amount=Decimal(amount).quantize(Decimal("0.01")),
            currency=invoice.currency,
            method=method,
            reference=reference,
            paid_at=paid_at or db.utcnow(),
            recorded_by_id=by.id if by else None,
        )
        db.session.add(payment)
        invoice.amount_paid = (invoice.amount_paid or Decimal("0")) + payment.amount
        fully_paid = invoice.amount_paid >= invoice.amount
        if fully_paid:
            invoice.status = "paid"
            invoice.paid_at = payment.paid_at
        db.session.flush()
        audit.record(
            "billing.payment_recorded", invoice.number, amount=str(payment.amount), method=method,
            paid_in_full=fully_paid,
        )  # fmt: skip
    audit.record_platform(
        "billing.payment_recorded", agency.slug, agency_id=agency.id, number=invoice.number,
        amount=str(payment.amount), method=method,
    )  # fmt: skip
    if fully_paid:
        with db.tenant_scope(agency.id):
            still_overdue = db.session.scalar(
                select(func.count())
                .select_from(Invoice)
                .where(Invoice.status == "open", Invoice.due_at <= db.utcnow())
            )
        if not still_overdue:
            lifecycle.mark_paid(
                agency, reason="manual_payment", period_end=invoice.period_end, actor_id=by.id if by else None
            )
    return payment


def agency_by_id(agency_id: uuid.UUID | str) -> Agency | None:
    try:
        return db.session.get(Agency, uuid.UUID(str(agency_id)))
    except ValueError:
        return None
