"""Benchmark: the carer's schedule and the client file in `sunrise`, on the
demo alone and then with 100,000 visits of history (bench/platform.py: service
records, ratings, complaints, notifications), through the Flask test client.
Prints SQL statements and time per page at both sizes; the statement counts
must be equal. `bench.http` measures the same pages over real HTTP.

    .venv/bin/python -m bench.care [--visits 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=100_000, help="visits in sunrise")
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


def sign_in(app, email: str) -> object:
    """Through the sign-in pages (two-factor with the demo secret when asked)."""
    from saas.auth.totp import for_secret

    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": app.config["DEMO_PASSWORD"]})
    assert response.status_code == 302, response.status_code
    if response.location.endswith("/login/two-factor"):
        code = for_secret(app.config["DEMO_TOTP_SECRET"]).now()
        response = client.post("/login/two-factor", data={"code": code})
        assert response.status_code == 302, response.status_code
    return client


def run(total: int, repeat: int, owner_url: str) -> None:
    from bench import platform
    from saas.app import create_app
    from saas.cli import upgrade_database
    from tests.sqlcount import count_statements

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False  # the bench signs in through the test client
    with app.app_context():
        upgrade_database()
    platform.seed_demo(app)
    slug = platform.HOME
    carer = sign_in(app, f"carer1@{slug}.example")
    admin = sign_in(app, f"admin@{slug}.example")
    engine = create_engine(owner_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        client_id = conn.scalar(
            text(
                "select p.client_id from client_portal_links p join memberships m"
                " on m.tenant_id = p.tenant_id and m.id = p.membership_id"
                " join users u on u.id = m.user_id where u.email = :email"
            ),
            {"email": f"client1@{slug}.example"},
        )
    pages = {
        "carer schedule": (carer, f"/a/{slug}/my/schedule"),
        "client file": (admin, f"/a/{slug}/clients/{client_id}"),
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

    small = measure("demo")
    # sunrise holds a third of the platform's visits; no other agencies here
    platform.grow(app, engine, platform.Sizes(agencies=2, visits=total * 3), datetime.now(UTC))
    large = measure(f"{total // 1000}k")
    for name in pages:
        status = "same" if small[name][0] == large[name][0] else "DIFFERENT"
        print(f"{name}: statements {small[name][0]} -> {large[name][0]} ({status})")


if __name__ == "__main__":
    main()
