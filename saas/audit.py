"""The append-only audit logs: one per agency, one for the platform.

Each agency's log is a hash chain: an entry's `hash` is
sha256(previous entry's hash + the canonical JSON of the entry), and entries
are numbered 1, 2, 3... per agency (`seq`). Writers of one agency are
serialised by a transaction-scoped advisory lock, so the chain never forks.
`verify_chain()` (and `saas audit verify`) walks it and reports any break: an
edited row, a removed row, or a row whose link to its predecessor changed.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import BigInteger, DateTime, Text, Uuid, bindparam, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from saas import db
from saas.models import AuditEvent, PlatformAuditEvent

# pg_advisory_xact_lock(namespace, key): "AUDT", then 32 bits of the agency id
LOCK_NAMESPACE = 0x41554454


def _actor() -> uuid.UUID | None:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id
    return None


def _ip() -> str:
    return (request.remote_addr or "") if has_request_context() else ""


def _json_safe(details: dict[str, Any]) -> dict[str, Any]:
    """What JSONB will give back: the hash is computed over exactly that."""
    return json.loads(json.dumps(details, default=str))


def _canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _body(
    *,
    tenant_id: uuid.UUID,
    id: uuid.UUID,  # noqa: A002 - the column's name
    at: datetime,
    actor_id: uuid.UUID | None,
    action: str,
    subject: str,
    ip: str,
    details: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The entry's JSON fields, those sorted before `seq` and those after."""
    before = {
        "action": action,
        "actor_id": str(actor_id) if actor_id else None,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "details": details,
        "id": str(id),
        "ip": ip,
    }
    after = {"subject": subject, "tenant_id": str(tenant_id)}
    return before, after


def entry_hash(
    prev_hash: str,
    *,
    tenant_id: uuid.UUID,
    id: uuid.UUID,  # noqa: A002 - the column's name
    seq: int,
    at: datetime,
    actor_id: uuid.UUID | None,
    action: str,
    subject: str,
    ip: str,
    details: dict[str, Any],
) -> str:
    """sha256(prev_hash || canonical JSON of the entry), as hex. Stable: changing
    it invalidates every chain already written."""
    before, after = _body(
        tenant_id=tenant_id,
        id=id,
        at=at,
        actor_id=actor_id,
        action=action,
        subject=subject,
        ip=ip,
        details=details,
    )
    body = _canonical({**before, "seq": seq, **after})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def body_around_seq(**entry: Any) -> tuple[str, str]:
    """The entry's canonical JSON (as `entry_hash` hashes it) cut around the
    value of `seq`: head + str(seq) + tail is the whole body. The database
    numbers the entry, so it completes the body and hashes it
    (`audit_append`, migration c4a7e2f19d3b)."""
    before, after = _body(**entry)
    # the keys are sorted, and "seq" falls between the two groups
    head = _canonical(before)[:-1] + ',"seq":'
    tail = "," + _canonical(after)[1:]
    return head, tail


def lock_key(tenant_id: uuid.UUID) -> int:
    return int.from_bytes(tenant_id.bytes[-4:], "big", signed=True)


# Appends an entry to the log of the agency in scope (`audit_append`: the
# agency's lock, the head of its chain, the entry after it), its value the
# entry's number: selected on its own (`record`) or after the statement that
# caused it, in the same round trip, with the parameters of `entry_params`.
# Built once: the same statement for every entry.
APPEND = func.audit_append(
    bindparam("audit_tenant_id", type_=Uuid()),
    bindparam("audit_id", type_=Uuid()),
    bindparam("audit_at", type_=DateTime(timezone=True)),
    bindparam("audit_actor_id", type_=Uuid()),
    bindparam("audit_action", type_=Text()),
    bindparam("audit_subject", type_=Text()),
    bindparam("audit_ip", type_=Text()),
    bindparam("audit_details", type_=JSONB()),
    bindparam("audit_head", type_=Text()),
    bindparam("audit_tail", type_=Text()),
    type_=BigInteger(),
).label("audit_seq")
_RECORD = select(APPEND)


def entry_params(
    action: str, subject: str = "", *, actor_id: uuid.UUID | None = None, **details: Any
) -> dict[str, Any]:
    """The parameters of `APPEND` for an entry of the agency in scope."""
    tenant_id = db.current_tenant_id()
    if tenant_id is None:
        raise db.TenantNotSet("AuditEvent")
    return agency_entry_params(tenant_id, action, subject, actor_id=actor_id, details=details)


def agency_entry_params(
    tenant_id: uuid.UUID,
    action: str,
    subject: str = "",
    *,
    actor_id: uuid.UUID | None = None,
    details: dict[str, Any],
) -> dict[str, Any]:
    """`entry_params` for an entry of `tenant_id`, which must be in scope
    when it is appended (row-level security checks it)."""
    entry: dict[str, Any] = {
        "tenant_id": tenant_id,
        "id": db.new_id(),
        "at": db.utcnow(),
        "actor_id": actor_id or _actor(),
        "action": action,
        "subject": subject[:200],
        "ip": _ip(),
        "details": _json_safe(details),
    }
    head, tail = body_around_seq(**entry)
    params = {f"audit_{k}": v for k, v in entry.items()}
    params.update(audit_head=head, audit_tail=tail)
    return params


def record(action: str, subject: str = "", *, actor_id: uuid.UUID | None = None, **details: Any) -> None:
    """Append to the log of the agency in scope (written at once, in the
    caller's transaction): one round trip."""
    sess = db.session()
    with sess.no_autoflush:
        sess.execute(_RECORD, entry_params(action, subject, actor_id=actor_id, **details))


def record_platform(
    action: str,
    subject: str = "",
    *,
    agency_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    session: Session | None = None,
    **details: Any,
) -> None:
    """`session`: another than the request's (an entry kept whatever becomes of the request)."""
    (session or db.session()).add(
        PlatformAuditEvent(
            action=action,
            subject=subject[:200],
            agency_id=agency_id,
            actor_id=actor_id or _actor(),
            ip=_ip(),
            details=_json_safe(details),
        )
    )


# -- verification --------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    event_id: uuid.UUID
    problem: str  # "missing", "relinked" or "altered"


def _entries(sess: Session) -> Iterator[Any]:
    stmt = select(
        AuditEvent.tenant_id,
        AuditEvent.id,
        AuditEvent.seq,
        AuditEvent.at,
        AuditEvent.actor_id,
        AuditEvent.action,
        AuditEvent.subject,
        AuditEvent.ip,
        AuditEvent.details,
        AuditEvent.prev_hash,
        AuditEvent.hash,
    ).order_by(AuditEvent.seq)
    yield from sess.execute(stmt.execution_options(yield_per=1000))


def verify_chain(sess: Session | None = None) -> tuple[int, list[ChainBreak]]:
    """Walk the log of the agency in scope: (entries checked, breaks found)."""
    sess = sess or db.session()
    breaks: list[ChainBreak] = []
    previous = ""
    expected = 1
    count = 0
    for row in _entries(sess):
        count += 1
        if row.seq != expected:
            breaks.append(ChainBreak(row.seq, row.id, "missing"))
        if row.prev_hash != previous:
            breaks.append(ChainBreak(row.seq, row.id, "relinked"))
        computed = entry_hash(
            row.prev_hash,
            tenant_id=row.tenant_id,
            id=row.id,
            seq=row.seq,
            at=row.at,
            actor_id=row.actor_id,
            action=row.action,
            subject=row.subject,
            ip=row.ip,
            details=row.details,
        )
        if computed != row.hash:
            breaks.append(ChainBreak(row.seq, row.id, "altered"))
        previous = row.hash
        expected = row.seq + 1
    return count, breaks
