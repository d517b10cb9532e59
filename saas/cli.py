"""The `saas` command: a Flask CLI group for operating the platform."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from redis.exceptions import RedisError
from rq import Worker
from rq.cron import CronScheduler
from sqlalchemy import select

from saas import agencies, audit, demo
from saas import db as database
from saas.app import create_app, job_app
from saas.auth.services import invite
from saas.config import INSTANCE, ROOT, owner_url
from saas.errors import DomainError
from saas.i18n_tools import compile_catalogues
from saas.jobs import QUEUES, redis_connection
from saas.models import Agency, AgencyStatus, Role
from saas.tenancy import agency_by_slug

log = logging.getLogger(__name__)

_embedded: Any = None

# A process that lost Redis, or a child of `saas run` that died, is started
# again after FIRST_WAIT seconds, doubling up to LONGEST_WAIT while it keeps
# failing; one that had been running for STEADY_AFTER seconds starts over.
FIRST_WAIT = 1.0
LONGEST_WAIT = 60.0
STEADY_AFTER = 60.0


def ensure_services() -> None:
    """Use DATABASE_URL / REDIS_URL when set, else embedded servers under instance/."""
    global _embedded
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    # only without servers of one's own: it brings PostgreSQL and Redis binaries in
    from saas import embedded

    _embedded = embedded.start(INSTANCE)
    os.environ.setdefault("DATABASE_URL", _embedded.database_url)
    os.environ.setdefault("REDIS_URL", _embedded.redis_url)


def _create_app() -> Flask:
    ensure_services()
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main() -> None:
    """Operate the CareHub platform."""


# -- database ----------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


def upgrade_database() -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    command.upgrade(cfg, "head")


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Migrate to the latest schema (runs as the owner role)."""
    upgrade_database()
    click.echo("Database is up to date.")


@db.command("distribute")
@with_appcontext
def db_distribute() -> None:
    """Shard the schema on Citus (as the owner, after every upgrade)."""
    from sqlalchemy import create_engine, pool

    from saas import distribute

    engine = create_engine(owner_url(current_app.config["DATABASE_URL"]), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            with conn.begin():
                report = distribute.distribute(conn, say=click.echo)
            if report.reference:
                click.echo(f"Made reference tables: {', '.join(report.reference)}.")
            if report.distributed:
                click.echo(f"Distributed by tenant_id: {len(report.distributed)} tenant table(s).")
            if report.keys_readded:
                click.echo(f"Dropped and added back {report.keys_readded} foreign key(s).")
            for setting in report.settings:
                click.echo(f"Set {setting} for the database (restart the app to use it).")
            if not (report.reference or report.distributed or report.settings):
                click.echo("Nothing to change.")
            for line in distribute.summary(conn, report.placement):
                click.echo(line)
            unsafe = distribute.shards_without_rls(conn)
            if unsafe:
                raise click.ClickException("\n".join(unsafe))
            click.echo("Every shard has its table's forced row-level security and policies.")
    except (distribute.NotCitus, distribute.CannotPlace) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()


# -- demo --------------------------------------------------------------------


@main.command("demo")
@click.option("--force", is_flag=True, help="Seed even though the database has data.")
@with_appcontext
def demo_command(force: bool) -> None:
    """Seed the demo platform (refuses unless the database is empty)."""
    try:
        with database.unit_of_work():
            demo.seed(force=force)
    except demo.NotEmpty:
        raise click.ClickException("The database is not empty; use --force to seed anyway.") from None
    click.echo(demo.logins_text())


# -- agencies ----------------------------------------------------------------


@main.group()
def tenants() -> None:
    """Agencies (tenants)."""


@tenants.command("create")
@click.argument("name")
@click.argument("slug")
@click.option("--timezone", default="Europe/London", show_default=True)
@click.option("--locale", type=click.Choice(["en", "zh_CN"]), default="en", show_default=True)
@click.option("--admin-email", help="Invite this person as the first admin.")
@with_appcontext
def tenants_create(name: str, slug: str, timezone: str, locale: str, admin_email: str | None) -> None:
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        try:
            with database.unit_of_work():
                agency = agencies.create_agency(name, slug, timezone, locale)
                if admin_email:
                    with database.tenant_scope(agency.id):
                        invite(agency, admin_email, Role.ADMIN, invited_by=None)
        except DomainError as exc:
            raise click.ClickException(f"{exc.field}: {exc.code}") from None
    click.echo(f"Created {agency.slug} ({agency.id})")


@tenants.command("list")
@with_appcontext
def tenants_list() -> None:
    for agency in database.session.scalars(select(Agency).order_by(Agency.slug)):
        click.echo(
            f"{agency.slug:<24} {agency.status:<10} {agency.billing_state:<11} {agency.locale:<6} "
            f"{agency.timezone:<20} {agency.name}"
        )


@tenants.command("suspend")
@click.argument("slug")
@click.option("--reactivate", is_flag=True, help="Lift a suspension instead.")
@click.option("--reason", default="")
@with_appcontext
def tenants_suspend(slug: str, reactivate: bool, reason: str) -> None:
    with database.unit_of_work():
        agency = agency_by_slug(slug)
        if agency is None:
            raise click.ClickException(f"No agency {slug}")
        agencies.set_status(agency, AgencyStatus.ACTIVE if reactivate else AgencyStatus.SUSPENDED, reason)
    click.echo(f"{agency.slug}: {agency.status}")


# -- audit -------------------------------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """The agencies' audit logs."""


@audit_group.command("verify")
@click.option("--agency", "slug", help="Only this agency (its web address).")
@with_appcontext
def audit_verify(slug: str | None) -> None:
    """Walk each agency's hash chain; exits 1 if any entry was altered,
    removed or relinked."""
    try:
        if slug:
            agency = agency_by_slug(slug)
            if agency is None:
                raise click.ClickException(f"No agency {slug}")
            chosen = [agency]
        else:
            chosen = list(database.session.scalars(select(Agency).order_by(Agency.slug)))
        broken = 0
        for agency in chosen:
            with database.tenant_scope(agency.id):
                count, breaks = audit.verify_chain()
            for item in breaks:
                click.echo(f"{agency.slug}: entry {item.seq} ({item.event_id}) {item.problem}")
            if not breaks:
                click.echo(f"{agency.slug}: {count} entries, intact")
            broken += len(breaks)
    finally:
        database.session.remove()
    if broken:
        click.echo(f"{broken} break(s) found.", err=True)
        raise SystemExit(1)


# -- processes ---------------------------------------------------------------


def keep_connected(what: str, run_once: Callable[[], bool]) -> None:
    """Run `run_once` until it returns True (it was asked to stop). A Redis
    error, or a return nobody asked for (RQ gives up on some Redis errors by
    returning), is an outage: wait, longer each time, and run it again, so the
    worker and the scheduler ride out a Redis restart instead of exiting."""
    wait = FIRST_WAIT
    while True:
        started = time.monotonic()
        try:
            if run_once():
                return
            reason = "stopped"
        except RedisError as exc:
            reason = f"lost Redis ({type(exc).__name__})"
        if time.monotonic() - started >= STEADY_AFTER:
            wait = FIRST_WAIT
        log.warning("%s %s; trying again in %.0f s", what, reason, wait)
        _pause(wait)
        wait = min(wait * 2, LONGEST_WAIT)


def _pause(seconds: float) -> None:
    """Sleep, but end the process at once on SIGTERM or SIGINT: the handlers
    RQ left behind would first try to tell Redis, which is not there."""

    def leave(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    time.sleep(seconds)


@main.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker on the platform's queues."""

    class PlatformWorker(Worker):
        asked_to_stop = False

        def request_stop(self, signum: int, frame: Any) -> None:
            self.asked_to_stop = True
            super().request_stop(signum, frame)

    job_app()  # build once in the parent so each forked job reuses it
    conn = redis_connection(current_app.config["REDIS_URL"])
    if burst:
        PlatformWorker(list(QUEUES), connection=conn).work(burst=True, with_scheduler=True)
        return

    def work() -> bool:
        # a new worker each time: the last one's registration may still be in Redis
        rq_worker = PlatformWorker(list(QUEUES), connection=conn)
        try:
            rq_worker.work(with_scheduler=True)
        except RedisError:
            if not rq_worker.asked_to_stop:
                raise
        return rq_worker.asked_to_stop

    keep_connected("worker", work)


@main.command("cron")
@with_appcontext
def cron_command() -> None:
    """Run the `rq cron` scheduler with saas/schedule.py."""

    class PlatformCron(CronScheduler):
        asked_to_stop = False

        def _request_stop(self, signum: int, frame: Any) -> None:
            self.asked_to_stop = True
            super()._request_stop(signum, frame)

    scheduler = PlatformCron(connection=redis_connection(current_app.config["REDIS_URL"]))
    scheduler.load_config_from_file("saas.schedule")

    def run() -> bool:
        # the same scheduler each time: it remembers when each job last went,
        # so a job that fell due during the outage goes once Redis is back
        try:
            scheduler.start()
        except RedisError:
            if not scheduler.asked_to_stop:
                raise
        return True  # start() returns only when asked to stop

    keep_connected("cron", run)


def _ends_with_parent() -> Callable[[], None] | None:
    """On Linux, what makes a child end (SIGTERM) when `saas run` dies, even
    by SIGKILL: its children are in groups of their own, so a signal to the
    group of `saas run` would not reach them."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    parent = os.getpid()

    def set_parent_death_signal() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # it died before the line above
            os._exit(1)

    return set_parent_death_signal


@dataclass
class Child:
    """One process `saas run` keeps running."""

    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    wait: float = FIRST_WAIT
    restart_at: float = 0.0

    def start(self, env: dict[str, str]) -> None:
        # a process group of its own, so what it leaves behind when it dies
        # (gunicorn's workers, RQ's scheduler process) can be ended with it
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            self.argv, env=env, cwd=ROOT, process_group=0, preexec_fn=_ends_with_parent()
        )
        self.started_at = time.monotonic()

    def end_leftovers(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass  # nothing left

    def check(self, env: dict[str, str]) -> None:
        """Start it again, after a wait, if it died."""
        now = time.monotonic()
        if self.proc is not None and self.proc.poll() is not None:
            self.end_leftovers()
            if now - self.started_at >= STEADY_AFTER:
                self.wait = FIRST_WAIT
            click.echo(
                f"{self.name} exited with {self.proc.returncode}; starting it again in {self.wait:.0f} s",
                err=True,
            )
            self.proc = None
            self.restart_at = now + self.wait
            self.wait = min(self.wait * 2, LONGEST_WAIT)
        elif self.proc is None and now >= self.restart_at:
            self.start(env)
            click.echo(f"{self.name} started again (pid {self.proc.pid})", err=True)


@main.command("run", with_appcontext=False)
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), show_default="5000 or $PORT")
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--no-demo", is_flag=True, help="Do not seed the demo platform into an empty database.")
def run(port: int, host: str, no_demo: bool) -> None:
    """Everything `make run` starts: migrate, seed, web, worker and cron.
    A process that dies is started again (after 1 s, doubling to a minute
    while it keeps dying); Ctrl-C stops them all."""
    ensure_services()
    compile_catalogues()
    os.environ.setdefault("BASE_URL", f"http://{host}:{port}")
    app = _create_app()
    with app.app_context():
        upgrade_database()
        if not no_demo and demo.database_is_empty():
            with database.unit_of_work():
                demo.seed()
            click.echo(demo.logins_text())
        elif not no_demo:
            click.echo("Demo logins (if seeded earlier):\n" + demo.logins_text())
    database.get_engine().dispose()

    env = dict(os.environ)
    exe = [sys.executable, "-m", "saas.cli"]
    children = [
        Child("web", [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                      "--bind", f"{host}:{port}", "saas.wsgi:app"]),
        Child("worker", [*exe, "worker"]),
        Child("cron", [*exe, "cron"]),
    ]  # fmt: skip
    for child in children:
        child.start(env)
    click.echo(f"CareHub is running on http://{host}:{port}  (Ctrl-C to stop)")
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for child in children:
                child.check(env)
            time.sleep(0.5)
    finally:
        running = [child for child in children if child.proc is not None]
        for child in running:
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.time() + 20
        for child in running:
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
            child.end_leftovers()
        if _embedded is not None:
            _embedded.stop()
        click.echo("Stopped.")


if __name__ == "__main__":
    main()
