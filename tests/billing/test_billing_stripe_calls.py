"""Calls to Stripe, through the official SDK pointed at a local stand-in:
bodies and idempotency keys as sent over HTTP."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import time_machine
from sqlalchemy import select

from billing.jobs import dispatch_quantity_syncs, sync_quantity_job
from billing.models import Plan, Subscription
from saas import db
from saas.models import AuditEvent, Membership, OutboxEntry, Role
from tests.billing.billing_support import (  # noqa: F401 - fixtures
    deliver,
    reload,
    standin_fixture,
    stripe_agency,
    stripe_app_fixture,
    stripe_client_fixture,
)
from tests.billing.stripe_standin import event
from tests.factories import login


def make_plan(
    name: str = "Standard", price: str = "9.00", pricing: str = "per_carer", price_id: str = "price_std"
):
    plan = Plan(
        name=name,
        pricing=pricing,
        price=Decimal(price),
        currency="GBP",
        stripe_price_id=price_id,
        trial_days=14,
    )
    db.session.add(plan)
    db.session.commit()
    return plan


def test_checkout_creates_one_customer_and_a_session_with_idempotency_keys(stripe_client, factory, standin):
    plan = make_plan(name="Checkout plan", price_id="price_checkout")
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    for _ in range(3):
        factory.member(agency, Role.CARER)
    login(stripe_client, admin)
    response = stripe_client.post(f"/a/{agency.slug}/billing/checkout", data={"plan": str(plan.id)})
    assert response.status_code == 303
    assert response.location.startswith("https://checkout.stripe.test/c/pay/cs_test_")

    customers = standin.calls("/v1/customers")
    assert len(customers) == 1
    assert customers[0].idempotency_key == f"{agency.id}:customer:v1"
    assert customers[0].body["metadata"] == {"agency_id": str(agency.id), "slug": agency.slug}
    assert customers[0].body["email"] == admin.email
    agency = reload(agency)
    assert agency.stripe_customer_id and agency.stripe_customer_id.startswith("cus_")

    sessions = standin.calls("/v1/checkout/sessions")
    assert len(sessions) == 1
    body = sessions[0].body
    assert body["mode"] == "subscription" and body["customer"] == agency.stripe_customer_id
    assert body["client_reference_id"] == str(agency.id)
    assert body["line_items"]["0"] == {"price": "price_checkout", "quantity": "3"}
    assert body["subscription_data"]["metadata"]["agency_id"] == str(agency.id)
    assert "trial_end" in body["subscription_data"], "not charged before the promised trial ends"
    assert body["success_url"].endswith("/billing/checkout/done?session_id={CHECKOUT_SESSION_ID}")
    key = sessions[0].idempotency_key
    assert key.startswith(f"{agency.id}:checkout:") and len(key.split(":")) == 4

    # a double click: no second customer, the same key, so Stripe answers with the same session
    again = stripe_client.post(f"/a/{agency.slug}/billing/checkout", data={"plan": str(plan.id)})
    assert again.location == response.location
    assert len(standin.calls("/v1/customers")) == 1
    assert [c.idempotency_key for c in standin.calls("/v1/checkout/sessions")] == [key, key]
    with db.tenant_scope(agency.id):
        assert "billing.checkout_started" in db.session.scalars(select(AuditEvent.action)).all()


def test_every_post_to_stripe_carries_our_idempotency_key(stripe_client, factory, standin):
    plan = make_plan(name="Keys plan", price_id="price_keys")
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(stripe_client, admin)
    stripe_client.post(f"/a/{agency.slug}/billing/checkout", data={"plan": str(plan.id)})
    stripe_client.post(f"/a/{agency.slug}/billing/portal")
    posts = [r for r in standin.requests if r.method == "POST"]
    assert posts and all(r.idempotency_key and r.idempotency_key.startswith(str(agency.id)) for r in posts)


def test_billing_portal(stripe_client, factory, standin):
    agency, admin = stripe_agency(factory)
    login(stripe_client, admin)
    response = stripe_client.post(f"/a/{agency.slug}/billing/portal")
    assert response.status_code == 303 and response.location.startswith(
        "https://billing.stripe.test/p/session/"
    )
    call = standin.calls("/v1/billing_portal/sessions")[0]
    assert call.body["customer"] == agency.stripe_customer_id
    assert call.body["return_url"].endswith(f"/a/{agency.slug}/billing/")
    assert call.idempotency_key.startswith(f"{agency.id}:portal:")


def test_only_admins_reach_billing(stripe_client, factory):
    agency, _ = stripe_agency(factory)
    carer, _ = factory.member(agency, Role.CARER)
    login(stripe_client, carer)
    assert stripe_client.get(f"/a/{agency.slug}/billing/").status_code == 403
    assert stripe_client.post(f"/a/{agency.slug}/billing/portal").status_code == 403


def test_stripe_down_changes_nothing_and_says_so(stripe_client, factory, standin):
    plan = make_plan(name="Down plan", price_id="price_down")
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(stripe_client, admin)
    standin.fail_next = 10
    response = stripe_client.post(
        f"/a/{agency.slug}/billing/checkout", data={"plan": str(plan.id)}, follow_redirects=True
    )
    assert response.status_code == 200 and "Stripe could not be reached" in response.text
    assert reload(agency).stripe_customer_id is None


def test_a_plan_without_a_stripe_price_cannot_be_bought_online(stripe_client, factory, standin):
    plan = make_plan(name="Offline plan", price_id=None)
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(stripe_client, admin)
    response = stripe_client.post(
        f"/a/{agency.slug}/billing/checkout", data={"plan": str(plan.id)}, follow_redirects=True
    )
    assert "Choose a plan" in response.text
    assert standin.calls("/v1/checkout/sessions") == []


def subscribe(stripe_client, agency, standin, quantity: int):
    sub = standin.subscription(agency.stripe_customer_id, quantity=quantity, price="price_sync")
    deliver(stripe_client, event("customer.subscription.created", sub))
    return sub


def dispatch(app) -> int:
    with app.app_context():
        n = dispatch_quantity_syncs()
        db.session.commit()
    return n


def sync_jobs(agency) -> list[OutboxEntry]:
    return list(
        db.session.scalars(
            select(OutboxEntry).where(
                OutboxEntry.agency_id == agency.id, OutboxEntry.job == "billing.sync_quantity"
            )
        )
    )


def run_pending_syncs(app, agency) -> None:
    """What the worker does with the outbox rows, in the Stripe-mode app."""
    entries = db.session.scalars(
        select(OutboxEntry).where(
            OutboxEntry.agency_id == agency.id,
            OutboxEntry.job == "billing.sync_quantity",
            OutboxEntry.done_at.is_(None),
        )
    ).all()
    assert entries
    for entry in entries:
        with app.app_context(), db.tenant_scope(entry.agency_id):
            sync_quantity_job(**entry.args)
            entry.done_at = db.utcnow()
            db.session.commit()


def test_carer_changes_sync_the_quantity_debounced(stripe_client, factory, standin):
    make_plan(name="Sync plan", price_id="price_sync")
    agency, admin = stripe_agency(factory, carers=2)
    sub = subscribe(stripe_client, agency, standin, quantity=2)
    login(stripe_client, admin)

    # a carer joins through an invitation; another is added the same minute
    invitation, token = factory.invitation(agency, "new-carer@example.net", Role.CARER)
    factory.member(agency, Role.CARER)
    join = stripe_client.application.test_client()
    join.post(
        f"/invite/{token}",
        data={"name": "New Carer", "password": "a-long-enough-pass-99", "confirm": "a-long-enough-pass-99"},
    )
    requested = reload(agency).billing_sync_requested_at
    assert requested is not None, "staff changes mark the agency"

    app = stripe_client.application
    # other agencies of the test database may be due too: look at this one only
    dispatch(app)
    assert reload(agency).billing_sync_requested_at == requested, "debounced: nothing within the first minute"
    assert not sync_jobs(agency)
    with time_machine.travel(db.utcnow() + timedelta(seconds=61), tick=False):
        dispatch(app)
        assert reload(agency).billing_sync_requested_at is None
        assert len(sync_jobs(agency)) == 1, "one job for the burst"
        run_pending_syncs(app, agency)
    updates = standin.calls(f"/v1/subscriptions/{sub['id']}")
    assert len(updates) == 1, "one call for the whole burst"
    with db.tenant_scope(agency.id):
        active = db.session.scalars(
            select(Membership).where(Membership.role == "carer", Membership.active.is_(True))
        ).all()
    assert len(active) == 4
    assert updates[0].body["items"]["0"]["quantity"] == "4"
    assert updates[0].body["items"]["0"]["id"] == sub["items"]["data"][0]["id"]
    first_key = updates[0].idempotency_key
    assert first_key.startswith(f"{agency.id}:quantity:{sub['id']}:4:")
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(Subscription.quantity)) == 4

    # a carer leaves, then comes back: each request syncs with a key of its own
    with db.tenant_scope(agency.id):
        leaving = db.session.scalar(select(Membership).where(Membership.role == "carer").limit(1))
    stripe_client.post(f"/a/{agency.slug}/members/{leaving.id}/deactivate")
    with time_machine.travel(db.utcnow() + timedelta(seconds=61), tick=False):
        dispatch(app)
        run_pending_syncs(app, agency)
    stripe_client.post(f"/a/{agency.slug}/members/{leaving.id}/reactivate")
    with time_machine.travel(db.utcnow() + timedelta(seconds=130), tick=False):
        dispatch(app)
        run_pending_syncs(app, agency)
    updates = standin.calls(f"/v1/subscriptions/{sub['id']}")
    assert [u.body["items"]["0"]["quantity"] for u in updates] == ["4", "3", "4"]
    keys = [u.idempotency_key for u in updates]
    assert len(set(keys)) == 3, "going back to 4 is a new request, not a replay of the first"
    assert sub["items"]["data"][0]["quantity"] == 4


def test_sync_job_run_twice_calls_stripe_once(stripe_client, factory, standin):
    make_plan(name="Twice plan", price_id="price_sync2")
    agency, _ = stripe_agency(factory, carers=3)
    sub = standin.subscription(agency.stripe_customer_id, quantity=1, price="price_sync2")
    deliver(stripe_client, event("customer.subscription.created", sub))
    with stripe_client.application.app_context(), db.tenant_scope(agency.id):
        sync_quantity_job(marker="m1")
        sync_quantity_job(marker="m1")
    assert len(standin.calls(f"/v1/subscriptions/{sub['id']}")) == 1
    assert sub["items"]["data"][0]["quantity"] == 3


def test_flat_plans_bill_one(stripe_client, factory, standin):
    make_plan(name="Flat plan", price="99.00", pricing="flat", price_id="price_flat")
    agency, _ = stripe_agency(factory, carers=5)
    sub = standin.subscription(agency.stripe_customer_id, quantity=1, price="price_flat")
    deliver(stripe_client, event("customer.subscription.created", sub))
    with stripe_client.application.app_context(), db.tenant_scope(agency.id):
        sync_quantity_job(marker="m2")
    assert standin.calls(f"/v1/subscriptions/{sub['id']}") == [], "a flat plan's quantity stays 1"


def test_stripe_billing_page(stripe_client, factory, standin):
    plan = make_plan(name="Page plan", price_id="price_page")
    agency, admin = stripe_agency(factory)
    login(stripe_client, admin)
    page = stripe_client.get(f"/a/{agency.slug}/billing/")
    assert page.status_code == 200 and plan.name in page.text and "Subscribe" in page.text
    assert "Payment details and invoices" in page.text
    sub = standin.subscription(agency.stripe_customer_id, quantity=2, price="price_page")
    deliver(stripe_client, event("customer.subscription.created", sub))
    page = stripe_client.get(f"/a/{agency.slug}/billing/")
    assert "subscribes through Stripe, for 2 carers" in page.text and ">Subscribe<" not in page.text
    again = stripe_client.post(
        f"/a/{agency.slug}/billing/checkout", data={"plan": str(plan.id)}, follow_redirects=True
    )
    assert "already has a subscription" in again.text
