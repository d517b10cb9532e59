"""`saas db distribute`: where each table goes on Citus, read from a migrated
database. The placing itself needs a cluster; here the rule and the refusal
on plain PostgreSQL are checked."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, pool

import saas.all_models  # noqa: F401
from saas.cli import main
from saas.db import Base, TenantScoped
from saas.distribute import CannotPlace, ForeignKey, Schema, place, read_schema
from tests.core.test_schema import PLATFORM_TABLES


@pytest.fixture
def schema(migrated: str) -> Schema:
    engine = create_engine(migrated, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return read_schema(conn)
    finally:
        engine.dispose()


def test_migrated_schema_is_placed_by_the_rule(schema):
    placement = place(schema)
    mapped = {m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)}
    assert set(placement.distributed) == mapped, "every TenantScoped table, and only those, is distributed"
    assert set(placement.reference) == {"plans", "agencies", "users"}
    assert set(placement.coordinator) == (PLATFORM_TABLES - {"plans", "agencies", "users"}) | {
        "alembic_version"
    }
    assert len(placement.distributed) + len(placement.reference) + len(placement.coordinator) == len(
        schema.tables
    )


def test_every_key_of_a_tenant_table_lands_on_a_shard_or_a_copy(schema):
    placement = place(schema)
    on_workers = set(placement.distributed) | set(placement.reference)
    keys = [fk for fk in schema.foreign_keys if fk.table in placement.distributed]
    assert keys, "the tenant tables have foreign keys"
    for fk in keys:
        assert fk.referred in on_workers, f"{fk.table}.{fk.name} -> {fk.referred}"
    for fk in schema.foreign_keys:
        if fk.table in placement.reference:
            assert fk.referred in placement.reference, (
                f"a reference table keys only to reference tables: {fk.name}"
            )
    assert {fk.definition.split(" ", 1)[0] for fk in schema.foreign_keys} == {"FOREIGN"}, (
        "added back verbatim"
    )


def _fk(
    table: str, referred: str, columns=("tenant_id", "x_id"), referred_columns=("tenant_id", "id")
) -> ForeignKey:
    return ForeignKey(
        f"{table}_{referred}_fkey", table, tuple(columns), referred, tuple(referred_columns), "FOREIGN KEY"
    )


def test_platform_tables_referenced_through_reference_tables_are_copied_too():
    schema = Schema(
        tables=frozenset({"visits", "notes", "agencies", "plans", "sessions", "users"}),
        tenant=frozenset({"visits", "notes"}),
        foreign_keys=(
            _fk("visits", "agencies", ["tenant_id"], ["id"]),
            _fk("notes", "visits"),
            _fk("agencies", "plans", ["plan_id"], ["id"]),
            _fk("sessions", "users", ["user_id"], ["id"]),
        ),
    )
    placement = place(schema)
    assert placement.distributed == ("notes", "visits")
    assert placement.reference == ("agencies", "plans")
    assert placement.coordinator == ("sessions", "users"), "users is copied only once a tenant table needs it"


def test_keys_citus_cannot_keep_are_named_before_anything_changes():
    schema = Schema(
        tables=frozenset({"visits", "notes", "outbox"}),
        tenant=frozenset({"visits", "notes"}),
        foreign_keys=(
            _fk("notes", "visits", ["visit_id"], ["id"]),
            _fk("notes", "visits", ["x_id", "tenant_id"], ["tenant_id", "id"]),
            _fk("outbox", "notes", ["tenant_id", "note_id"], ["tenant_id", "id"]),
        ),
    )
    with pytest.raises(CannotPlace) as refused:
        place(schema)
    lines = str(refused.value).splitlines()
    assert len(lines) == 3
    assert "notes.notes_visits_fkey: a key between tenant tables must pair tenant_id with tenant_id" in lines
    assert "outbox.outbox_notes_fkey: a platform table cannot reference the tenant table notes" in lines


@pytest.mark.skipif(bool(os.environ.get("TEST_CITUS_URL")), reason="the suite's database is on Citus")
def test_distribute_refuses_plain_postgresql_and_changes_nothing(app, schema, migrated):
    result = app.test_cli_runner().invoke(main, ["db", "distribute"])
    assert result.exit_code == 1, result.output
    assert "no citus extension" in result.output and "CREATE EXTENSION citus" in result.output
    engine = create_engine(migrated, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            assert read_schema(conn) == schema
            settings = conn.exec_driver_sql(
                "select count(*) from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase "
                "where d.datname = current_database()"
            ).scalar()
            assert settings == 0, "no database setting was added"
    finally:
        engine.dispose()
