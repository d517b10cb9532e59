"""TOTP two-factor (RFC 6238), with each code usable once. Secrets are stored
sealed (saas.sealing); `User.totp_secret` opens them."""

from __future__ import annotations

import base64
import hmac
import time

import pyotp
import segno

from saas import sealing
from saas.models import User

ISSUER = "CareHub"
MIN_SECRET_BYTES = 10  # 80 bits: what common authenticator apps and the demo use


class _TOTP(pyotp.TOTP):
    """pyotp refuses secrets under 112 bits; we generate 160-bit ones, but
    accept 80-bit secrets entered elsewhere (the demo's well-known secret)."""

    def byte_secret(self) -> bytes:
        secret = self.secret + "=" * (-len(self.secret) % 8)
        decoded = base64.b32decode(secret, casefold=True)
        if len(decoded) < MIN_SECRET_BYTES:
            raise ValueError("TOTP secret too short")
        return decoded


def for_secret(secret: str) -> pyotp.TOTP:
    return _TOTP(secret)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return for_secret(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The code as a scalable SVG: a viewBox and no fixed size, so the page's
    stylesheet sizes it whole (a fixed-size one cut to fit lost its corner
    squares and could not be scanned), with the quiet zone scanners need."""
    return segno.make(uri, error="m").svg_inline(omitsize=True, border=4, dark="#111", light="#fff")


def matching_counter(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step the code belongs to (allowing one step of clock drift)."""
    code = "".join(code.split())
    # ASCII only: "²".isdigit() is true, and compare_digest refuses non-ASCII text
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = for_secret(secret)
    now = int((at or time.time()) // totp.interval)
    for counter in (now, now - 1, now + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def verify(user: User, code: str) -> bool:
    """Check a code and burn it, so a code seen over a shoulder cannot be replayed."""
    secret = user.totp_secret  # unsealed here only, never kept
    if not secret:
        return False
    counter = matching_counter(secret, code)
    if counter is None or (user.totp_last_counter is not None and counter <= user.totp_last_counter):
        return False
    user.totp_last_counter = counter
    if user.totp_secret_sealed and sealing.needs_reseal(user.totp_secret_sealed):
        user.totp_secret = secret  # sealed again under the newest key (rotation)
    return True
