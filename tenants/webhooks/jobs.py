"""The delivery job (one attempt of one delivery) and the sweep that queues
the retries that are due."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from saas import db
from saas.agencies import sweep_agencies
from saas.jobs import job, periodic
from tenants.webhooks import services
from tenants.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


@job("webhooks.deliver")
def deliver(delivery_id: str) -> None:
    """Idempotent: a delivery already delivered or failed is left alone, and
    the row is locked so two workers never send it at once."""
    delivery = db.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == uuid.UUID(delivery_id)).with_for_update()
    )
    if delivery is None or delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
        return
    if delivery.status == DeliveryStatus.RETRYING and delivery.next_attempt_at is not None:
        return  # not yet: the sweep queues it when its time comes
    endpoint = db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == delivery.endpoint_id))
    if endpoint is None:
        return
    services.deliver(delivery, endpoint)


@periodic
def retry_due() -> int:
    now = db.utcnow()
    stmt = select(WebhookDelivery.tenant_id).where(
        WebhookDelivery.status == DeliveryStatus.RETRYING, WebhookDelivery.next_attempt_at <= now
    )
    return sweep_agencies(stmt, lambda agency: services.due_retries(agency, now))
