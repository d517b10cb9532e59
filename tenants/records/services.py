"""Retention: when each client's file may end, the monthly list of files to
appraise, and the decisions taken on them.

A client's file is kept `retention_years` (default 3) after the last of their
cases closed, `special_programme_retention_years` (default 5) when one of them
belongs to a special programme; a file kept at an appraisal is kept until its
new review date. Only archived clients (no open case) are concerned, and an
anonymised file holds nothing personal any more, so it is not appraised again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, cast, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import insert

from saas import audit, db
from saas.errors import DomainError, register_messages
from saas.models import Agency, User
from saas.settings import settings_of
from tenants.clients.models import Case, Client
from tenants.clients.services.retention import anonymise_client, destroy_client
from tenants.records.models import Decision, RetentionReview


class RetentionError(DomainError):
    """A decision refused; `field` is the form field it belongs next to."""


register_messages(
    {
        "reason_required": _l("Write down why: every decision on a file is recorded with its reason."),
        "decision_unknown": _l("Choose keep, anonymise or destroy."),
        "review_on_required": _l("A kept file needs the date of its next review."),
        "review_on_past": _l("The next review must be after today."),
        "retention_not_over": _l("This file must be kept until %(date)s: only keeping it is possible now."),
        "already_decided": _l("This file was already decided on."),
    },
    error=RetentionError,
)


def retention_years(agency: Agency) -> tuple[int, int]:
    """(ordinary, special programme) years; a special programme never keeps less."""
    settings = settings_of(agency)
    years = int(settings.get("retention_years"))
    return years, max(years, int(settings.get("special_programme_retention_years")))


def retention_ends(agency: Agency, closed_on_fallback: date | None = None):  # noqa: ANN201 - a Select
    """(tenant_id, client_id, ends_on) of the agency's clients whose retention is running
    or over: the latest of their cases' closing + the years that case's
    programme asks. `closed_on_fallback` dates the cases still open (a closed
    agency's: from its closing); without it only archived clients count."""
    years, special = retention_years(agency)
    kept_years = sql_case((Case.special_programme.is_(True), special), else_=years)
    closed_on = (
        Case.closed_on if closed_on_fallback is None else func.coalesce(Case.closed_on, closed_on_fallback)
    )
    stmt = (
        select(
            Case.tenant_id,
            Case.client_id,
            func.max(cast(closed_on + func.make_interval(kept_years), Date)).label("ends_on"),
        )
        .join(Client, (Client.tenant_id == Case.tenant_id) & (Client.id == Case.client_id))
        # the agency in the statement itself, as every statement of a sweep
        .where(Case.tenant_id == agency.id, Client.anonymised_at.is_(None))
        .group_by(Case.tenant_id, Case.client_id)
    )
    if closed_on_fallback is None:
        stmt = stmt.where(Client.archived_at.is_not(None))
    return stmt


def _kept_until(agency: Agency):  # noqa: ANN202 - a Select
    """(tenant_id, client_id, review_on): the latest review date a kept file was given."""
    return (
        select(
            RetentionReview.tenant_id,
            RetentionReview.client_id,
            func.max(RetentionReview.review_on).label("review_on"),
        )
        .where(RetentionReview.tenant_id == agency.id, RetentionReview.decision == Decision.KEEP)
        .group_by(RetentionReview.tenant_id, RetentionReview.client_id)
    )


def _month_after(today: date) -> date:
    return today.replace(day=1) + relativedelta(months=1)


def sweep(agency: Agency, today: date | None = None) -> int:
    """List for appraisal the files whose retention (or kept file's review)
    ends in the agency's current month or ended before, unless one is waiting
    for a decision already. Idempotent (one review per file and date). Two
    statements; returns how many files were listed."""
    today = today or agency.today()
    ends = retention_ends(agency).subquery()
    kept = _kept_until(agency).subquery()
    due = func.greatest(ends.c.ends_on, kept.c.review_on)
    waiting = select(RetentionReview.id).where(
        RetentionReview.tenant_id == ends.c.tenant_id,
        RetentionReview.client_id == ends.c.client_id,
        RetentionReview.decision.is_(None),
    )
    rows = db.session.execute(
        select(ends.c.client_id, due.label("due_on"))
        .outerjoin(kept, (kept.c.tenant_id == ends.c.tenant_id) & (kept.c.client_id == ends.c.client_id))
        .where(due < _month_after(today), ~waiting.exists())
    ).all()
    if not rows:
        return 0
    now = db.utcnow()
    listed = len(
        db.session.execute(
            insert(RetentionReview)
            .values(
                [
                    {"tenant_id": agency.id, "id": db.new_id(), "client_id": c, "due_on": d, "listed_at": now}
                    for c, d in rows
                ]
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "client_id", "due_on"])
            .returning(RetentionReview.id)
        ).all()
    )
    if listed:
        audit.record("retention.listed", agency.slug, files=listed)
    return listed


@dataclass(frozen=True)
class DecisionData:
    decision: str
    reason: str
    review_on: date | None = None


def decide(agency: Agency, review: RetentionReview, data: DecisionData, *, by: User | None) -> str:
    """Keep (until `review_on`), anonymise or destroy the file; recorded in the
    agency's audit log (what, who, when, why). Checked before anything is
    changed. Returns the decision."""
    reason = (data.reason or "").strip()
    today = agency.today()
    if review.decision is not None:
        raise RetentionError("already_decided")
    if data.decision not in {d.value for d in Decision}:
        raise RetentionError("decision_unknown", "decision")
    if not reason:
        raise RetentionError("reason_required", "reason")
    if data.decision == Decision.KEEP:
        if data.review_on is None:
            raise RetentionError("review_on_required", "review_on")
        if data.review_on <= today:
            raise RetentionError("review_on_past", "review_on")
    elif today < review.due_on:
        raise RetentionError("retention_not_over", "decision", date=review.due_on.isoformat())
    client = db.session.scalar(select(Client).where(Client.id == review.client_id))
    if client is None:  # pragma: no cover - the review goes with its client
        raise RetentionError("already_decided")
    by_id = by.id if by else None
    audit.record(
        "retention.decided",
        str(review.client_id),
        actor_id=by_id,
        decision=data.decision,
        reason=reason,
        due_on=review.due_on.isoformat(),
        review_on=data.review_on.isoformat() if data.decision == Decision.KEEP and data.review_on else None,
    )
    if data.decision == Decision.DESTROY:
        db.session.expunge(review)
        destroy_client(client, by=by_id)
        return data.decision
    if data.decision == Decision.ANONYMISE:
        anonymise_client(client, by=by_id)
    review.decision = data.decision
    review.reason = reason
    review.review_on = data.review_on if data.decision == Decision.KEEP else None
    review.decided_by_user_id = by_id
    review.decided_at = db.utcnow()
    db.session.flush()
    return data.decision


def held_until(agency: Agency, closed_on: date) -> date | None:
    """The last day any of a closed agency's files must still be kept: the
    latest end of retention (cases still open at the closing count from
    `closed_on`) or review date of a kept file; None when nothing is held."""
    ends = retention_ends(agency, closed_on_fallback=closed_on).subquery()
    kept = _kept_until(agency).subquery()
    return db.session.scalar(
        select(
            func.greatest(
                select(func.max(ends.c.ends_on)).scalar_subquery(),
                select(func.max(kept.c.review_on)).scalar_subquery(),
            )
        )
    )
