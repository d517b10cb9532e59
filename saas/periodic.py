"""The periodic jobs: the core's, then every area's (`saas.areas`). Read by
`saas/schedule.py` (what `rq cron` loads) and by the sweep watchdog; importing
this module registers nothing."""

from __future__ import annotations

from saas.areas import Periodic, periodic_jobs

CORE_SCHEDULE: tuple[Periodic, ...] = (
    Periodic("relay_outbox", "saas.jobs.relay_outbox_sweep", queue="high", interval=15),
    Periodic("notify_after_quiet_hours", "saas.notifications.delivery.deliver_waiting", interval=60),
    Periodic("notify_digests", "saas.notifications.delivery.digest_all", interval=300),
    Periodic("purge_sessions", "saas.maintenance.purge_expired_sessions", queue="low", cron="17 3 * * *"),
    Periodic("clear_mail_links", "saas.mail.clear_undelivered_links", queue="low", cron="27 3 * * *"),
    Periodic("purge_idempotency_keys", "saas.api.idempotency.purge_old_keys", queue="low", cron="37 3 * * *"),
    # the watchdog: reports a late sweep to Sentry once (the jobs page shows it too)
    Periodic("watch_sweeps", "saas.sweeps.watch_sweeps", queue="high", interval=60),
)


def schedule() -> tuple[Periodic, ...]:
    """Every periodic job; a name appears once."""
    entries = CORE_SCHEDULE + periodic_jobs()
    names = [e.name for e in entries]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"periodic jobs named twice: {sorted(duplicates)}")
    return entries
