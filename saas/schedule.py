"""Periodic jobs for `rq cron` (`saas cron` loads this file): the core's and
every area's, as `saas.periodic.schedule()` lists them. Each names a function
that opens its own app context and session.
"""

from __future__ import annotations

from rq import cron

from saas.areas import resolve
from saas.periodic import Periodic, schedule

__all__ = ["SCHEDULE", "Periodic"]

SCHEDULE: tuple[Periodic, ...] = schedule()

for entry in SCHEDULE:
    cron.register(
        resolve(entry.func),
        queue_name=entry.queue,
        interval=entry.interval,
        cron=entry.cron,
        name=entry.name,
        job_timeout=600,
    )
