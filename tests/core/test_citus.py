"""On a Citus cluster (`TEST_CITUS_URL`): the schema as `saas db distribute`
leaves it, a migration's new tenant table following it, and a hot page's
statement routed to one shard. Elsewhere these are skipped: plain
PostgreSQL has no shards to look at (`test_distribute.py` checks the rule
there).

The last test is Citus's own crash, kept as the minimal reproducer sent
upstream: it takes the coordinator down with every connection, so it runs
only against a cluster of its own (`TEST_CITUS_CRASH_URL`)."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    ForeignKeyConstraint,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Uuid,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import saas.all_models  # noqa: F401
from saas import db
from saas.db import Base, TenantScoped
from saas.distribute import TENANT_COLUMN, new_tables_follow, shards_without_rls
from saas.models import Membership
from tenants.scheduling import queries, services
from tests.scheduling.test_scheduling import World

on_citus = pytest.mark.skipif(
    not os.environ.get("TEST_CITUS_URL"), reason="needs a Citus cluster (TEST_CITUS_URL)"
)


@pytest.fixture
def owner(migrated: str):
    engine = create_engine(migrated)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


@on_citus
def test_every_tenant_table_is_sharded_by_agency_on_the_workers(owner):
    tables = {
        name: (kind, column, colocation)
        for name, kind, column, colocation in owner.execute(
            text(
                "select table_name::text, citus_table_type, distribution_column, colocation_id"
                " from citus_tables"
            )
        )
    }
    mapped = {m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)}
    assert mapped, "the app has tenant tables"
    for name in mapped:
        assert tables.get(name, (None, None, None))[:2] == ("distributed", TENANT_COLUMN), name
    assert len({tables[name][2] for name in mapped}) == 1, (
        "one colocation group: an agency's rows on one node"
    )
    assert {n for n, (kind, *_rest) in tables.items() if kind == "reference"} == {
        "agencies",
        "plans",
        "users",
    }
    per_node = dict(
        owner.execute(
            text(
                "select nodeport, count(*) from pg_dist_placement p join pg_dist_node n using (groupid)"
                " group by 1"
            )
        ).all()
    )
    workers = owner.execute(text("select count(*) from pg_dist_node where groupid <> 0")).scalar()
    assert workers >= 2 and len([n for n, count in per_node.items() if count > len(mapped)]) == workers, (
        per_node
    )
    assert shards_without_rls(owner) == []


@on_citus
def test_a_tenant_table_a_migration_makes_is_distributed_with_its_keys(owner):
    metadata = MetaData()
    Table("clients", metadata, Column("tenant_id", Uuid), Column("id", Uuid))
    table = Table(
        "throwaway_notes",
        metadata,
        Column("tenant_id", Uuid, nullable=False),
        Column("id", Uuid, nullable=False),
        Column("client_id", Uuid, nullable=False),
        PrimaryKeyConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"]),
    )
    with owner.begin() as transaction, new_tables_follow(owner):
        table.create(owner)
        kind, column = owner.execute(
            text(
                "select citus_table_type, distribution_column from citus_tables"
                " where table_name = 'throwaway_notes'::regclass"
            )
        ).one()
        assert (kind, column) == ("distributed", TENANT_COLUMN)
        colocated = owner.execute(
            text(
                "select count(distinct colocationid) from pg_dist_partition"
                " where logicalrelid in ('throwaway_notes'::regclass, 'clients'::regclass)"
            )
        ).scalar()
        assert colocated == 1
        keys = owner.execute(
            text(
                "select pg_get_constraintdef(oid) from pg_constraint"
                " where conrelid = 'throwaway_notes'::regclass and contype = 'f'"
            )
        ).scalars()
        assert list(keys) == ["FOREIGN KEY (tenant_id, client_id) REFERENCES clients(tenant_id, id)"]
        transaction.rollback()


@on_citus
def test_the_carers_schedule_is_one_task_on_one_shard(app, factory, dbconn):
    world = World(factory, weekdays=(1, 2, 3, 4, 5, 6, 7))
    world.activate()
    user, staff = world.carer(name="Cara Carer")
    with db.tenant_scope(world.agency.id):
        services.bulk_assign(world.agency, world.plan, staff.id, by=world.coordinator)
        db.session.commit()
        member_id = db.session.scalar(select(Membership.id).where(Membership.user_id == user.id))
    first = services.local_now(world.agency).date()
    statements: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if "visits" in statement:
            statements.append((statement, parameters))

    with db.tenant_scope(world.agency.id):
        event.listen(db.get_engine(), "before_cursor_execute", capture)
        try:
            rows = queries.member_schedule(world.agency, member_id, first, first + timedelta(days=7))
        finally:
            event.remove(db.get_engine(), "before_cursor_execute", capture)
        assert len(rows) >= 6, "the week's visits are on it"
        ((statement, parameters),) = statements
        (plan,) = (
            db.session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
        )
        db.session.rollback()
    job = plan["Plan"]["Distributed Query"]["Job"]
    assert job["Task Count"] == 1, job


# -- Citus's crash, as reported upstream ----------------------------------------------------------

CRASH_SCHEMA = """
CREATE ROLE crash_app LOGIN;
CREATE TABLE users (id int PRIMARY KEY);
CREATE TABLE memberships (tenant_id int, id int, user_id int, PRIMARY KEY (tenant_id, id));
SELECT create_reference_table('users');
SELECT create_distributed_table('memberships', 'tenant_id');
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_tenant ON memberships USING (tenant_id = current_setting('app.tenant_id')::int);
GRANT SELECT ON users, memberships TO crash_app;
INSERT INTO users VALUES (1), (2);
INSERT INTO memberships VALUES (1, 10, 1), (2, 20, 2);
"""


@pytest.mark.skipif(
    not os.environ.get("TEST_CITUS_CRASH_URL"),
    reason="takes a Citus coordinator down: only against a cluster of its own (TEST_CITUS_CRASH_URL)",
)
def test_citus_plans_a_reference_table_outer_joined_to_a_table_under_row_level_security():
    """Citus 13.2.2 on PostgreSQL 15: SIGSEGV in the planner
    (RecursivelyPlanRecurringTupleOuterJoinWalker -> ReplaceRTERelationWithRteSubquery
    -> RecursivelyPlanSubquery -> standard_planner -> deconstruct_jointree), and
    crash recovery drops every connection of the coordinator. Needed: a
    reference table on the outer side, a distributed table on the inner side,
    a row-level security policy on it that is not a constant (here
    `current_setting`), and a role it applies to. Without any of them the
    same query runs. The app avoids the shape (`saas.memberships`); this
    passes once Citus plans it."""
    url = make_url(os.environ["TEST_CITUS_CRASH_URL"])
    name = f"citus_crash_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    workers = []
    with admin.connect() as conn:
        workers = conn.execute(
            text("select nodename, nodeport from pg_dist_node where groupid <> 0 and isactive")
        ).all()
    nodes = [url] + [url.set(host=h, port=p) for h, p in workers]
    for node in nodes:
        engine = create_engine(node, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        engine = create_engine(node.set(database=name), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE EXTENSION citus"))
        engine.dispose()
    database = create_engine(url.set(database=name), isolation_level="AUTOCOMMIT")
    try:
        with database.connect() as conn:
            conn.execute(text("select citus_set_coordinator_host(:h, :p)"), {"h": url.host, "p": url.port})
            for host, port in workers:
                conn.execute(text("select citus_add_node(:h, :p)"), {"h": host, "p": port})
            conn.execute(
                text(
                    "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crash_app')"
                    " THEN CREATE ROLE crash_app LOGIN; END IF; END $$"
                )
            )
            for statement in CRASH_SCHEMA.strip().splitlines()[1:]:
                conn.execute(text(statement))
        app_role = create_engine(url.set(database=name, username="crash_app", password=None))
        with app_role.connect() as conn:
            conn.execute(text("SET app.tenant_id = '1'"))
            rows = conn.execute(
                text("select u.id, m.id from users u left join memberships m on m.user_id = u.id order by 1")
            ).all()
        app_role.dispose()
        assert rows == [(1, 10), (2, None)]
    finally:
        database.dispose()
        admin.dispose()
        for node in reversed(nodes):
            _drop_when_back(node, name)


def _drop_when_back(node: Any, name: str) -> None:
    """Drop the database once the node accepts connections again (a crashed
    coordinator replays its log first)."""
    engine = create_engine(node, isolation_level="AUTOCOMMIT")
    try:
        for _ in range(60):
            try:
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                return
            except OperationalError:
                time.sleep(1)
    finally:
        engine.dispose()
