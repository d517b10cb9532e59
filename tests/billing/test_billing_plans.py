"""Plans, the onboarding wizard and the operator's agency list and totals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from billing import lifecycle, services
from billing.models import Plan
from saas import db
from saas.models import Agency, Invitation, PlatformAuditEvent, Role
from tests.billing.billing_support import operator, reload
from tests.factories import login, unique
from tests.sqlcount import count_statements

PLAN = {
    "name": "Standard",
    "pricing": "per_carer",
    "price": "12.50",
    "currency": "gbp",
    "max_carers": "",
    "max_clients": "200",
    "features": "Visits\nQuality reports\n",
    "trial_days": "21",
    "stripe_price_id": "price_1Standard",
    "active": "y",
}


def plans_named(name: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Plan).where(Plan.name == name)) or 0


def test_operator_manages_plans(client, factory):
    operator(client, factory)
    name = unique("Plan ")
    assert client.post("/operator/plans/new", data={**PLAN, "name": name}).status_code == 302
    plan = db.session.scalar(select(Plan).where(Plan.name == name))
    assert (plan.price, plan.currency, plan.max_carers, plan.max_clients, plan.trial_days) == (
        Decimal("12.50"),
        "GBP",
        None,
        200,
        21,
    )
    assert plan.features == ["Visits", "Quality reports"]
    listing = client.get("/operator/plans")
    assert name in listing.text and "price_1Standard" in listing.text
    edited = client.post(f"/operator/plans/{plan.id}", data={**PLAN, "name": name, "price": "15"})
    assert edited.status_code == 302
    assert reload(plan).price == Decimal("15.00")
    assert db.session.scalar(select(PlatformAuditEvent).where(PlatformAuditEvent.action == "plan.changed"))
    assert client.get(f"/operator/plans/{plan.id}").status_code == 200
    assert client.get("/operator/plans/00000000-0000-0000-0000-000000000000").status_code == 404


def test_plan_bad_input(client, factory):
    operator(client, factory)
    existing = services.save_plan(
        None, name=unique("Taken "), pricing="flat", price=Decimal("1"), currency="GBP", trial_days=14
    )
    db.session.commit()
    cases = {
        "negative price": ({"price": "-1"}, "cannot be negative"),
        "name taken": ({"name": existing.name}, "Another plan already has this name"),
        "bad currency": ({"currency": "pounds"}, "three-letter currency code"),
        "bad price id": ({"stripe_price_id": "prod_123"}, "starts with price_"),
        "negative limit": ({"max_carers": "-3"}, "cannot be negative"),
        "long trial": ({"trial_days": "400"}, "0 to 365 days"),
        "no price": ({"price": ""}, "Enter a price"),
        "bad pricing": ({"pricing": "per_minute"}, "Not a valid choice"),
    }
    for label, (change, message) in cases.items():
        name = unique("Bad ")
        response = client.post("/operator/plans/new", data={**PLAN, "name": name, **change})
        assert response.status_code == 422 and message in response.text, label
        assert plans_named(change.get("name", name)) == (1 if label == "name taken" else 0), label
    # the database refuses a negative price too, whatever the path
    import pytest

    with pytest.raises(Exception, match="price_not_negative"):
        nested = db.session.begin_nested()
        db.session.add(
            Plan(name=unique("Raw "), pricing="flat", price=Decimal("-1"), currency="GBP", trial_days=1)
        )
        db.session.flush()
    nested.rollback()


def test_onboarding_wizard_sets_up_an_agency_in_one_step(client, factory):
    operator(client, factory)
    plan = services.save_plan(
        None, name=unique("Wizard "), pricing="per_carer", price=Decimal("9"), currency="GBP", trial_days=30
    )
    db.session.commit()
    form = client.get("/operator/agencies/new")
    for section in ("1. The agency", "2. Plan and trial", "3. First admin", "4. Starting service catalogue"):
        assert section in form.text
    assert plan.name in form.text
    slug = unique("wiz")
    data = {
        "name": "Wizard Care",
        "slug": slug,
        "timezone": "Europe/London",
        "locale": "en",
        "admin_email": f"boss@{slug}.example",
        "plan": str(plan.id),
        "trial_days": "30",
    }
    from billing.onboarding import _presets

    presets = _presets()
    if presets:
        data["catalogue_preset"] = next(iter(presets))
    response = client.post("/operator/agencies/new", data=data)
    assert response.status_code == 302, response.text[:2000]
    agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
    assert agency.plan_id == plan.id and agency.billing_state == "trial"
    assert (
        timedelta(days=29, hours=23) < agency.trial_ends_at - agency.created_at < timedelta(days=30, hours=1)
    )
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(Invitation.email)) == f"boss@{slug}.example"
    if presets:
        from tenants.catalogue.models import ServiceItem

        with db.tenant_scope(agency.id):
            assert db.session.scalar(select(func.count()).select_from(ServiceItem)) > 0
    page = client.get(f"/operator/agencies/{agency.id}")
    assert "Trial" in page.text


def test_wizard_bad_input_saves_nothing(client, factory):
    operator(client, factory)
    taken = factory.agency()
    before = db.session.scalar(select(func.count()).select_from(Agency))
    base = {"name": "X", "timezone": "Europe/London", "locale": "en"}
    for slug, message in (
        (taken.slug, "already taken"),
        ("static", "reserved"),
        ("billing", "reserved"),
        ("operator", "reserved"),
        ("api", "reserved"),
    ):
        response = client.post("/operator/agencies/new", data={**base, "slug": slug})
        assert response.status_code == 200 and message in response.text, slug
    bad = client.post("/operator/agencies/new", data={**base, "slug": unique("t"), "trial_days": "-2"})
    assert "Number must be between 0 and 365" in bad.text
    bad = client.post("/operator/agencies/new", data={**base, "slug": unique("t"), "plan": "not-a-plan"})
    assert "Not a valid choice" in bad.text
    bad = client.post(
        "/operator/agencies/new", data={**base, "slug": unique("t"), "catalogue_preset": "nope"}
    )
    assert "Not a valid choice" in bad.text
    assert db.session.scalar(select(func.count()).select_from(Agency)) == before


def test_agency_list_shows_billing_figures_and_platform_totals(app, client, factory):
    plan = services.save_plan(
        None, name=unique("List "), pricing="per_carer", price=Decimal("10"), currency="GBP", trial_days=14
    )
    paying = factory.agency(name=f"Paying {unique()}")
    services.set_plan(paying, plan, by=None)
    lifecycle.mark_paid(paying, reason="test")
    db.session.commit()
    for _ in range(3):
        factory.member(paying, Role.CARER)
    admin, _ = factory.member(paying, Role.ADMIN)
    member = app.test_client()
    login(member, admin)
    gone = factory.agency()
    lifecycle.cancel(gone, reason="test", access_until=db.utcnow())
    db.session.commit()

    operator(client, factory)
    page = client.get("/operator/")
    row = page.text.split(paying.name)[1].split("</tr>")[0]
    assert plan.name in row and "Active" in row and "£30.00" in row and ">3<" in row
    totals = page.text.split('data-testid="platform-totals"')[1]
    assert "£" in totals.split('data-testid="total-mrr"')[1][:200]
    churn = totals.split('data-testid="total-churn"')[1][:80]
    assert "agencies" in churn and not churn.startswith(">0 ")

    # a constant number of statements, however many agencies are listed
    with count_statements() as few:
        client.get("/operator/")
    for _ in range(3):
        extra = factory.agency()
        factory.member(extra, Role.CARER)
    with count_statements() as more:
        client.get("/operator/")
    assert more.count == few.count


def test_billing_pages_render(app, client, factory):
    from tests.billing.billing_support import mails  # noqa: F401

    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    services.record_invoice(
        agency,
        amount=Decimal("12"),
        currency="GBP",
        description="Sample",
        period_start=None,
        period_end=None,
        due_at=db.utcnow(),
        by=None,
    )
    db.session.commit()
    login(client, admin)
    for path in ("billing/", "billing/exports", "billing/access"):
        response = client.get(f"/a/{agency.slug}/{path}")
        assert response.status_code == 200, path
    assert "The CareHub team sends your agency's invoices" in client.get(f"/a/{agency.slug}/billing/").text
    op = app.test_client()
    operator(op, factory)
    for path in (
        "/operator/plans",
        "/operator/plans/new",
        f"/operator/agencies/{agency.id}/billing",
        f"/operator/agencies/{agency.id}",
        "/operator/",
    ):
        response = op.get(path)
        assert response.status_code == 200, path
    billing_page = op.get(f"/operator/agencies/{agency.id}/billing").text
    assert "Record an invoice" in billing_page and "Record a payment" in billing_page
