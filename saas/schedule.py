"""Periodic jobs, declared as data and loaded by `rq cron` (`saas cron`).

Each entry names a function that opens its own app context and session.
"""

from __future__ import annotations

from dataclasses import dataclass

from rq import cron


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str
    queue: str = "default"
    interval: int | None = None  # seconds
    cron: str | None = None  # crontab, UTC


SCHEDULE: tuple[Periodic, ...] = (
    Periodic("relay_outbox", "saas.jobs.relay_outbox_sweep", queue="high", interval=15),
    Periodic("generate_visits", "tenants.scheduling.jobs.generate_all", cron="30 1 * * *"),
    Periodic("flag_late_visits", "tenants.scheduling.jobs.flag_all", queue="high", interval=300),
    Periodic("escalate_feedback", "tenants.feedback.jobs.escalate_all", queue="high", interval=900),
    Periodic("purge_sessions", "saas.maintenance.purge_expired_sessions", queue="low", cron="17 3 * * *"),
    # billing life cycle (trial end, grace, closing, purge), quantity syncs, export expiry
    Periodic("billing_sweep", "billing.jobs.sweep", queue="default", interval=60),
    Periodic("billing_reconcile", "billing.jobs.reconcile_quantities", queue="low", cron="41 4 * * *"),
)


def _resolve(path: str) -> object:
    import importlib

    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


for entry in SCHEDULE:
    cron.register(
        _resolve(entry.func),  # type: ignore[arg-type]
        queue_name=entry.queue,
        interval=entry.interval,
        cron=entry.cron,
        name=entry.name,
        job_timeout=600,
    )
