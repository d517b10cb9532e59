"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verifying against this keeps the timing of "no such account" like a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


@functools.cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from public breach corpora.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, email: str = "") -> str | None:
    """The reason a password is refused, in the user's language, or None."""
    if len(password) < MIN_LENGTH:
        return str(_l("Use at least %(n)d characters.", n=MIN_LENGTH))
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) < 4:
        return str(_l("This password is too common. Choose one that is harder to guess."))
    if email and lowered == email.lower():
        return str(_l("Do not use your email address as your password."))
    return None
