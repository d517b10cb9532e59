"""Benchmark: building every agency's monthly quality summary on a platform of
500 agencies and 2 million visits in the month, against one hand-written SQL
query computing the same visit figures for all agencies at once. Prints both
times, the ratio (target: within 2x) and the statements each build job runs.

    .venv/bin/python -m bench.quality                          # 500 agencies, 2,000,000 visits
    .venv/bin/python -m bench.quality --agencies 50 --visits 100000   # a quick check
    QUALITY_BENCH_VISITS=100000 QUALITY_BENCH_AGENCIES=50 make bench  # the same through make

The data is generated with set-based INSERT ... SELECT generate_series as the
owner role (a few minutes at full size); the summaries are built through the
real path (the monthly sweep's `ensure_build`, then each queued `quality.build`
job, one agency at a time under its own row-level security; the queueing is
timed too), the reference query runs as the owner.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

MONTH = date(2026, 10, 1)
ZONES = ("Europe/London", "Asia/Shanghai", "America/New_York", "Australia/Sydney")

# the same visit figures as tenants.quality.kpis.VISITS, for every agency in one statement. Only
# the visit figures (the bulk of the month's data): the builds also compute satisfaction, feedback
# and the rest, so the ratio is a conservative one. Counted per client first, like the build
# (that beats count(distinct client_id), which sorts all the visits), so both sides are as fast
# as they can be written.
REFERENCE = text(
    """
    with bounds as (
      select id, make_timestamptz(2026, 10, 1, 0, 0, 0, timezone) as lo,
             make_timestamptz(2026, 11, 1, 0, 0, 0, timezone) as hi
      from agencies where slug like 'bench-%'
    ), per_client as (
      select v.tenant_id,
             count(*) filter (where status <> 'cancelled') as planned,
             count(*) filter (where status = 'completed') as delivered,
             count(*) filter (where status = 'completed' and late_flagged_at is null) as delivered_on_time,
             count(*) filter (where status <> 'cancelled' and late_flagged_at is not null) as late,
             count(*) filter (where status = 'missed'
                                or (missed_flagged_at is not null and status <> 'completed')) as missed,
             count(*) filter (where status = 'cancelled') as cancelled
      from visits v join bounds b on b.id = v.tenant_id
      where v.starts_at >= b.lo and v.starts_at < b.hi
      group by v.tenant_id, v.client_id
    )
    select tenant_id, sum(planned)::int as planned, sum(delivered)::int as delivered,
           sum(delivered_on_time)::int as delivered_on_time, sum(late)::int as late,
           sum(missed)::int as missed, sum(cancelled)::int as cancelled,
           count(*) filter (where planned > 0) as clients_planned,
           count(*) filter (where delivered > 0) as clients_served
    from per_client
    group by tenant_id
    """
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agencies", type=int, default=int(os.environ.get("QUALITY_BENCH_AGENCIES", 500)))
    parser.add_argument("--visits", type=int, default=int(os.environ.get("QUALITY_BENCH_VISITS", 2_000_000)))
    args = parser.parse_args()

    from saas import embedded

    root = Path(tempfile.mkdtemp(prefix="carehub-bench-"))
    servers = embedded.start(root, persistent=False)
    os.environ.update(DATABASE_URL=servers.database_url, REDIS_URL=servers.redis_url)
    os.environ["SECRET_KEY"] = "bench-only-secret"  # noqa: S105
    try:
        run(args.agencies, args.visits, servers.database_url)
    finally:
        servers.stop()


def seed(engine, agencies: int, visits: int) -> None:
    clients_each = 40
    params = {"n": agencies, "v": visits, "c": clients_each, "zones": list(ZONES)}
    statements = [
        # agencies, one service item each, 40 clients each: ids derived from numbers, so the
        # visits can name them without a join
        """
        insert into agencies (id, slug, name, timezone, locale, status, settings, created_at, billing_state)
        select md5('agency-' || a)::uuid, 'bench-' || a, 'Bench agency ' || a,
               (cast(:zones as text[]))[1 + a % cardinality(cast(:zones as text[]))],
               'en', 'active', '{}', '2025-01-01', 'active'
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
        # the month's visits, spread over every agency and the month, from 30 September UTC (still
        # September in every zone, which must not count); statuses and clients vary within each
        # agency (k numbers an agency's own visits)
        """
        insert into visits (tenant_id, id, client_id, service_item_id, local_day, starts_at, ends_at, status,
          price, unit, checklist, checkin_outside_radius, flag_resolution, cancel_reason, reschedule_reason,
          created_at, late_flagged_at, missed_flagged_at)
        select md5('agency-' || a)::uuid, gen_random_uuid(), md5('client-' || a || '-' || (1 + k % :c))::uuid,
               md5('item-' || a)::uuid, t::date, t, t + interval '1 hour',
               (array['completed','completed','completed','completed','completed','completed','scheduled',
                      'cancelled','missed','completed'])[1 + k % 10],
               20, 'per_visit', '[]', false, '', '', '', now(),
               case when k % 7 = 0 then t + interval '20 minutes' end,
               case when k % 23 = 0 then t + interval '2 hours' end
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
    ]
    with engine.begin() as conn:
        for sql in statements:
            started = time.perf_counter()
            conn.execute(text(sql), params)
            print(f"  seeded in {time.perf_counter() - started:6.1f} s: {sql.split()[2]}")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("vacuum analyze"))


def build_all(month: date) -> tuple[float, dict, float]:
    """The monthly sweep's real path, timed: queue each agency's build (the
    sweep's `queue_builds`), then run each queued build job as the worker does,
    one agency at a time in its own transaction under its own row-level
    security. Returns the time, each agency's visit figures and the statements
    per build job."""
    from sqlalchemy import event, select

    from saas import db
    from saas.models import Agency, OutboxEntry
    from tenants.quality import jobs, services

    agencies = list(db.session.scalars(select(Agency).where(Agency.slug.like("bench-%"))))
    statements = [0]

    def count(*_: object) -> None:
        statements[0] += 1

    started = time.perf_counter()
    jobs.queue_builds([(agency, month) for agency in agencies])
    with db.platform_reader() as reader:
        queued = list(
            reader.execute(
                select(OutboxEntry.agency_id, OutboxEntry.args).where(
                    OutboxEntry.job == "quality.build", OutboxEntry.done_at.is_(None)
                )
            )
        )
    event.listen(db.get_engine(), "before_cursor_execute", count)
    try:
        for agency_id, args in queued:
            with db.tenant_scope(agency_id):
                jobs.build(**args)
                db.session.commit()
    finally:
        event.remove(db.get_engine(), "before_cursor_execute", count)
    elapsed = time.perf_counter() - started
    built = {}
    with db.platform_reader() as reader:
        for tenant_id, figures in reader.execute(
            select(services.QualitySummary.tenant_id, services.QualitySummary.figures).where(
                services.QualitySummary.month == month
            )
        ):
            built[tenant_id] = figures["visits"]
    db.session.remove()
    return elapsed, built, statements[0] / max(len(queued), 1)


def run(agencies: int, visits: int, owner_url: str) -> None:
    from saas.app import create_app
    from saas.cli import upgrade_database

    app = create_app()
    with app.app_context():
        upgrade_database()
    engine = create_engine(owner_url.replace("postgresql://", "postgresql+psycopg://", 1))
    print(f"quality summary bench: {agencies} agencies, {visits:,} visits in {MONTH:%B %Y}")
    started = time.perf_counter()
    seed(engine, agencies, visits)
    print(f"  data generated in {time.perf_counter() - started:.1f} s")

    with app.app_context():
        summaries, built, per_build = build_all(MONTH)

    started = time.perf_counter()
    with engine.connect() as conn:
        rows = conn.execute(REFERENCE).mappings().all()
    reference = time.perf_counter() - started

    mismatches = [
        r["tenant_id"]
        for r in rows
        if {k: built[r["tenant_id"]][k] for k in r if k != "tenant_id"}
        != {k: v for k, v in r.items() if k != "tenant_id"}
    ]
    print(
        f"  all {len(built)} summaries built:  {summaries:8.2f} s"
        f" ({summaries / max(len(built), 1) * 1000:.1f} ms each)"
    )
    print(f"  one hand-written query:      {reference:8.2f} s")
    print(f"  statements per build job:    {per_build:8.1f}")
    print(f"  ratio: {summaries / reference:.2f}x (target: within 2x)")
    print(f"  visit figures equal to the reference for {len(rows) - len(mismatches)} of {len(rows)} agencies")
    if mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
