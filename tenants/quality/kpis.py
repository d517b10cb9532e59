"""The month's figures of one agency: one statement, each part bounded to the
month (plus the 6 months of the satisfaction trend, the previous month's return
visits and the year-to-date training hours), so the cost follows the month's
activity.

The statement is about one agency: every tenant table it reads is filtered by
`tenant_id = :tenant_id` (the same bound parameter everywhere), every join
between tenant tables pairs tenant_id, and the month's window and the agency's
settings are bound parameters, so on Citus it runs as a router query on the
agency's one shard. The per-agency build runs it in the agency's transaction,
where row-level security (`app.tenant_id`, set by `saas.db`) shows the agency
only its own rows anyway; the monthly sweep runs it once per due agency, each
under that agency's scope (`services.compute_batch`), so a sweep costs the sum
of its agencies' months.

Definitions (also shown on the summary page):
- planned visits: visits starting in the month, in the agency's time zone, not
  cancelled; delivered: completed; late: flagged late by the late-visit sweep;
  missed: marked or flagged missed; on time: delivered and never flagged late.
- coverage: clients with a planned visit in the month who had at least one
  delivered visit.
- contracted hours: what the service plans set for the month, i.e. each visit
  generated from a plan item (cancelled ones included) at its booked length
  (workers' contracted hours are not this); delivered hours: check-in to
  check-out of the completed visits (their booked length when either is
  missing), in all and on the plans' visits.
- cost: each completed visit at the price and unit it was booked under (per
  visit, or per hour of its booked length); per delivered visit and per client
  served.
- response time: from an opinion or complaint's receipt to the first step staff
  took on it (acknowledged or any later status), in minutes, averaged over the
  items received in the month that had such a step; community-service requests
  (the topics the agency names) and general ones apart, each against its own
  target.
- anonymous items (no member, no contact) may be closed without a response:
  that closing is their answer in every figure (answered, on time by the
  deadline, resolved, never overdue).
- resolution rate: items received in the month that are closed with a
  response (or anonymous and closed), over the items received.
- answered on time: answered by the item's deadline; overdue: not answered and
  the deadline passed when the summary was built.
- return visits (of the previous month): one owed for each client on each
  worker's individual caseload at any time that month, on time when recorded
  by the end of the agency's due day on its own clock.
- satisfaction: the visit ratings of the month's visits, mean and (population)
  standard deviation per dimension; the trend is the mean of the five
  dimensions for each of the last 6 months.
- score trend: the overall score of this agency's summaries of the 5 months
  before, as stored when they were built (this month's is added once scored).
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
# One statement for one agency. Every part reads each tenant table it touches
# with `tenant_id = :tenant_id` (the one bound parameter, the leading column of
# the indexes it uses) and every join between tenant tables pairs tenant_id, so
# on Citus the whole statement goes to the agency's one shard (a router query),
# and on one PostgreSQL it costs that agency's month whatever the other
# agencies hold. The month's window and the agency's settings come in as bound
# parameters (`_params`): nothing reads the agencies table. Each part is
# aggregated without GROUP BY at its top, so it always gives exactly one row
# (zeros when the agency had nothing).

# grouped by client first (a small in-memory aggregate) for the clients planned and served
VISITS = """
    (
      select count(*) filter (where c.planned > 0) as clients_planned,
             count(*) filter (where c.delivered > 0) as clients_served,
             coalesce(sum(c.planned), 0)::int as planned,
             coalesce(sum(c.delivered), 0)::int as delivered,
             coalesce(sum(c.delivered_on_time), 0)::int as delivered_on_time,
             coalesce(sum(c.late), 0)::int as late,
             coalesce(sum(c.missed), 0)::int as missed,
             coalesce(sum(c.cancelled), 0)::int as cancelled,
             coalesce(sum(c.cost), 0)::float8 as cost,
             coalesce(sum(c.delivered_hours), 0)::float8 as delivered_hours,
             coalesce(sum(c.contracted_hours), 0)::float8 as contracted_hours,
             coalesce(sum(c.delivered_plan_hours), 0)::float8 as delivered_plan_hours
      from (
        select count(*) filter (where v.status <> 'cancelled') as planned,
               count(*) filter (where v.status = 'completed') as delivered,
               count(*) filter (where v.status = 'completed' and v.late_flagged_at is null)
                 as delivered_on_time,
               count(*) filter (where v.status <> 'cancelled' and v.late_flagged_at is not null) as late,
               count(*) filter (where v.status = 'missed'
                                  or (v.missed_flagged_at is not null and v.status <> 'completed')) as missed,
               count(*) filter (where v.status = 'cancelled') as cancelled,
               -- at the price and unit each visit was booked under, for its booked length
               sum(case when v.unit = 'per_hour'
                        then v.price * extract(epoch from v.ends_at - v.starts_at) / 3600
                        else v.price end) filter (where v.status = 'completed') as cost,
               sum(extract(epoch from coalesce(v.checked_out_at - v.checked_in_at, v.ends_at - v.starts_at)))
                 filter (where v.status = 'completed') / 3600 as delivered_hours,
               -- what the service plans set: every visit generated from a plan item, at its booked length
               sum(extract(epoch from v.ends_at - v.starts_at))
                 filter (where v.plan_item_id is not null) / 3600 as contracted_hours,
               sum(extract(epoch from coalesce(v.checked_out_at - v.checked_in_at, v.ends_at - v.starts_at)))
                 filter (where v.plan_item_id is not null and v.status = 'completed') / 3600
                 as delivered_plan_hours
        from visits v
        where v.tenant_id = :tenant_id and v.starts_at >= :lo and v.starts_at < :hi
        group by v.client_id
      ) c
    )"""

# the dimension means and spreads of each of the last 6 months (the month's and the trend)
SATISFACTION = (
    """
    (
      select coalesce(json_agg(s order by s.month), '[]') as rows
      from (
        select date_trunc('month', v.local_day)::date as month, count(*) as n,
               """
    + ",\n               ".join(
        f"avg(r.{d})::float8 as {d}_mean, coalesce(stddev_pop(r.{d}), 0)::float8 as {d}_sd"
        for d in DIMENSIONS
    )
    + """
        from visits v
        join visit_ratings r on r.tenant_id = v.tenant_id and r.visit_id = v.id
        where v.tenant_id = :tenant_id and r.tenant_id = :tenant_id
          and v.starts_at >= :t_lo and v.starts_at < :hi
        group by 1
      ) s
    )"""
)

FEEDBACK = """
    (
      select coalesce(json_agg(g), '[]') as rows
      from (
        select i.kind = 'complaint' as complaint, i.category, a.community,
               count(*) as received,
               count(*) filter (where a.answered_at is not null) as answered,
               count(*) filter (where a.answered_at <= i.due_at) as answered_on_time,
               count(*) filter (where a.answered_at > i.due_at) as answered_late,
               count(*) filter (where a.answered_at is null and i.due_at < :as_of) as overdue,
               count(*) filter (where i.closed_at is not null and (i.response <> '' or a.anonymous))
                 as resolved,
               count(s.first_step) as stepped,
               coalesce(sum(extract(epoch from s.first_step - i.received_at) / 60), 0)::float8
                 as step_minutes,
               count(*) filter (
                 where s.first_step - i.received_at <= make_interval(mins => case when a.community
                   then cast(:response_target_community as int) else cast(:response_target as int) end)
               ) as stepped_in_target
        from feedback_items i
        -- the one rule for anonymous items (nobody to answer): they may be closed without
        -- a response, and that closing is their answer in every figure
        cross join lateral (
          select i.membership_id is null and i.contact = '' and i.contact_name = '' as anonymous,
                 coalesce(i.responded_at,
                          case when i.membership_id is null and i.contact = '' and i.contact_name = ''
                               then i.closed_at end) as answered_at,
                 lower(i.category) = any(cast(:community_topics as text[])) as community
        ) a
        cross join lateral (
          select min(t.at) as first_step from feedback_transitions t
          where t.tenant_id = :tenant_id and t.tenant_id = i.tenant_id and t.item_id = i.id
            and t.to_status <> 'received'
        ) s
        where i.tenant_id = :tenant_id and i.received_at >= :lo and i.received_at < :hi
        group by 1, 2, 3
      ) g
    )"""

RECTIFICATIONS = """
    (
      select count(*) filter (where r.created_at >= :lo and r.created_at < :hi) as opened,
             count(*) filter (where r.closed_at >= :lo and r.closed_at < :hi) as closed,
             count(*) filter (
               where r.status = 'open' and r.deadline < :m1 and r.deadline < cast(:as_of as timestamptz)::date
             ) as overdue
      from rectifications r
      where r.tenant_id = :tenant_id
        and ((r.created_at >= :lo and r.created_at < :hi)
             or (r.closed_at >= :lo and r.closed_at < :hi)
             or r.status = 'open')
    )"""

# workers employed during the month; their training hours this year and in the month
TRAINING = """
    (
      select count(*) as workers,
             coalesce(sum(h.month_hours), 0)::float8 as month_hours,
             coalesce(sum(h.ytd_annual), 0)::float8 as ytd_hours,
             count(*) filter (where coalesce(h.ytd_annual, 0) < cast(:ytd_required as numeric)) as behind
      from staff_files f
      left join (
        select e.tenant_id, e.staff_file_id,
               sum(e.attended_hours) filter (where s.held_on >= :m0) as month_hours,
               sum(e.attended_hours) filter (where c.counts_as = 'annual') as ytd_annual
        from training_sessions s
        join training_enrolments e on e.tenant_id = s.tenant_id and e.session_id = s.id
        join training_courses c on c.tenant_id = s.tenant_id and c.id = s.course_id
        where s.tenant_id = :tenant_id and e.tenant_id = :tenant_id and c.tenant_id = :tenant_id
          and s.held_on >= :y0 and s.held_on < :m1 and e.attended_hours is not null
        group by e.tenant_id, e.staff_file_id
      ) h on h.tenant_id = f.tenant_id and h.staff_file_id = f.id
      where f.tenant_id = :tenant_id
        and f.employment_start < :m1 and (f.employment_end is null or f.employment_end >= :m0)
    )"""

CERTIFICATES = """
    (
      select count(*) filter (where c.expires_on >= :m1) as expiring,
             count(*) filter (where c.expires_on < :m1) as expired
      from staff_certificates c
      join staff_files f on f.tenant_id = c.tenant_id and f.id = c.staff_file_id
      where c.tenant_id = :tenant_id and f.tenant_id = :tenant_id
        and c.expires_on >= :m0 and c.expires_on < :expiring_until
        and (f.employment_end is null or f.employment_end >= :m1)
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
               coalesce(f.caseload_limit, cast(:limit_individual as int)) as individual_limit,
               coalesce(f.community_limit, cast(:limit_community as int)) as community_limit
        from staff_files f
        left join caseload_assignments a
          on a.tenant_id = f.tenant_id and a.staff_file_id = f.id and a.tenant_id = :tenant_id
         and a.starts_on < :m1 and (a.ends_on is null or a.ends_on >= :m1)
        where f.tenant_id = :tenant_id
          and f.employment_start < :m1 and (f.employment_end is null or f.employment_end >= :m1)
        group by f.tenant_id, f.id
      ) l
    )"""

# the previous month's return visits, due by the agency's day (`return_visit_due_day`) of this
# summary's month (the month just summarised): one for each client on each worker's individual
# caseload at any time in that month (an assignment naming the client, as assigning visits makes
# them), on time when recorded by the end of the due day on the agency's clock
RETURN_VISITS = """
    (
      select count(*) as expected,
             count(r.id) filter (where r.recorded_at < :p_due_until) as on_time,
             count(r.id) filter (where r.recorded_at >= :p_due_until) as late,
             count(*) - count(r.id) as missing
      from (
        select distinct a.tenant_id, a.staff_file_id, c.id as client_id
        from caseload_assignments a
        join clients c on c.tenant_id = a.tenant_id and c.id::text = a.reference
        where a.tenant_id = :tenant_id and c.tenant_id = :tenant_id and a.kind = 'individual'
          and a.starts_on < :m0 and (a.ends_on is null or a.ends_on > :p0)
      ) p
      left join return_visits r
        on r.tenant_id = p.tenant_id and r.staff_file_id = p.staff_file_id and r.client_id = p.client_id
       and r.tenant_id = :tenant_id and r.month = :p0
    )"""

FOLLOW_UPS = """
    (
      select count(*) as due,
             count(*) filter (where u.done_on is not null and u.done_on <= u.due_on) as on_time,
             count(*) filter (where u.done_on is not null and u.done_on > u.due_on) as late,
             count(*) filter (where u.done_on is null) as not_done
      from case_follow_ups u
      where u.tenant_id = :tenant_id and u.due_on >= :m0 and u.due_on < :m1
    )"""

# the overall score of the summaries of the 5 months before (the score's trend)
SCORES = """
    (
      select coalesce(json_agg(json_build_object('month', q.month, 'score', q.figures -> 'score')
                               order by q.month), '[]') as rows
      from quality_summaries q
      where q.tenant_id = :tenant_id and q.month >= :t0 and q.month < :m0 and q.built_at is not null
    )"""


PARTS = (
    ("visits_part", VISITS),
    ("satisfaction_part", SATISFACTION),
    ("feedback_part", FEEDBACK),
    ("rectifications_part", RECTIFICATIONS),
    ("training_part", TRAINING),
    ("certificates_part", CERTIFICATES),
    ("caseload_part", CASELOAD),
    ("return_visits_part", RETURN_VISITS),
    ("follow_ups_part", FOLLOW_UPS),
    ("scores_part", SCORES),
)

# Every part as one statement: one round trip and one plan, one row (each part as JSON).
FIGURES = text(
    """
    select to_json(visits_part) as visits, satisfaction_part.rows as satisfaction,
           feedback_part.rows as feedback, to_json(rectifications_part) as rectifications,
           to_json(training_part) as training, to_json(certificates_part) as certificates,
           to_json(caseload_part) as caseload, to_json(return_visits_part) as return_visits,
           to_json(follow_ups_part) as follow_ups, scores_part.rows as scores
    from """
    + ",\n    ".join(f"{sql} {name}" for name, sql in PARTS)
)


@dataclass(frozen=True)
class Settings:
    """The agency's own numbers the figures depend on."""

    response_target_minutes: int  # general requests
    annual_training_hours: float
    certificate_expiring_days: int
    limit_individual: int
    limit_community: int
    # the day of the next month a month's return visits are due by
    return_visit_due_day: int = 7
    community_response_target_minutes: int = 30
    # topics (lower case) of the opinions and complaints that are community-service requests
    community_topics: tuple[str, ...] = ()

    def ytd_required(self, month: date) -> float:
        # the annual requirement spread evenly over the year, up to the end of the month
        return round(float(self.annual_training_hours) * month.month / 12, 2)


def _params(tenant_id: uuid.UUID, window: Window, settings: Settings) -> dict[str, Any]:
    """The statement's bound parameters: the agency, its month's window (UTC
    instants from its own time zone) and its settings."""
    prev = add_months(window.month, -1)
    due = window.month.replace(day=settings.return_visit_due_day)
    return {
        **window.params(),
        "tenant_id": tenant_id,
        "p_lo": window.lo_of(prev),
        # the end of the due day on the agency's clock
        "p_due_until": window.lo_of(due + timedelta(days=1)),
        "response_target": int(settings.response_target_minutes),
        "response_target_community": int(settings.community_response_target_minutes),
        "community_topics": [t.lower() for t in settings.community_topics],
        "ytd_required": Decimal(str(settings.ytd_required(window.month))),
        "expiring_until": window.next_month + timedelta(days=settings.certificate_expiring_days),
        "limit_individual": int(settings.limit_individual),
        "limit_community": int(settings.limit_community),
    }


def compute(sess: Session, window: Window, settings: Settings) -> dict[str, Any]:
    """All raw figures of the month of the agency in scope (counts and sums;
    the KPIs are derived from them in `targets.evaluate`), in one statement
    about that agency only. The monthly sweep calls it once per agency, each
    in its own scope (`services.compute_batch`)."""
    tenant_id = current_tenant_id(sess)
    if tenant_id is None:
        raise TenantNotSet("quality figures")
    row = sess.execute(FIGURES, _params(tenant_id, window, settings)).mappings().one()
    return _shape(row, window, settings)


def _part(value: dict[str, Any]) -> dict[str, Any]:
    value.pop("tenant_id", None)
    return value


def _shape(row: Any, window: Window, settings: Settings) -> dict[str, Any]:
    """The statement's row as the stored figures."""
    prev = add_months(window.month, -1)
    ytd_required = settings.ytd_required(window.month)
    visits = _part(row["visits"])
    cost = visits.pop("cost")
    figures: dict[str, Any] = {"visits": visits}
    figures["cost"] = {
        "total": round(cost, 2),
        "per_visit": round(cost / visits["delivered"], 2) if visits["delivered"] else None,
        "per_client": round(cost / visits["clients_served"], 2) if visits["clients_served"] else None,
    }
    figures["hours"] = {
        "contracted": round(visits.pop("contracted_hours"), 2),
        "delivered": round(visits.pop("delivered_hours"), 2),
        "delivered_on_plans": round(visits.pop("delivered_plan_hours"), 2),
    }
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
    community = {"received": 0, "stepped": 0, "step_minutes": 0.0, "stepped_in_target": 0}
    categories: dict[str, dict[str, int]] = {}
    for r in row["feedback"]:
        for key in feedback:
            feedback[key] += r[key]
        if r["community"]:
            for key in community:
                community[key] += r[key]
        if r["complaint"]:
            for key in complaints:
                complaints[key] += r[key]
            cat = categories.setdefault(
                r["category"] or "", {"received": 0, "answered_on_time": 0, "overdue": 0}
            )
            for key in cat:
                cat[key] += r[key]
    feedback["step_minutes"] = round(float(feedback["step_minutes"]), 1)
    community["step_minutes"] = round(float(community["step_minutes"]), 1)
    feedback["community"] = community
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
    figures["score_trend"] = [
        {"month": r["month"], "score": r["score"]} for r in row["scores"] if r["score"] is not None
    ]
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
