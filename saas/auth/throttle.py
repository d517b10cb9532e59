"""A growing wait between failed sign-ins to one account, whoever makes them.

Per address, sign-in attempts are refused outright by the rate limiter
(`saas.auth.views.login`). Per account a refusal would let anyone lock an admin
out, so failures only make the next password check wait: nothing for the
first few, then 2, 4, 8, ... seconds, never more than `MAX_WAIT`. While an
account waits, the right password with a valid two-factor code still signs in
at once, so its owner is never kept out by someone else's guesses.

The counters live in Redis under an address-free key (a digest of the email,
known account or not, so the answers never tell which exist). Without Redis
there is no wait: the per-address limits still apply.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import current_app
from redis.exceptions import RedisError

from saas import jobs

log = logging.getLogger(__name__)

FREE_FAILURES = 4
MAX_WAIT = 60  # seconds
FORGET_AFTER = 15 * 60  # seconds without a failure
RETRY_REDIS_AFTER = 10  # seconds: a sign-in never waits on a Redis that just failed

_redis_failed_at = 0.0


class _Resting(RedisError):
    """Redis failed moments ago: not asked again yet."""


def wait_for(failures: int) -> int:
    """Seconds the next check waits after this many failures in a row."""
    if failures <= FREE_FAILURES:
        return 0
    return min(MAX_WAIT, 2 ** (failures - FREE_FAILURES))


def _key(email: str) -> str:
    normalised = email.strip().lower()[:254]
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "carehub-limits")
    return f"{prefix}:signin-account:" + hashlib.sha256(normalised.encode()).hexdigest()


def _redis():  # noqa: ANN202 - a redis.Redis
    if time.monotonic() - _redis_failed_at < RETRY_REDIS_AFTER:
        raise _Resting
    return jobs.redis_connection()


def _unavailable(error: RedisError) -> None:
    global _redis_failed_at
    if not isinstance(error, _Resting):
        _redis_failed_at = time.monotonic()
        log.warning("sign-in throttle unavailable: %s", type(error).__name__)


def seconds_to_wait(email: str) -> int:
    """How long this account's next password check must wait (0: now)."""
    try:
        until, last = _redis().hmget(_key(email), "until", "last")
    except RedisError as error:
        _unavailable(error)
        return 0
    now = time.time()
    if last is None or now - float(last) > FORGET_AFTER:
        return 0
    remaining = float(until or 0) - now
    return math.ceil(remaining) if remaining > 0 else 0


def record_failure(email: str) -> int:
    """Count a failed password or code for the account; returns the new wait."""
    key = _key(email)
    now = time.time()
    try:
        conn = _redis()
        last = conn.hget(key, "last")
        if last is not None and now - float(last) > FORGET_AFTER:
            conn.delete(key)  # a quiet quarter of an hour starts the count again
        failures = int(conn.hincrby(key, "failures", 1))
        wait = wait_for(failures)
        pipe = conn.pipeline()
        pipe.hset(key, mapping={"until": now + wait, "last": now})
        pipe.expire(key, FORGET_AFTER + MAX_WAIT)
        pipe.execute()
    except RedisError as error:
        _unavailable(error)
        return 0
    return wait


def clear(email: str) -> None:
    """The owner signed in: earlier failures no longer count."""
    try:
        _redis().delete(_key(email))
    except RedisError as error:
        _unavailable(error)
