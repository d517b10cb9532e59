"""Benchmark: building every agency's monthly quality summary on a platform of
500 agencies and 2 million visits in the month, against one hand-written SQL
query computing the same figures (all nine parts) for all agencies at once.
Checks that every agency's stored figures equal the reference's, and ends with
the ratio of the two (target: at most 1.5x) as its last line, `quality: Rx`.

    .venv/bin/python -m bench.quality                          # 500 agencies, 2,000,000 visits
    .venv/bin/python -m bench.quality --agencies 50 --visits 100000   # a quick check
    QUALITY_BENCH_VISITS=100000 QUALITY_BENCH_AGENCIES=50 make bench  # the same through make

The data is generated with set-based INSERT ... SELECT generate_series as the
owner role (a few minutes at full size): visits, ratings, opinions and
complaints with their steps, staff with caseloads, certificates and training,
rectifications, follow-ups, return visits, one admin per agency, and three
kinds of agency settings (targets, training hours, certificate window, caseload
limits).

What is timed, each over several rounds (`--rounds`, 5 by default; the median
is reported, and the order of the two alternates from round to round so that
neither always finds the caches the other left):

- the build: the monthly sweep's real path from the moment it starts, as the
  app role: `due_agencies` (the agencies, and which already have the month's
  summary), then `build_due`: each due agency's figures in one statement
  about it alone, under its own scope, each summary stored under its own
  agency's row-level security with its audit entry, the outbox rows of the jobs that
  email the admins, one commit per 100 agencies, and the relay of those jobs
  to Redis after each commit. Delivering the emails is the worker's, after the
  commit, and is not timed. Before each round the month's summaries are
  deleted (as the owner), so every round builds all of them; the audit logs
  keep growing, as they do in real life.
- the reference: one statement as the owner (no row-level security, which
  costs nothing measurable), rows fetched. It is written independently of
  `tenants/quality/kpis.py`, as fast as it can be written: it is the yardstick.

Each agency's figures are one statement about that agency alone (so that Citus
can route it to the agency's shard), where they were once one statement for
every agency. One agency's month of visits lies scattered over heap pages it
shares with the other agencies, so the visits part reads only the covering index
`ix_visits_start` (every column the visits and satisfaction parts use; without
the cost and hours columns it was about 5x, 12.8x on a loaded machine). With it, at
50 agencies and 100,000 visits on a machine loaded by other work: 5.6x wall,
5.0x CPU, the server's CPU halved (0.50 s to 0.26 s); what is left is mostly
this process storing each summary with its audit entry and outbox rows (about
6 ms an agency) and one planning of the large statement per agency. Still above
the 1.5x target: a batch statement grouped by `tenant_id` over a VALUES list of
the agencies' windows (pushed down per shard on Citus) is the next lead.

Besides the wall times, the CPU seconds used by the PostgreSQL server (its
parallel workers included) and by this process are printed: on a busy machine
they move less than the wall time, but only the wall time of a quiet machine
decides the target.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import configure_mappers

MONTH = date(2026, 10, 1)
ZONES = ("Europe/London", "Asia/Shanghai", "America/New_York", "Australia/Sydney")
# three kinds of agencies: the defaults, a community service, a small agency with tight limits
SETTINGS = [
    "{}",
    '{"quality_targets": {"response_time": 30}, "annual_training_hours": 40, "certificate_expiring_days": 30,'
    ' "caseload_limit_individual": 2}',
    '{"annual_training_hours": 8, "certificate_expiring_days": 90, "caseload_limit_individual": 4,'
    ' "caseload_limit_community": 10}',
]

# Every figure of the summary, for every bench agency, in one statement: each agency's month from
# its own time zone (make_timestamptz), its settings read from its row with the domain defaults.
# Written on its own (months bucketed with AT TIME ZONE, lateral joins, per-agency aggregates),
# as fast as it can be written: counted per client first for the visits, like the build.
REFERENCE = text(
    """
    with a as (
      select id, timezone as tz,
             make_timestamptz(2026, 10, 1, 0, 0, 0, timezone) as lo,
             make_timestamptz(2026, 11, 1, 0, 0, 0, timezone) as hi,
             make_timestamptz(2026, 9, 1, 0, 0, 0, timezone) as prev_lo,
             make_timestamptz(2026, 5, 1, 0, 0, 0, timezone) as trend_lo,
             coalesce((settings -> 'quality_targets' ->> 'response_time')::float8, 120) as response_target,
             round(coalesce((settings ->> 'annual_training_hours')::numeric, 20) * 10 / 12, 2)
               as ytd_required,
             coalesce((settings ->> 'certificate_expiring_days')::int, 60) as cert_days,
             coalesce((settings ->> 'caseload_limit_individual')::int, 20) as lim_i,
             coalesce((settings ->> 'caseload_limit_community')::int, 500) as lim_c
      from agencies where slug like 'bench-%'
    ), per_client as (
      -- each agency's month on its own, client by client (a small aggregate in memory per agency,
      -- where one grouping of every agency's month would sort them all on disk)
      select a.id as tenant_id, c.*
      from a cross join lateral (
        select count(*) filter (where status <> 'cancelled') as planned,
               count(*) filter (where status = 'completed') as delivered,
               count(*) filter (where status = 'completed' and late_flagged_at is null) as delivered_on_time,
               count(*) filter (where status <> 'cancelled' and late_flagged_at is not null) as late,
               count(*) filter (where status = 'missed'
                                  or (missed_flagged_at is not null and status <> 'completed')) as missed,
               count(*) filter (where status = 'cancelled') as cancelled
        from visits v where v.tenant_id = a.id and v.starts_at >= a.lo and v.starts_at < a.hi
        group by v.client_id
      ) c
    ), vis as (
      select tenant_id, sum(planned) as planned, sum(delivered) as delivered,
             sum(delivered_on_time) as delivered_on_time, sum(late) as late, sum(missed) as missed,
             sum(cancelled) as cancelled, count(*) filter (where planned > 0) as clients_planned,
             count(*) filter (where delivered > 0) as clients_served
      from per_client group by tenant_id
    ), sat as (
      select v.tenant_id, date_trunc('month', v.starts_at at time zone a.tz)::date as month, count(*) as n,
             avg(r.attitude) as attitude_m, stddev_pop(r.attitude) as attitude_s,
             avg(r.process) as process_m, stddev_pop(r.process) as process_s,
             avg(r.effect) as effect_m, stddev_pop(r.effect) as effect_s,
             avg(r.environment) as environment_m, stddev_pop(r.environment) as environment_s,
             avg(r.timeliness) as timeliness_m, stddev_pop(r.timeliness) as timeliness_s
      from a join visits v on v.tenant_id = a.id and v.starts_at >= a.trend_lo and v.starts_at < a.hi
      join visit_ratings r on r.tenant_id = v.tenant_id and r.visit_id = v.id
      group by 1, 2
    ), sat_json as (
      select tenant_id, json_agg(sat order by month) as months from sat group by tenant_id
    ), fb as (
      select i.tenant_id, i.kind, i.category, i.due_at, i.closed_at, i.response,
             -- anonymous (no member, no contact): may be closed without a response, which answers it
             (i.membership_id is null and i.contact = '' and i.contact_name = '') as anonymous,
             coalesce(i.responded_at, case when i.membership_id is null and i.contact = ''
                                                and i.contact_name = '' then i.closed_at end) as responded_at,
             i.due_at < now() as past_due, st.first_at - i.received_at as waited, a.response_target
      from a join feedback_items i on i.tenant_id = a.id and i.received_at >= a.lo and i.received_at < a.hi
      left join lateral (
        select min(t.at) as first_at from feedback_transitions t
        where t.tenant_id = i.tenant_id and t.item_id = i.id and t.to_status <> 'received'
      ) st on true
    ), fb_cat as (
      select tenant_id, kind = 'complaint' as complaint, coalesce(category, '') as category,
             count(*) as received,
             count(responded_at) as answered,
             count(*) filter (where responded_at <= due_at) as answered_on_time,
             count(*) filter (where responded_at > due_at) as answered_late,
             count(*) filter (where responded_at is null and past_due) as overdue,
             count(*) filter (where closed_at is not null and (response <> '' or anonymous)) as resolved,
             count(waited) as stepped,
             sum(extract(epoch from waited)) / 60 as step_minutes,
             count(*) filter (where waited <= response_target * interval '1 minute') as stepped_in_target
      from fb group by 1, 2, 3
    ), fb_json as (
      select tenant_id, json_agg(fb_cat) as cats from fb_cat group by tenant_id
    ), rect as (
      select a.id as tenant_id,
             count(*) filter (where r.created_at >= a.lo and r.created_at < a.hi) as opened,
             count(*) filter (where r.closed_at >= a.lo and r.closed_at < a.hi) as closed,
             count(*) filter (where r.status = 'open' and r.deadline < date '2026-11-01'
                                and r.deadline < current_date) as overdue
      from a join rectifications r on r.tenant_id = a.id
      group by a.id
    ), staff as (
      select f.tenant_id, f.id, f.employment_end, a.ytd_required,
             coalesce(f.caseload_limit, a.lim_i) as lim_i, coalesce(f.community_limit, a.lim_c) as lim_c
      from a join staff_files f on f.tenant_id = a.id
      where f.employment_start < date '2026-11-01'
        and (f.employment_end is null or f.employment_end >= date '2026-10-01')
    ), hours as (
      select e.tenant_id, e.staff_file_id,
             sum(e.attended_hours) filter (where s.held_on >= date '2026-10-01') as month_h,
             sum(e.attended_hours) filter (where c.counts_as = 'annual') as annual_h
      from a join training_sessions s on s.tenant_id = a.id
       and s.held_on >= date '2026-01-01' and s.held_on < date '2026-11-01'
      join training_enrolments e on e.tenant_id = s.tenant_id and e.session_id = s.id
      join training_courses c on c.tenant_id = s.tenant_id and c.id = s.course_id
      where e.attended_hours is not null
      group by 1, 2
    ), train as (
      select st.tenant_id, count(*) as workers, coalesce(sum(h.month_h), 0) as month_hours,
             coalesce(sum(h.annual_h), 0) as ytd_hours,
             count(*) filter (where coalesce(h.annual_h, 0) < st.ytd_required) as behind
      from staff st left join hours h on h.tenant_id = st.tenant_id and h.staff_file_id = st.id
      group by st.tenant_id
    ), load as (
      select st.tenant_id, st.id, st.lim_i, st.lim_c,
             count(c.id) filter (where c.kind = 'individual') as individual,
             coalesce(sum(c.residents) filter (where c.kind = 'community'), 0) as community
      from staff st
      left join caseload_assignments c on c.tenant_id = st.tenant_id and c.staff_file_id = st.id
       and c.starts_on <= date '2026-10-31' and (c.ends_on is null or c.ends_on > date '2026-10-31')
      where st.employment_end is null or st.employment_end > date '2026-10-31'
      group by 1, 2, 3, 4
    ), cl as (
      select tenant_id, count(*) as workers,
             count(*) filter (where individual > lim_i or community > lim_c) as over_limit,
             avg(individual) as average_individual, max(individual) as max_individual,
             avg(individual::float8 / nullif(lim_i, 0)) as average_use
      from load group by tenant_id
    ), cert as (
      select a.id as tenant_id,
             count(*) filter (where c.expires_on >= date '2026-11-01') as expiring,
             count(*) filter (where c.expires_on < date '2026-11-01') as expired
      from a join staff_certificates c on c.tenant_id = a.id
       and c.expires_on between date '2026-10-01' and date '2026-11-01' + a.cert_days - 1
      join staff_files f on f.tenant_id = c.tenant_id and f.id = c.staff_file_id
      where f.employment_end is null or f.employment_end > date '2026-10-31'
      group by a.id
    ), pairs as (
      -- each client on each worker's individual caseload on any day of September
      select distinct a.id as tenant_id, c.staff_file_id, k.id as client_id
      from a join caseload_assignments c on c.tenant_id = a.id and c.kind = 'individual'
       and c.starts_on <= date '2026-09-30' and (c.ends_on is null or c.ends_on > date '2026-09-01')
      join clients k on k.tenant_id = c.tenant_id and k.id::text = c.reference
    ), ret as (
      -- on time: recorded by the end of 7 October on the agency's clock
      select p.tenant_id, count(*) as expected,
             count(*) filter (where r.recorded_at < make_timestamptz(2026, 10, 8, 0, 0, 0, a.tz)) as on_time,
             count(*) filter (where r.recorded_at >= make_timestamptz(2026, 10, 8, 0, 0, 0, a.tz)) as late,
             count(*) filter (where r.id is null) as missing
      from pairs p join a on a.id = p.tenant_id
      left join return_visits r on r.tenant_id = p.tenant_id
       and (r.staff_file_id, r.client_id, r.month) = (p.staff_file_id, p.client_id, date '2026-09-01')
      group by p.tenant_id
    ), fu as (
      select a.id as tenant_id, count(*) as due, count(*) filter (where u.done_on <= u.due_on) as on_time,
             count(*) filter (where u.done_on > u.due_on) as late, count(*) filter (where u.done_on is null)
               as not_done
      from a join case_follow_ups u on u.tenant_id = a.id
       and u.due_on >= date '2026-10-01' and u.due_on < date '2026-11-01'
      group by a.id
    )
    select a.id as tenant_id, to_json(vis) as visits, sat_json.months as satisfaction,
           fb_json.cats as feedback,
           to_json(rect) as rectifications, to_json(train) as training, to_json(cert) as certificates,
           to_json(cl) as caseload, to_json(ret) as return_visits, to_json(fu) as follow_ups
    from a
    left join vis on vis.tenant_id = a.id
    left join sat_json on sat_json.tenant_id = a.id
    left join fb_json on fb_json.tenant_id = a.id
    left join rect on rect.tenant_id = a.id
    left join train on train.tenant_id = a.id
    left join cert on cert.tenant_id = a.id
    left join cl on cl.tenant_id = a.id
    left join ret on ret.tenant_id = a.id
    left join fu on fu.tenant_id = a.id
    """
)
DIMENSIONS = ("attitude", "process", "effect", "environment", "timeliness")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agencies", type=int, default=int(os.environ.get("QUALITY_BENCH_AGENCIES", 500)))
    parser.add_argument("--visits", type=int, default=int(os.environ.get("QUALITY_BENCH_VISITS", 2_000_000)))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("QUALITY_BENCH_ROUNDS", 5)))
    args = parser.parse_args()

    from saas import embedded

    root = Path(tempfile.mkdtemp(prefix="carehub-bench-"))
    servers = embedded.start(root, persistent=False)
    os.environ.update(DATABASE_URL=servers.database_url, REDIS_URL=servers.redis_url)
    os.environ["SECRET_KEY"] = "bench-only-secret"  # noqa: S105
    try:
        run(args.agencies, args.visits, servers.database_url, max(args.rounds, 1), root / "pgdata")
    finally:
        servers.stop()


def seed(engine, agencies: int, visits: int) -> None:
    clients_each = 40
    params = {"n": agencies, "v": visits, "c": clients_each, "zones": list(ZONES), "settings": SETTINGS}
    statements = [
        # agencies, one service item each, 40 clients each: ids derived from numbers, so the
        # visits can name them without a join
        """
        insert into agencies (id, slug, name, timezone, locale, status, settings, created_at, billing_state)
        select md5('agency-' || a)::uuid, 'bench-' || a, 'Bench agency ' || a,
               (cast(:zones as text[]))[1 + a % cardinality(cast(:zones as text[]))],
               'en', 'active', (cast(:settings as text[]))[1 + a % 3]::jsonb, '2025-01-01', 'active'
        from generate_series(1, :n) a
        """,
        """
        insert into service_categories (tenant_id, id, name, position, created_at)
        select md5('agency-' || a)::uuid, md5('cat-' || a)::uuid, 'Care', 0, now()
        from generate_series(1, :n) a
        """,
        """
        insert into service_items (tenant_id, id, category_id, name, description, scope_included,
          scope_excluded, active, created_at, updated_at)
        select md5('agency-' || a)::uuid, md5('item-' || a)::uuid, md5('cat-' || a)::uuid,
               'Visit', '', '', '',
               true, now(), now()
        from generate_series(1, :n) a
        """,
        """
        insert into clients (tenant_id, id, full_name, preferred_name, gender, phone, email, address,
          checkin_radius_m, languages, consent_services, consent_data, created_at)
        select md5('agency-' || a)::uuid, md5('client-' || a || '-' || c)::uuid, 'Client ' || c, '',
               'undisclosed', '', '', '', 300, '[]', true, true, now()
        from generate_series(1, :n) a, generate_series(1, :c) c
        """,
        # one admin and ten carers per agency, with staff files (one left in October, one has a
        # caseload limit of its own)
        """
        insert into users (id, email, name, locale, is_operator, is_active, created_at)
        select md5('user-' || a || '-' || u)::uuid, 'u' || u || '@bench-' || a || '.example', 'User ' || u,
               'en', false, true, now()
        from generate_series(1, :n) a, generate_series(0, 10) u
        """,
        """
        insert into memberships (tenant_id, id, user_id, role, active, created_at)
        select md5('agency-' || a)::uuid, md5('member-' || a || '-' || u)::uuid,
               md5('user-' || a || '-' || u)::uuid, case when u = 0 then 'admin' else 'carer' end, true, now()
        from generate_series(1, :n) a, generate_series(0, 10) u
        """,
        """
        insert into staff_files (tenant_id, id, membership_id, staff_role, employment_start, employment_end,
          skills, languages, home_area, contracted_hours, availability, caseload_limit, notes, created_at,
          updated_at)
        select md5('agency-' || a)::uuid, md5('staff-' || a || '-' || s)::uuid,
               md5('member-' || a || '-' || s)::uuid, 'carer', '2024-01-01',
               case when s = 10 then date '2026-10-15' end, '[]', '[]', '', 37.5, '{}',
               case when s % 4 = 0 then 1 end, '', now(), now()
        from generate_series(1, :n) a, generate_series(1, 10) s
        """,
        """
        insert into caseload_assignments (tenant_id, id, staff_file_id, kind, label, reference, residents,
          starts_on, ends_on, created_at)
        select md5('agency-' || a)::uuid, gen_random_uuid(), md5('staff-' || a || '-' || s)::uuid,
               case when j = 3 and s % 2 = 0 then 'community' else 'individual' end, 'c' || j,
               -- an individual one names its client (carer s serves clients s + 10, s + 20, ...)
               case when j = 3 and s % 2 = 0 then ''
                    else md5('client-' || a || '-' || (s + 10 * j))::uuid::text end,
               case when j = 3 and s % 2 = 0 then 5 + s else 1 end, '2026-09-01',
               case when j = 2 and s % 3 = 0 then date '2026-10-20' end, now()
        from generate_series(1, :n) a, generate_series(1, 10) s, generate_series(1, 3) j
        """,
        """
        insert into certificate_types (tenant_id, id, name, description, active, created_at)
        select md5('agency-' || a)::uuid, md5('cert-type-' || a)::uuid, 'First aid', '', true, now()
        from generate_series(1, :n) a
        """,
        """
        insert into staff_certificates (tenant_id, id, staff_file_id, certificate_type_id, number, issuer,
          issued_on, expires_on, created_at)
        select md5('agency-' || a)::uuid, gen_random_uuid(), md5('staff-' || a || '-' || s)::uuid,
               md5('cert-type-' || a)::uuid, 'N' || s, '', '2020-01-01', date '2026-10-01' + s * 9, now()
        from generate_series(1, :n) a, generate_series(1, 10) s
        """,
        """
        insert into training_courses (tenant_id, id, title, category, form, hours, counts_as, description,
          active, created_at)
        select md5('agency-' || a)::uuid, md5('course-' || a)::uuid, 'Ethics', 'ethics', 'classroom', 4,
               'annual', '', true, now()
        from generate_series(1, :n) a
        """,
        """
        insert into training_sessions (tenant_id, id, course_id, held_on, trainer, location, capacity, notes,
          created_at)
        select md5('agency-' || a)::uuid, md5('session-' || a || '-' || j)::uuid, md5('course-' || a)::uuid,
               (array[date '2026-03-10', date '2026-10-12', date '2026-11-05'])[j], 'T', '', 20, '', now()
        from generate_series(1, :n) a, generate_series(1, 3) j
        """,
        """
        insert into training_enrolments (tenant_id, id, session_id, staff_file_id, status, attended_hours,
          evaluation_comment, created_at)
        select md5('agency-' || a)::uuid, gen_random_uuid(), md5('session-' || a || '-' || j)::uuid,
               md5('staff-' || a || '-' || s)::uuid, 'completed', 2 + (s % 3) * 2, '', now()
        from generate_series(1, :n) a, generate_series(1, 10) s, generate_series(1, 3) j
        where (s + j) % 3 <> 0
        """,
        """
        insert into rectifications (tenant_id, id, source, finding, problem, measures, owner_membership_id,
          deadline, status, created_at, closed_at)
        select md5('agency-' || a)::uuid, gen_random_uuid(), 'inspection', 'f', 'p', 'm',
               md5('member-' || a || '-0')::uuid, date '2026-10-01' + i * 5,
               case when i % 2 = 1 then 'closed' else 'open' end,
               timestamptz '2026-09-25 10:00+00' + i * interval '4 days',
               case when i % 2 = 1 then timestamptz '2026-09-28 10:00+00' + i * interval '4 days' end
        from generate_series(1, :n) a, generate_series(1, 6) i
        """,
        """
        insert into cases (tenant_id, id, client_id, number, status, intake_channel, referrer,
          materials_received, opened_on, closure_reason, created_at)
        select md5('agency-' || a)::uuid, md5('case-' || a)::uuid, md5('client-' || a || '-1')::uuid, 'C1',
               'active', 'phone', '', '', '2026-01-01', '', now()
        from generate_series(1, :n) a
        """,
        """
        insert into case_follow_ups (tenant_id, id, case_id, label, due_on, done_on, outcome)
        select md5('agency-' || a)::uuid, gen_random_uuid(), md5('case-' || a)::uuid, 'f' || i,
               date '2026-09-20' + i * 8,
               case i % 3 when 1 then date '2026-09-19' + i * 8 when 2 then date '2026-09-22' + i * 8 end, ''
        from generate_series(1, :n) a, generate_series(1, 6) i
        """,
        # September's return visits for some carer x client pairs of the caseloads (carer s serves
        # clients s + 10, s + 20, ...), made in September and recorded before or after the 7th
        """
        insert into return_visits (tenant_id, id, staff_file_id, client_id, month, visited_on, notes,
          recorded_at)
        select md5('agency-' || a)::uuid, gen_random_uuid(), md5('staff-' || a || '-' || s)::uuid,
               md5('client-' || a || '-' || (s + 10 * j))::uuid, '2026-09-01', date '2026-09-20' + j,
               '', timestamptz '2026-09-28 10:00+00' + j * interval '4 days'
        from generate_series(1, :n) a, generate_series(1, 10) s, generate_series(0, 3) j
        where (s + j) % 2 = 0
        """,
        # the month's visits, spread over every agency and the month, from 30 September UTC (still
        # September in every zone, which must not count); statuses and clients vary within each
        # agency (k numbers an agency's own visits)
        """
        insert into visits (tenant_id, id, client_id, service_item_id, local_day, starts_at, ends_at, status,
          price, unit, checklist, checkin_outside_radius, flag_resolution, cancel_reason, reschedule_reason,
          created_at, late_flagged_at, missed_flagged_at, staff_file_id)
        select md5('agency-' || a)::uuid, gen_random_uuid(), md5('client-' || a || '-' || (1 + k % :c))::uuid,
               md5('item-' || a)::uuid,
               (t at time zone (cast(:zones as text[]))[1 + a % cardinality(cast(:zones as text[]))])::date,
               t, t + interval '1 hour',
               (array['completed','completed','completed','completed','completed','completed','scheduled',
                      'cancelled','missed','completed'])[1 + k % 10],
               20, 'per_visit', '[]', false, '', '', '', now(),
               case when k % 7 = 0 then t + interval '20 minutes' end,
               case when k % 23 = 0 then t + interval '2 hours' end,
               md5('staff-' || a || '-' || (1 + k % 10))::uuid
        from generate_series(1, :v) g,
             lateral (select 1 + g % :n as a, g / :n as k) x,
             lateral (select timestamptz '2026-09-30 00:00+00' + (g % 3300) * interval '13 minutes'
                      + (g % 97) * interval '1 second' as t) y
        """,
        # a rating for one completed visit in five
        """
        insert into visit_ratings (tenant_id, id, visit_id, client_id, attitude, process, effect, environment,
          timeliness, comment, channel, created_at, updated_at)
        select tenant_id, gen_random_uuid(), id, client_id, 1 + (abs(hashtext(id::text)) % 5), 4, 4, 3,
               1 + (abs(hashtext(id::text)) % 3) + 2, '', 'portal', now(), now()
        from visits where status = 'completed' and abs(hashtext(id::text)) % 5 = 0
        """,
        # 30 opinions and complaints per agency
        """
        insert into feedback_items (tenant_id, id, kind, category, about, description, contact_name, contact,
          confidential, channel, status, received_at, due_at, response, responded_at, closed_at)
        select md5('agency-' || a)::uuid, gen_random_uuid(),
               case when i % 3 = 0 then 'opinion' else 'complaint' end, 'Category ' || (i % 4), 'agency', 'x',
               '', '', false, 'phone', case when i % 5 = 0 then 'received' else 'closed' end,
               timestamptz '2026-10-01 12:00+00' + i * interval '20 hours',
               timestamptz '2026-10-04 12:00+00' + i * interval '20 hours',
               case when i % 5 = 0 then '' else 'done' end,
               case when i % 5 <> 0 then timestamptz '2026-10-02 12:00+00' + i * interval '20 hours' end,
               case when i % 5 <> 0 then timestamptz '2026-10-02 13:00+00' + i * interval '20 hours' end
        from generate_series(1, :n) a, generate_series(1, 30) i
        """,
        # each item's receipt, and a first step on most of them
        """
        insert into feedback_transitions (tenant_id, id, item_id, from_status, to_status, at, note)
        select tenant_id, gen_random_uuid(), id, null, 'received', received_at, '' from feedback_items
        union all
        select tenant_id, gen_random_uuid(), id, 'received', 'acknowledged',
               received_at + (abs(hashtext(id::text)) % 300) * interval '1 minute', ''
        from feedback_items where abs(hashtext(id::text)) % 5 <> 0
        """,
    ]
    with engine.begin() as conn:
        for sql in statements:
            started = time.perf_counter()
            conn.execute(text(sql), params)
            print(f"  seeded in {time.perf_counter() - started:6.1f} s: {sql.split()[2]}")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("vacuum analyze"))


def server_cpu(pgdata: Path | None) -> float | None:
    """CPU seconds used so far by the PostgreSQL server's processes (the
    postmaster and its children), read from /proc; None where there is none."""
    try:
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])  # type: ignore[operator]
        tick = os.sysconf("SC_CLK_TCK")
        used = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(entry.name) == postmaster or int(fields[1]) == postmaster:
                used += int(fields[11]) + int(fields[12])
        return used / tick
    except (OSError, TypeError, ValueError, IndexError):
        return None


class Timing:
    """Wall and CPU seconds of one timed run."""

    def __init__(self, pgdata: Path | None) -> None:
        self.pgdata = pgdata

    def __enter__(self) -> Timing:
        self._cpu = (server_cpu(self.pgdata), time.process_time())
        self._started = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self._started
        server, process = server_cpu(self.pgdata), time.process_time()
        self.server = server - self._cpu[0] if server is not None and self._cpu[0] is not None else None
        self.process = process - self._cpu[1]


def build_all(month: date, pgdata: Path | None) -> tuple[Timing, float, dict, float, int]:
    """The monthly sweep's real path, timed: find the due agencies (the sweep's
    `due_agencies`), then `build_due`. Returns the timing, the part of it
    spent reading the figures, each agency's stored figures, the statements
    per agency and how many were stored."""
    from datetime import UTC, datetime

    from sqlalchemy import event, select

    from saas import db
    from tenants.quality import jobs, services

    statements = [0]
    reading = [0.0]

    def count(*_: object) -> None:
        statements[0] += 1

    compute_batch = services.compute_batch

    def timed_compute_batch(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return compute_batch(*args, **kwargs)
        finally:
            reading[0] += time.perf_counter() - started

    # any moment after the 1st, 00:00 of the next month in every zone
    now = datetime(month.year + month.month // 12, month.month % 12 + 1, 2, 12, tzinfo=UTC)
    event.listen(db.get_engine(), "before_cursor_execute", count)
    services.compute_batch = timed_compute_batch
    try:
        with Timing(pgdata) as timing:
            due = [(agency, m) for agency, m in jobs.due_agencies(now) if m == month]
            stored = jobs.build_due(due)
    finally:
        services.compute_batch = compute_batch
        event.remove(db.get_engine(), "before_cursor_execute", count)
    with db.platform_reader() as reader:
        built = dict(
            reader.execute(
                select(services.QualitySummary.tenant_id, services.QualitySummary.figures).where(
                    services.QualitySummary.month == month
                )
            ).all()
        )
    db.session.remove()
    return timing, reading[0], built, statements[0] / max(len(due), 1), stored


def reference(engine, pgdata: Path | None) -> tuple[Timing, list]:  # noqa: ANN001
    with Timing(pgdata) as timing, engine.connect() as conn:
        rows = conn.execute(REFERENCE).mappings().all()
    return timing, rows


def forget_summaries(engine, month: date) -> None:  # noqa: ANN001
    """Before a round: the month's summaries deleted, so the sweep builds them all again."""
    with engine.begin() as conn:
        conn.execute(text("delete from quality_summaries where month = :m"), {"m": month})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("vacuum analyze quality_summaries"))


def expected(row: dict) -> dict:
    """The reference's row in the shape of the stored figures (same rounding)."""
    zero = {
        "visits": dict.fromkeys(
            ("planned", "delivered", "delivered_on_time", "late", "missed", "cancelled", "clients_planned",
             "clients_served"), 0,
        ),
        "rectifications": dict.fromkeys(("opened", "closed", "overdue"), 0),
        "training": {"workers": 0, "month_hours": 0.0, "ytd_hours": 0.0, "behind": 0},
        "certificates": dict.fromkeys(("expiring", "expired"), 0),
        "caseload": {"workers": 0, "over_limit": 0, "average_individual": 0.0, "max_individual": 0,
                     "average_use": 0.0},
        "return_visits": dict.fromkeys(("expected", "on_time", "late", "missing"), 0),
        "follow_ups": dict.fromkeys(("due", "on_time", "late", "not_done"), 0),
    }  # fmt: skip
    out = {}
    for part, zeros in zero.items():
        got = row[part] or {}
        out[part] = {k: got.get(k) if got.get(k) is not None else v for k, v in zeros.items()}
    out["caseload"]["average_individual"] = round(float(out["caseload"]["average_individual"]), 2)
    out["caseload"]["average_use"] = round(float(out["caseload"]["average_use"]), 3)

    months = row["satisfaction"] or []
    october = next((m for m in months if m["month"] == MONTH.isoformat()), None)
    out["satisfaction"] = {
        "n": october["n"] if october else 0,
        "dimensions": {
            d: {"mean": round(october[f"{d}_m"], 3), "sd": round(october[f"{d}_s"], 3)} for d in DIMENSIONS
        }
        if october
        else {},
        "trend": [
            {"month": m["month"], "n": m["n"], "mean": round(sum(m[f"{d}_m"] for d in DIMENSIONS) / 5, 3)}
            for m in months
        ],
    }
    cats = row["feedback"] or []
    total = (
        "received",
        "answered",
        "answered_on_time",
        "resolved",
        "stepped",
        "step_minutes",
        "stepped_in_target",
    )
    out["feedback"] = {k: sum(c[k] or 0 for c in cats) for k in total}
    out["feedback"]["step_minutes"] = round(out["feedback"]["step_minutes"], 1)
    complaints = [c for c in cats if c["complaint"]]
    keys = ("received", "answered", "answered_on_time", "answered_late", "overdue", "resolved")
    out["complaints"] = {k: sum(c[k] for c in complaints) for k in keys}
    by_category: dict[str, dict] = {}
    for c in complaints:
        into = by_category.setdefault(c["category"], {"received": 0, "answered_on_time": 0, "overdue": 0})
        for k in into:
            into[k] += c[k]
    out["complaints"]["by_category"] = [{"category": k, **v} for k, v in sorted(by_category.items())]
    return out


def differences(stored: object, want: object, path: str = "") -> list[str]:
    """Where the stored figures differ from the reference's (only the keys the
    reference computes; numbers within their rounding)."""
    if isinstance(want, dict):
        if not isinstance(stored, dict):
            return [f"{path}: {stored!r} != {want!r}"]
        return [d for k, v in want.items() for d in differences(stored.get(k), v, f"{path}.{k}")]
    if isinstance(want, list):
        if not isinstance(stored, list) or len(stored) != len(want):
            return [f"{path}: {stored!r} != {want!r}"]
        return [
            d
            for i, (s, w) in enumerate(zip(stored, want, strict=True))
            for d in differences(s, w, f"{path}[{i}]")
        ]
    if isinstance(want, (int, float)) and not isinstance(want, bool) and isinstance(stored, (int, float)):
        tolerance = 0.051 if path.endswith("step_minutes") else 0.0011
        return [] if abs(float(stored) - float(want)) <= tolerance else [f"{path}: {stored!r} != {want!r}"]
    return [] if stored == want else [f"{path}: {stored!r} != {want!r}"]


def _cpu(t: Timing) -> str:
    server = f"{t.server:.2f}" if t.server is not None else "?"
    return f"CPU {server} s server + {t.process:.2f} s here"


def run(agencies: int, visits: int, owner_url: str, rounds: int, pgdata: Path | None) -> None:
    from statistics import median

    from saas.app import create_app
    from saas.cli import upgrade_database

    app = create_app()
    with app.app_context():
        upgrade_database()
    engine = create_engine(owner_url.replace("postgresql://", "postgresql+psycopg://", 1))
    print(f"quality summary bench: {agencies} agencies, {visits:,} visits in {MONTH:%B %Y}, {rounds} rounds")
    started = time.perf_counter()
    seed(engine, agencies, visits)
    print(f"  data generated in {time.perf_counter() - started:.1f} s")

    # the models' mappers are configured once per process, at its first query: a worker has done
    # that long before the sweep runs, so it is done here before timing anything
    configure_mappers()
    builds: list[Timing] = []
    refs: list[Timing] = []
    mismatches: dict = {}
    for round_ in range(rounds):
        forget_summaries(engine, MONTH)
        # the order alternates: each side runs first in half of the rounds
        if round_ % 2:
            ref_timing, rows = reference(engine, pgdata)
        with app.app_context():
            timing, reading, built, per_agency, stored = build_all(MONTH, pgdata)
        if not round_ % 2:
            ref_timing, rows = reference(engine, pgdata)
        builds.append(timing)
        refs.append(ref_timing)
        print(
            f"  round {round_ + 1}: {stored} summaries built in {timing.wall:6.2f} s"
            f" (figures read {reading:.2f} s; {_cpu(timing)}),"
            f" hand-written query {ref_timing.wall:6.2f} s ({_cpu(ref_timing)})"
        )
        mismatches = {}
        for r in rows:
            diff = differences(built.get(r["tenant_id"]), expected(dict(r)))
            if diff:
                mismatches[r["tenant_id"]] = diff
        if mismatches or stored != len(rows):
            break

    build_wall = median(t.wall for t in builds)
    ref_wall = median(t.wall for t in refs)
    print(
        f"  all {stored} summaries built:  {build_wall:8.2f} s median"
        f" ({build_wall / max(stored, 1) * 1000:.1f} ms each)"
    )
    print(f"  one hand-written query:      {ref_wall:8.2f} s median")
    print(f"  statements per agency:       {per_agency:8.1f}")
    if all(t.server is not None for t in builds + refs):
        build_cpu = median(t.server + t.process for t in builds)  # type: ignore[operator]
        ref_cpu = median(t.server + t.process for t in refs)  # type: ignore[operator]
        print(
            f"  CPU seconds, median:         {build_cpu:8.2f} against {ref_cpu:.2f}"
            f" ({build_cpu / ref_cpu:.2f}x)"
        )
    print(f"  all figures equal to the reference for {len(rows) - len(mismatches)} of {len(rows)} agencies")
    for tenant_id, diff in list(mismatches.items())[:3]:
        print(f"    {tenant_id}: {'; '.join(diff[:5])}")
    print("  target: at most 1.5x, measured on a quiet machine")
    print(f"quality: {build_wall / ref_wall:.2f}x")
    if mismatches or stored != len(rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
