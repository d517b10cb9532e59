"""The demo agencies' webhook: their payroll system's endpoint, paused (the
demo has no payroll system to call), with the events payroll wants."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from saas import db, sealing
from saas.models import Agency


def seed(agencies: Sequence[Agency]) -> None:
    """Idempotent; the caller commits. Made as a row: its URL is an example
    address, which the endpoint check would look up in DNS."""
    import secrets

    from tenants.webhooks.models import WebhookEndpoint

    for agency in agencies:
        with db.tenant_scope(agency.id):
            if db.session.scalar(select(WebhookEndpoint.id).limit(1)) is not None:
                continue
            db.session.add(
                WebhookEndpoint(
                    url=f"https://payroll.example.com/hooks/{agency.slug}",
                    description="工资系统" if agency.locale.startswith("zh") else "Payroll",
                    events=["visit.checked_in", "visit.checked_out", "visit.missed"],
                    secret=sealing.seal("whsec_" + secrets.token_urlsafe(32)),
                    active=False,
                )
            )
            db.session.flush()
