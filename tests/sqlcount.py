"""Count SQL statements, to prove a page costs the same whatever the data size."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from saas import db, sweeps


def _hold_the_sweep_watch() -> None:
    # After a response, a web process checks the sweeps at most once a minute
    # (saas.sweeps.watch_from_web): that read is not the page's work, and
    # falling inside a count at random made counts flaky. It is tested on its
    # own (tests/core/test_operator_jobs.py); here its minute starts now.
    sweeps._last_web_watch = time.monotonic()


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements() -> Iterator[Counter]:
    counter = Counter()
    engine = db.get_engine()
    _hold_the_sweep_watch()

    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "SET LOCAL")):
            counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


@contextmanager
def count_round_trips() -> Iterator[Counter]:
    """Count every exchange with PostgreSQL, nothing skipped: each statement
    (SAVEPOINT, SET LOCAL and ROLLBACK TO included), a transaction's BEGIN,
    COMMIT and ROLLBACK (sent by the driver, not as statements) and, when the
    pool pings, the ping of every checkout. Inside a test's outer transaction a
    request's SAVEPOINT and ROLLBACK TO stand for its BEGIN and ROLLBACK."""
    counter = Counter()
    engine = db.get_engine()
    _hold_the_sweep_watch()

    def statement(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        counter.statements.append(statement)

    def edge(name: str):  # noqa: ANN202
        return lambda *args: counter.statements.append(name)

    listeners = [
        (engine, "before_cursor_execute", statement),
        (engine, "begin", edge("BEGIN")),
        (engine, "commit", edge("COMMIT")),
        (engine, "rollback", edge("ROLLBACK")),
    ]
    if getattr(engine.pool, "_pre_ping", False):
        listeners.append((engine.pool, "checkout", edge("PING")))
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield counter
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)
