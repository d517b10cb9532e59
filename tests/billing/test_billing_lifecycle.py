"""The agency billing life cycle, without Stripe (manual invoicing): trial ->
past due -> restricted -> paid, with care never stopping on the way."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from billing import lifecycle
from billing.jobs import run_sweep
from billing.models import Invoice
from saas import db
from saas.models import Invitation, PlatformAuditEvent, Role
from tests.billing.billing_support import actions, mails, operator, reload
from tests.factories import login


def people(factory, agency):
    admin, _ = factory.member(agency, Role.ADMIN)
    carer, _ = factory.member(agency, Role.CARER)
    client_user, _ = factory.member(agency, Role.CLIENT)
    return admin, carer, client_user


def signed_in(app, user):
    c = app.test_client()
    login(c, user)
    return c


@pytest.mark.dates
def test_new_agencies_start_on_a_trial(factory, app):
    agency = factory.agency()
    assert agency.billing_state == "trial"
    assert agency.trial_ends_at - agency.created_at > timedelta(days=13, hours=23)
    assert "billing.trial_started" in actions(agency)


@pytest.mark.dates
def test_trial_to_past_due_to_restricted_to_paid(app, client, factory):
    agency = factory.agency()
    admin, carer, client_user = people(factory, agency)
    admin_c, carer_c = signed_in(app, admin), signed_in(app, carer)
    start = db.utcnow()

    # the trial ends unpaid: past due, a banner for admins, an email to each admin
    with time_machine.travel(start + timedelta(days=14, minutes=1), tick=False), app.app_context():
        assert run_sweep()["trial_ended"] >= 1
        assert run_sweep()["trial_ended"] == 0, "the sweep is idempotent"
    agency = reload(agency)
    assert agency.billing_state == "past_due"
    sent = mails(agency, "billing.past_due")
    assert [m.to_address for m in sent] == [admin.email]
    assert "overdue" in sent[0].subject
    login(admin_c, admin)
    page = admin_c.get(f"/a/{agency.slug}/")
    assert 'data-testid="billing-banner"' in page.text and "payment is overdue" in page.text
    login(carer_c, carer)
    assert 'data-testid="billing-banner"' not in carer_c.get(f"/a/{agency.slug}/").text
    # past due is a warning only: staff can still be invited
    assert (
        admin_c.post(
            f"/a/{agency.slug}/members/invite", data={"email": "early@example.net", "role": "carer"}
        ).status_code
        == 302
    )

    # fourteen days of grace later: restricted
    with time_machine.travel(start + timedelta(days=28, minutes=2), tick=False), app.app_context():
        assert run_sweep()["restricted"] >= 1
    agency = reload(agency)
    assert agency.billing_state == "restricted"
    assert [m.to_address for m in mails(agency, "billing.restricted")] == [admin.email]
    login(admin_c, admin)
    page = admin_c.get(f"/a/{agency.slug}/")
    assert "you cannot add clients, plans or staff" in page.text
    refused = admin_c.post(
        f"/a/{agency.slug}/members/invite", data={"email": "late@example.net", "role": "carer"}
    )
    assert refused.status_code == 403 and "restricted" in refused.text
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(Invitation).where(Invitation.email == "late@example.net")) is None
    # a client's family can still be given access: that is care
    assert (
        admin_c.post(
            f"/a/{agency.slug}/members/invite", data={"email": "family@example.net", "role": "client"}
        ).status_code
        == 302
    )

    # care never stops: carers and clients use the agency as before
    login(carer_c, carer)
    assert carer_c.get(f"/a/{agency.slug}/").status_code == 200
    client_c = signed_in(app, client_user)
    assert client_c.get(f"/a/{agency.slug}/").status_code == 200
    token = factory.api_token(_membership(agency, carer))
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200

    # the operator records the invoice and the payment: restored at once
    op = client
    operator(op, factory)
    due = (db.utcnow() - timedelta(days=1)).date().isoformat()
    assert (
        op.post(
            f"/operator/agencies/{agency.id}/billing/invoices",
            data={"description": "Subscription", "amount": "45.00", "currency": "gbp", "due_on": due},
        ).status_code
        == 302
    )
    with db.tenant_scope(agency.id):
        invoice = db.session.scalar(select(Invoice))
    assert invoice.currency == "GBP" and invoice.status == "open"
    part = op.post(
        f"/operator/agencies/{agency.id}/billing/invoices/{invoice.id}/payments",
        data={"amount": "20.00", "method": "bank_transfer", "reference": "TX-1"},
    )
    assert part.status_code == 302
    assert reload(agency).billing_state == "restricted", "part payment: not yet"
    op.post(
        f"/operator/agencies/{agency.id}/billing/invoices/{invoice.id}/payments",
        data={"amount": "25.00", "method": "bank_transfer", "reference": "TX-2"},
    )
    agency = reload(agency)
    assert agency.billing_state == "active" and agency.past_due_since is None
    assert mails(agency, "billing.restored")
    login(admin_c, admin)
    assert 'data-testid="billing-banner"' not in admin_c.get(f"/a/{agency.slug}/").text
    assert (
        admin_c.post(
            f"/a/{agency.slug}/members/invite", data={"email": "late@example.net", "role": "carer"}
        ).status_code
        == 302
    )
    trail = actions(agency)
    for action in (
        "billing.trial_started",
        "billing.state_changed",
        "billing.invoice_recorded",
        "billing.payment_recorded",
    ):
        assert action in trail
    changes = db.session.scalars(
        select(PlatformAuditEvent.details).where(
            PlatformAuditEvent.agency_id == agency.id, PlatformAuditEvent.action == "billing.state_changed"
        )
    ).all()
    assert [(c["before"], c["after"]) for c in changes] == [
        ("trial", "past_due"),
        ("past_due", "restricted"),
        ("restricted", "active"),
    ]


def _membership(agency, user):
    from saas.models import Membership

    with db.tenant_scope(agency.id):
        return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


@pytest.mark.dates
def test_overdue_manual_invoice_makes_an_active_agency_past_due(app, factory):
    from billing import services

    agency = factory.agency()
    lifecycle.mark_paid(agency, reason="test")
    db.session.commit()
    services.record_invoice(
        agency,
        amount=Decimal("10"),
        currency="GBP",
        description="x",
        period_start=None,
        period_end=None,
        due_at=db.utcnow() + timedelta(days=7),
        by=None,
    )
    db.session.commit()
    with app.app_context():
        run_sweep()
    assert reload(agency).billing_state == "active", "not before it is due"
    with time_machine.travel(db.utcnow() + timedelta(days=8), tick=False), app.app_context():
        assert run_sweep()["invoice_overdue"] == 1
    assert reload(agency).billing_state == "past_due"


def test_require_can_grow_refuses_while_restricted(app, factory):
    from flask import g

    agency = factory.agency()
    calls = []

    @lifecycle.require_can_grow
    def add_client():
        calls.append(1)
        return "added"

    with app.test_request_context():
        g.agency = agency
        assert add_client() == "added"
        for state in ("past_due", "trial", "active"):
            agency.billing_state = state
            assert add_client() == "added"
        for state in ("restricted", "cancelled", "closed"):
            agency.billing_state = state
            body, status = add_client()
            assert status == 403
    assert len(calls) == 4
    db.session.rollback()


def test_plan_limit_on_carers(app, client, factory):
    from billing import services

    plan = services.save_plan(
        None, name="Small", pricing="flat", price=Decimal("30"), currency="GBP", max_carers=2, trial_days=14
    )
    agency = factory.agency()
    services.onboard(agency, plan=plan, trial_days=14, by=None)
    db.session.commit()
    admin, _ = factory.member(agency, Role.ADMIN)
    factory.member(agency, Role.CARER)
    login(client, admin)
    assert (
        client.post(
            f"/a/{agency.slug}/members/invite", data={"email": "c2@example.net", "role": "carer"}
        ).status_code
        == 302
    )
    refused = client.post(
        f"/a/{agency.slug}/members/invite", data={"email": "c3@example.net", "role": "carer"}
    )
    assert refused.status_code == 403 and "up to 2 carers" in refused.text
    # coordinators are not carers
    assert (
        client.post(
            f"/a/{agency.slug}/members/invite", data={"email": "co@example.net", "role": "coordinator"}
        ).status_code
        == 302
    )


@pytest.mark.dates
def test_cancelled_is_read_only_for_admins_until_the_period_ends_then_closed(app, client, factory):
    agency = factory.agency()
    admin, carer, _client = people(factory, agency)
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    lifecycle.cancel(agency, reason="leaving", access_until=db.utcnow() + timedelta(days=5))
    db.session.commit()
    admin_c, carer_c, coord_c = signed_in(app, admin), signed_in(app, carer), signed_in(app, coordinator)
    assert admin_c.get(f"/a/{agency.slug}/members").status_code == 200, "read access"
    refused = admin_c.post(
        f"/a/{agency.slug}/members/invite", data={"email": "x@example.net", "role": "client"}
    )
    assert refused.status_code == 403 and "cancelled" in refused.text
    assert coord_c.get(f"/a/{agency.slug}/members").status_code == 200
    assert carer_c.get(f"/a/{agency.slug}/").status_code == 200
    # carers are never blocked by the billing state, even for changes of their own
    assert carer_c.post(f"/a/{agency.slug}/tokens", data={"name": "phone"}).status_code == 200
    page = admin_c.get(f"/a/{agency.slug}/")
    assert "Your subscription is cancelled" in page.text

    with time_machine.travel(db.utcnow() + timedelta(days=5, minutes=5), tick=False), app.app_context():
        assert run_sweep()["closed"] >= 1
    agency = reload(agency)
    assert agency.billing_state == "closed" and agency.closed_at is not None
    assert [m.to_address for m in mails(agency, "billing.closed")] == [admin.email]
    login(carer_c, carer)
    closed = carer_c.get(f"/a/{agency.slug}/")
    assert closed.status_code == 403 and "closed" in closed.text and "Export the agency" not in closed.text
    login(admin_c, admin)
    # the admins read the archive and export it; nothing can be changed
    home = admin_c.get(f"/a/{agency.slug}/")
    assert home.status_code == 200 and "read-only archive" in home.text and "Export the agency" in home.text
    assert admin_c.get(f"/a/{agency.slug}/billing/exports").status_code == 200
    assert admin_c.get(f"/a/{agency.slug}/members").status_code == 200
    refused = admin_c.post(
        f"/a/{agency.slug}/members/invite", data={"email": "x@example.net", "role": "client"}
    )
    assert refused.status_code == 403 and "closed" in refused.text
    # past the export window the archive stays readable until its purge (which follows retention)
    with time_machine.travel(agency.closed_at + timedelta(days=30, minutes=1), tick=False):
        login(admin_c, admin)
        assert admin_c.get(f"/a/{agency.slug}/billing/exports").status_code == 200


def test_operator_closes_an_agency_with_a_reason(client, factory):
    agency = factory.agency()
    operator(client, factory)
    no_reason = client.post(
        f"/operator/agencies/{agency.id}/billing/close", data={"reason": ""}, follow_redirects=True
    )
    assert "Write down why" in no_reason.text
    assert reload(agency).billing_state == "trial"
    client.post(
        f"/operator/agencies/{agency.id}/billing/close", data={"reason": "The agency asked to leave."}
    )
    agency = reload(agency)
    assert agency.billing_state == "closed"
    details = db.session.scalar(
        select(PlatformAuditEvent.details).where(
            PlatformAuditEvent.agency_id == agency.id, PlatformAuditEvent.action == "billing.state_changed"
        )
    )
    assert details["reason"] == "The agency asked to leave."


def test_manual_billing_bad_input(client, factory):
    agency = factory.agency()
    operator(client, factory)
    bad = client.post(
        f"/operator/agencies/{agency.id}/billing/invoices",
        data={"description": "x", "amount": "-5", "currency": "GBP", "due_on": "2030-01-01"},
        follow_redirects=True,
    )
    assert "cannot be negative" in bad.text
    with db.tenant_scope(agency.id):
        assert db.session.scalars(select(Invoice)).all() == []
    missing = client.post(f"/a/{agency.slug}/billing/checkout", data={})
    assert missing.status_code in (302, 404)
    other = factory.agency()
    with db.tenant_scope(other.id):
        from billing import services

        foreign = services.record_invoice(
            other,
            amount=Decimal("5"),
            currency="GBP",
            description="y",
            period_start=None,
            period_end=None,
            due_at=None,
            by=None,
        )
        db.session.commit()
    cross = client.post(
        f"/operator/agencies/{agency.id}/billing/invoices/{foreign.id}/payments",
        data={"amount": "5", "method": "cash"},
    )
    assert cross.status_code == 404, "another agency's invoice is not found through this agency"
    with db.tenant_scope(other.id):
        assert db.session.scalar(select(Invoice.status).where(Invoice.id == foreign.id)) == "open"


def test_restriction_never_changes_what_carers_and_clients_get(app, factory):
    """Every agency page and action, as a carer and as a client, in an active
    agency and in a restricted one (same data): the same answers. Routes added
    later (visits, check-in, ratings, complaints) are covered automatically."""
    from tests.samples import build_world, url_values

    worlds = {}
    for state in ("active", "restricted"):
        world = build_world(factory)
        agency = db.session.get(type(world.agency), world.agency.id)
        if state == "restricted":
            lifecycle.mark_past_due(agency, reason="test", since=db.utcnow() - timedelta(days=20))
            lifecycle.restrict(agency, reason="test")
        else:
            lifecycle.mark_paid(agency, reason="test")
        db.session.commit()
        worlds[state] = (world, agency.slug)
    rules = [r for r in app.url_map.iter_rules() if "slug" in r.arguments and not r.rule.startswith("/api/")]
    adapter = app.url_map.bind("localhost")
    for role in (Role.CARER, Role.CLIENT):
        answers = {}
        for state, (world, slug) in worlds.items():
            user, _ = factory.member(world.agency, role)
            browser = app.test_client()
            login(browser, user)
            for rule in rules:
                values = url_values(rule, slug, world.ids)
                for method in ("GET", "POST"):
                    if method not in rule.methods:
                        continue
                    response = browser.open(
                        adapter.build(rule.endpoint, values, method=method), method=method
                    )
                    answers.setdefault((rule.endpoint, method), {})[state] = response.status_code
                    if state == "restricted":
                        assert "a payment is overdue" not in response.text, (role, rule.rule, method)
        different = {k: v for k, v in answers.items() if v["active"] != v["restricted"]}
        assert not different, (role, different)


def test_client_limit_of_the_plan(app, factory):
    from billing import services

    plan = services.save_plan(
        None, name="Tiny", pricing="flat", price=Decimal("5"), currency="GBP", max_clients=10, trial_days=14
    )
    agency = factory.agency()
    services.onboard(agency, plan=plan, trial_days=14, by=None)
    with app.test_request_context():
        assert lifecycle.client_limit_refusal(agency, 9) is None
        assert "up to 10 clients" in lifecycle.client_limit_refusal(agency, 10)
        agency.billing_state = "restricted"
        assert "restricted" in lifecycle.client_limit_refusal(agency, 0)
    db.session.rollback()
