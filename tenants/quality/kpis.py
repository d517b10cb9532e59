"""The month's figures: one statement made of set-based parts, each bounded to
the month (plus the 6 months of the satisfaction trend, the previous month's
return visits and the year-to-date training hours), so the cost follows the
month's activity, not the agency's history or the number of other agencies.

One statement serves both paths, driven by `bounds` (one row per agency: its
month's UTC bounds from its own time zone and its settings): the per-agency
build runs it with its own row in the agency's transaction, where row-level
security (`app.tenant_id`, set by `saas.db`) scopes every table to the agency;
the monthly sweep runs it for a batch of agencies through
`db.platform_reader()`. Every part is grouped by tenant_id and bounded to each
agency's own window, tenant_id and the window being the leading columns of the
indexes they use, so a batch costs the sum of its agencies' months.

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

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from saas.db import TenantNotSet, current_tenant_id
from tenants.feedback.models import DIMENSIONS
from tenants.feedback.statistics import add_months  # noqa: F401 - also used as kpis.add_months


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


# -- the statement ---------------------------------------------------------------------------
#
# One statement for any number of agencies, driven by `bounds`: one row per
# agency with its own month (UTC instants from its time zone) and settings. The
# per-agency build passes one row and row-level security shows it only its own
# agency anyway; the monthly sweep passes a batch through the platform reader.
# Every part joins `bounds` on tenant_id and its own window (the leading columns
# of the indexes it uses), and comes back as one row per agency (left joins
# from `bounds`, so an agency with nothing in a part gets its zeros).

BOUNDS = """
    bounds as (
      select * from unnest(
        cast(:tenant_id as uuid[]), cast(:lo as timestamptz[]), cast(:hi as timestamptz[]),
        cast(:m0 as date[]), cast(:m1 as date[]), cast(:p0 as date[]), cast(:p_lo as timestamptz[]),
        cast(:p_due as date[]), cast(:t_lo as timestamptz[]), cast(:y0 as date[]),
        cast(:as_of as timestamptz[]), cast(:response_target as int[]), cast(:ytd_required as numeric[]),
        cast(:expiring_until as date[]), cast(:limit_individual as int[]), cast(:limit_community as int[])
      ) as b(tenant_id, lo, hi, m0, m1, p0, p_lo, p_due, t_lo, y0, as_of, response_target, ytd_required,
             expiring_until, limit_individual, limit_community)
    )"""

# grouped by client first (a hash aggregate over the month's visits) rather
# than count(distinct client_id), which would sort them
VISITS = """
    visit_clients as (
      select v.tenant_id,
             count(*) filter (where v.status <> 'cancelled') as planned,
             count(*) filter (where v.status = 'completed') as delivered,
             count(*) filter (where v.status = 'completed' and v.late_flagged_at is null)
               as delivered_on_time,
             count(*) filter (where v.status <> 'cancelled' and v.late_flagged_at is not null) as late,
             count(*) filter (where v.status = 'missed'
                                or (v.missed_flagged_at is not null and v.status <> 'completed')) as missed,
             count(*) filter (where v.status = 'cancelled') as cancelled
      from bounds b
      join visits v on v.tenant_id = b.tenant_id and v.starts_at >= b.lo and v.starts_at < b.hi
      group by v.tenant_id, v.client_id
    ), visits_part as (
      select b.tenant_id,
             coalesce(sum(c.planned), 0)::int as planned,
             coalesce(sum(c.delivered), 0)::int as delivered,
             coalesce(sum(c.delivered_on_time), 0)::int as delivered_on_time,
             coalesce(sum(c.late), 0)::int as late,
             coalesce(sum(c.missed), 0)::int as missed,
             coalesce(sum(c.cancelled), 0)::int as cancelled,
             count(*) filter (where c.planned > 0) as clients_planned,
             count(*) filter (where c.delivered > 0) as clients_served
      from bounds b left join visit_clients c on c.tenant_id = b.tenant_id
      group by b.tenant_id
    )"""

# the month's dimension means and spreads, and the 6-month trend
SATISFACTION = (
    """
    satisfaction_months as (
      select v.tenant_id, date_trunc('month', v.local_day)::date as month, count(*) as n,
             """
    + ",\n             ".join(
        f"avg(r.{d})::float8 as {d}_mean, coalesce(stddev_pop(r.{d}), 0)::float8 as {d}_sd"
        for d in DIMENSIONS
    )
    + """
      from bounds b
      join visits v on v.tenant_id = b.tenant_id and v.starts_at >= b.t_lo and v.starts_at < b.hi
      join visit_ratings r on r.tenant_id = v.tenant_id and r.visit_id = v.id
      group by v.tenant_id, 2
    ), satisfaction_part as (
      select b.tenant_id, coalesce(json_agg(s order by s.month) filter (where s.month is not null), '[]')
               as rows
      from bounds b left join satisfaction_months s on s.tenant_id = b.tenant_id
      group by b.tenant_id
    )"""
)

FEEDBACK = """
    feedback_received as (
      select i.tenant_id, i.kind = 'complaint' as complaint, i.category, i.received_at, i.due_at,
             i.responded_at, i.closed_at, i.response, b.as_of, b.response_target,
             (select min(t.at) from feedback_transitions t
               where t.tenant_id = i.tenant_id and t.item_id = i.id and t.to_status <> 'received')
               as first_step
      from bounds b
      join feedback_items i on i.tenant_id = b.tenant_id and i.received_at >= b.lo and i.received_at < b.hi
    ), feedback_groups as (
      select tenant_id, complaint, category,
             count(*) as received,
             count(*) filter (where responded_at is not null) as answered,
             count(*) filter (where responded_at is not null and responded_at <= due_at) as answered_on_time,
             count(*) filter (where responded_at is not null and responded_at > due_at) as answered_late,
             count(*) filter (where responded_at is null and due_at < as_of) as overdue,
             count(*) filter (where closed_at is not null and response <> '') as resolved,
             count(first_step) as stepped,
             coalesce(sum(extract(epoch from first_step - received_at) / 60), 0)::float8 as step_minutes,
             count(*) filter (where first_step is not null
                                and first_step - received_at <= make_interval(mins => response_target))
               as stepped_in_target
      from feedback_received
      group by tenant_id, complaint, category
    ), feedback_part as (
      select b.tenant_id, coalesce(json_agg(g) filter (where g.tenant_id is not null), '[]') as rows
      from bounds b left join feedback_groups g on g.tenant_id = b.tenant_id
      group by b.tenant_id
    )"""

RECTIFICATIONS = """
    rectifications_part as (
      select b.tenant_id,
             count(r.id) filter (where r.created_at >= b.lo and r.created_at < b.hi) as opened,
             count(r.id) filter (where r.closed_at >= b.lo and r.closed_at < b.hi) as closed,
             count(r.id) filter (where r.status = 'open' and r.deadline < b.m1
                                   and r.deadline < (b.as_of)::date) as overdue
      from bounds b
      left join rectifications r
        on r.tenant_id = b.tenant_id
       and ((r.created_at >= b.lo and r.created_at < b.hi)
            or (r.closed_at >= b.lo and r.closed_at < b.hi)
            or r.status = 'open')
      group by b.tenant_id
    )"""

# workers employed during the month; their training hours this year and in the month
TRAINING = """
    training_workers as (
      select f.tenant_id, f.id, b.ytd_required
      from bounds b
      join staff_files f on f.tenant_id = b.tenant_id
       and f.employment_start < b.m1 and (f.employment_end is null or f.employment_end >= b.m0)
    ), training_hours as (
      select e.tenant_id, e.staff_file_id,
             sum(e.attended_hours) filter (where s.held_on >= b.m0) as month_hours,
             sum(e.attended_hours) filter (where c.counts_as = 'annual') as ytd_annual
      from bounds b
      join training_sessions s on s.tenant_id = b.tenant_id and s.held_on >= b.y0 and s.held_on < b.m1
      join training_enrolments e on e.tenant_id = s.tenant_id and e.session_id = s.id
      join training_courses c on c.tenant_id = s.tenant_id and c.id = s.course_id
      where e.attended_hours is not null
      group by e.tenant_id, e.staff_file_id
    ), training_part as (
      select b.tenant_id,
             count(w.id) as workers,
             coalesce(sum(h.month_hours), 0)::float8 as month_hours,
             coalesce(sum(h.ytd_annual), 0)::float8 as ytd_hours,
             count(w.id) filter (where coalesce(h.ytd_annual, 0) < w.ytd_required) as behind
      from bounds b
      left join training_workers w on w.tenant_id = b.tenant_id
      left join training_hours h on h.tenant_id = w.tenant_id and h.staff_file_id = w.id
      group by b.tenant_id
    )"""

CERTIFICATES = """
    certificates_due as (
      select c.tenant_id, c.expires_on, b.m0, b.m1, b.expiring_until
      from bounds b
      join staff_certificates c
        on c.tenant_id = b.tenant_id and c.expires_on >= b.m0 and c.expires_on < b.expiring_until
      join staff_files f on f.tenant_id = c.tenant_id and f.id = c.staff_file_id
      where f.employment_end is null or f.employment_end >= b.m1
    ), certificates_part as (
      select b.tenant_id,
             count(c.tenant_id) filter (where c.expires_on >= c.m1 and c.expires_on < c.expiring_until)
               as expiring,
             count(c.tenant_id) filter (where c.expires_on >= c.m0 and c.expires_on < c.m1) as expired
      from bounds b left join certificates_due c on c.tenant_id = b.tenant_id
      group by b.tenant_id
    )"""

# each worker's load on the last day of the month against their limit
CASELOAD = """
    caseload_loads as (
      select f.tenant_id, f.id,
             count(a.id) filter (where a.kind = 'individual') as individual,
             coalesce(sum(a.residents) filter (where a.kind = 'community'), 0) as community,
             coalesce(f.caseload_limit, b.limit_individual) as individual_limit,
             coalesce(f.community_limit, b.limit_community) as community_limit
      from bounds b
      join staff_files f on f.tenant_id = b.tenant_id
       and f.employment_start < b.m1 and (f.employment_end is null or f.employment_end >= b.m1)
      left join caseload_assignments a
        on a.tenant_id = f.tenant_id and a.staff_file_id = f.id
       and a.starts_on < b.m1 and (a.ends_on is null or a.ends_on >= b.m1)
      group by f.tenant_id, f.id, b.limit_individual, b.limit_community
    ), caseload_part as (
      select b.tenant_id,
             count(l.id) as workers,
             count(l.id) filter (where l.individual > l.individual_limit or l.community > l.community_limit)
               as over_limit,
             coalesce(avg(l.individual), 0)::float8 as average_individual,
             coalesce(max(l.individual), 0) as max_individual,
             coalesce(avg(l.individual::float8 / nullif(l.individual_limit, 0)), 0)::float8 as average_use
      from bounds b left join caseload_loads l on l.tenant_id = b.tenant_id
      group by b.tenant_id
    )"""

# the previous month's return visits, due by the agency's day (`return_visit_due_day`) of this summary's month
# (the month just summarised): each worker x client pair visited that month
RETURN_VISITS = """
    return_pairs as (
      select distinct v.tenant_id, v.staff_file_id, v.client_id, b.p0, b.p_due
      from bounds b
      join visits v on v.tenant_id = b.tenant_id and v.starts_at >= b.p_lo and v.starts_at < b.lo
      where v.staff_file_id is not null and v.status in ('completed', 'in_progress', 'scheduled')
    ), return_visits_part as (
      select b.tenant_id,
             count(p.tenant_id) as expected,
             count(r.id) filter (where r.visited_on <= p.p_due) as on_time,
             count(r.id) filter (where r.visited_on > p.p_due) as late,
             count(p.tenant_id) - count(r.id) as missing
      from bounds b
      left join return_pairs p on p.tenant_id = b.tenant_id
      left join return_visits r
        on r.tenant_id = p.tenant_id and r.staff_file_id = p.staff_file_id and r.client_id = p.client_id
       and r.month = p.p0
      group by b.tenant_id
    )"""

FOLLOW_UPS = """
    follow_ups_part as (
      select b.tenant_id,
             count(u.id) as due,
             count(u.id) filter (where u.done_on is not null and u.done_on <= u.due_on) as on_time,
             count(u.id) filter (where u.done_on is not null and u.done_on > u.due_on) as late,
             count(u.id) filter (where u.done_on is null) as not_done
      from bounds b
      left join case_follow_ups u on u.tenant_id = b.tenant_id and u.due_on >= b.m0 and u.due_on < b.m1
      group by b.tenant_id
    )"""

# Every part as one statement: one round trip and one plan for any number of
# agencies, one row per agency (each part as JSON, its tenant_id dropped in `_shape`).
FIGURES = text(
    "with"
    + ",".join(
        (
            BOUNDS,
            VISITS,
            SATISFACTION,
            FEEDBACK,
            RECTIFICATIONS,
            TRAINING,
            CERTIFICATES,
            CASELOAD,
            RETURN_VISITS,
            FOLLOW_UPS,
        )
    )
    + """
    select b.tenant_id,
           to_json(v) as visits, s.rows as satisfaction, f.rows as feedback, to_json(r) as rectifications,
           to_json(t) as training, to_json(c) as certificates, to_json(l) as caseload,
           to_json(rv) as return_visits, to_json(u) as follow_ups
    from bounds b
    join visits_part v on v.tenant_id = b.tenant_id
    join satisfaction_part s on s.tenant_id = b.tenant_id
    join feedback_part f on f.tenant_id = b.tenant_id
    join rectifications_part r on r.tenant_id = b.tenant_id
    join training_part t on t.tenant_id = b.tenant_id
    join certificates_part c on c.tenant_id = b.tenant_id
    join caseload_part l on l.tenant_id = b.tenant_id
    join return_visits_part rv on rv.tenant_id = b.tenant_id
    join follow_ups_part u on u.tenant_id = b.tenant_id
    """
)


@dataclass(frozen=True)
class Settings:
    """The agency's own numbers the figures depend on."""

    response_target_minutes: int
    annual_training_hours: float
    certificate_expiring_days: int
    limit_individual: int
    limit_community: int
    # the day of the next month a month's return visits are due by
    return_visit_due_day: int = 7

    def ytd_required(self, month: date) -> float:
        # the annual requirement spread evenly over the year, up to the end of the month
        return round(float(self.annual_training_hours) * month.month / 12, 2)


@dataclass(frozen=True)
class Bounds:
    """One row of `bounds`: an agency, its month and its settings."""

    tenant_id: uuid.UUID
    window: Window
    settings: Settings


_BOUNDS_COLUMNS = (
    "tenant_id", "lo", "hi", "m0", "m1", "p0", "p_lo", "p_due", "t_lo", "y0", "as_of",
    "response_target", "ytd_required", "expiring_until", "limit_individual", "limit_community",
)  # fmt: skip


def _bounds_row(b: Bounds) -> dict[str, Any]:
    w, s = b.window, b.settings
    prev = add_months(w.month, -1)
    return {
        **w.params(),
        "tenant_id": b.tenant_id,
        "p_lo": w.lo_of(prev),
        "p_due": w.month.replace(day=s.return_visit_due_day),
        "response_target": int(s.response_target_minutes),
        "ytd_required": Decimal(str(s.ytd_required(w.month))),
        "expiring_until": w.next_month + timedelta(days=s.certificate_expiring_days),
        "limit_individual": int(s.limit_individual),
        "limit_community": int(s.limit_community),
    }


def compute_many(sess: Session, agencies: list[Bounds]) -> dict[uuid.UUID, dict[str, Any]]:
    """The raw figures of each agency's month, in one statement, by agency.

    Under an agency's row-level security only its own row has data; through
    the platform reader, every agency in `agencies` (one month each)."""
    if not agencies:
        return {}
    if len({b.tenant_id for b in agencies}) != len(agencies):
        raise ValueError("one month per agency")
    rows = [_bounds_row(b) for b in agencies]
    params = {col: [r[col] for r in rows] for col in _BOUNDS_COLUMNS}
    by_tenant = {b.tenant_id: b for b in agencies}
    return {
        row["tenant_id"]: _shape(row, by_tenant[row["tenant_id"]])
        for row in sess.execute(FIGURES, params).mappings()
    }


def compute(sess: Session, window: Window, settings: Settings) -> dict[str, Any]:
    """All raw figures of the month of the agency in scope (counts and sums;
    the KPIs are derived from them in `targets.evaluate`): the same statement
    as the sweep's, with one row of bounds."""
    tenant_id = current_tenant_id(sess)
    if tenant_id is None:
        raise TenantNotSet("quality figures")
    return compute_many(sess, [Bounds(tenant_id, window, settings)])[tenant_id]


def _part(value: dict[str, Any]) -> dict[str, Any]:
    value.pop("tenant_id", None)
    return value


def _shape(row: Any, bounds: Bounds) -> dict[str, Any]:
    """One agency's row of the statement as the stored figures."""
    window, settings = bounds.window, bounds.settings
    prev = add_months(window.month, -1)
    ytd_required = settings.ytd_required(window.month)
    figures: dict[str, Any] = {"visits": _part(row["visits"])}
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

    figures["rectifications"] = _part(row["rectifications"])

    training = _part(row["training"])
    training["ytd_required_each"] = ytd_required
    figures["training"] = training

    figures["certificates"] = _part(row["certificates"])
    figures["certificates"]["window_days"] = settings.certificate_expiring_days

    caseload = _part(row["caseload"])
    caseload["average_individual"] = round(caseload["average_individual"], 2)
    caseload["average_use"] = round(caseload["average_use"], 3)
    caseload["limit_individual"] = settings.limit_individual
    figures["caseload"] = caseload

    figures["return_visits"] = _part(row["return_visits"])
    figures["return_visits"]["month"] = prev.isoformat()
    figures["return_visits"]["due_on"] = window.month.replace(day=settings.return_visit_due_day).isoformat()

    figures["follow_ups"] = _part(row["follow_ups"])
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
