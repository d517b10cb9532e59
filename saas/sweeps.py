"""Scheduled sweeps (saas/schedule.py): a record of each run, when the next one
is due, and a watchdog that reports a late sweep to Sentry once.

`saas.jobs.periodic` records every run here (start, end, ok or the error's type,
never its message), keeping the last `RUNS_KEPT` per sweep. A sweep is *late* when
its expected next run (last start + interval, or the crontab's next time after
the last start, as `rq cron` computes it) is past by more than a grace of
max(60 s, 10% of its period); *failed* when its last run raised.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sentry_sdk
from croniter import croniter
from redis import Redis
from sqlalchemy import Boolean, Index, String, delete, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Mapped, mapped_column

from saas import db, jobs
from saas.db import Base, new_id
from saas.jobs import on_periodic_run, periodic
from saas.periodic import Periodic, schedule

log = logging.getLogger(__name__)

RUNS_KEPT = 50
ERROR_MAX = 200
MIN_GRACE = timedelta(seconds=60)
GRACE_SHARE = 0.10
# one Sentry report per lateness episode: a key per (sweep, expected run)
LATE_KEY = "carehub:sweep-late:{name}:{expected}"
LATE_KEY_TTL = int(timedelta(days=30).total_seconds())
# since when the watchdog has been watching: a sweep never seen to run is late
# once its first run is overdue counting from here (a scheduler that never started)
WATCH_SINCE_KEY = "carehub:sweeps:watching-since"
# the web processes also watch (the scheduler may be the thing that is down),
# at most once a minute across all of them
WEB_WATCH_KEY = "carehub:sweeps:web-watch"
WEB_WATCH_EVERY = 60


class SweepRun(Base):
    """One run of a scheduled sweep. A platform table: sweeps work across agencies."""

    __tablename__ = "sweep_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    sweep: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean)
    # the exception's type only (describe_error): never its message or a traceback
    error: Mapped[str] = mapped_column(String(ERROR_MAX), default="")

    __table_args__ = (Index("ix_sweep_runs_sweep_started", "sweep", "started_at"),)


def sweep_name_for(func_path: str) -> str:
    """The schedule's name for a function path, or the path for one not scheduled."""
    return next((p.name for p in schedule() if p.func == func_path), func_path)


def describe_error(exc: BaseException) -> str:
    """What failed, without the message: a message can quote an agency's data
    (a name, a phone number, a note), so, as for Sentry (saas.observability),
    only the type is kept, and for a database error the driver's error type,
    SQLSTATE and constraint, which name the schema, never the data."""
    text = type(exc).__name__
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error
    if isinstance(orig, BaseException):
        diag = getattr(orig, "diag", None)
        details = [
            type(orig).__name__,
            getattr(orig, "sqlstate", None) or "",
            getattr(diag, "constraint_name", None) or "",
        ]
        text += " (" + ", ".join(d for d in details if d) + ")"
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"


@on_periodic_run
def record_run(func_path: str, started_at: datetime, error: BaseException | None = None) -> None:
    """Called by `saas.jobs.periodic` after each run, in a session of its own (the
    sweep's may be broken). A failed run is reported to Sentry here; recording
    never hides the sweep's own outcome."""
    name = sweep_name_for(func_path)
    if error is not None:
        sentry_sdk.capture_exception(error, tags={"sweep": name})
    try:
        with db.new_session() as sess:
            sess.add(
                SweepRun(
                    sweep=name,
                    started_at=started_at,
                    finished_at=db.utcnow(),
                    ok=error is None,
                    error=describe_error(error) if error is not None else "",
                )
            )
            sess.flush()
            # keep the newest RUNS_KEPT of this sweep, in the same transaction
            cutoff = (
                select(SweepRun.started_at)
                .where(SweepRun.sweep == name)
                .order_by(SweepRun.started_at.desc())
                .offset(RUNS_KEPT - 1)
                .limit(1)
                .scalar_subquery()
            )
            sess.execute(delete(SweepRun).where(SweepRun.sweep == name, SweepRun.started_at < cutoff))
            sess.commit()
    except Exception as exc:  # noqa: BLE001 - the sweep's result matters more than its record
        # the type only: a database error's text carries the row, and so the sweep's error
        log.warning("could not record a run of sweep %s: %s", name, describe_error(exc))


# -- status ------------------------------------------------------------------------


def _period(entry: Periodic, around: datetime) -> timedelta:
    if entry.interval:
        return timedelta(seconds=entry.interval)
    it = croniter(entry.cron, around)
    first = it.get_next(datetime)
    return it.get_next(datetime) - first


def next_run(entry: Periodic, last_started: datetime | None, now: datetime) -> datetime | None:
    """When `rq cron` will enqueue the sweep next: the last start plus the
    interval, or the crontab's next time (UTC) after the last start. An interval
    sweep that never ran starts with the scheduler (None: not known)."""
    if entry.interval:
        return last_started + timedelta(seconds=entry.interval) if last_started else None
    if entry.cron:
        return croniter(entry.cron, last_started or now).get_next(datetime)
    return None


def grace(entry: Periodic, expected: datetime) -> timedelta:
    """How far past its time a sweep may run before it counts as late: queues
    and long runs of other sweeps delay it a little."""
    return max(MIN_GRACE, _period(entry, expected) * GRACE_SHARE)


@dataclass(frozen=True)
class SweepStatus:
    entry: Periodic
    last: SweepRun | None
    next_run: datetime | None
    late_since: datetime | None  # the expected run time it missed

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def late(self) -> bool:
        return self.late_since is not None

    @property
    def failed(self) -> bool:
        return self.last is not None and not self.last.ok

    @property
    def duration(self) -> timedelta | None:
        return self.last.finished_at - self.last.started_at if self.last else None


def latest_runs(names: Iterable[str]) -> dict[str, SweepRun]:
    """The newest run of each named sweep, in one statement."""
    rows = db.session.scalars(
        select(SweepRun)
        .where(SweepRun.sweep.in_(list(names)))
        .ext(distinct_on(SweepRun.sweep))
        .order_by(SweepRun.sweep, SweepRun.started_at.desc())
    ).all()
    return {row.sweep: row for row in rows}


def sweep_statuses(
    entries: Sequence[Periodic] | None = None,
    now: datetime | None = None,
    watching_since: datetime | None = None,
) -> list[SweepStatus]:
    entries = schedule() if entries is None else entries
    now = now or db.utcnow()
    last = latest_runs(e.name for e in entries)
    statuses = []
    for entry in entries:
        run = last.get(entry.name)
        expected = next_run(entry, run.started_at if run else None, now)
        if run is None and watching_since is not None:
            # never seen to run: due at its first time after watching began
            expected = next_run(entry, watching_since, now)
        late = (run is not None or watching_since is not None) and (
            expected is not None and now > expected + grace(entry, expected)
        )
        statuses.append(SweepStatus(entry, run, expected, expected if late else None))
    return statuses


def check_sweeps(
    conn: Redis, schedule: Sequence[Periodic] | None = None, now: datetime | None = None
) -> list[str]:
    """Report each late sweep to Sentry, once per lateness episode (until it
    runs again). Returns the names reported this time."""
    reported = []
    now = now or db.utcnow()
    conn.set(WATCH_SINCE_KEY, now.isoformat(), nx=True)
    for status in sweep_statuses(schedule, now, watching_since(conn)):
        if status.late_since is None:
            continue
        key = LATE_KEY.format(name=status.name, expected=int(status.late_since.timestamp()))
        if not conn.set(key, "1", nx=True, ex=LATE_KEY_TTL):
            continue
        log.warning("sweep %s is late: expected at %s", status.name, status.late_since.isoformat())
        sentry_sdk.capture_message(
            f"Sweep {status.name} is late: expected at {status.late_since.isoformat()}",
            level="warning",
            tags={"sweep": status.name},
            fingerprint=["sweep-late", status.name],
        )
        reported.append(status.name)
    return reported


def watching_since(conn: Redis) -> datetime | None:
    """When the watchdog first ran on this platform (None: never yet)."""
    since = conn.get(WATCH_SINCE_KEY)
    if since is None:
        return None
    return datetime.fromisoformat(since.decode() if isinstance(since, bytes) else since)


_last_web_watch = 0.0


def watch_from_web(conn: Redis) -> list[str]:
    """Called after web requests: at most once a minute per process, and once
    a minute across processes (a Redis key), check the sweeps, so a scheduler
    that is down (and its own `watch_sweeps` with it) is still reported.
    Never lets a failure reach the request."""
    import time

    global _last_web_watch
    if time.monotonic() - _last_web_watch < WEB_WATCH_EVERY:
        return []
    _last_web_watch = time.monotonic()
    try:
        if not conn.set(WEB_WATCH_KEY, "1", nx=True, ex=WEB_WATCH_EVERY):
            return []
        return check_sweeps(conn)
    except Exception as exc:  # the watchdog must never break a page
        log.warning("sweep watch failed: %s", describe_error(exc))
        return []
    finally:
        # close, not roll back: a rollback would expire what the request's
        # session still holds, and the request is over
        db.session.remove()


@periodic
def watch_sweeps() -> int:
    """Scheduled by rq cron: the watchdog for every other sweep."""
    return len(check_sweeps(jobs.redis_connection()))
