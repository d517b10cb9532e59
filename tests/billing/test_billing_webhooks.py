"""Stripe webhooks: signed with Stripe's own helper, replayed duplicated and
out of order; forged, stale and foreign ones change nothing."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from billing.models import Invoice, Payment, StripeEvent, Subscription
from saas import db
from saas.models import Agency, AuditEvent
from tests.billing.billing_support import (  # noqa: F401 - fixtures
    actions,
    deliver,
    mails,
    reload,
    standin_fixture,
    stripe_agency,
    stripe_app_fixture,
    stripe_client_fixture,
)
from tests.billing.stripe_standin import event


def stored_events() -> int:
    return db.session.scalar(select(func.count()).select_from(StripeEvent)) or 0


def subscription_row(agency) -> Subscription | None:
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(Subscription))


def test_forged_stale_and_unsigned_webhooks_are_refused(stripe_client, factory, standin, caplog):
    agency, _ = stripe_agency(factory)
    sub = standin.subscription(agency.stripe_customer_id, status="canceled")
    evt = event("customer.subscription.deleted", sub)
    before = stored_events()
    forged = deliver(stripe_client, evt, secret="whsec_someone_else")
    assert forged.status_code == 400 and "signature" in forged.json["error"]["message"]
    stale = deliver(stripe_client, evt, timestamp=int(time.time()) - 301)
    assert stale.status_code == 400 and "stale" in stale.json["error"]["message"]
    assert deliver(stripe_client, evt, signature="").status_code == 400
    assert deliver(stripe_client, evt, signature="t=1,v0=abc").status_code == 400
    assert "stripe webhook refused" in caplog.text
    assert stored_events() == before, "nothing parsed, nothing stored"
    assert reload(agency).billing_state == "trial"
    # four minutes old is within the tolerance
    fresh = deliver(stripe_client, evt, timestamp=int(time.time()) - 240)
    assert fresh.status_code == 200


def test_a_webhook_signed_in_the_future_is_refused(stripe_client, factory, standin, caplog):
    """The tolerance applies both ways: a signature dated an hour ahead (made
    in advance, to be replayed later) is refused like a stale one."""
    agency, _ = stripe_agency(factory)
    sub = standin.subscription(agency.stripe_customer_id, status="canceled")
    evt = event("customer.subscription.deleted", sub)
    before = stored_events()
    ahead = deliver(stripe_client, evt, timestamp=int(time.time()) + 3600)
    assert ahead.status_code == 400 and "future" in ahead.json["error"]["message"]
    assert "signed in the future" in caplog.text
    assert stored_events() == before and reload(agency).billing_state == "trial"
    # a clock a few minutes fast is within the tolerance
    assert deliver(stripe_client, evt, timestamp=int(time.time()) + 240).status_code == 200


def test_webhook_is_not_there_without_stripe_keys(client):
    response = client.post("/billing/stripe/webhook", data="{}", headers={"Stripe-Signature": "t=1,v1=x"})
    assert response.status_code == 404


def test_unknown_event_type_is_acknowledged_and_ignored(stripe_client, factory):
    agency, _ = stripe_agency(factory)
    evt = event(
        "customer.tax_id.created", {"id": "txi_1", "object": "tax_id", "customer": agency.stripe_customer_id}
    )
    response = deliver(stripe_client, evt)
    assert response.status_code == 200 and response.json["outcome"] == "ignored"
    row = db.session.scalar(select(StripeEvent).where(StripeEvent.event_id == evt["id"]))
    assert row.outcome == "ignored" and row.processed_at is not None and row.agency_id is None


def test_unknown_customer_changes_nothing(stripe_client, factory, standin):
    agency, _ = stripe_agency(factory)
    audit_before = len(actions(agency))
    sub = standin.subscription("cus_not_ours", status="past_due")
    response = deliver(stripe_client, event("customer.subscription.updated", sub))
    assert response.status_code == 200 and response.json["outcome"] == "unknown_customer"
    # an agency id in the metadata does not capture an agency that has its own customer
    sub2 = standin.subscription("cus_not_ours_2", status="past_due", agency_id=str(agency.id))
    assert (
        deliver(stripe_client, event("customer.subscription.updated", sub2)).json["outcome"]
        == "unknown_customer"
    )
    agency = reload(agency)
    assert agency.billing_state == "trial" and agency.stripe_customer_id != "cus_not_ours_2"
    assert len(actions(agency)) == audit_before
    assert subscription_row(agency) is None


def test_duplicate_delivery_changes_nothing(stripe_client, factory, standin):
    agency, admin = stripe_agency(factory, carers=2)
    sub = standin.subscription(agency.stripe_customer_id, quantity=2)
    invoice = {
        "id": "in_dup_1",
        "object": "invoice",
        "customer": agency.stripe_customer_id,
        "number": "CH-0001",
        "amount_due": 4000,
        "amount_paid": 4000,
        "currency": "gbp",
        "subscription": sub["id"],
        "created": int(time.time()),
        "status_transitions": {"paid_at": int(time.time())},
        "hosted_invoice_url": "https://invoice.stripe.test/i/1",
    }
    evt = event("invoice.paid", invoice)
    first = deliver(stripe_client, evt)
    assert first.status_code == 200 and first.json["outcome"] == "processed"
    audit_after_first = actions(agency)
    again = deliver(stripe_client, evt)
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    assert actions(agency) == audit_after_first
    with db.tenant_scope(agency.id):
        invoices = db.session.scalars(select(Invoice)).all()
        payments = db.session.scalars(select(Payment)).all()
    assert [(i.number, i.status, str(i.amount)) for i in invoices] == [("CH-0001", "paid", "40.00")]
    assert len(payments) == 1 and payments[0].method == "stripe"
    assert db.session.scalar(select(func.count()).where(StripeEvent.event_id == evt["id"])) == 1
    assert reload(agency).billing_state == "active"


def test_out_of_order_events_follow_the_latest_state(stripe_client, factory, standin):
    """Stripe sent 'past due' then 'active' again (paid); they arrive reversed.
    The state is read from the subscription as Stripe has it now."""
    agency, _ = stripe_agency(factory)
    now = int(time.time())
    sub = standin.subscription(agency.stripe_customer_id, status="past_due")
    older = event("customer.subscription.updated", dict(sub, status="past_due"), created=now - 60)
    sub["status"] = "active"  # Stripe's current state
    newer = event("customer.subscription.updated", dict(sub, status="active"), created=now)
    assert deliver(stripe_client, newer).status_code == 200
    assert reload(agency).billing_state == "active"
    assert deliver(stripe_client, older).status_code == 200
    assert reload(agency).billing_state == "active", "a late, older event does not roll the state back"
    assert "billing.state_changed" in actions(agency)
    # and the reverse: the subscription really is overdue now; an old 'active' event arrives last
    sub["status"] = "past_due"
    assert deliver(stripe_client, event("customer.subscription.updated", sub)).status_code == 200
    stale_active = event("customer.subscription.updated", dict(sub, status="active"), created=now - 3600)
    deliver(stripe_client, stale_active)
    agency = reload(agency)
    assert agency.billing_state == "past_due" and agency.past_due_since is not None


def test_an_old_subscription_does_not_replace_the_current_one(stripe_client, factory, standin):
    agency, _ = stripe_agency(factory)
    now = int(time.time())
    old = standin.subscription(agency.stripe_customer_id, status="canceled", created=now - 86400 * 60)
    current = standin.subscription(agency.stripe_customer_id, status="active", created=now - 60)
    deliver(stripe_client, event("customer.subscription.created", current))
    assert reload(agency).billing_state == "active"
    response = deliver(stripe_client, event("customer.subscription.deleted", old))
    assert response.json["outcome"] == "stale"
    assert reload(agency).billing_state == "active"
    assert subscription_row(agency).stripe_subscription_id == current["id"]


def test_checkout_then_payment_failure_then_payment(stripe_client, factory, standin):
    from decimal import Decimal

    from billing.models import Plan

    plan = Plan(
        name="Webhook plan",
        pricing="per_carer",
        price=Decimal("12.50"),
        currency="GBP",
        stripe_price_id="price_webhook_plan",
        trial_days=14,
    )
    db.session.add(plan)
    db.session.commit()
    agency = factory.agency()
    from saas.models import Role

    admin, _ = factory.member(agency, Role.ADMIN)
    # the customer is linked through the agency id we put on the Checkout session
    sub = standin.subscription("cus_new_from_checkout", quantity=3, price="price_webhook_plan")
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "customer": "cus_new_from_checkout",
        "subscription": sub["id"],
        "client_reference_id": str(agency.id),
        "metadata": {"agency_id": str(agency.id)},
    }
    assert deliver(stripe_client, event("checkout.session.completed", session)).json["outcome"] == "processed"
    agency = reload(agency)
    assert agency.stripe_customer_id == "cus_new_from_checkout"
    assert agency.billing_state == "active" and agency.plan_id == plan.id
    row = subscription_row(agency)
    assert (row.status, row.quantity, row.stripe_subscription_id) == ("active", 3, sub["id"])
    assert agency.current_period_end is not None

    # the renewal fails: Stripe marks the subscription past due
    sub["status"] = "past_due"
    failed = {
        "id": "in_fail_1",
        "object": "invoice",
        "customer": "cus_new_from_checkout",
        "amount_due": 3750,
        "amount_paid": 0,
        "currency": "gbp",
        "attempt_count": 1,
        "created": int(time.time()),
        "parent": {"subscription_details": {"subscription": sub["id"]}},
        "next_payment_attempt": int(time.time()) + 3 * 86400,
    }
    deliver(stripe_client, event("invoice.payment_failed", failed))
    agency = reload(agency)
    assert agency.billing_state == "past_due"
    assert [m.to_address for m in mails(agency, "billing.payment_failed")] == [admin.email]
    assert [m.to_address for m in mails(agency, "billing.past_due")] == [admin.email]
    page = stripe_client.application.test_client()
    from tests.factories import login

    login(page, admin)
    home = page.get(f"/a/{agency.slug}/")
    assert 'data-testid="billing-banner"' in home.text and "payment is overdue" in home.text

    # paid on the next attempt: restored at once
    sub["status"] = "active"
    deliver(
        stripe_client,
        event(
            "invoice.paid", dict(failed, amount_paid=3750, status_transitions={"paid_at": int(time.time())})
        ),
    )
    agency = reload(agency)
    assert agency.billing_state == "active" and agency.past_due_since is None
    assert mails(agency, "billing.restored")
    assert 'data-testid="billing-banner"' not in page.get(f"/a/{agency.slug}/").text
    with db.tenant_scope(agency.id):
        assert (
            db.session.scalar(select(Invoice.status).where(Invoice.stripe_invoice_id == "in_fail_1"))
            == "paid"
        )


def test_cancellation_keeps_read_access_until_the_period_ends(stripe_client, factory, standin):
    import time_machine

    from billing.jobs import run_sweep

    agency, admin = stripe_agency(factory)
    period_end = int(time.time()) + 10 * 86400
    sub = standin.subscription(agency.stripe_customer_id, period_end=period_end)
    deliver(stripe_client, event("customer.subscription.created", sub))
    sub["cancel_at_period_end"] = True
    deliver(stripe_client, event("customer.subscription.updated", sub))
    agency = reload(agency)
    assert agency.billing_state == "cancelled"
    assert int(agency.current_period_end.timestamp()) == period_end
    # resumed in the portal before the end
    sub["cancel_at_period_end"] = False
    deliver(stripe_client, event("customer.subscription.updated", sub))
    assert reload(agency).billing_state == "active"
    # ended for good at the end of the period
    sub["status"] = "canceled"
    deliver(stripe_client, event("customer.subscription.deleted", sub))
    assert reload(agency).billing_state == "cancelled"
    with stripe_client.application.app_context():
        run_sweep()
    assert reload(agency).billing_state == "cancelled", "not before the period ends"
    with time_machine.travel(period_end + 60, tick=False), stripe_client.application.app_context():
        run_sweep()
    agency = reload(agency)
    assert agency.billing_state == "closed" and agency.closed_at is not None


def test_subscription_ending_unpaid_never_closes_the_agency(stripe_client, factory, standin):
    agency, _ = stripe_agency(factory)
    sub = standin.subscription(agency.stripe_customer_id, status="past_due")
    deliver(stripe_client, event("customer.subscription.updated", sub))
    assert reload(agency).billing_state == "past_due"
    sub["status"] = "canceled"
    deliver(stripe_client, event("customer.subscription.deleted", sub))
    assert reload(agency).billing_state == "past_due", "care goes on; closing is an operator's decision"


def test_trial_will_end_emails_the_admins_once(stripe_client, factory, standin):
    agency, admin = stripe_agency(factory)
    sub = standin.subscription(agency.stripe_customer_id, status="trialing")
    sub["trial_end"] = int(time.time()) + 3 * 86400
    deliver(stripe_client, event("customer.subscription.trial_will_end", sub))
    deliver(stripe_client, event("customer.subscription.trial_will_end", sub))  # a second event, same trial
    sent = mails(agency, "billing.trial_ending")
    assert [m.to_address for m in sent] == [admin.email]
    assert "trial" in sent[0].subject.lower()


def test_stripe_unreachable_during_a_webhook_means_retry_later(stripe_client, factory, standin):
    agency, _ = stripe_agency(factory)
    sub = standin.subscription(agency.stripe_customer_id, status="past_due")
    evt = event("customer.subscription.updated", sub)
    standin.fail_next = 10
    response = deliver(stripe_client, evt)
    assert response.status_code == 503
    assert db.session.scalar(select(StripeEvent).where(StripeEvent.event_id == evt["id"])) is None
    standin.fail_next = 0
    assert deliver(stripe_client, evt).json["outcome"] == "processed", "Stripe's retry is processed"
    assert reload(agency).billing_state == "past_due"


def test_events_are_recorded_with_their_agency(stripe_client, factory, standin):
    agency, _ = stripe_agency(factory)
    sub = standin.subscription(agency.stripe_customer_id)
    evt = event("customer.subscription.created", sub)
    deliver(stripe_client, evt)
    row = db.session.scalar(select(StripeEvent).where(StripeEvent.event_id == evt["id"]))
    assert (row.agency_id, row.type, row.outcome) == (agency.id, "customer.subscription.created", "processed")
    with db.tenant_scope(agency.id):
        details = db.session.scalar(
            select(AuditEvent.details).where(AuditEvent.action == "billing.subscription_updated")
        )
    assert details["status"] == "active"
    assert db.session.get(Agency, agency.id).billing_state == "active"


def test_webhook_needs_no_csrf_token_and_sets_no_cookie(services, migrated, dbconn, factory, standin):
    from saas.app import create_app
    from tests.billing.billing_support import SECRET_KEY, WEBHOOK_SECRET
    from tests.conftest import make_config

    strict = create_app(
        make_config(
            services,
            WTF_CSRF_ENABLED=True,
            STRIPE_SECRET_KEY=SECRET_KEY,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=standin.url,
        )
    )
    agency, _ = stripe_agency(factory)
    sub = standin.subscription(agency.stripe_customer_id)
    response = deliver(strict.test_client(), event("customer.subscription.created", sub))
    assert response.status_code == 200 and response.json["outcome"] == "processed"
    assert "Set-Cookie" not in response.headers
