"""The append-only audit logs: one per agency, one for the platform."""

from __future__ import annotations

import uuid
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from saas import db
from saas.models import AuditEvent, PlatformAuditEvent


def _actor() -> uuid.UUID | None:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id
    return None


def _ip() -> str:
    return (request.remote_addr or "") if has_request_context() else ""


def record(action: str, subject: str = "", *, actor_id: uuid.UUID | None = None, **details: Any) -> None:
    """Write to the log of the agency in scope."""
    db.session.add(
        AuditEvent(action=action, subject=subject, actor_id=actor_id or _actor(), ip=_ip(), details=details)
    )


def record_platform(
    action: str,
    subject: str = "",
    *,
    agency_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    **details: Any,
) -> None:
    db.session.add(
        PlatformAuditEvent(
            action=action,
            subject=subject,
            agency_id=agency_id,
            actor_id=actor_id or _actor(),
            ip=_ip(),
            details=details,
        )
    )
