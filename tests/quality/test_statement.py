"""The monthly KPI statement is about one agency, in the shape Citus routes to
that agency's one shard: every tenant table it reads filtered by the same bound
`tenant_id`, every join between tenant tables on tenant_id, no read of the
agencies table; and (in the plans session) PostgreSQL's plan applies that
agency's tenant_id to the scan of every tenant table."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from sqlalchemy import event

import saas.all_models  # noqa: F401
from saas import db
from saas.db import Base, TenantScoped
from tenants.quality import kpis, services

TENANT_TABLES = {
    t.name for m in Base.registry.mappers if issubclass(m.class_, TenantScoped) for t in m.tables
}
# `from visits v`, `join visit_ratings r on ...`, `left join caseload_assignments a`
READS = re.compile(r"\b(?:from|join)\s+([a-z_]+)\s+([a-z])\b")


def _reads(sql: str) -> list[tuple[str, str]]:
    return [(table, alias) for table, alias in READS.findall(sql) if table in TENANT_TABLES]


def test_every_tenant_table_is_filtered_by_the_one_bound_agency():
    sql = str(kpis.FIGURES)
    reads = _reads(sql)
    assert {t for t, _ in reads} >= {"visits", "visit_ratings", "feedback_items", "return_visits"}
    for name, part in kpis.PARTS:
        for table, alias in _reads(part):
            assert re.search(rf"\b{alias}\.tenant_id = :tenant_id\b", part), (name, table)
    assert "agencies" not in sql and "bounds" not in sql
    assert "b.tenant_id" not in sql
    # the joins between tenant tables pair tenant_id
    for join in re.findall(r"\bjoin\s+[a-z_]+\s+[a-z]\s+on\s+([^\n]+)", sql):
        assert "tenant_id" in join, join


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _plan_nodes(child))]


@pytest.mark.plans  # reads a query plan: in the session of its own
@pytest.mark.explain
def test_the_plan_scans_each_tenant_table_for_the_one_agency(app, factory):
    from tests.quality.test_quality import OCTOBER, generate, make_world

    world = make_world(factory)
    generate(world, OCTOBER, seed=31, visits=60)
    captured: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        captured.append((statement, parameters))

    engine = db.get_engine()
    with time_machine.travel(datetime(2026, 11, 21, 10, tzinfo=UTC), tick=False):
        with app.app_context(), db.tenant_scope(world.agency.id):
            event.listen(engine, "before_cursor_execute", capture)
            try:
                services.compute_figures(world.agency, date(2026, 10, 1))
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            ((statement, parameters),) = [c for c in captured if "from visits v" in c[0]]
            conn = db.session.connection()
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            (plan,) = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
            db.session.rollback()
    scans = [n for n in _plan_nodes(plan["Plan"]) if n.get("Relation Name") in TENANT_TABLES]
    assert {n["Relation Name"] for n in scans} >= {"visits", "visit_ratings", "feedback_items"}
    agency = str(world.agency.id)
    for scan in scans:
        conditions = " ".join(scan.get(k, "") for k in ("Index Cond", "Recheck Cond", "Filter"))
        assert re.search(rf"tenant_id = '{agency}'::uuid", conditions), scan
