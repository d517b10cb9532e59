"""Every read of a client's file is logged (who, when, which part), wherever
it is shown: the file itself, the carer's visit sheet and schedule, the phone
API, the calendar feed, the emergency contacts. One statement per request
however many clients a page shows:

- `log_reads(client_ids, section, user_id)`: the clients are known; one
  multi-row INSERT.
- `logged_reads(clients, section)`: the clients are what a SELECT finds; a
  data-modifying CTE to add to that very statement with `.add_cte()` (no round
  trip of its own), bound to `tenant_id`, `user_id` and `now` at execution.

Sections name the part read: "file", "edit", "visit", "schedule", "api",
"calendar_feed", "emergency_contacts" ...
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import CTE, DateTime, String, Uuid, bindparam, insert, literal, select, text

from saas import db
from saas.lifecycle import note_write
from tenants.clients.models import ClientFileAccess

LOG = ClientFileAccess.__table__

# a UUIDv7 made by the database (the ids are time-ordered like the app's,
# `saas.db.new_id`): the 48-bit millisecond clock, then random bits, with the
# version and variant bits set
SQL_UUID7 = text(
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) "
    "from 1 for 6), 52, 1), 53, 1), 'hex')::uuid"
)


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


def logged_reads(clients: Any, section: str) -> CTE:
    """A CTE inserting one read per distinct client id of `clients` (a
    selectable with a `client_id` column; rows with none are skipped), to add
    to the statement reading them: `stmt.add_cte(logged_reads(...))`. The
    statement is then executed with `tenant_id`, `user_id` and `now` values
    (`read_values()`), and the caller calls `note_write()`."""
    distinct = select(clients.c.client_id).where(clients.c.client_id.is_not(None)).distinct().subquery()
    return (
        insert(LOG)
        .from_select(
            ["tenant_id", "id", "client_id", "user_id", "at", "section"],
            select(
                bindparam("tenant_id", type_=Uuid),
                SQL_UUID7,
                distinct.c.client_id,
                bindparam("user_id", type_=Uuid),
                bindparam("now", type_=DateTime(timezone=True)),
                literal(section, String),
            ),
        )
        .cte(f"logged_{section}")
    )


def read_values(user_id: uuid.UUID | None) -> dict[str, Any]:
    """The values a statement with `logged_reads` is executed with."""
    return {"tenant_id": db.current_tenant_id(), "user_id": user_id, "now": db.utcnow()}
