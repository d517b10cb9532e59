"""What the webhook pages and the API read."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import Select, select

from saas import db
from tenants.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at).limit(200)))


def endpoints_statement() -> Select[Any]:
    return select(WebhookEndpoint)


def deliveries_statement(endpoint_id: uuid.UUID, status: str | None = None) -> Select[Any]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    return stmt


def attempts_of(delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[WebhookAttempt]]:
    """Each delivery's attempts, oldest first, in one statement."""
    found: dict[uuid.UUID, list[WebhookAttempt]] = defaultdict(list)
    if delivery_ids:
        for attempt in db.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(WebhookAttempt.at, WebhookAttempt.id)
        ):
            found[attempt.delivery_id].append(attempt)
    return found
