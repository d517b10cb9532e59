"""Benchmark over real HTTP: the pages people use most, on a platform of 502
agencies and 3,000,000 visits, served as `saas run` serves them, measured
against a Flask app that does nothing under the same gunicorn settings.

    make bench-http                                   # the default size: under 15 minutes
    .venv/bin/python -m bench.http --visits 100000    # a quick check: under 3 minutes
    .venv/bin/python -m bench.http --agencies 502 --visits 3000000 --duration 20

1. Servers of its own: an embedded PostgreSQL and Redis (`saas.embedded`)
   under instance/bench-http/, kept between runs (or `--database-url` and
   `--redis-url`, PostgreSQL as a superuser, for servers of your choosing).
2. The platform (`bench/platform.py`), built once per size, schema and builder
   into a database named after them, and reused by the next run of the same day.
3. The app as `saas run` starts it: gunicorn with deploy/gunicorn.conf.py
   (2 workers x 4 threads), no worker and no scheduler; beside it, the same
   gunicorn serving bench/trivial.py.
4. Sign-in through the real pages (CSRF token from each form, the demo's
   two-factor secret for the admin), an API token made on the tokens page.
5. wrk (Debian's `wrk`), `--connections` for `--duration` seconds on each
   endpoint, a run on the trivial app before the first and after each, so each
   endpoint is compared with the trivial app's rate around it.

Prints one line per endpoint, `ENDPOINT: R req/s, p50 X ms, p99 Y ms, 1/N of
trivial`, and last `bench-http: schedule page 1/N, api 1/M of trivial at V
visits`. Timings depend on the machine and on what else runs on it; the load
average is printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import platform
from saas.config import INSTANCE, ROOT

HERE = Path(__file__).resolve().parent
DEFAULT_ROOT = INSTANCE / "bench-http"
DATABASE_PREFIX = "bench_http_"
SECRET_KEY = "bench-http-only"  # noqa: S105 - a throwaway local platform
TOKEN_NAME = "bench-http"  # noqa: S105 - the name shown on the tokens page


@dataclass
class Endpoint:
    label: str
    path: str
    header: str = ""
    values: list[str] = field(default_factory=list)


@dataclass
class Result:
    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: dict[str, int]


def log(message: str) -> None:
    print(message, flush=True)


# -- servers and the database -------------------------------------------------------------------


def start_servers(root: Path, database_url: str | None, redis_url: str | None) -> tuple[Any, str, str]:
    """The embedded servers (kept under `root`), unless both URLs are given."""
    if database_url and redis_url:
        return None, database_url, redis_url
    from saas import embedded

    servers = embedded.start(root, persistent=True)
    return servers, database_url or servers.database_url, redis_url or servers.redis_url


def database_url_named(url: str, name: str) -> str:
    from saas.config import owner_url

    return make_url(owner_url(url)).set(database=name).render_as_string(hide_password=False)


def secret_of(root: Path, name: str, make: Any) -> str:
    """A secret kept beside the built databases (the seeded two-factor secrets are sealed with it)."""
    path = root / name
    if not path.exists():
        root.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def prepare_database(server_url: str, sizes: platform.Sizes, now: datetime, rebuild: bool) -> str:
    """The built platform's database: reused when one of the same sizes, schema,
    builder and day exists; built otherwise (under a temporary name, renamed
    once complete, so an interrupted build is never reused)."""
    name = f"{DATABASE_PREFIX}{sizes.key()}_{now:%Y%m%d}"
    admin = create_engine(database_url_named(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        have = set(
            conn.scalars(
                text("select datname from pg_database where datname like :p"), {"p": DATABASE_PREFIX + "%"}
            )
        )
        if name in have and not rebuild:
            log(f"platform: reusing database {name} (--rebuild to build it again)")
            admin.dispose()
            return database_url_named(server_url, name)
        for old in sorted(have):  # one built platform at a time: they are large
            conn.execute(text(f'drop database "{old}" with (force)'))
        building = name[:50] + "_building"
        conn.execute(text(f'create database "{building}"'))
    started = time.perf_counter()
    log(f"platform: building {sizes.agencies} agencies, {sizes.visits:,} visits into {name}")
    build_url = database_url_named(server_url, building)
    migrate(build_url)
    log(f"  schema migrated {time.perf_counter() - started:46.1f} s")
    app = make_app(build_url)
    owner = create_engine(build_url)
    platform.build(app, owner, sizes, now, log)
    owner.dispose()
    from saas import db

    db.session.remove()
    db.get_engine().dispose()
    with admin.connect() as conn:
        conn.execute(text(f'alter database "{building}" rename to "{name}"'))
    admin.dispose()
    log(f"platform: built in {time.perf_counter() - started:.0f} s")
    return database_url_named(server_url, name)


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")


def make_app(owner_url: str) -> Any:
    """The app in this process, for the demo seed and the quality summaries."""
    os.environ["DATABASE_URL"] = owner_url
    os.environ.pop("APP_DATABASE_URL", None)
    from saas.app import create_app
    from saas.config import Config

    # no sweep runs while the platform is built: the web watchdog would only warn of it
    return create_app(Config.from_env(SECRET_KEY=SECRET_KEY, WEB_SWEEP_WATCH=False))


# -- the web processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app_path: str, port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """gunicorn as `saas run` starts it (deploy/gunicorn.conf.py), its logs to a file."""
    argv = [
        sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}", app_path,
    ]  # fmt: skip
    out = log_path.open("w")
    return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, process_group=0)  # noqa: S603


def wait_until_up(base: str, proc: subprocess.Popen, path: str = "/", seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn for {base} exited with {proc.returncode}; see its log")
        try:
            if requests.get(base + path, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{base} did not answer within {seconds:.0f} s")


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # gunicorn and its workers: their own process group
        proc.wait(timeout=25)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# -- signing in through the pages ------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise SystemExit("no csrf_token in the form")
    return found.group(1)


def sign_in(base: str, email: str, password: str, totp_secret: str | None = None) -> requests.Session:
    """Through /login (and /login/two-factor with the current code when asked), as a browser."""
    from saas.auth.totp import for_secret

    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=30)
    answer = browser.post(
        f"{base}/login",
        data={"csrf_token": csrf_token(page.text), "email": email, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise SystemExit(f"sign-in of {email} answered {answer.status_code}")
    if answer.headers.get("Location", "").endswith("/login/two-factor"):
        if not totp_secret:
            raise SystemExit(f"{email} is asked for two-factor")
        page = browser.get(f"{base}/login/two-factor", timeout=30)
        for _attempt in range(2):
            answer = browser.post(
                f"{base}/login/two-factor",
                data={"csrf_token": csrf_token(page.text), "code": for_secret(totp_secret).now()},
                allow_redirects=False,
                timeout=30,
            )
            if answer.status_code == 302:
                break
            # each code is taken once: a run a moment ago used this one, so wait for the next
            time.sleep(30.5 - time.time() % 30)
        else:
            raise SystemExit(f"two-factor of {email} refused")
    return browser


def cookie_of(browser: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in browser.cookies)


def api_token(base: str, browser: requests.Session, slug: str) -> str:
    """A personal API token made on the agency's tokens page (shown once)."""
    page = browser.get(f"{base}/a/{slug}/tokens", timeout=30)
    answer = browser.post(
        f"{base}/a/{slug}/tokens", data={"csrf_token": csrf_token(page.text), "name": TOKEN_NAME}, timeout=30
    )
    found = re.search(r'data-testid="new-token">([^<]+)<', answer.text)
    if answer.status_code != 200 or not found:
        raise SystemExit(f"no API token made ({answer.status_code})")
    return found.group(1).strip()


# -- the load -------------------------------------------------------------------------------------


def check(base: str, endpoint: Endpoint) -> int:
    """Each endpoint answers 200 with each of its headers before it is loaded."""
    size = 0
    for value in endpoint.values or [""]:
        headers = {endpoint.header: value} if endpoint.header else {}
        answer = requests.get(base + endpoint.path, headers=headers, allow_redirects=False, timeout=60)
        if answer.status_code != 200:
            raise SystemExit(f"{endpoint.label}: {endpoint.path} answered {answer.status_code}")
        size = len(answer.content)
    return size


def load(base: str, endpoint: Endpoint, duration: int, connections: int) -> Result:
    env = dict(os.environ, BENCH_HEADER=endpoint.header, BENCH_VALUES="\n".join(endpoint.values))
    argv = [
        "wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(HERE / "wrk.lua"),
        base + endpoint.path,
    ]  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed on {endpoint.label}: {done.stderr.strip() or done.stdout[-500:]}")
    got = json.loads(lines[-1])
    errors = {k: got[k] for k in ("connect", "read", "write", "status", "timeout") if got[k]}
    return Result(
        rate=got["requests"] / (got["duration_us"] / 1e6),
        p50_ms=got["p50_us"] / 1000,
        p99_ms=got["p99_us"] / 1000,
        requests=got["requests"],
        errors=errors,
    )


def share(trivial: float, rate: float) -> str:
    """'1/N': how many of the endpoint's requests the trivial app serves in the time of one."""
    if rate <= 0:
        return "1/inf"
    n = trivial / rate
    return f"1/{n:.0f}" if n >= 10 else f"1/{n:.1f}"


# -- the run --------------------------------------------------------------------------------------


def facts(server_url: str) -> dict[str, Any]:
    """Ids and counts the endpoints need, read as the owner."""
    engine = create_engine(server_url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                """
                select a.id as agency_id, a.timezone,
                  (select p.client_id from client_portal_links p
                    join memberships m on m.tenant_id = p.tenant_id
                     and m.id = p.membership_id join users u on u.id = m.user_id
                   where p.tenant_id = a.id and u.email = 'client1@' || a.slug || '.example') as client_id,
                  (select f.id from staff_files f join memberships m on m.tenant_id = f.tenant_id
                     and m.id = f.membership_id join users u on u.id = m.user_id
                   where f.tenant_id = a.id and u.email = 'carer1@' || a.slug || '.example') as carer_id,
                  (select q.id from quality_summaries q where q.tenant_id = a.id and q.state = 'done'
                   order by q.month desc limit 1) as summary_id
                from agencies a where a.slug = :slug
                """
            ),
            {"slug": platform.HOME},
        ).one()
        counts = conn.execute(
            text(
                """
                select (select count(*) from agencies) as agencies,
                       (select count(*) from visits) as visits,
                       (select count(*) from visits where tenant_id = :t) as home_visits,
                       (select count(*) from visits where tenant_id = :t
                         and staff_file_id = :carer) as carer_visits,
                       (select count(*) from visits where tenant_id = :t and staff_file_id = :carer
                          and status <> 'cancelled'
                          and starts_at >= date_trunc('day', now() at time zone :tz) at time zone :tz
                          and starts_at < (date_trunc('day', now() at time zone :tz) + interval '7 days')
                                          at time zone :tz) as carer_week,
                       (select count(*) from visits where tenant_id = :t
                         and client_id = :client) as client_visits,
                       (select count(*) from service_records) as records
                """
            ),
            {"t": row.agency_id, "carer": row.carer_id, "client": row.client_id, "tz": row.timezone},
        ).one()
    engine.dispose()
    return {**row._mapping, **counts._mapping}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--agencies", type=int, default=502, help="agencies in all, the two demo ones included"
    )
    parser.add_argument("--visits", type=int, default=3_000_000, help="visits in all (a third in sunrise)")
    parser.add_argument(
        "--duration", type=int, help="seconds of load per run (default: 20, or 5 below a million visits)"
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rebuild", action="store_true", help="build the platform even if one is kept")
    parser.add_argument(
        "--build-only", action="store_true", help="build (or find) the platform, load nothing"
    )
    parser.add_argument(
        "--root", type=Path, default=DEFAULT_ROOT, help="where the embedded servers keep their data"
    )
    parser.add_argument("--database-url", help="a PostgreSQL server to build in (a superuser's URL)")
    parser.add_argument("--redis-url", help="a Redis for the app (with --database-url)")
    args = parser.parse_args()
    duration = args.duration or (20 if args.visits >= 1_000_000 else 5)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk (Debian's package)")

    started = time.perf_counter()
    log(f"bench-http: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    root = args.root
    os.environ["TOTP_ENCRYPTION_KEY"] = secret_of(root, "totp_key", _fernet_key)
    os.environ["SECRET_KEY"] = SECRET_KEY
    servers, server_url, redis_url = start_servers(root, args.database_url, args.redis_url)
    os.environ["REDIS_URL"] = redis_url
    web = trivial = None
    try:
        now = datetime.now(UTC)
        sizes = platform.Sizes(agencies=args.agencies, visits=args.visits)
        url = prepare_database(server_url, sizes, now, args.rebuild)
        if args.build_only:
            return
        if servers is not None:  # our own Redis: no rate limits or queues left from an earlier run
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        found = facts(url)
        log(
            f"platform: {found['agencies']} agencies, {found['visits']:,} visits"
            f" ({found['records']:,} service records); {platform.HOME} {found['home_visits']:,},"
            f" carer1 {found['carer_visits']:,} with"
            f" {found['carer_week']} in the coming week, client1's file {found['client_visits']:,}"
        )
        app_port, trivial_port = free_port(), free_port()
        env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, BASE_URL=f"http://127.0.0.1:{app_port}")
        env.pop("APP_DATABASE_URL", None)
        web = start_gunicorn("saas.wsgi:app", app_port, env, root / "gunicorn-app.log")
        trivial = start_gunicorn("bench.trivial:app", trivial_port, env, root / "gunicorn-trivial.log")
        base, trivial_base = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{trivial_port}"
        wait_until_up(base, web, "/healthz")
        wait_until_up(trivial_base, trivial)

        password = os.environ.get("DEMO_PASSWORD", "demo-pass-2026")
        totp = os.environ.get("DEMO_TOTP_SECRET", "JBSWY3DPEHPK3PXP")
        slug = platform.HOME
        carers = [sign_in(base, f"carer1@{slug}.example", password) for _ in range(8)]
        admin = sign_in(base, f"admin@{slug}.example", password, totp)
        token = api_token(base, carers[0], slug)
        carer, office = [cookie_of(carers[0])], [cookie_of(admin)]
        endpoints = [
            Endpoint("carer schedule page", f"/a/{slug}/my/schedule", "Cookie", carer),
            Endpoint(
                "carer schedule page, 8 sessions",
                f"/a/{slug}/my/schedule",
                "Cookie",
                [cookie_of(c) for c in carers],
            ),
            Endpoint("GET /api/v1/my/schedule", "/api/v1/my/schedule", "Authorization", [f"Bearer {token}"]),
            Endpoint(
                f"client file ({found['client_visits']:,} visits)",
                f"/a/{slug}/clients/{found['client_id']}",
                "Cookie",
                office,
            ),  # fmt: skip
            Endpoint("agency home", f"/a/{slug}/", "Cookie", office),
            Endpoint("complaints inbox", f"/a/{slug}/feedback/inbox", "Cookie", office),
            Endpoint("quality summary page", f"/a/{slug}/quality/{found['summary_id']}", "Cookie", office),
            Endpoint("/healthz", "/healthz"),
        ]
        for endpoint in endpoints:
            check(base, endpoint)
        yardstick = Endpoint("trivial Flask app", "/")
        log(
            f"load: wrk, {args.connections} connections, {duration} s per run, the trivial app before"
            f" the first endpoint and after each ({(2 * len(endpoints) + 1) * duration} s)"
        )
        trivial_rates = [load(trivial_base, yardstick, duration, args.connections)]
        results: list[tuple[Endpoint, Result, float]] = []
        for endpoint in endpoints:
            result = load(base, endpoint, duration, args.connections)
            trivial_rates.append(load(trivial_base, yardstick, duration, args.connections))
            around = (trivial_rates[-2].rate + trivial_rates[-1].rate) / 2
            results.append((endpoint, result, around))
            errors = f" ({result.errors} errors)" if result.errors else ""
            log(
                f"{endpoint.label}: {result.rate:.1f} req/s, p50 {result.p50_ms:.0f} ms,"
                f" p99 {result.p99_ms:.0f} ms, {share(around, result.rate)} of trivial{errors}"
            )
        rates = [r.rate for r in trivial_rates]
        log(
            f"trivial Flask app: {sum(rates) / len(rates):.0f} req/s on average"
            f" ({min(rates):.0f}-{max(rates):.0f}),"
            f" p99 {max(r.p99_ms for r in trivial_rates):.0f} ms at worst"
        )
        failed = [e.label for e, r, _ in results if r.errors]
        schedule, api = results[0], results[2]
        log(f"bench-http: took {time.perf_counter() - started:.0f} s")
        log(
            f"bench-http: schedule page {share(schedule[2], schedule[1].rate)},"
            f" api {share(api[2], api[1].rate)} of trivial at {found['visits']:,} visits"
        )
        if failed:
            raise SystemExit(f"errors under load: {', '.join(failed)}")
    finally:
        stop(web)
        stop(trivial)
        if servers is not None:
            servers.stop()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


if __name__ == "__main__":
    main()
