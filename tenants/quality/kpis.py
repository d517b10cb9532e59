"""The month's figures: one statement made of set-based parts, each bounded to
the month (plus the 6 months of the satisfaction trend, the previous month's
return visits and the year-to-date training hours), so the cost follows the
month's activity, not the agency's history or the number of other agencies.

The statements are plain SQL run in the agency's transaction: row-level
security (`app.tenant_id`, set by `saas.db`) scopes every table to the agency,
and its predicate is the leading column of the indexes they use.

Definitions (also shown on the summary page):
- planned visits: visits starting in the month, in the agency's time zone, not
  cancelled; delivered: completed; late: flagged late by the late-visit sweep;
  missed: marked or flagged missed; on time: delivered and never flagged late.
- coverage: clients with a planned visit in the month who had at least one
  delivered visit.
- response time: from an opinion or complaint's receipt to the first step staff
  took on it (acknowledged or any later status), in minutes, averaged over the
  items received in the month that had such a step.
- resolution rate: items received in the month that are closed with a
  response, over the items received.
- answered on time: a response recorded by the item's deadline; overdue: no
  response and the deadline passed when the summary was built.
- satisfaction: the visit ratings of the month's visits, mean and (population)
  standard deviation per dimension; the trend is the mean of the five
  dimensions for each of the last 6 months.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from tenants.feedback.models import DIMENSIONS


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Window:
    """One agency's month: local calendar days and the UTC instants bounding them."""

    month: date  # first day
    next_month: date
    lo: datetime  # UTC instant of the 1st, 00:00 local
    hi: datetime  # UTC instant of the next 1st, 00:00 local
    as_of: datetime

    @classmethod
    def of(cls, month: date, zone: ZoneInfo, as_of: datetime) -> Window:
        month = month.replace(day=1)
        nxt = add_months(month, 1)
        lo = datetime(month.year, month.month, 1, tzinfo=zone)
        hi = datetime(nxt.year, nxt.month, 1, tzinfo=zone)
        return cls(month, nxt, lo, hi, as_of)

    def params(self) -> dict[str, Any]:
        return {
            "lo": self.lo,
            "hi": self.hi,
            "m0": self.month,
            "m1": self.next_month,
            "p0": add_months(self.month, -1),
            "t0": add_months(self.month, -5),
            "t_lo": self.lo_of(add_months(self.month, -5)),
            "y0": date(self.month.year, 1, 1),
            "as_of": self.as_of,
        }

    def lo_of(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.lo.tzinfo)


# grouped by client first (a hash aggregate over the month's visits) rather
# than count(distinct client_id), which would sort them
VISITS = text(
    """
    select coalesce(sum(planned), 0)::int as planned,
           coalesce(sum(delivered), 0)::int as delivered,
           coalesce(sum(delivered_on_time), 0)::int as delivered_on_time,
           coalesce(sum(late), 0)::int as late,
           coalesce(sum(missed), 0)::int as missed,
           coalesce(sum(cancelled), 0)::int as cancelled,
           count(*) filter (where planned > 0) as clients_planned,
           count(*) filter (where delivered > 0) as clients_served
    from (
      select count(*) filter (where status <> 'cancelled') as planned,
             count(*) filter (where status = 'completed') as delivered,
             count(*) filter (where status = 'completed' and late_flagged_at is null) as delivered_on_time,
             count(*) filter (where status <> 'cancelled' and late_flagged_at is not null) as late,
             count(*) filter (where status = 'missed'
                                or (missed_flagged_at is not null and status <> 'completed')) as missed,
             count(*) filter (where status = 'cancelled') as cancelled
      from visits
      where starts_at >= :lo and starts_at < :hi
      group by client_id
    ) per_client
    """
)

# one statement: the month's dimension means and spreads, and the 6-month trend
SATISFACTION = text(
    """
    select date_trunc('month', v.local_day)::date as month,
           count(*) as n,
           """
    + ",\n           ".join(
        f"avg(r.{d})::float8 as {d}_mean, coalesce(stddev_pop(r.{d}), 0)::float8 as {d}_sd"
        for d in DIMENSIONS
    )
    + """
    from visit_ratings r
    join visits v on v.tenant_id = r.tenant_id and v.id = r.visit_id
    where v.starts_at >= :t_lo and v.starts_at < :hi
    group by 1 order by 1
    """
)

FEEDBACK = text(
    """
    with items as (
      select i.kind, i.category, i.received_at, i.due_at, i.responded_at, i.closed_at, i.response, i.status,
             (select min(t.at) from feedback_transitions t
               where t.tenant_id = i.tenant_id and t.item_id = i.id and t.to_status <> 'received')
               as first_step
      from feedback_items i
      where i.received_at >= :lo and i.received_at < :hi
    )
    select kind = 'complaint' as complaint, category,
           count(*) as received,
           count(*) filter (where responded_at is not null) as answered,
           count(*) filter (where responded_at is not null and responded_at <= due_at) as answered_on_time,
           count(*) filter (where responded_at is not null and responded_at > due_at) as answered_late,
           count(*) filter (where responded_at is null and due_at < :as_of) as overdue,
           count(*) filter (where closed_at is not null and response <> '') as resolved,
           count(first_step) as stepped,
           coalesce(sum(extract(epoch from first_step - received_at) / 60), 0)::float8 as step_minutes,
           count(*) filter (where first_step is not null
                              and first_step - received_at <= make_interval(mins => :response_target))
             as stepped_in_target
    from items
    group by 1, 2
    """
)

RECTIFICATIONS = text(
    """
    select count(*) filter (where created_at >= :lo and created_at < :hi) as opened,
           count(*) filter (where closed_at >= :lo and closed_at < :hi) as closed,
           count(*) filter (where status = 'open' and deadline < :m1 and deadline < (:as_of)::date) as overdue
    from rectifications
    where (created_at >= :lo and created_at < :hi)
       or (closed_at >= :lo and closed_at < :hi)
       or status = 'open'
    """
)

# workers employed during the month; their training hours this year and in the month
TRAINING = text(
    """
    with workers as (
      select id from staff_files
      where employment_start < :m1 and (employment_end is null or employment_end >= :m0)
    ), hours as (
      select e.staff_file_id,
             sum(e.attended_hours) filter (where s.held_on >= :m0) as month_hours,
             sum(e.attended_hours) filter (where c.counts_as = 'annual') as ytd_annual
      from training_sessions s
      join training_enrolments e on e.tenant_id = s.tenant_id and e.session_id = s.id
      join training_courses c on c.tenant_id = s.tenant_id and c.id = s.course_id
      where s.held_on >= :y0 and s.held_on < :m1 and e.attended_hours is not null
      group by e.staff_file_id
    )
    select count(w.id) as workers,
           coalesce(sum(h.month_hours), 0)::float8 as month_hours,
           coalesce(sum(h.ytd_annual), 0)::float8 as ytd_hours,
           count(w.id) filter (where coalesce(h.ytd_annual, 0) < :ytd_required) as behind
    from workers w left join hours h on h.staff_file_id = w.id
    """
)

CERTIFICATES = text(
    """
    select count(*) filter (where c.expires_on >= :m1 and c.expires_on < :expiring_until) as expiring,
           count(*) filter (where c.expires_on >= :m0 and c.expires_on < :m1) as expired
    from staff_certificates c
    join staff_files f on f.tenant_id = c.tenant_id and f.id = c.staff_file_id
    where c.expires_on >= :m0 and c.expires_on < :expiring_until
      and (f.employment_end is null or f.employment_end >= :m1)
    """
)

# each worker's load on the last day of the month against their limit
CASELOAD = text(
    """
    with loads as (
      select f.id,
             count(a.id) filter (where a.kind = 'individual') as individual,
             coalesce(sum(a.residents) filter (where a.kind = 'community'), 0) as community,
             coalesce(f.caseload_limit, :limit_individual) as individual_limit,
             coalesce(f.community_limit, :limit_community) as community_limit
      from staff_files f
      left join caseload_assignments a
        on a.tenant_id = f.tenant_id and a.staff_file_id = f.id
       and a.starts_on < :m1 and (a.ends_on is null or a.ends_on >= :m1)
      where f.employment_start < :m1 and (f.employment_end is null or f.employment_end >= :m1)
      group by f.tenant_id, f.id
    )
    select count(*) as workers,
           count(*) filter (where individual > individual_limit or community > community_limit) as over_limit,
           coalesce(avg(individual), 0)::float8 as average_individual,
           coalesce(max(individual), 0) as max_individual,
           coalesce(avg(individual::float8 / nullif(individual_limit, 0)), 0)::float8 as average_use
    from loads
    """
)

# the previous month's return visits, due by the 7th of this summary's month
# (the month just summarised): each worker x client pair visited that month
RETURN_VISITS = text(
    """
    with pairs as (
      select distinct staff_file_id, client_id from visits
      where starts_at >= :p_lo and starts_at < :lo and staff_file_id is not null
        and status in ('completed', 'in_progress', 'scheduled')
    )
    select count(*) as expected,
           count(r.id) filter (where r.visited_on <= :p_due) as on_time,
           count(r.id) filter (where r.visited_on > :p_due) as late,
           count(*) - count(r.id) as missing
    from pairs p
    left join return_visits r
      on r.staff_file_id = p.staff_file_id and r.client_id = p.client_id and r.month = :p0
    """
)

FOLLOW_UPS = text(
    """
    select count(*) as due,
           count(*) filter (where done_on is not null and done_on <= due_on) as on_time,
           count(*) filter (where done_on is not null and done_on > due_on) as late,
           count(*) filter (where done_on is null) as not_done
    from case_follow_ups
    where due_on >= :m0 and due_on < :m1
    """
)


def _one(sql: TextClause) -> str:
    return f"(select to_json(x) from ({sql.text}) x)"


def _all(sql: TextClause) -> str:
    return f"(select coalesce(json_agg(x), '[]') from ({sql.text}) x)"


# Every statement above as one: a single round trip and plan per build, each
# part still bounded to its own window and scoped by row-level security.
FIGURES = text(
    "select "
    + ",\n       ".join(
        (
            f"{_one(VISITS)} as visits",
            f"{_all(SATISFACTION)} as satisfaction",
            f"{_all(FEEDBACK)} as feedback",
            f"{_one(RECTIFICATIONS)} as rectifications",
            f"{_one(TRAINING)} as training",
            f"{_one(CERTIFICATES)} as certificates",
            f"{_one(CASELOAD)} as caseload",
            f"{_one(RETURN_VISITS)} as return_visits",
            f"{_one(FOLLOW_UPS)} as follow_ups",
        )
    )
)


def compute(
    sess: Session,
    window: Window,
    *,
    response_target_minutes: int,
    annual_training_hours: float,
    certificate_expiring_days: int,
    limit_individual: int,
    limit_community: int,
) -> dict[str, Any]:
    """All raw figures of one agency's month (counts and sums; the KPIs are
    derived from them in `targets.evaluate`), in one statement."""
    prev = add_months(window.month, -1)
    # the annual requirement spread evenly over the year, up to the end of the month
    ytd_required = round(annual_training_hours * window.month.month / 12, 2)
    params = {
        **window.params(),
        "response_target": response_target_minutes,
        "ytd_required": ytd_required,
        "expiring_until": window.next_month + timedelta(days=certificate_expiring_days),
        "limit_individual": limit_individual,
        "limit_community": limit_community,
        "p_lo": window.lo_of(prev),
        "p_due": window.month.replace(day=7),
    }
    row = sess.execute(FIGURES, params).mappings().one()
    figures: dict[str, Any] = {"visits": row["visits"]}

    month = window.month.isoformat()
    trend = []
    month_row = None
    for r in sorted(row["satisfaction"], key=lambda r: r["month"]):
        means = [r[f"{d}_mean"] for d in DIMENSIONS]
        trend.append({"month": r["month"], "n": r["n"], "mean": round(sum(means) / len(means), 3)})
        if r["month"] == month:
            month_row = r
    figures["satisfaction"] = {
        "n": month_row["n"] if month_row else 0,
        "dimensions": {
            d: {"mean": round(month_row[f"{d}_mean"], 3), "sd": round(month_row[f"{d}_sd"], 3)}
            for d in DIMENSIONS
        }
        if month_row
        else {},
        "trend": trend,
    }

    feedback = {
        "received": 0,
        "answered": 0,
        "answered_on_time": 0,
        "resolved": 0,
        "stepped": 0,
        "step_minutes": 0.0,
        "stepped_in_target": 0,
    }
    complaints: dict[str, Any] = {
        "received": 0,
        "answered": 0,
        "answered_on_time": 0,
        "answered_late": 0,
        "overdue": 0,
        "resolved": 0,
    }
    categories: dict[str, dict[str, int]] = {}
    for r in row["feedback"]:
        for key in feedback:
            feedback[key] += r[key]
        if r["complaint"]:
            for key in complaints:
                complaints[key] += r[key]
            cat = categories.setdefault(
                r["category"] or "", {"received": 0, "answered_on_time": 0, "overdue": 0}
            )
            for key in cat:
                cat[key] += r[key]
    feedback["step_minutes"] = round(float(feedback["step_minutes"]), 1)
    complaints["by_category"] = [{"category": k, **v} for k, v in sorted(categories.items())]
    figures["feedback"] = feedback
    figures["complaints"] = complaints

    figures["rectifications"] = row["rectifications"]

    training = row["training"]
    training["ytd_required_each"] = ytd_required
    figures["training"] = training

    figures["certificates"] = row["certificates"]
    figures["certificates"]["window_days"] = certificate_expiring_days

    caseload = row["caseload"]
    caseload["average_individual"] = round(caseload["average_individual"], 2)
    caseload["average_use"] = round(caseload["average_use"], 3)
    caseload["limit_individual"] = limit_individual
    figures["caseload"] = caseload

    figures["return_visits"] = row["return_visits"]
    figures["return_visits"]["month"] = prev.isoformat()

    figures["follow_ups"] = row["follow_ups"]
    return figures


def is_empty(figures: dict[str, Any]) -> bool:
    """Nothing happened in the month (no visits, ratings, feedback or follow-ups)."""
    return not (
        figures["visits"]["planned"]
        or figures["visits"]["cancelled"]
        or figures["satisfaction"]["n"]
        or figures["feedback"]["received"]
        or figures["rectifications"]["opened"]
        or figures["follow_ups"]["due"]
    )
