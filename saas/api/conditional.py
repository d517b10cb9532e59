"""ETags for the API: one digest of a representation's bytes, so the ETag a
read sends and the one an update checks `If-Match` against are the same."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from flask import Response, request
from flask_babel import gettext as _

from saas import problems


def dumps(document: Any) -> bytes:
    # sorted keys: the same object always gives the same bytes, hence the same ETag
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def etag_of_body(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def etag_of(document: Any) -> str:
    return etag_of_body(dumps(document))


def respond(document: Any, status: int = 200) -> Response:
    """A JSON answer with its ETag (a read's 304 is made after the view)."""
    response = Response(dumps(document), status=status, mimetype="application/json")
    if status == 200:
        response.set_etag(etag_of(document))
    return response


def require_match(current: Any) -> None:
    """Refuse (412) an update whose If-Match names another version of the
    object than `current`, its representation as a read answers it now."""
    wanted = request.if_match
    if not wanted or wanted.star_tag:
        return
    if not wanted.contains(etag_of(current)):
        from flask import abort

        abort(
            problems.problem(
                412,
                _("Someone changed this since you read it. Read it again, then make your change."),
                "If-Match",
            )
        )
