"""Opaque secrets for links and API tokens: shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


def compose(*parts: uuid.UUID | str) -> str:
    """A link token that names what it opens: `<id hex>.<id hex>.<secret>`."""
    return ".".join(p.hex if isinstance(p, uuid.UUID) else p for p in parts)


def split(token: str, n_ids: int) -> tuple[list[uuid.UUID], str] | None:
    pieces = token.split(".")
    if len(pieces) != n_ids + 1 or not pieces[-1]:
        return None
    try:
        ids = [uuid.UUID(hex=p) for p in pieces[:-1]]
    except ValueError:
        return None
    return ids, pieces[-1]
