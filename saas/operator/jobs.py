"""/operator/jobs: RQ queues and workers, the scheduled sweeps with their last
and next run, failed jobs (with a retry), and the outbox backlog. Operators
only, as every /operator page; anyone else gets a 404."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.results import Result
from sqlalchemy import func, select
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from saas import audit, db
from saas.jobs import QUEUES, redis_connection
from saas.models import OutboxEntry
from saas.operator.views import operators_only
from saas.sweeps import sweep_statuses, watching_since

bp = Blueprint("operator_jobs", __name__, url_prefix="/operator")
bp.before_request(operators_only)

FAILED_SHOWN = 50  # per queue, newest first
ATTEMPTED_SHOWN = 20


class RetryJobForm(FlaskForm):
    job_id = HiddenField(validators=[DataRequired(), Length(max=200)])


# -- RQ ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFigures:
    name: str
    queued: int
    started: int
    scheduled: int
    failed: int


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    function: str
    description: str
    failed_at: datetime | None
    last_line: str
    traceback: str


@dataclass
class Board:
    queues: list[QueueFigures] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    failed: list[FailedJob] = field(default_factory=list)


def _queues(conn: Redis) -> list[Queue]:
    known = {q.name: q for q in Queue.all(connection=conn)}
    for name in QUEUES:  # ours always show, even before their first job
        known.setdefault(name, Queue(name, connection=conn))
    order = {name: i for i, name in enumerate(QUEUES)}
    return sorted(known.values(), key=lambda q: (order.get(q.name, len(order)), q.name))


def _failed_jobs(conn: Redis, queue: Queue) -> list[FailedJob]:
    ids = FailedJobRegistry(queue=queue).get_job_ids(0, FAILED_SHOWN - 1, desc=True)
    shown = []
    for job in Job.fetch_many(ids, connection=conn):
        if job is None:  # expired between the two reads
            continue
        result = job.latest_result()
        trace = (result.exc_string or "") if result and result.type == Result.Type.FAILED else ""
        lines = [line for line in trace.strip().splitlines() if line.strip()]
        shown.append(
            FailedJob(
                id=job.id,
                queue=queue.name,
                function=job.func_name or "",
                description=job.description or "",
                failed_at=job.ended_at,
                last_line=lines[-1] if lines else "",
                traceback=trace,
            )
        )
    return shown


def board(conn: Redis) -> Board:
    """What RQ has in Redis now: no SQL."""
    result = Board()
    for queue in _queues(conn):
        result.queues.append(
            QueueFigures(
                name=queue.name,
                queued=queue.count,
                started=queue.started_job_registry.count,
                scheduled=queue.scheduled_job_registry.count,
                failed=queue.failed_job_registry.count,
            )
        )
        result.failed.extend(_failed_jobs(conn, queue))
    result.workers = sorted(Worker.all(connection=conn), key=lambda w: w.name)
    return result


def retry_failed_job(conn: Redis, job_id: str) -> str:
    """Put a failed job back on its queue. Returns "requeued", "missing" (it
    expired or was deleted) or "not_failed" (already retried, or running)."""
    try:
        job = Job.fetch(job_id, connection=conn)
    except (NoSuchJobError, ValueError):  # ValueError: not even a job id
        return "missing"
    try:
        job.requeue()
    except InvalidJobOperation:
        return "not_failed"
    audit.record_platform("job.retried", job.id, queue=job.origin, function=job.func_name or "")
    return "requeued"


# -- the outbox -------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxJobFigures:
    job: str
    undone: int
    waiting_relay: int
    attempted: int
    oldest: datetime


@dataclass
class OutboxBacklog:
    per_job: list[OutboxJobFigures]
    attempted: list[OutboxEntry]

    @property
    def undone(self) -> int:
        return sum(f.undone for f in self.per_job)

    @property
    def waiting_relay(self) -> int:
        return sum(f.waiting_relay for f in self.per_job)

    @property
    def oldest(self) -> datetime | None:
        return min((f.oldest for f in self.per_job), default=None)


def outbox_backlog() -> OutboxBacklog:
    """Undone outbox rows by job (two statements, whatever the backlog)."""
    undone = OutboxEntry.done_at.is_(None)
    rows = db.session.execute(
        select(
            OutboxEntry.job,
            func.count(),
            func.count().filter(OutboxEntry.relayed_at.is_(None)),
            func.count().filter(OutboxEntry.attempts > 0),
            func.min(OutboxEntry.created_at),
        )
        .where(undone)
        .group_by(OutboxEntry.job)
        .order_by(func.min(OutboxEntry.created_at))
    ).all()
    attempted = db.session.scalars(
        select(OutboxEntry)
        .where(undone, (OutboxEntry.attempts > 0) | (OutboxEntry.last_error != ""))
        .order_by(OutboxEntry.created_at)
        .limit(ATTEMPTED_SHOWN)
    ).all()
    return OutboxBacklog(per_job=[OutboxJobFigures(*row) for row in rows], attempted=list(attempted))


# -- views ------------------------------------------------------------------------


@bp.route("/jobs")
def index() -> Any:
    conn = redis_connection()
    try:
        shown: Board | None = board(conn)
        since = watching_since(conn)
    except RedisError:
        # Redis is down: the page still shows what the database knows
        shown, since = None, None
    return render_template(
        "operator/jobs.html",
        board=shown,
        sweeps=sweep_statuses(watching_since=since),
        backlog=outbox_backlog(),
        now=db.utcnow(),
        retry_form=RetryJobForm(formdata=None),
    )


@bp.route("/jobs/retry", methods=["POST"])
def retry() -> Any:
    form = RetryJobForm()
    if not form.validate_on_submit():
        flash(_("This form has expired. Reload the page and try again."), "error")
        return redirect(url_for("operator_jobs.index"))
    try:
        outcome = retry_failed_job(redis_connection(), form.job_id.data)
    except RedisError:
        flash(_("Redis is not answering: retry the job once it is back."), "error")
        return redirect(url_for("operator_jobs.index"))
    if outcome == "requeued":
        flash(_("Job %(id)s is back on its queue.", id=form.job_id.data), "success")
    elif outcome == "missing":
        flash(_("Job %(id)s no longer exists: it expired or was removed.", id=form.job_id.data), "error")
    else:
        flash(_("Job %(id)s is not failed any more: it was already retried.", id=form.job_id.data), "warning")
    return redirect(url_for("operator_jobs.index"))


def dashboard_figures(wanted: Any) -> list[Any]:
    """The operator's dashboard (`saas.dashboard`): failed jobs (from Redis,
    no SQL) and the sweeps late now (one statement)."""
    from saas.dashboard import OPERATOR, Figure

    if wanted.role != OPERATOR:
        return []
    link = url_for("operator_jobs.index")
    try:
        conn = redis_connection()
        failed: int | str = sum(q.failed_job_registry.count for q in _queues(conn))
        since = watching_since(conn)
    except RedisError:
        failed, since = "?", None
    late = sum(1 for s in sweep_statuses(watching_since=since) if s.late)
    return [
        Figure("jobs.failed", "platform", 10, _("Failed jobs"), failed, link, tone="bad" if failed else "ok"),
        Figure(
            "jobs.late_sweeps", "platform", 20, _("Sweeps late"), late, link, tone="bad" if late else "ok"
        ),
    ]
