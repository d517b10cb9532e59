"""Samples for webhook endpoints and their deliveries and attempts."""

from __future__ import annotations

import uuid

from saas import db, sealing
from tests.samples import AgencyWorld, sample


def _add(world: AgencyWorld, row) -> uuid.UUID:
    with db.tenant_scope(world.agency.id):
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("webhook_endpoints")
def _endpoint(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.webhooks.models import WebhookEndpoint

    return _add(
        world,
        WebhookEndpoint(
            url="https://hooks.example.com/carehub",
            events=["visit.checked_in"],
            secret=sealing.seal("whsec_sample"),
        ),
    )


@sample("webhook_deliveries")
def _delivery(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.webhooks.models import WebhookDelivery

    return _add(
        world,
        WebhookDelivery(
            endpoint_id=world.ids["webhook_endpoints"],
            event="visit.checked_in",
            payload={"event": "visit.checked_in"},
            status="failed",
            attempts=6,
        ),
    )


@sample("webhook_attempts")
def _attempt(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.webhooks.models import WebhookAttempt

    return _add(
        world, WebhookAttempt(delivery_id=world.ids["webhook_deliveries"], status_code=500, error="status")
    )
