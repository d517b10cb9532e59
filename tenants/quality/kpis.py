"""The month's figures: one statement, each part bounded to the month (plus the
6 months of the satisfaction trend, the previous month's return visits and the
year-to-date training hours), so the cost follows the month's activity.

One statement serves both paths, driven by `bounds` (one row per agency: its
month's UTC bounds from its own time zone and its settings): the per-agency
build runs it with its own row in the agency's transaction, where row-level
security (`app.tenant_id`, set by `saas.db`) scopes every table to the agency;
the monthly sweep runs it for all the due agencies through
`db.platform_reader()`. Every part but one is a LATERAL subquery of one agency,
bounded by its tenant_id and its own window, the leading columns of the indexes
it uses, so it costs that agency's month whatever the other agencies hold. The
satisfaction part is joined across the agencies by tenant_id and grouped by
agency: ratings are not indexed by the time of their visit, so one agency at a
time would look up each of its ratings' visits.

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

import json
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
# One statement for any number of agencies: one row per agency in `bounds`,
# read from the agencies table, with its own month (UTC instants from its time
# zone) and settings passed as one JSON object keyed by agency id. Each part is
# a LATERAL subquery of one agency: bounded by its tenant_id and its own window
# (the leading columns of the index it uses), aggregated without GROUP BY, so
# it always gives exactly one row (zeros when the agency had nothing). A batch
# therefore costs the sum of its agencies' months: no part reads a whole table,
# and nothing depends on how many other agencies or months there are. The
# per-agency build passes one agency, and row-level security shows it only its
# own rows anyway; the monthly sweep passes a batch through the platform reader.

BOUNDS = """
    bounds as (
      select a.id as tenant_id,
             (a.p ->> 'lo')::timestamptz as lo, (a.p ->> 'hi')::timestamptz as hi,
             (a.p ->> 'm0')::date as m0, (a.p ->> 'm1')::date as m1, (a.p ->> 'p0')::date as p0,
             (a.p ->> 'p_lo')::timestamptz as p_lo, (a.p ->> 'p_due')::date as p_due,
             (a.p ->> 't_lo')::timestamptz as t_lo, (a.p ->> 'y0')::date as y0,
             (a.p ->> 'as_of')::timestamptz as as_of, (a.p ->> 'response_target')::int as response_target,
             (a.p ->> 'ytd_required')::numeric as ytd_required,
             (a.p ->> 'expiring_until')::date as expiring_until,
             (a.p ->> 'limit_individual')::int as limit_individual,
             (a.p ->> 'limit_community')::int as limit_community
      from (
        select id, cast(:bounds as jsonb) -> id::text as p
        from agencies where id = any(cast(:tenant_ids as uuid[]))
      ) a
    )"""

# grouped by client first (a small in-memory aggregate per agency) for the
# clients planned and served
VISITS = """
    (
      select count(*) filter (where c.planned > 0) as clients_planned,
             count(*) filter (where c.delivered > 0) as clients_served,
             coalesce(sum(c.planned), 0)::int as planned,
             coalesce(sum(c.delivered), 0)::int as delivered,
             coalesce(sum(c.delivered_on_time), 0)::int as delivered_on_time,
             coalesce(sum(c.late), 0)::int as late,
             coalesce(sum(c.missed), 0)::int as missed,
             coalesce(sum(c.cancelled), 0)::int as cancelled
      from (
        select count(*) filter (where v.status <> 'cancelled') as planned,
               count(*) filter (where v.status = 'completed') as delivered,
               count(*) filter (where v.status = 'completed' and v.late_flagged_at is null)
                 as delivered_on_time,
               count(*) filter (where v.status <> 'cancelled' and v.late_flagged_at is not null) as late,
               count(*) filter (where v.status = 'missed'
                                  or (v.missed_flagged_at is not null and v.status <> 'completed')) as missed,
               count(*) filter (where v.status = 'cancelled') as cancelled
        from visits v
        where v.tenant_id = b.tenant_id and v.starts_at >= b.lo and v.starts_at < b.hi
        group by v.client_id
      ) c
    )"""

# the month's dimension means and spreads, and the 6-month trend: the one part
# read for all the agencies together (joined to them by tenant_id, then grouped
# by agency), as the ratings are not indexed by the time of their visit: the
# planner joins the agencies' ratings to their visits whichever way costs less
# for the number of agencies, where one agency at a time would look up each
# rating's visit
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
      select tenant_id, json_agg(s order by s.month) as rows
      from satisfaction_months s
      group by tenant_id
    )"""
)

FEEDBACK = """
    (
      select coalesce(json_agg(g), '[]') as rows
      from (
        select i.kind = 'complaint' as complaint, i.category,
               count(*) as received,
               count(*) filter (where i.responded_at is not null) as answered,
               count(*) filter (where i.responded_at is not null and i.responded_at <= i.due_at)
                 as answered_on_time,
               count(*) filter (where i.responded_at is not null and i.responded_at > i.due_at)
                 as answered_late,
               count(*) filter (where i.responded_at is null and i.due_at < b.as_of) as overdue,
               count(*) filter (where i.closed_at is not null and i.response <> '') as resolved,
               count(s.first_step) as stepped,
               coalesce(sum(extract(epoch from s.first_step - i.received_at) / 60), 0)::float8
                 as step_minutes,
               count(*) filter (
                 where s.first_step - i.received_at <= make_interval(mins => b.response_target)
               ) as stepped_in_target
        from feedback_items i
        cross join lateral (
          select min(t.at) as first_step from feedback_transitions t
          where t.tenant_id = i.tenant_id and t.item_id = i.id and t.to_status <> 'received'
        ) s
        where i.tenant_id = b.tenant_id and i.received_at >= b.lo and i.received_at < b.hi
        group by 1, 2
      ) g
    )"""

RECTIFICATIONS = """
    (
      select count(*) filter (where r.created_at >= b.lo and r.created_at < b.hi) as opened,
             count(*) filter (where r.closed_at >= b.lo and r.closed_at < b.hi) as closed,
             count(*) filter (where r.status = 'open' and r.deadline < b.m1 and r.deadline < (b.as_of)::date)
               as overdue
      from rectifications r
      where r.tenant_id = b.tenant_id
        and ((r.created_at >= b.lo and r.created_at < b.hi)
             or (r.closed_at >= b.lo and r.closed_at < b.hi)
             or r.status = 'open')
    )"""

# workers employed during the month; their training hours this year and in the month
TRAINING = """
    (
      select count(*) as workers,
             coalesce(sum(h.month_hours), 0)::float8 as month_hours,
             coalesce(sum(h.ytd_annual), 0)::float8 as ytd_hours,
             count(*) filter (where coalesce(h.ytd_annual, 0) < b.ytd_required) as behind
      from staff_files f
      left join (
        select e.tenant_id, e.staff_file_id,
               sum(e.attended_hours) filter (where s.held_on >= b.m0) as month_hours,
               sum(e.attended_hours) filter (where c.counts_as = 'annual') as ytd_annual
        from training_sessions s
        join training_enrolments e on e.tenant_id = s.tenant_id and e.session_id = s.id
        join training_courses c on c.tenant_id = s.tenant_id and c.id = s.course_id
        where s.tenant_id = b.tenant_id and s.held_on >= b.y0 and s.held_on < b.m1
          and e.attended_hours is not null
        group by e.tenant_id, e.staff_file_id
      ) h on h.tenant_id = f.tenant_id and h.staff_file_id = f.id
      where f.tenant_id = b.tenant_id
        and f.employment_start < b.m1 and (f.employment_end is null or f.employment_end >= b.m0)
    )"""

CERTIFICATES = """
    (
      select count(*) filter (where c.expires_on >= b.m1) as expiring,
             count(*) filter (where c.expires_on < b.m1) as expired
      from staff_certificates c
      join staff_files f on f.tenant_id = c.tenant_id and f.id = c.staff_file_id
      where c.tenant_id = b.tenant_id and c.expires_on >= b.m0 and c.expires_on < b.expiring_until
        and (f.employment_end is null or f.employment_end >= b.m1)
    )"""

# each worker's load on the last day of the month against their limit
CASELOAD = """
    (
      select count(*) as workers,
             count(*) filter (where l.individual > l.individual_limit or l.community > l.community_limit)
               as over_limit,
             coalesce(avg(l.individual), 0)::float8 as average_individual,
             coalesce(max(l.individual), 0) as max_individual,
             coalesce(avg(l.individual::float8 / nullif(l.individual_limit, 0)), 0)::float8 as average_use
      from (
        select count(a.id) filter (where a.kind = 'individual') as individual,
               coalesce(sum(a.residents) filter (where a.kind = 'community'), 0) as community,
               coalesce(f.caseload_limit, b.limit_individual) as individual_limit,
               coalesce(f.community_limit, b.limit_community) as community_limit
        from staff_files f
        left join caseload_assignments a
          on a.tenant_id = f.tenant_id and a.staff_file_id = f.id
         and a.starts_on < b.m1 and (a.ends_on is null or a.ends_on >= b.m1)
        where f.tenant_id = b.tenant_id
          and f.employment_start < b.m1 and (f.employment_end is null or f.employment_end >= b.m1)
        group by f.tenant_id, f.id
      ) l
    )"""

# the previous month's return visits, due by the agency's day (`return_visit_due_day`) of this summary's month
# (the month just summarised): each worker x client pair visited that month
RETURN_VISITS = """
    (
      select count(*) as expected,
             count(r.id) filter (where r.visited_on <= b.p_due) as on_time,
             count(r.id) filter (where r.visited_on > b.p_due) as late,
             count(*) - count(r.id) as missing
      from (
        select distinct v.tenant_id, v.staff_file_id, v.client_id
        from visits v
        where v.tenant_id = b.tenant_id and v.starts_at >= b.p_lo and v.starts_at < b.lo
          and v.staff_file_id is not null and v.status in ('completed', 'in_progress', 'scheduled')
      ) p
      left join return_visits r
        on r.tenant_id = p.tenant_id and r.staff_file_id = p.staff_file_id and r.client_id = p.client_id
       and r.month = b.p0
    )"""

FOLLOW_UPS = """
    (
      select count(*) as due,
             count(*) filter (where u.done_on is not null and u.done_on <= u.due_on) as on_time,
             count(*) filter (where u.done_on is not null and u.done_on > u.due_on) as late,
             count(*) filter (where u.done_on is null) as not_done
      from case_follow_ups u
      where u.tenant_id = b.tenant_id and u.due_on >= b.m0 and u.due_on < b.m1
    )"""


PARTS = (
    ("visits_part", VISITS),
    ("feedback_part", FEEDBACK),
    ("rectifications_part", RECTIFICATIONS),
    ("training_part", TRAINING),
    ("certificates_part", CERTIFICATES),
    ("caseload_part", CASELOAD),
    ("return_visits_part", RETURN_VISITS),
    ("follow_ups_part", FOLLOW_UPS),
)

# Every part as one statement: one round trip and one plan for any number of
# agencies, one row per agency (each part as JSON).
FIGURES = text(
    "with"
    + BOUNDS
    + ","
    + SATISFACTION
    + """
    select b.tenant_id,
           to_json(visits_part) as visits, coalesce(satisfaction_part.rows, '[]') as satisfaction,
           feedback_part.rows as feedback, to_json(rectifications_part) as rectifications,
           to_json(training_part) as training, to_json(certificates_part) as certificates,
           to_json(caseload_part) as caseload, to_json(return_visits_part) as return_visits,
           to_json(follow_ups_part) as follow_ups
    from bounds b
    left join satisfaction_part on satisfaction_part.tenant_id = b.tenant_id
    """
    + "\n    ".join(f"cross join lateral {sql} {name}" for name, sql in PARTS)
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


def _bounds_row(b: Bounds) -> dict[str, Any]:
    """One agency's row of `bounds`, as JSON values (dates and instants in ISO
    8601, with their offset)."""
    w, s = b.window, b.settings
    prev = add_months(w.month, -1)
    row = {
        **w.params(),
        "p_lo": w.lo_of(prev),
        "p_due": w.month.replace(day=s.return_visit_due_day),
        "response_target": int(s.response_target_minutes),
        "ytd_required": str(Decimal(str(s.ytd_required(w.month)))),
        "expiring_until": w.next_month + timedelta(days=s.certificate_expiring_days),
        "limit_individual": int(s.limit_individual),
        "limit_community": int(s.limit_community),
    }
    return {k: v.isoformat() if isinstance(v, (date, datetime)) else v for k, v in row.items()}


def compute_many(sess: Session, agencies: list[Bounds]) -> dict[uuid.UUID, dict[str, Any]]:
    """The raw figures of each agency's month, in one statement, by agency.

    Under an agency's row-level security only its own row has data; through
    the platform reader, every agency in `agencies` (one month each)."""
    if not agencies:
        return {}
    if len({b.tenant_id for b in agencies}) != len(agencies):
        raise ValueError("one month per agency")
    params = {
        "tenant_ids": [b.tenant_id for b in agencies],
        "bounds": json.dumps({str(b.tenant_id): _bounds_row(b) for b in agencies}),
    }
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
