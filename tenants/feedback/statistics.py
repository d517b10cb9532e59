"""Satisfaction statistics: what the agency's ratings and complaints add up to.

Every figure is computed by PostgreSQL in a grouped, set-based statement (one
per table of the page, whatever the amount of data); Python only arranges the
rows. The definitions, shown on the page too:

- A visit counts in the month of its day (`Visit.local_day`, the agency's
  calendar). The population is the *completed* (checked-out) visits in the
  range; a rating counts with its visit.
- Response rate: ratings of the completed visits in the range / completed
  visits in the range.
- Per dimension: mean, sample standard deviation (`stddev_samp`, none under
  2 ratings) and n. "Overall" is the mean of a rating's five scores.
- Correlation: Pearson's r (`corr()`) between two dimensions over the ratings
  in the range; none below a minimum number of ratings or when a dimension
  did not vary (PostgreSQL gives NULL).
- Opinions and complaints count in the range by when they were received (the
  agency's calendar); answered on time: responded_at (or closed_at, for an
  anonymous one closed without a response) <= due_at; late: after it;
  overdue: not answered yet and past due now; waiting: not answered, not yet
  due. Each item is in exactly one of the four.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import combinations_with_replacement
from typing import Any, Literal

from sqlalchemy import Date, Float, and_, cast, func, literal_column, not_, select
from sqlalchemy.sql.elements import ColumnElement

from saas import db
from saas.models import Agency, Membership, User
from saas.settings import agency_setting
from tenants.catalogue.models import ServiceItem
from tenants.feedback.models import DIMENSIONS, FeedbackItem, FeedbackKind, FeedbackStatus, VisitRating
from tenants.scheduling.models import Visit, VisitStatus
from tenants.staffing.models import StaffFile, Team

PRESETS = ("this_month", "last_month", "last_3_months", "last_12_months")
# the days a custom range may use: the trend reaches 11 months back and the
# bounds one day on, so year 1 and year 9999 would overflow Python's dates
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
TREND_MONTHS = 12
# the figures a row carries: the five dimensions and their overall mean
MEASURES = (*DIMENSIONS, "overall")
ANSWERED_STATUSES = (FeedbackStatus.RESPONDED.value, FeedbackStatus.CLOSED.value)


def max_range_months(agency: Agency) -> int:
    """The longest range one page may show (a per-agency setting)."""
    return int(agency_setting(agency, "statistics_max_range_months"))


def min_correlation_n(agency: Agency) -> int:
    """Fewer ratings than this: no correlation is shown (a per-agency setting,
    declared never under 3: with 2 ratings r is always -1 or 1)."""
    return int(agency_setting(agency, "statistics_min_correlation_n"))


# -- date ranges --------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(first: date, months: int) -> date:
    """The first day of the month `months` after the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_spanned(start: date, end: date) -> int:
    """How many calendar months [start, end] touches (1 for a range inside one month)."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


@dataclass(frozen=True)
class DateRange:
    """Both ends included, agency calendar days."""

    start: date
    end: date
    preset: str = "custom"

    def months(self) -> list[date]:
        """The first day of each month the range touches, in order."""
        return [add_months(month_start(self.start), i) for i in range(months_spanned(self.start, self.end))]


def preset_range(preset: str, today: date) -> DateRange:
    """A named range ending this month; an unknown name gives this month."""
    this_month = month_start(today)
    end_of_this_month = add_months(this_month, 1) - timedelta(days=1)
    if preset == "last_month":
        start = add_months(this_month, -1)
        return DateRange(start, this_month - timedelta(days=1), preset)
    if preset == "last_3_months":
        return DateRange(add_months(this_month, -2), end_of_this_month, preset)
    if preset == "last_12_months":
        return DateRange(add_months(this_month, -11), end_of_this_month, preset)
    return DateRange(this_month, end_of_this_month, "this_month")


def range_problem(start: date, end: date, agency: Agency) -> str | None:
    """A code when a custom range cannot be shown: "out_of_bounds",
    "end_before_start" or "too_long"."""
    if not (FIRST_DAY <= start <= LAST_DAY and FIRST_DAY <= end <= LAST_DAY):
        return "out_of_bounds"
    if end < start:
        return "end_before_start"
    if months_spanned(start, end) > max_range_months(agency):
        return "too_long"
    return None


def trend_range(selected: DateRange) -> DateRange:
    """The 12 months ending with the selected range's last month."""
    last = month_start(selected.end)
    return DateRange(add_months(last, -(TREND_MONTHS - 1)), add_months(last, 1) - timedelta(days=1), "trend")


# -- ratings ------------------------------------------------------------------------------------


@dataclass
class Figures:
    """Ratings of a group of completed visits."""

    completed: int = 0  # completed visits
    n: int = 0  # of them rated
    means: dict[str, float | None] = field(default_factory=dict)  # by dimension and "overall"
    sds: dict[str, float | None] = field(default_factory=dict)

    @property
    def response_rate(self) -> float | None:
        return self.n / self.completed if self.completed else None


@dataclass
class Monthly:
    by_month: dict[date, Figures]
    total: Figures


@dataclass
class Breakdown:
    key: uuid.UUID | None
    name: str | None  # None: no carer / no team recorded
    figures: Figures


def _overall(table: Any = VisitRating) -> ColumnElement[Any]:
    # 5.0, not 5: integer division would truncate
    return sum((getattr(table, d) for d in DIMENSIONS[1:]), getattr(table, DIMENSIONS[0])) / 5.0


def _score(measure: str) -> ColumnElement[Any]:
    return _overall() if measure == "overall" else getattr(VisitRating, measure)


def _figure_columns(with_sd: bool) -> list[Any]:
    columns: list[Any] = [
        func.count(Visit.id).label("completed"),
        func.count(VisitRating.id).label("n"),
    ]
    for m in MEASURES:
        columns.append(cast(func.avg(_score(m)), Float).label(f"{m}_mean"))
        if with_sd:
            columns.append(cast(func.stddev_samp(_score(m)), Float).label(f"{m}_sd"))
    return columns


def _figures(row: Any, with_sd: bool = True) -> Figures:
    values = row._mapping
    return Figures(
        completed=int(values["completed"]),
        n=int(values["n"]),
        means={m: values[f"{m}_mean"] for m in MEASURES},
        sds={m: values[f"{m}_sd"] for m in MEASURES} if with_sd else {},
    )


def _completed_visits(start: date, end: date) -> Any:
    """Completed visits in [start, end], each with its rating if it has one."""
    return (
        select()
        .select_from(Visit)
        .outerjoin(VisitRating, VisitRating.visit_id == Visit.id)
        .where(Visit.status == VisitStatus.COMPLETED, Visit.local_day.between(start, end))
    )


def monthly(start: date, end: date) -> Monthly:
    """Figures per month and for the whole range, in one statement (ROLLUP)."""
    month = cast(func.date_trunc(literal_column("'month'"), Visit.local_day), Date).label("month")
    rows = db.session.execute(
        _completed_visits(start, end)
        .add_columns(month, func.grouping(month).label("is_total"), *_figure_columns(with_sd=True))
        .group_by(func.rollup(month))
    ).all()
    result = Monthly(by_month={}, total=Figures(means=dict.fromkeys(MEASURES), sds=dict.fromkeys(MEASURES)))
    for row in rows:
        if row.is_total:
            result.total = _figures(row)
        else:
            result.by_month[row.month] = _figures(row)
    return result


BreakdownBy = Literal["carer", "service_item", "team"]


def breakdown(by: BreakdownBy, start: date, end: date) -> list[Breakdown]:
    """Figures per carer, per service item or per team of the carer, in one
    grouped statement; best overall mean first, groups without ratings last."""
    query = _completed_visits(start, end)
    if by == "carer":
        key, name = Visit.staff_file_id, User.name
        query = (
            query.outerjoin(StaffFile, StaffFile.id == Visit.staff_file_id)
            .outerjoin(Membership, Membership.id == StaffFile.membership_id)
            .outerjoin(User, User.id == Membership.user_id)
        )
    elif by == "service_item":
        key, name = ServiceItem.id, ServiceItem.name
        query = query.join(ServiceItem, ServiceItem.id == Visit.service_item_id)
    elif by == "team":
        key, name = Team.id, Team.name
        query = query.outerjoin(StaffFile, StaffFile.id == Visit.staff_file_id).outerjoin(
            Team, Team.id == StaffFile.team_id
        )
    else:
        raise ValueError(by)
    overall = func.avg(_overall())
    rows = db.session.execute(
        query.add_columns(key.label("key"), name.label("name"), *_figure_columns(with_sd=False))
        .group_by(key, name)
        .order_by(overall.desc().nulls_last(), func.count(VisitRating.id).desc(), name.nulls_last(), key)
    ).all()
    return [Breakdown(row.key, row.name, _figures(row, with_sd=False)) for row in rows]


@dataclass
class Correlations:
    n: int
    minimum: int
    # (dimension, dimension) -> Pearson's r, both orders; None: not enough data
    r: dict[tuple[str, str], float | None]

    @property
    def enough(self) -> bool:
        return self.n >= self.minimum


def correlations(start: date, end: date, minimum: int) -> Correlations:
    """Pearson's r between each pair of dimensions over the ratings of the
    completed visits in the range, in one statement."""
    pairs = list(combinations_with_replacement(DIMENSIONS, 2))
    columns = [func.count(VisitRating.id).label("n")]
    columns += [
        cast(func.corr(getattr(VisitRating, a), getattr(VisitRating, b)), Float).label(f"{a}__{b}")
        for a, b in pairs
    ]
    row = db.session.execute(
        select(*columns)
        .select_from(VisitRating)
        .join(Visit, Visit.id == VisitRating.visit_id)
        .where(Visit.status == VisitStatus.COMPLETED, Visit.local_day.between(start, end))
    ).one()
    n = int(row.n)
    r: dict[tuple[str, str], float | None] = {}
    for a, b in pairs:
        value = row._mapping[f"{a}__{b}"] if n >= minimum else None
        r[(a, b)] = r[(b, a)] = value
    return Correlations(n=n, minimum=minimum, r=r)


# -- opinions and complaints --------------------------------------------------------------------


@dataclass
class Handling:
    received: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    waiting: int = 0


@dataclass
class FeedbackFigures:
    total: Handling
    by_kind: dict[str, Handling]
    # kind -> [(category, figures)], most received first; "" is "no topic"
    by_category: dict[str, list[tuple[str, Handling]]]

    def complaints(self) -> Handling:
        return self.by_kind.get(FeedbackKind.COMPLAINT.value, Handling())

    def complaint_categories(self) -> list[tuple[str, Handling]]:
        return self.by_category.get(FeedbackKind.COMPLAINT.value, [])


def local_bounds(agency: Agency, start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) on the agency's wall clock, tz-aware."""
    zone = agency.zone
    return datetime.combine(start, time(0), tzinfo=zone), datetime.combine(
        end + timedelta(days=1), time(0), tzinfo=zone
    )


def feedback_handling(agency: Agency, start: date, end: date, now: datetime | None = None) -> FeedbackFigures:
    """Opinions and complaints received in the range and how they were
    answered: per kind and category, per kind and in all, in one statement (ROLLUP)."""
    now = now or db.utcnow()
    since, until = local_bounds(agency, start, end)
    item = FeedbackItem
    # an anonymous one may be closed without a response: its closing is its answer,
    # so that every item is in exactly one of on time, late, overdue and waiting
    answered_at = func.coalesce(item.responded_at, item.closed_at)
    unanswered = and_(answered_at.is_(None), not_(item.status.in_(ANSWERED_STATUSES)))
    rows = db.session.execute(
        select(
            item.kind,
            item.category,
            func.grouping(item.kind).label("all_kinds"),
            func.grouping(item.category).label("all_categories"),
            func.count().label("received"),
            func.count().filter(answered_at <= item.due_at).label("on_time"),
            func.count().filter(answered_at > item.due_at).label("late"),
            func.count().filter(and_(unanswered, item.due_at < now)).label("overdue"),
            func.count().filter(and_(unanswered, item.due_at >= now)).label("waiting"),
        )
        .where(item.received_at >= since, item.received_at < until)
        .group_by(func.rollup(item.kind, item.category))
        .order_by(item.kind, literal_column("received").desc(), item.category)
    ).all()
    result = FeedbackFigures(total=Handling(), by_kind={}, by_category={})
    for row in rows:
        figures = Handling(row.received, row.on_time, row.late, row.overdue, row.waiting)
        if row.all_kinds:
            result.total = figures
        elif row.all_categories:
            result.by_kind[row.kind] = figures
        else:
            result.by_category.setdefault(row.kind, []).append((row.category, figures))
    return result


# -- the page -----------------------------------------------------------------------------------


@dataclass
class Page:
    range: DateRange
    trend_range: DateRange
    monthly: Monthly
    trend: Monthly
    correlations: Correlations
    by_carer: list[Breakdown]
    by_service_item: list[Breakdown]
    by_team: list[Breakdown]
    feedback: FeedbackFigures


def page(agency: Agency, selected: DateRange, now: datetime | None = None) -> Page:
    """Everything the statistics page shows: seven statements, whatever the data."""
    trend = trend_range(selected)
    start, end = selected.start, selected.end
    return Page(
        range=selected,
        trend_range=trend,
        monthly=monthly(start, end),
        trend=monthly(trend.start, trend.end),
        correlations=correlations(start, end, min_correlation_n(agency)),
        by_carer=breakdown("carer", start, end),
        by_service_item=breakdown("service_item", start, end),
        by_team=breakdown("team", start, end),
        feedback=feedback_handling(agency, start, end, now),
    )


def trend_series(trend: Monthly, months: list[date], labels: dict[str, str]) -> dict[str, list[float | None]]:
    """The trend as chart series: the overall mean first (it gets the
    strongest line), then one per dimension, named by `labels`; None for a
    month without ratings."""
    return {
        labels[m]: [trend.by_month[mo].means[m] if mo in trend.by_month else None for mo in months]
        for m in ("overall", *DIMENSIONS)
    }


__all__ = [
    "Breakdown",
    "Correlations",
    "DateRange",
    "FeedbackFigures",
    "Figures",
    "Handling",
    "Monthly",
    "Page",
    "breakdown",
    "correlations",
    "feedback_handling",
    "monthly",
    "page",
    "preset_range",
    "range_problem",
    "trend_range",
    "trend_series",
]
