"""Performance: reviews, their ratings by source and summaries, rewards and
penalties."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from saas import audit, db
from saas.models import User
from tenants.staffing.errors import Problem, raise_if, too_long
from tenants.staffing.models import (
    RATING_SOURCES,
    REVIEW_DIMENSIONS,
    REVIEW_KINDS,
    REWARD_KINDS,
    PerformanceReview,
    ReviewRating,
    RewardPenalty,
    StaffFile,
)
from tenants.staffing.signals import ComplaintAgainst, client_ratings, complaints_against
from tenants.staffing.staff_files import user_id_of


def client_ratings_average(staff_id: uuid.UUID, start: date, end: date) -> Decimal | None:
    """The clients' average rating of the carer's visits (feedback answers
    `client_ratings_wanted`); None without ratings."""
    return client_ratings([staff_id], start, end).get(staff_id)


def complaints_in_review(review: PerformanceReview) -> list[ComplaintAgainst]:
    """The complaints against the worker received in the review's period
    (feedback answers `complaints_wanted`), the latest first."""
    return complaints_against(review.staff_file_id, review.period_start, review.period_end)


def create_review(
    staff: StaffFile,
    kind: str,
    period_start: date | None,
    period_end: date | None,
    summary: str,
    *,
    by: User | None,
) -> PerformanceReview:
    problems = []
    if kind not in REVIEW_KINDS:
        problems.append(Problem("bad_choice", "kind", {"choices": ", ".join(REVIEW_KINDS)}))
    if period_start is None:
        problems.append(Problem("required", "period_start"))
    if period_end is None:
        problems.append(Problem("required", "period_end"))
    if period_start and period_end and period_end < period_start:
        problems.append(Problem("dates_ordered", "period_end"))
    too_long(problems, "summary", summary, 5000)
    if not problems and db.session.scalar(
        select(PerformanceReview.id).where(
            PerformanceReview.staff_file_id == staff.id,
            PerformanceReview.kind == kind,
            PerformanceReview.period_start == period_start,
        )
    ):
        problems.append(Problem("review_exists", "period_start"))
    raise_if(problems)
    review = PerformanceReview(
        staff_file_id=staff.id,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        summary=summary or "",
        created_by_id=user_id_of(by),
    )
    db.session.add(review)
    db.session.flush()
    audit.record("review.created", str(review.id), staff=str(staff.id), kind=kind)
    return review


def add_rating(
    review: PerformanceReview, source: str, scores: dict[str, int | None], comment: str, *, by: User | None
) -> ReviewRating:
    problems = []
    if source not in RATING_SOURCES:
        problems.append(Problem("bad_choice", "source", {"choices": ", ".join(RATING_SOURCES)}))
    clean: dict[str, int] = {}
    for dimension in REVIEW_DIMENSIONS:
        value = scores.get(dimension)
        if value is None:
            problems.append(Problem("required", dimension))
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            problems.append(Problem("score_range", dimension))
        else:
            clean[dimension] = value
    too_long(problems, "comment", comment, 5000)
    raise_if(problems)
    rating = ReviewRating(
        review_id=review.id, source=source, scores=clean, comment=comment or "", rater_id=user_id_of(by)
    )
    db.session.add(rating)
    db.session.flush()
    audit.record("review.rated", str(review.id), source=source)
    return rating


@dataclass(frozen=True)
class ReviewSummary:
    # source -> dimension -> average; source -> number of raters
    by_source: dict[str, dict[str, Decimal]]
    raters: dict[str, int]
    client_average: Decimal | None
    overall: Decimal | None


def review_summary(review: PerformanceReview, ratings: list[ReviewRating]) -> ReviewSummary:
    by_source: dict[str, dict[str, Decimal]] = {}
    raters: dict[str, int] = {}
    for source in RATING_SOURCES:
        chosen = [r for r in ratings if r.source == source]
        raters[source] = len(chosen)
        if chosen:
            by_source[source] = {
                d: (Decimal(sum(r.scores.get(d, 0) for r in chosen)) / len(chosen)).quantize(Decimal("0.01"))
                for d in REVIEW_DIMENSIONS
            }
    client = client_ratings_average(review.staff_file_id, review.period_start, review.period_end)
    means = [sum(v.values()) / len(v) for v in by_source.values()]
    if client is not None:
        means.append(Decimal(client))
    overall = (sum(means) / len(means)).quantize(Decimal("0.01"), ROUND_HALF_UP) if means else None
    return ReviewSummary(by_source=by_source, raters=raters, client_average=client, overall=overall)


def add_reward_penalty(
    staff: StaffFile, kind: str, on_date: date | None, reason: str, *, by: User | None
) -> RewardPenalty:
    problems = []
    if kind not in REWARD_KINDS:
        problems.append(Problem("bad_choice", "kind", {"choices": ", ".join(REWARD_KINDS)}))
    if on_date is None:
        problems.append(Problem("required", "on_date"))
    if not (reason or "").strip():
        problems.append(Problem("required", "reason"))
    too_long(problems, "reason", reason, 5000)
    raise_if(problems)
    entry = RewardPenalty(
        staff_file_id=staff.id,
        kind=kind,
        on_date=on_date,
        reason=reason.strip(),
        recorded_by_id=user_id_of(by),
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(f"staff.{kind}_recorded", str(staff.id), on=str(on_date))
    return entry
