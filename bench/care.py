"""Benchmark: the carer's schedule and the client file at 100,000 visits in
one agency. Prints SQL statements and time per page at a small and at the
full size; the statement counts must be equal.

    .venv/bin/python -m bench.care [--visits 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from saas import embedded

    root = Path(tempfile.mkdtemp(prefix="carehub-bench-"))
    servers = embedded.start(root, persistent=False)
    os.environ.update(DATABASE_URL=servers.database_url, REDIS_URL=servers.redis_url)
    os.environ["SECRET_KEY"] = "bench-only-secret"  # noqa: S105
    try:
        run(args.visits, args.repeat, servers.database_url)
    finally:
        servers.stop()


def run(total: int, repeat: int, owner_url: str) -> None:
    from saas import db
    from saas.app import create_app
    from saas.cli import upgrade_database
    from tests.factories import Factory, login
    from tests.sqlcount import count_statements
    from tests.test_scheduling import World

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False  # the bench signs in through the test client
    with app.app_context():
        upgrade_database()
    with app.app_context():
        world = World(Factory(app))
        world.activate()
        carer_user, carer = world.carer(name="Bench Carer")
        from tenants.scheduling import services

        with db.tenant_scope(world.agency.id):
            services.bulk_assign(world.agency, world.plan, carer.id, by=None)  # this week has visits
            db.session.commit()
        db.session.remove()

    client = app.test_client()
    login(client, carer_user)
    admin = app.test_client()
    login(admin, world.admin)
    pages = {
        "carer schedule": (client, f"/a/{world.agency.slug}/my/schedule"),
        "client file": (admin, f"/a/{world.agency.slug}/clients/{world.client.id}"),
    }

    def measure(label: str) -> dict[str, tuple[int, float]]:
        out = {}
        for name, (c, url) in pages.items():
            with app.app_context(), count_statements() as counter:
                assert c.get(url).status_code == 200
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                assert c.get(url).status_code == 200
                times.append(time.perf_counter() - t)
            out[name] = (counter.count, statistics.median(times) * 1000)
            print(f"{label:>8} {name:<15} {counter.count:>3} statements  {out[name][1]:7.1f} ms median")
        return out

    small = measure("small")
    engine = create_engine(owner_url.replace("postgresql://", "postgresql+psycopg://", 1))
    start = date.today() - timedelta(days=300)
    with engine.begin() as conn:
        # the owner role seeds in bulk; 100 clients share the visits, the bench carer has a tenth of them
        conn.execute(
            text(
                """
                insert into clients (tenant_id, id, full_name, preferred_name, gender, phone, email, address,
                  checkin_radius_m, languages, consent_services, consent_data, created_at)
                select :t, gen_random_uuid(), 'Client ' || g, '', 'undisclosed', '', '', 'Street ' || g,
                  300, '[]', true, true, now() from generate_series(1, 100) g
                """
            ),
            {"t": world.agency.id},
        )
        conn.execute(
            text(
                """
                insert into visits (tenant_id, id, client_id, service_item_id, local_day, starts_at, ends_at,
                  status, staff_file_id, price, unit, checklist, checkin_outside_radius, flag_resolution,
                  cancel_reason, reschedule_reason, created_at)
                select :t, gen_random_uuid(),
                  case when g % 100 = 0 then :client else c.id end,
                  :item, (:start)::date + (g % 400), (:start)::timestamptz + make_interval(hours => g % 9600),
                  (:start)::timestamptz + make_interval(hours => g % 9600, mins => 45),
                  case when (:start)::date + (g % 400) < current_date then 'completed' else 'scheduled' end,
                  case when g % 10 = 0 then :carer else null end, 20, 'per_visit', '["Task"]', false,
                  '', '', '', now()
                from generate_series(1, :n) g
                join lateral (
                  select id from clients where tenant_id = :t order by id offset (g % 100) limit 1
                ) c on true
                """
            ),
            {
                "t": world.agency.id,
                "client": world.client.id,
                "item": world.item.id,
                "carer": carer.id,
                "start": start,
                "n": total,
            },
        )
        conn.execute(text("analyze"))
    large = measure(f"{total // 1000}k")
    for name in pages:
        status = "same" if small[name][0] == large[name][0] else "DIFFERENT"
        print(f"{name}: statements {small[name][0]} -> {large[name][0]} ({status})")


if __name__ == "__main__":
    main()
