"""`Idempotency-Key` on every POST under /api/v1/: a write is taken once.

A phone that lost its answer (signal gone mid-request) sends the same request
again with the same key; it gets the first answer back, replayed from what was
stored, and the service does not run a second time. The key is the member's
own (one membership's keys never answer another's) and is stored per agency
with the hash of what was asked (method, path and body): the same key with a
different request is refused with 422, never silently answered with the first.

How it is taken once: the request claims the key with an INSERT before its
view runs. A second request with the same key waits on that row until the
first ends; the first's answer, if it succeeded, was stored in the same
transaction as its changes, so the second replays it. A request that fails
keeps nothing, its claim included: sent again, it runs again.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from flask import Response, g, request
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from saas import db
from saas.agencies import sweep_agencies
from saas.jobs import periodic
from saas.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")
_CLAIM = "idempotency_claim"


def request_hash() -> str:
    body = request.get_data(cache=True)
    what = f"{request.method}\n{request.path}\n{request.query_string.decode('latin-1')}\n".encode()
    return hashlib.sha256(what + body).hexdigest()


def begin() -> tuple[int, str] | Response | None:
    """before_request, once the token put the member in scope: claim the key,
    or answer from what it already answered. Returns None to go on, a stored
    answer to replay, or (status, message) to refuse."""
    if request.method != "POST" or g.get("membership") is None:
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _VALID.match(key):
        return 400, _("Idempotency-Key must be 1 to 255 visible characters (a UUID is best).")
    digest = request_hash()
    claimed = db.session.execute(
        insert(IdempotencyKey)
        .values(
            tenant_id=g.agency.id,
            id=db.new_id(),
            membership_id=g.membership.id,
            key=key,
            request_hash=digest,
            created_at=db.utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "membership_id", "key"])
        .returning(IdempotencyKey.id)
    ).scalar()
    if claimed is not None:
        g.setdefault(_CLAIM, claimed)
        return None
    columns = (IdempotencyKey.request_hash, IdempotencyKey.status, IdempotencyKey.content_type)
    stored = db.session.execute(
        select(*columns, IdempotencyKey.response).where(
            IdempotencyKey.membership_id == g.membership.id, IdempotencyKey.key == key
        )
    ).first()
    if stored is None:  # the claim that blocked ours was rolled back meanwhile: claim it again
        return begin()
    if stored.request_hash != digest:
        return 422, _(
            "This Idempotency-Key was already used for a different request. "
            "Use a new key for each new request."
        )
    if stored.status is None:
        return 409, _("This request is still being processed. Try again in a moment.")
    replay = Response(stored.response or b"", status=stored.status, content_type=stored.content_type or None)
    replay.headers[REPLAYED] = "true"
    return replay


def remember(response: Response) -> Response:
    """after_request (before the request's commit): keep a successful answer
    with its claim; a failed request is rolled back, its claim with it."""
    claim = g.get(_CLAIM)
    if claim is None:
        return response
    if response.status_code >= 400 or response.direct_passthrough:
        # rolled back with the request; removed here too, should a view keep
        # what an error answer wrote (saas.lifecycle.keep)
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim))
        return response
    db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claim)
        .values(
            status=response.status_code,
            content_type=response.content_type or "",
            response=response.get_data(),
        )
    )
    return response


# long enough for a phone that lost an answer to send again; a key older than
# this, sent again, runs again (and meets the object's present state: a 409)
KEEP_DAYS = 30


@periodic
def purge_old_keys() -> int:
    """Daily: the stored answers older than KEEP_DAYS go, agency by agency."""
    cutoff = db.utcnow() - timedelta(days=KEEP_DAYS)
    stmt = select(IdempotencyKey.tenant_id).where(IdempotencyKey.created_at < cutoff)

    def purge(_agency: Any) -> int:
        old = delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
        return db.session.execute(old).rowcount or 0

    return sweep_agencies(stmt, purge)


def claimed() -> Any:
    """The key this request claimed (None without one): for tests and logs."""
    return g.get(_CLAIM)
