"""Background jobs through a transactional outbox.

`enqueue()` writes an outbox row in the caller's transaction. Once it commits,
the row is relayed to RQ (right away when Redis answers, otherwise by the
`relay_outbox` sweep when it is back). The worker runs the job in its own
session with the agency set, and marks the row done in the same transaction as
the job's own writes, so a redelivered job changes nothing twice.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from saas import db
from saas.models import OutboxEntry

log = logging.getLogger(__name__)

QUEUES = ("high", "default", "low")
RETRY = Retry(max=5, interval=[10, 30, 120, 600, 1800])

_registry: dict[str, Callable[..., Any]] = {}
_redis: dict[str, Redis] = {}
# The app jobs run in (config, templates): saas.app gives its factory when it
# is imported (it imports this module; this module cannot import it back).
_app_factory: list[Callable[[], Flask]] = []
# What is told of each periodic run (saas.sweeps records it for the operators).
_run_recorders: list[Callable[..., None]] = []
# After Redis failed an inline relay, requests skip theirs for this long (the
# sweep relays what they leave), so an outage adds no wait to every request.
INLINE_RELAY_PAUSE = 10.0
_inline_relay_paused_until = 0.0


def job(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function runnable through the outbox under a stable name."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        _registry[name] = fn
        return fn

    return decorator


def registered_jobs() -> dict[str, Callable[..., Any]]:
    return dict(_registry)


def use_app(factory: Callable[[], Flask]) -> None:
    """The app jobs and periodic runs get (saas.app's job_app)."""
    _app_factory[:] = [factory]


def on_periodic_run(recorder: Callable[..., None]) -> Callable[..., None]:
    """`recorder(func_path, started_at, error=None)` after each periodic run."""
    _run_recorders.append(recorder)
    return recorder


def _app() -> Flask:
    if not _app_factory:
        raise RuntimeError("no app for jobs: import saas.app first (the worker and cron commands do)")
    return _app_factory[0]()


def redis_connection(url: str | None = None) -> Redis:
    url = url or current_app.config["REDIS_URL"]
    if url not in _redis:
        _redis[url] = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    return _redis[url]


def enqueue(
    job_name: str,
    *,
    agency_id: uuid.UUID | None = None,
    queue: str = "default",
    session: Session | None = None,
    **args: Any,
) -> OutboxEntry:
    """Ask for `job_name(**args)` to run once the current transaction commits."""
    if job_name not in _registry:
        raise KeyError(f"unknown job {job_name}")
    sess = session or db.session()
    if agency_id is None:
        agency_id = sess.info.get("tenant_id")
    entry = OutboxEntry(agency_id=agency_id, job=job_name, args=_jsonable(args), queue=queue)
    sess.add(entry)
    sess.info["outbox_dirty"] = True
    return entry


def enqueue_many(
    job_name: str,
    calls: Iterable[tuple[uuid.UUID | None, dict[str, Any]]],
    *,
    queue: str = "default",
    session: Session | None = None,
) -> int:
    """`enqueue` for many calls of one job (each its agency and arguments),
    written in one INSERT rather than an object per row. Returns how many."""
    if job_name not in _registry:
        raise KeyError(f"unknown job {job_name}")
    sess = session or db.session()
    rows = [
        {
            "id": db.new_id(),
            "agency_id": agency_id,
            "job": job_name,
            "args": _jsonable(args),
            "queue": queue,
            "created_at": db.utcnow(),  # each its own, as `enqueue` gives them
            "attempts": 0,
            "last_error": "",
        }
        for agency_id, args in calls
    ]
    if rows:
        # one statement compiled once: the driver sends the rows as one multi-row INSERT
        sess.execute(insert(OutboxEntry.__table__), rows)
        sess.info["outbox_dirty"] = True
    return len(rows)


def _jsonable(args: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in args.items()}


def relay_outbox(limit: int = 500, redis_url: str | None = None) -> int:
    """Push committed, unrelayed outbox rows to RQ. Safe to run concurrently:
    rows are claimed with SKIP LOCKED. With Redis unavailable the rows stay
    unrelayed (their attempts counted) for the next run."""
    return _relay(limit, redis_url)[0]


def _relay(limit: int, redis_url: str | None = None) -> tuple[int, bool]:
    """(rows relayed, whether Redis failed before the batch was done)."""
    conn = redis_connection(redis_url)
    relayed = 0
    stopped = False
    with db.new_session() as sess:
        rows = sess.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.relayed_at.is_(None))
            .order_by(OutboxEntry.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if rows:
            # every row's job in one pipeline: one exchange with Redis, applied
            # whole (MULTI/EXEC) or not at all
            pipe = conn.pipeline()
            by_queue: dict[str, list[OutboxEntry]] = {}
            for row in rows:
                by_queue.setdefault(row.queue, []).append(row)
            try:
                for name, queued in by_queue.items():
                    queue = Queue(name, connection=conn)
                    queue.enqueue_many(
                        [
                            Queue.prepare_data(
                                run_outbox_entry,
                                (str(row.id),),
                                job_id=f"outbox-{row.id}",
                                retry=RETRY,
                                failure_ttl=int(timedelta(days=7).total_seconds()),
                                description=row.job,
                            )
                            for row in queued
                        ],
                        pipeline=pipe,
                    )
                pipe.execute()
            except RedisError as exc:
                # nothing was handed over: the oldest row notes why, all stay pending
                rows[0].attempts += 1
                rows[0].last_error = type(exc).__name__
                log.warning("outbox relay stopped: redis unavailable")
                stopped = True
            else:
                now = db.utcnow()
                for row in rows:
                    row.relayed_at = now
                relayed = len(rows)
        sess.commit()
    return relayed, stopped


@event.listens_for(Session, "after_commit")
def _outbox_committed(sess: Session) -> None:
    if sess.info.pop("outbox_dirty", False):
        sess.info["outbox_committed"] = True


@event.listens_for(Session, "after_rollback")
def _outbox_rolled_back(sess: Session) -> None:
    sess.info.pop("outbox_dirty", None)


def relay_after_commit(sess: Session) -> None:
    """Best effort once a request or job is over; the sweep covers failures."""
    global _inline_relay_paused_until
    if not sess.info.pop("outbox_committed", False):
        return
    if not (has_app_context() and current_app.config.get("RELAY_INLINE", True)):
        return
    if time.monotonic() < _inline_relay_paused_until:
        return
    try:
        _relayed, stopped = _relay(limit=100)
    except Exception:  # noqa: BLE001 - never fail the user's request over the relay
        log.warning("inline outbox relay failed; the sweep will retry", exc_info=True)
        return
    if stopped:
        _inline_relay_paused_until = time.monotonic() + INLINE_RELAY_PAUSE


def run_outbox_entry(outbox_id: str) -> str:
    """The function RQ runs. Sets the agency, runs the job, marks it done, all
    in one transaction."""
    with _app().app_context():
        sess = db.session()
        try:
            with db.unit_of_work(sess):
                entry = sess.scalar(
                    select(OutboxEntry).where(OutboxEntry.id == uuid.UUID(outbox_id)).with_for_update()
                )
                if entry is None:
                    return "missing"
                if entry.done_at is not None:
                    return "already done"
                db.set_tenant(entry.agency_id, sess)
                _registry[entry.job](**entry.args)
                sess.execute(
                    update(OutboxEntry).where(OutboxEntry.id == entry.id).values(done_at=db.utcnow())
                )
            relay_after_commit(sess)
            return "done"
        finally:
            db.session.remove()


def periodic(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For functions `rq cron` runs (saas/schedule.py): inside the worker's app,
    committed once at the end (rolled back if it raises; a sweep over agencies
    commits each agency's work itself), with the session removed afterwards,
    whatever happens. Each run is told to the recorders (saas.sweeps keeps it
    for the operators' jobs page; a failed one goes to Sentry)."""
    func_path = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _app().app_context():
            started_at = db.utcnow()
            try:
                with db.unit_of_work():
                    result = fn(*args, **kwargs)
            except Exception as exc:
                db.session.remove()  # the sweep's transaction is over: record on a clean one
                for record in _run_recorders:
                    record(func_path, started_at, exc)
                raise
            finally:
                db.session.remove()
            for record in _run_recorders:
                record(func_path, started_at)
            return result

    return run


@periodic
def relay_outbox_sweep() -> int:
    """Scheduled by rq cron: catch up on anything committed but not relayed."""
    return relay_outbox()
