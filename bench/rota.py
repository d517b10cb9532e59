"""Benchmark: the rota board's week in `sunrise`, on the demo alone and then
with 200 carers, each with four visits a day for the seven days, plus a lane
of unassigned visits, through the Flask test client. Prints SQL statements
and time per page at both sizes; the statement counts must be equal.

    .venv/bin/python -m bench.rota [--carers 200] [--repeat 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--carers", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    from saas import embedded

    root = Path(tempfile.mkdtemp(prefix="carehub-bench-"))
    servers = embedded.start(root, persistent=False)
    os.environ.update(DATABASE_URL=servers.database_url, REDIS_URL=servers.redis_url)
    os.environ["SECRET_KEY"] = "bench-only-secret"  # noqa: S105
    try:
        run(args.carers, args.repeat)
    finally:
        servers.stop()


def grow(app, slug: str, carers: int) -> None:
    """`carers` carers in the agency, four visits a day each this week and
    two unassigned visits a day per ten carers: bulk rows through the app's
    own connection (row-level security applies), in a few statements."""
    from sqlalchemy import insert, select

    from saas import db
    from saas.models import Agency, Membership, User
    from tenants.catalogue.models import ServiceItem
    from tenants.clients.models import Client
    from tenants.scheduling.models import Visit
    from tenants.scheduling.services import at_local
    from tenants.staffing.models import StaffFile

    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
        users = [
            {
                "id": db.new_id(),
                "email": f"rota{i}@bench.example",
                "name": f"Rota Carer {i:04d}",
                "is_operator": False,
                "is_active": True,
                "created_at": db.utcnow(),
            }
            for i in range(carers)
        ]
        db.session.execute(insert(User), users)
        with db.tenant_scope(agency.id):
            client_ids = list(db.session.scalars(select(Client.id)))
            item_id = db.session.scalar(select(ServiceItem.id).where(ServiceItem.active.is_(True)).limit(1))
            memberships = [
                {"tenant_id": agency.id, "id": db.new_id(), "user_id": u["id"], "role": "carer"}
                for u in users
            ]
            db.session.execute(insert(Membership), memberships)
            staff = [
                {
                    "tenant_id": agency.id,
                    "id": db.new_id(),
                    "membership_id": m["id"],
                    "staff_role": "carer",
                    "employment_start": agency.today() - timedelta(days=365),
                    "home_area": ("Harbourside", "Millbrook", "Old Town")[i % 3],
                    "contracted_hours": Decimal(30),
                    "availability": {},
                }
                for i, m in enumerate(memberships)
            ]
            db.session.execute(insert(StaffFile), staff)
            today = agency.today()
            monday = today - timedelta(days=today.weekday())
            visits = []
            for i, s in enumerate(staff):
                for d in range(7):
                    day = monday + timedelta(days=d)
                    for k, hhmm in enumerate(("08:00", "10:30", "13:00", "15:30")):
                        starts = at_local(agency, day, hhmm)
                        visits.append(
                            {
                                "tenant_id": agency.id,
                                "id": db.new_id(),
                                "client_id": client_ids[(i + k) % len(client_ids)],
                                "service_item_id": item_id,
                                "local_day": day,
                                "starts_at": starts,
                                "ends_at": starts + timedelta(hours=1),
                                "staff_file_id": s["id"],
                                "status": "scheduled",
                            }
                        )
                    if i % 5 == 0:
                        starts = at_local(agency, day, "18:00")
                        visits.append(
                            {
                                "tenant_id": agency.id,
                                "id": db.new_id(),
                                "client_id": client_ids[i % len(client_ids)],
                                "service_item_id": item_id,
                                "local_day": day,
                                "starts_at": starts,
                                "ends_at": starts + timedelta(hours=1),
                                "staff_file_id": None,
                                "status": "scheduled",
                            }
                        )
            db.session.execute(insert(Visit), visits)
            db.session.commit()
        print(f"grown: {carers} carers, {len(visits)} visits this week ({datetime.now(UTC):%H:%M:%S})")


def run(carers: int, repeat: int) -> None:
    from bench import platform
    from bench.care import sign_in
    from saas.app import create_app
    from saas.cli import upgrade_database
    from tests.sqlcount import count_statements

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False  # the bench signs in through the test client
    with app.app_context():
        upgrade_database()
    platform.seed_demo(app)
    slug = platform.HOME
    coordinator = sign_in(app, f"coordinator@{slug}.example")
    pages = {"rota week": f"/a/{slug}/rota", "rota day": f"/a/{slug}/rota?view=day"}

    def measure(label: str) -> dict[str, tuple[int, float, int]]:
        out = {}
        for name, url in pages.items():
            with app.app_context(), count_statements() as counter:
                response = coordinator.get(url)
                assert response.status_code == 200
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                assert coordinator.get(url).status_code == 200
                times.append(time.perf_counter() - t)
            out[name] = (counter.count, statistics.median(times) * 1000, len(response.data))
            print(
                f"{label:>12} {name:<10} {counter.count:>3} statements  {out[name][1]:7.1f} ms median"
                f"  {out[name][2] // 1024:>5} KiB"
            )
        return out

    small = measure("demo")
    grow(app, slug, carers)
    large = measure(f"{carers} carers")
    for name in pages:
        status = "same" if small[name][0] == large[name][0] else "DIFFERENT"
        print(f"{name}: statements {small[name][0]} -> {large[name][0]} ({status})")


if __name__ == "__main__":
    main()
