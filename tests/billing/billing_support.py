"""Shared by the billing tests: an app in Stripe mode pointed at the local
stand-in, signed webhook deliveries, and a few shortcuts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from saas import db
from saas.models import AuditEvent, MailMessage, Role
from tests.billing.stripe_standin import StripeStandIn, sign
from tests.conftest import make_config
from tests.factories import login, unique

WEBHOOK_SECRET = "whsec_test_carehub"
SECRET_KEY = "sk_test_carehub"


@pytest.fixture(scope="module", name="standin")
def standin_fixture() -> Iterator[StripeStandIn]:
    server = StripeStandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="module", name="stripe_app")
def stripe_app_fixture(services, migrated, standin):
    from saas.app import create_app

    return create_app(
        make_config(
            services,
            STRIPE_SECRET_KEY=SECRET_KEY,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=standin.url,
        )
    )


@pytest.fixture(name="stripe_client")
def stripe_client_fixture(stripe_app, dbconn, standin):
    standin.requests.clear()
    standin.fail_next = 0
    return stripe_app.test_client()


def deliver(
    client,
    evt: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
):
    payload = json.dumps(evt)
    header = signature if signature is not None else sign(payload, secret, timestamp)
    return client.post(
        "/billing/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def stripe_agency(factory, *, customer: str | None = None, carers: int = 0):
    """An agency with a Stripe customer, an admin and some carers."""
    agency = factory.agency()
    agency.stripe_customer_id = customer or unique("cus_")
    db.session.commit()
    admin, _ = factory.member(agency, Role.ADMIN)
    for _i in range(carers):
        factory.member(agency, Role.CARER)
    return agency, admin


def operator(client, factory):
    user = factory.user(operator=True, totp=True)
    login(client, user)
    return user


def actions(agency) -> list[str]:
    with db.tenant_scope(agency.id):
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def mails(agency, kind: str) -> list[MailMessage]:
    return list(
        db.session.scalars(
            select(MailMessage).where(MailMessage.agency_id == agency.id, MailMessage.kind == kind)
        )
    )


def reload(obj):
    """The row as committed now (works for objects a request's session dropped)."""
    from sqlalchemy import inspect

    identity = inspect(obj).identity
    return db.session.get(type(obj), identity, populate_existing=True)


# import these three into a test module to use the fixtures they name
FIXTURES = (standin_fixture, stripe_app_fixture, stripe_client_fixture)
