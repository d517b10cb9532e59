"""Row links without a `url_for` per row: a list builds the URL once per page
around a marker id and fills in each row's own id."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import url_for

from saas.extensions import csrf, limiter


class UrlPattern:
    """One `url_for` per page for a list's row links: the URL is built once
    around a marker id, and each row fills in its own id."""

    _MARKER = uuid.UUID(int=0)

    def __init__(self, endpoint: str, parameter: str, **values: Any) -> None:
        url = url_for(endpoint, **{parameter: self._MARKER}, **values)
        self._head, marker, self._tail = url.partition(str(self._MARKER))
        if not marker:
            raise ValueError(f"{endpoint} does not put {parameter} in its path")

    def __call__(self, object_id: uuid.UUID | str) -> str:
        return f"{self._head}{object_id}{self._tail}"


def personal_link_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page opened by a personal link, without signing in (rating a visit,
    answering a survey): the secret in the link is the credential, so the form
    carries no CSRF token (a lost session cookie must not lose the answers),
    and sending it is rate-limited."""
    return limiter.limit("30 per minute", methods=["POST"])(csrf.exempt(view))
