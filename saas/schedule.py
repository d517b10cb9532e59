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
    # reminders (saas/notifications): sweeps derive what is due; the dedupe key sends each once
    Periodic("remind_visits_tomorrow", "saas.notifications.sweeps.tomorrow_all", interval=300),
    Periodic("remind_no_check_in", "saas.notifications.sweeps.no_check_in_all", queue="high", interval=120),
    Periodic("remind_late", "saas.notifications.sweeps.late_and_missed_all", queue="high", interval=120),
    Periodic("remind_unassigned", "saas.notifications.sweeps.unassigned_all", interval=900),
    Periodic("remind_needs_attention", "saas.notifications.sweeps.needs_attention_all", interval=900),
    Periodic("notify_after_quiet_hours", "saas.notifications.delivery.deliver_waiting", interval=60),
    Periodic("notify_digests", "saas.notifications.delivery.digest_all", interval=300),
    # issue 6 reminder kinds (notification centre): hourly, so each agency's local
    # midnight is met within the hour; the dedupe key makes re-runs no-ops
    Periodic("feedback_due_soon", "tenants.feedback.reminders.reminder_sweep", interval=900),
    Periodic("certificate_reminders", "tenants.staffing.reminders.certificate_sweep", cron="3 * * * *"),
    Periodic("training_reminders", "tenants.training.reminders.training_sweep", cron="13 * * * *"),
    Periodic("case_reminders", "tenants.clients.reminders.case_sweep", cron="23 * * * *"),
    Periodic("return_visit_reminders", "tenants.scheduling.reminders.return_visit_sweep", cron="33 * * * *"),
    Periodic("outreach_reminders", "tenants.outreach.reminders.outreach_sweep", cron="43 * * * *"),
    Periodic("outcome_survey_reminders", "tenants.surveys.reminders.outcome_sweep", cron="53 * * * *"),
    Periodic("survey_reminders", "tenants.surveys.jobs.remind_all", cron="5 * * * *"),
    # hourly: each agency is reminded of yesterday's unlogged opinion boxes in its own morning
    # hourly: each agency gets last month's quality summary once its own clock passes the 1st
    Periodic("quality_summaries", "tenants.quality.jobs.monthly_sweep", cron="7 * * * *"),
    Periodic("purge_sessions", "saas.maintenance.purge_expired_sessions", queue="low", cron="17 3 * * *"),
    Periodic("clear_mail_links", "saas.mail.clear_undelivered_links", queue="low", cron="27 3 * * *"),
    # billing life cycle (trial end, grace, closing, purge), quantity syncs, export expiry
    Periodic("billing_sweep", "billing.jobs.sweep", queue="default", interval=60),
    Periodic("billing_reconcile", "billing.jobs.reconcile_quantities", queue="low", cron="41 4 * * *"),
    # the watchdog: reports a late sweep to Sentry once (the jobs page shows it too)
    Periodic("watch_sweeps", "saas.sweeps.watch_sweeps", queue="high", interval=60),
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
