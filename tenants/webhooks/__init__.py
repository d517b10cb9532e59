"""Webhooks: the agency's admins choose endpoints (a URL and the events each
receives); every event is delivered as a signed POST through the outbox,
retried with backoff while the receiver is down, each attempt kept in a
delivery log with a redelivery button. Never to a private or loopback address
unless the platform's operators allow it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import Permission
from saas.platform_settings import IntSetting, declare

MANAGE_WEBHOOKS = Permission(
    "MANAGE_WEBHOOKS",
    "Webhook endpoints: add, change and remove them, read their delivery log, redeliver (pages and API)",
    (Role.ADMIN,),
)

PRIVATE_ADDRESSES = declare(
    IntSetting(
        "webhook_private_addresses",
        0,
        _l("Webhooks may call private and loopback addresses (1: yes, 0: no)"),
        min=0,
        max=1,
        help=_l("Leave at 0 in production: a webhook URL could otherwise reach the platform's own network."),
    )
)

AREA = Area(
    "webhooks",
    api_label=_l("Webhooks"),
    models=(".models",),
    blueprints=(".views", ".operator_views"),
    routes=(".api",),
    receivers=(".receivers",),
    periodic=(Periodic("retry_webhooks", ".jobs.retry_due", interval=60),),
    nav=(NavEntry("webhooks.index", _l("Webhooks"), MANAGE_WEBHOOKS, 95),),
    permissions=(MANAGE_WEBHOOKS,),
    url_params={"endpoint_id": "webhook_endpoints", "delivery_id": "webhook_deliveries"},
    samples=("tests.webhooks.samples_webhooks",),
    demo="tenants.webhooks.demo.seed",
)
