"""Every read of a client's file is logged (who, when, which part), wherever
it is shown: the file itself, the carer's visit sheet and schedule, the phone
API, the calendar feed, the emergency contacts. One statement per request
however many clients a page shows: `log_reads(client_ids, section,
user_id)`, one multi-row INSERT of the clients the page read. (Not an
INSERT ... SELECT in the reading statement: on Citus that runs through COPY,
which it refuses under row-level security.)

Sections name the part read: "file", "edit", "visit", "schedule", "api",
"calendar_feed", "emergency_contacts" ...
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import insert

from saas import db
from saas.lifecycle import note_write
from tenants.clients.models import ClientFileAccess

LOG = ClientFileAccess.__table__


def log_reads(client_ids: Iterable[uuid.UUID | None], section: str, user_id: uuid.UUID | None) -> int:
    """Log that `user_id` read these clients' `section` (each client once):
    one INSERT, none when there is no client. Returns how many were logged."""
    tenant_id = db.current_tenant_id()
    if tenant_id is None:
        raise db.TenantNotSet("ClientFileAccess")
    ids = list(dict.fromkeys(c for c in client_ids if c is not None))
    if not ids:
        return 0
    now = db.utcnow()
    db.session.execute(
        insert(LOG).values(
            [
                {
                    "tenant_id": tenant_id,
                    "id": db.new_id(),
                    "client_id": client_id,
                    "user_id": user_id,
                    "at": now,
                    "section": section,
                }
                for client_id in ids
            ]
        )
    )
    note_write()
    return len(ids)
