"""Place the schema on a Citus cluster: `saas db distribute`.

Run as the owner on the coordinator after `saas db upgrade`, and again after
every migration: it changes only what is not yet where it belongs.

Where each table of `public` goes (read from the database, not the models):

- A **tenant table** is one whose primary key starts with `tenant_id`. It is
  hash-distributed by `tenant_id`, every one in the same colocation group, so
  one agency's rows, joins, keys and transactions stay on one worker.
- A **platform table** (any other) that a tenant table references, directly or
  through another such table (`agencies`, `users`, and `plans` through
  `agencies`), becomes a **reference table**: a full copy on every node, so
  the tenant tables' keys to it hold on every shard.
- Every other platform table (sessions, password resets, the platform audit
  log, the outbox and mail, Stripe events, sweep runs, `alembic_version`)
  **stays on the coordinator**: it is read and written per request or per job,
  never joined with an agency's rows on a worker. Citus keeps those with a key
  to a reference table as Citus local tables, by itself.

Citus cannot distribute a table while another one references it through a
foreign key it cannot carry, and making `agencies` a reference table would turn
every table with a key to it into a Citus local table that can no longer be
distributed. So, in one transaction, the foreign keys touching a table to be
placed are dropped, the tables are placed, and the keys are added back exactly
as they were (`pg_get_constraintdef`). The database also gets the two settings
the app needs on Citus: `SET LOCAL app.tenant_id` travels to the workers
(`citus.propagate_set_commands`), and the append-only triggers are allowed on
shards (`citus.enable_unsafe_triggers`; they only raise).

Once a database is distributed, `migrations/env.py` runs every migration inside
`new_tables_follow`, which distributes a new tenant table as it is created:
Citus would refuse the CREATE TABLE of a table with a key to a distributed one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, ForeignKeyConstraint, Table, event, text
from sqlalchemy.schema import AddConstraint

TENANT_COLUMN = "tenant_id"
DATABASE_SETTINGS = {"citus.propagate_set_commands": "local", "citus.enable_unsafe_triggers": "on"}


class NotCitus(Exception):
    """The database has no citus extension, or no coordinator in the metadata."""


class CannotPlace(Exception):
    """The schema has a shape Citus cannot hold; nothing was changed."""


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    referred: str
    referred_columns: tuple[str, ...]
    definition: str  # pg_get_constraintdef: what adds it back unchanged


@dataclass(frozen=True)
class Schema:
    tables: frozenset[str]
    tenant: frozenset[str]  # primary key led by tenant_id
    foreign_keys: tuple[ForeignKey, ...]


@dataclass(frozen=True)
class Placement:
    distributed: tuple[str, ...]
    reference: tuple[str, ...]
    coordinator: tuple[str, ...]


@dataclass
class Report:
    placement: Placement
    distributed: list[str] = field(default_factory=list)  # placed by this run
    reference: list[str] = field(default_factory=list)
    keys_readded: int = 0
    settings: list[str] = field(default_factory=list)


def read_schema(conn: Connection) -> Schema:
    """The tables of `public` and their foreign keys, from pg_catalog; on
    Citus without the shards the coordinator holds, hidden or not."""
    shards = " and not relation_is_a_known_shard({}.oid)" if citus_version(conn) else ""
    rows = conn.execute(
        text(
            """
            select c.relname,
                   (select a.attname from pg_attribute a
                     where a.attrelid = c.oid and a.attnum = pk.conkey[1]) as leading
              from pg_class c
              join pg_namespace n on n.oid = c.relnamespace
              left join pg_constraint pk on pk.conrelid = c.oid and pk.contype = 'p'
             where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
            """
            + shards.format("c")
        )
    ).all()
    keys = conn.execute(
        text(
            """
            select fk.conname, src.relname, dst.relname,
                   array(select a.attname from unnest(fk.conkey) with ordinality k(num, pos)
                           join pg_attribute a on a.attrelid = fk.conrelid and a.attnum = k.num
                          order by k.pos) as cols,
                   array(select a.attname from unnest(fk.confkey) with ordinality k(num, pos)
                           join pg_attribute a on a.attrelid = fk.confrelid and a.attnum = k.num
                          order by k.pos) as refcols,
                   pg_get_constraintdef(fk.oid)
              from pg_constraint fk
              join pg_class src on src.oid = fk.conrelid
              join pg_class dst on dst.oid = fk.confrelid
              join pg_namespace n on n.oid = src.relnamespace
             where fk.contype = 'f' and n.nspname = 'public' and not src.relispartition
            """
            + shards.format("src")
            + " order by src.relname, fk.conname"
        )
    ).all()
    return Schema(
        tables=frozenset(r[0] for r in rows),
        tenant=frozenset(r[0] for r in rows if r[1] == TENANT_COLUMN),
        foreign_keys=tuple(
            ForeignKey(
                name=k[0],
                table=k[1],
                referred=k[2],
                columns=tuple(k[3]),
                referred_columns=tuple(k[4]),
                definition=k[5],
            )
            for k in keys
        ),  # fmt: skip
    )


def place(schema: Schema) -> Placement:
    """Where each table goes (the rule in the module's docstring), or
    CannotPlace naming every key Citus could not keep."""
    reference: set[str] = set()
    frontier = {fk.referred for fk in schema.foreign_keys if fk.table in schema.tenant}
    while frontier:
        reference |= frontier - schema.tenant
        frontier = {
            fk.referred for fk in schema.foreign_keys if fk.table in frontier and fk.referred not in reference
        } - schema.tenant
    problems = []
    for fk in schema.foreign_keys:
        if fk.table in schema.tenant and fk.referred in schema.tenant:
            if TENANT_COLUMN not in fk.columns or (
                fk.columns.index(TENANT_COLUMN) != _index(fk.referred_columns, TENANT_COLUMN)
            ):
                problems.append(
                    f"{fk.table}.{fk.name}: a key between tenant tables must pair tenant_id with tenant_id"
                )
        elif fk.table not in schema.tenant and fk.referred in schema.tenant:
            problems.append(
                f"{fk.table}.{fk.name}: a platform table cannot reference the tenant table {fk.referred}"
            )
    if problems:
        raise CannotPlace("\n".join(problems))
    return Placement(
        distributed=tuple(sorted(schema.tenant)),
        reference=tuple(sorted(reference)),
        coordinator=tuple(sorted(schema.tables - schema.tenant - reference)),
    )


def _index(columns: tuple[str, ...], name: str) -> int:
    return columns.index(name) if name in columns else -1


def citus_version(conn: Connection) -> str | None:
    return conn.scalar(text("select extversion from pg_extension where extname = 'citus'"))


def _citus_tables(conn: Connection) -> dict[str, tuple[str, str | None, int, str]]:
    """table -> (partmethod, distribution column, colocation id, repmodel)."""
    rows = conn.execute(
        text(
            """
            select c.relname, p.partmethod,
                   case when p.partmethod = 'h' then column_to_column_name(p.logicalrelid, p.partkey) end,
                   p.colocationid, p.repmodel
              from pg_dist_partition p
              join pg_class c on c.oid = p.logicalrelid
              join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = 'public'
            """
        )
    ).all()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def _is_distributed(info: tuple[str, str | None, int, str] | None) -> bool:
    return info is not None and info[0] == "h" and info[1] == TENANT_COLUMN


def _is_reference(info: tuple[str, str | None, int, str] | None) -> bool:
    return info is not None and info[0] == "n" and info[3] == "t"


def distribute(conn: Connection, say: Callable[[str], None] = print) -> Report:
    """Place every table by the rule, in the caller's transaction (the caller
    commits). Raises NotCitus or CannotPlace before changing anything."""
    version = citus_version(conn)
    if version is None:
        raise NotCitus(
            "This database has no citus extension: as a superuser, run CREATE EXTENSION citus and "
            "register the nodes (citus_set_coordinator_host, citus_add_node) first."
        )
    if not conn.scalar(text("select exists (select 1 from pg_dist_node where groupid = 0)")):
        raise NotCitus(
            "The coordinator is not in Citus's metadata: as a superuser, run "
            "SELECT citus_set_coordinator_host('<coordinator host>', <port>) first."
        )
    say(f"Citus {version}.")
    schema = read_schema(conn)
    placement = place(schema)
    current = _citus_tables(conn)
    misplaced = [
        t
        for t in placement.coordinator
        if t in current and (current[t][0] == "h" or _is_reference(current[t]))
    ]
    if misplaced:
        raise CannotPlace(
            f"Platform tables that should stay on the coordinator are spread: {', '.join(misplaced)}"
        )
    to_distribute = [t for t in placement.distributed if not _is_distributed(current.get(t))]
    to_reference = [t for t in placement.reference if not _is_reference(current.get(t))]
    wrong = [
        t
        for t in to_distribute + to_reference
        if current.get(t, ("",))[0] in ("h", "n") and not _citus_local(current[t])
    ]
    if wrong:
        raise CannotPlace(
            f"Tables Citus already placed otherwise (undistribute them first): {', '.join(wrong)}"
        )

    report = Report(placement)
    # a transaction that makes reference tables and then distributed tables with keys to them
    conn.execute(text("set local citus.multi_shard_modify_mode to 'sequential'"))
    conn.execute(text("set local citus.enable_unsafe_triggers to on"))
    moving = set(to_distribute) | set(to_reference)
    keys = [fk for fk in schema.foreign_keys if fk.table in moving or fk.referred in moving]
    for fk in keys:
        conn.execute(text(f"alter table {_q(fk.table)} drop constraint {_q(fk.name)}"))
    # a table Citus kept as a local table because of a key to a reference table
    # is let go when its last such key is dropped; one it still holds is undone
    current = _citus_tables(conn)
    for table in sorted(moving):
        if table in current:
            conn.execute(text("select undistribute_table(:t)"), {"t": table})
    for table in to_reference:
        conn.execute(text("select create_reference_table(:t)"), {"t": table})
        report.reference.append(table)
    anchor = next((t for t in placement.distributed if t not in to_distribute), None)
    for table in to_distribute:
        conn.execute(
            text("select create_distributed_table(:t, :c, colocate_with => :w)"),
            {"t": table, "c": TENANT_COLUMN, "w": anchor or "none"},
        )
        anchor = anchor or table
        report.distributed.append(table)
    for table in report.reference + report.distributed:
        # rows already there were copied to the shards; the coordinator's copy goes
        if conn.scalar(text(f"select exists (select 1 from only {_q(table)})")):
            # an append-only log refuses TRUNCATE by trigger: not of the copy it no longer reads
            refusing = conn.scalars(
                text(
                    "select tgname from pg_trigger where tgrelid = cast(:t as regclass)"
                    " and not tgisinternal and tgtype & 32 <> 0 and tgenabled <> 'D' order by tgname"
                ),
                {"t": table},
            ).all()
            for trigger in refusing:
                conn.execute(text(f"alter table {_q(table)} disable trigger {_q(trigger)}"))
            conn.execute(text("select truncate_local_data_after_distributing_table(:t)"), {"t": table})
            for trigger in refusing:
                conn.execute(text(f"alter table {_q(table)} enable trigger {_q(trigger)}"))
    for fk in keys:
        conn.execute(text(f"alter table {_q(fk.table)} add constraint {_q(fk.name)} {fk.definition}"))
    report.keys_readded = len(keys)
    report.settings = _database_settings(conn)
    verify(conn, placement, len(schema.foreign_keys))
    return report


def _citus_local(info: tuple[str, str | None, int, str]) -> bool:
    return info[0] == "n" and info[3] == "s"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _database_settings(conn: Connection) -> list[str]:
    """The settings every new connection to this database gets; only those not yet set."""
    have = dict(
        s.split("=", 1)
        for s in conn.scalar(
            text(
                "select coalesce((select setconfig from pg_db_role_setting s"
                " join pg_database d on d.oid = s.setdatabase"
                " where d.datname = current_database() and s.setrole = 0), '{}')"
            )
        )
    )
    database = conn.scalar(text("select current_database()"))
    changed = []
    for name, value in DATABASE_SETTINGS.items():
        if have.get(name) != value:
            conn.execute(text(f"alter database {_q(database)} set {name} = '{value}'"))
            changed.append(f"{name} = '{value}'")
    return changed


def verify(conn: Connection, placement: Placement, foreign_keys: int) -> None:
    """Raise CannotPlace unless every table is where the rule puts it."""
    current = _citus_tables(conn)
    problems = [t for t in placement.distributed if not _is_distributed(current.get(t))]
    problems += [t for t in placement.reference if not _is_reference(current.get(t))]
    groups = {current[t][2] for t in placement.distributed if t in current}
    if len(groups) > 1:
        problems.append(f"tenant tables in {len(groups)} colocation groups")
    kept = len(read_schema(conn).foreign_keys)
    if kept != foreign_keys:
        problems.append(f"{kept} foreign keys where there were {foreign_keys}")
    if problems:
        raise CannotPlace("Not placed as intended: " + ", ".join(problems))


def shards_without_rls(conn: Connection) -> list[str]:
    """Ask each worker, over connections of its own (so after the commit),
    whether every shard kept its table's forced row-level security."""
    problems = []
    for host, port, answered, result in conn.execute(
        text("select * from run_command_on_workers(:q)"), {"q": _RLS_ON_SHARDS}
    ):
        if not answered or result != "0":
            problems.append(f"{host}:{port}: {result} shard(s) without their table's row-level security")
    return problems


# run on each worker: how many shards of tables with forced row-level security
# lack it, or lack one of their table's policies
_RLS_ON_SHARDS = """
select count(*)
  from pg_dist_shard s
  join pg_class parent on parent.oid = s.logicalrelid
  join pg_class shard on shard.oid = to_regclass(shard_name(s.logicalrelid, s.shardid))
 where parent.relforcerowsecurity
   and not (shard.relrowsecurity and shard.relforcerowsecurity
            and (select count(*) from pg_policy where polrelid = shard.oid)
              = (select count(*) from pg_policy where polrelid = parent.oid))
"""


def summary(conn: Connection, placement: Placement) -> Iterable[str]:
    """Where the tables are now, and how many shard placements each node holds."""
    current = _citus_tables(conn)
    groups = sorted({current[t][2] for t in placement.distributed if t in current})
    yield (
        f"{len(placement.distributed)} tenant tables hash-distributed by tenant_id "
        f"(colocation group {', '.join(map(str, groups)) or '-'}); "
        f"{len(placement.reference)} reference tables ({', '.join(placement.reference)}); "
        f"{len(placement.coordinator)} tables on the coordinator "
        f"({sum(1 for t in placement.coordinator if t in current)} of them Citus local tables)."
    )
    rows = conn.execute(
        text(
            """
            select n.nodename, n.nodeport, count(*)
              from pg_dist_placement p join pg_dist_node n on n.groupid = p.groupid
              join pg_dist_shard s on s.shardid = p.shardid
              join pg_dist_partition d on d.logicalrelid = s.logicalrelid
             where d.partmethod = 'h' or d.repmodel = 't'
             group by 1, 2 order by 1, 2
            """
        )
    ).all()
    for host, port, count in rows:
        yield f"  {host}:{port}: {count} shard placements"


@contextmanager
def new_tables_follow(conn: Connection) -> Iterator[None]:
    """While migrating a database already distributed, distribute each tenant
    table a migration creates as soon as it exists, then add its foreign keys.

    Citus refuses a key from a local table to a distributed one, so the
    migration's CREATE TABLE itself would fail: here it is issued without the
    table's keys, the table is distributed (colocated with the others), a
    platform table it references is made a reference table if it is not one,
    and the keys are added. On plain PostgreSQL, or before the first
    `saas db distribute`, nothing changes."""
    if citus_version(conn) is None:
        yield
        return
    anchor = conn.scalar(
        text(
            "select logicalrelid::regclass::text from pg_dist_partition"
            " where partmethod = 'h' and column_to_column_name(logicalrelid, partkey) = :c"
            " order by colocationid, logicalrelid limit 1"
        ),
        {"c": TENANT_COLUMN},
    )
    if anchor is None:
        yield
        return
    conn.execute(text("set local citus.multi_shard_modify_mode to 'sequential'"))
    held: dict[str, list[ForeignKeyConstraint]] = {}

    def before_create(table: Table, connection: Connection, **kw: Any) -> None:
        columns = list(table.primary_key.columns)
        if columns and columns[0].name == TENANT_COLUMN:
            keys = [fk for fk in table.foreign_key_constraints if not fk.use_alter]
            for fk in keys:
                fk.use_alter = True  # left out of CREATE TABLE
            held[table.name] = keys

    def after_create(table: Table, connection: Connection, **kw: Any) -> None:
        keys = held.pop(table.name, None)
        if keys is None:
            return
        connection.execute(
            text("select create_distributed_table(:t, :c, colocate_with => :w)"),
            {"t": table.name, "c": TENANT_COLUMN, "w": anchor},
        )
        placed = _citus_tables(connection)
        for fk in keys:
            referred = fk.elements[0].target_fullname.rsplit(".", 1)[0]
            if referred not in placed:
                connection.execute(text("select create_reference_table(:t)"), {"t": referred})
                placed = _citus_tables(connection)
            fk.use_alter = False
            connection.execute(AddConstraint(fk))

    event.listen(Table, "before_create", before_create)
    event.listen(Table, "after_create", after_create)
    try:
        yield
    finally:
        event.remove(Table, "before_create", before_create)
        event.remove(Table, "after_create", after_create)
