"""Secrets kept at rest (two-factor secrets), sealed with a key the database never sees.

`TOTP_ENCRYPTION_KEY` holds one or more Fernet keys, comma separated: the first
seals, every one opens. To rotate, put a new key first and keep the old ones
until every secret was re-sealed (each is re-sealed at its owner's next
sign-in). Unset (the embedded local run), a key is generated under
`instance/`, as `SECRET_KEY` is. Whoever reads the `users` table (a backup, the
app's database role) sees only ciphertext.
"""

from __future__ import annotations

import functools
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from saas import config

ENV = "TOTP_ENCRYPTION_KEY"
# every Fernet token starts with its version byte 0x80, base64: "gAAAAA"
SEALED_PREFIX = "gAAAAA"


class KeyMismatch(RuntimeError):
    """A sealed secret opens with none of the keys: the deployment's key changed."""


def _configured_keys() -> str:
    keys = os.environ.get(ENV, "").strip()
    if keys:
        return keys
    # a stable key under instance/ so the embedded default survives restarts
    config.INSTANCE.mkdir(parents=True, exist_ok=True)
    path = config.INSTANCE / "totp_encryption_key"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


@functools.lru_cache(maxsize=4)
def _fernets(keys: str) -> tuple[MultiFernet, Fernet]:
    parts = [Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()]
    return MultiFernet(parts), parts[0]


def seal(secret: str) -> str:
    multi, _ = _fernets(_configured_keys())
    return multi.encrypt(secret.encode()).decode()


def unseal(token: str) -> str:
    multi, _ = _fernets(_configured_keys())
    try:
        return multi.decrypt(token.encode()).decode()
    except InvalidToken:
        raise KeyMismatch(f"a sealed secret opens with none of the keys in {ENV}") from None


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED_PREFIX)


def needs_reseal(token: str) -> bool:
    """Sealed under an older key than the first one."""
    _, primary = _fernets(_configured_keys())
    try:
        primary.decrypt(token.encode())
    except InvalidToken:
        return True
    return False
