"""Database: engine, one session per request or job, and tenant scoping.

Tenancy is enforced twice:

1. In the ORM: `do_orm_execute` adds `with_loader_criteria(TenantScoped, ...)`
   to every SELECT, UPDATE and DELETE, and `before_flush` fills `tenant_id` on
   insert (after SQLAlchemy's examples/extending_query/filter_public.py).
2. In PostgreSQL: every tenant table has row-level security with FORCE, keyed on
   the per-transaction setting `app.tenant_id`, which `after_begin` sets from
   `session.info["tenant_id"]`. The app connects as a role that neither owns the
   tables nor bypasses RLS, so a query with no tenant set sees nothing.

Reading across agencies goes through one named path, `platform_reader()`.
"""

from __future__ import annotations

import enum
import select as _select
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import uuid6
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    MetaData,
    Uuid,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    scoped_session,
    sessionmaker,
    with_loader_criteria,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> uuid.UUID:
    """App-generated, time-ordered id (UUIDv7): index-friendly and shard-friendly."""
    return uuid.UUID(bytes=uuid6.uuid7().bytes)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True), uuid.UUID: Uuid()}


class TenantNotSet(RuntimeError):
    """A tenant-owned row was written with no agency in scope."""


class TenantMismatch(RuntimeError):
    """A row of one agency was about to be written while another is in scope."""


class TenantScoped:
    """Mixin for every tenant-owned table: primary key (tenant_id, id)."""

    __tenant_owned__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(ForeignKey("agencies.id"), primary_key=True, sort_order=-100)

    # (tenant_id, id): the agency leads every key and index, as Citus shards by it
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id, sort_order=-99)


def enum_check(column: str, values: type[enum.StrEnum], name: str) -> CheckConstraint:
    """A check that a column holds one of an enum's values (the SQL text the
    migrations carry: keep its form)."""
    allowed = ",".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} in ({allowed})", name=name)


def tenant_fk(column: str, table: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A foreign key to another tenant table: (tenant_id, column) -> (tenant_id, id),
    so a row can only point inside its own agency (and Citus can co-locate)."""
    return ForeignKeyConstraint(
        ["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete
    )


@event.listens_for(TenantScoped, "init", propagate=True)
def _assign_id(target: Any, args: Any, kwargs: dict) -> None:
    # Ids exist before flush so rows can reference each other in one transaction.
    if kwargs.get("id") is None:
        kwargs["id"] = new_id()


# -- engine and sessions -----------------------------------------------------

SessionLocal = sessionmaker(expire_on_commit=False)
session: scoped_session[Session] = scoped_session(SessionLocal)
_engine: Engine | None = None
_reader_engine: Engine | None = None


def init_engine(url: str, reader_url: str = "", **kwargs: Any) -> Engine:
    """The app's engine (as `saas_app`) and, when given, the platform
    reader's (as `saas_platform_reader`, a small pool of its own)."""
    global _engine, _reader_engine
    if reader_url and (
        _reader_engine is None or _reader_engine.url.render_as_string(hide_password=False) != reader_url
    ):
        _reader_engine = create_engine(reader_url, pool_size=2, max_overflow=4, **kwargs)
        event.listen(_reader_engine, "checkout", _refuse_closed_connection)
    if _engine is not None and _engine.url.render_as_string(hide_password=False) == url:
        return _engine
    # No pre-ping: it costs a round trip on every checkout. A connection the
    # server closed (a restart) is noticed on checkout without one, by
    # `_server_went_away`; any other failure invalidates the pool on first use.
    _engine = create_engine(url, pool_size=5, max_overflow=10, **kwargs)
    event.listen(_engine, "checkout", _refuse_closed_connection)
    SessionLocal.configure(bind=_engine)
    return _engine


def _server_went_away(dbapi_connection: Any) -> bool:
    """Whether the server has closed an idle pooled connection, read from
    its socket without a round trip: an idle connection has nothing to read,
    so a pending message (the server's "terminating connection") or the end
    of the stream means it is gone."""
    if getattr(dbapi_connection, "closed", False):
        return True
    try:
        fd = dbapi_connection.fileno()
    except Exception:  # noqa: BLE001 - a connection without a socket is no use
        return True
    poller = _select.poll()
    poller.register(fd, _select.POLLIN | _select.POLLPRI)
    return bool(poller.poll(0))


def _refuse_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    if _server_went_away(dbapi_connection):
        # the pool drops it and checks out (or opens) another
        raise DisconnectionError("the server closed this connection")


def dispose_after_fork() -> None:
    """A forked process drops the pools it inherited (the app's and the
    reader's), leaving their sockets to the parent."""
    for engine in (_engine, _reader_engine):
        if engine is not None:
            engine.dispose(close=False)


def get_engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database engine not initialised")
    return _engine


# -- tenant scope ------------------------------------------------------------


def current_tenant_id(sess: Session | None = None) -> uuid.UUID | None:
    return (sess or session()).info.get("tenant_id")


# What `app.tenant_id` holds in the connection's current transaction, kept in
# `Connection.info`, so that it is sent only when it changes: a transaction
# starts with it empty (SET LOCAL ends with its transaction; nothing sets it
# for a whole session), a savepoint rolled back restores what it was before.
_APPLIED = "app.tenant_id"
_AT_SAVEPOINT = "app.tenant_id at savepoint"


def _apply_setting(conn: Connection, tenant_id: uuid.UUID | None) -> None:
    # SET LOCAL rather than set_config(): Citus propagates SET LOCAL to the
    # workers (citus.propagate_set_commands = 'local'). The value is a UUID we
    # format ourselves, so it is safe to inline.
    value = str(uuid.UUID(str(tenant_id))) if tenant_id else ""
    if conn.info.get(_APPLIED, "") == value:
        return
    conn.exec_driver_sql(f"SET LOCAL app.tenant_id = '{value}'")
    conn.info[_APPLIED] = value


def clear_tenant_setting(conn: Connection) -> None:
    """Empty `app.tenant_id` in the connection's transaction, as every new
    transaction starts (for a test's outer transaction, which the sessions
    nested in it leave set when they commit)."""
    _apply_setting(conn, None)


def _info(conn: Connection) -> dict[str, Any] | None:
    # a connection the server dropped has no setting left to track
    return None if conn.invalidated or conn.closed else conn.info


@event.listens_for(Engine, "begin")
@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_edge(conn: Connection) -> None:
    info = _info(conn)
    if info is not None:
        info[_APPLIED] = ""
        info.pop(_AT_SAVEPOINT, None)


@event.listens_for(Engine, "savepoint")
def _savepoint(conn: Connection, name: str | None) -> None:
    info = _info(conn)
    if info is not None:
        info.setdefault(_AT_SAVEPOINT, []).append(info.get(_APPLIED, ""))


@event.listens_for(Engine, "rollback_savepoint")
def _rollback_savepoint(conn: Connection, name: str, context: Any) -> None:
    info = _info(conn)
    if info is not None and info.get(_AT_SAVEPOINT):
        info[_APPLIED] = info[_AT_SAVEPOINT].pop()


@event.listens_for(Engine, "release_savepoint")
def _release_savepoint(conn: Connection, name: str, context: Any) -> None:
    info = _info(conn)
    if info is not None and info.get(_AT_SAVEPOINT):
        info[_AT_SAVEPOINT].pop()


def set_tenant(tenant_id: uuid.UUID | None, sess: Session | None = None) -> None:
    """Put one agency in scope for this session (request or job)."""
    sess = sess or session()
    if sess.info.get("platform_reader"):
        raise RuntimeError("the platform reader is not tied to one agency")
    if sess.info.get("tenant_id") != tenant_id and (sess.new or sess.dirty or sess.deleted):
        # pending writes belong to the agency they were made under
        sess.flush()
    sess.info["tenant_id"] = tenant_id
    if sess.in_transaction():
        _apply_setting(sess.connection(), tenant_id)


@contextmanager
def tenant_scope(tenant_id: uuid.UUID, sess: Session | None = None) -> Iterator[Session]:
    """Temporarily switch agency (jobs looping over agencies)."""
    sess = sess or session()
    previous = sess.info.get("tenant_id")
    set_tenant(tenant_id, sess)
    try:
        yield sess
    finally:
        set_tenant(previous, sess)


@event.listens_for(Session, "after_begin")
def _after_begin(sess: Session, transaction: Any, connection: Connection) -> None:
    if sess.info.get("platform_reader") == "nested":
        # a test's reader, inside the test's one transaction (see platform_reader)
        connection.execute(text("set local role saas_platform_reader"))
        return
    if sess.info.get("platform_reader"):
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        return
    _apply_setting(connection, sess.info.get("tenant_id"))


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if state.session.info.get("platform_reader"):
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    tenant_id = state.session.info.get("tenant_id")
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


@event.listens_for(Session, "transient_to_pending")
def _stamp_tenant(sess: Session, obj: Any) -> None:
    if isinstance(obj, TenantScoped) and obj.tenant_id is None and sess.info.get("tenant_id") is not None:
        obj.tenant_id = sess.info["tenant_id"]


@event.listens_for(Session, "before_flush")
def _fill_tenant(sess: Session, flush_context: Any, instances: Any) -> None:
    if sess.info.get("platform_reader"):
        raise RuntimeError("the platform reader is read-only")
    tenant_id = sess.info.get("tenant_id")
    for obj in sess.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenantNotSet(type(obj).__name__)
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise TenantMismatch(type(obj).__name__)
    for obj in sess.dirty:
        if isinstance(obj, TenantScoped) and obj.tenant_id != tenant_id:
            raise TenantMismatch(type(obj).__name__)


def new_session(**info: Any) -> Session:
    """A session of its own, on the same bind as the request's session.

    Tests run each test inside one outer transaction; there the new session
    nests in a savepoint on that connection instead of opening another.
    """
    bind = session().get_bind()
    opts: dict[str, Any] = {"expire_on_commit": False}
    if isinstance(bind, Connection):
        opts["join_transaction_mode"] = "create_savepoint"
    return Session(bind=bind, info=info, **opts)


@contextmanager
def unit_of_work(sess: Session | None = None) -> Iterator[Session]:
    """A job's or a command's one transaction: committed when the block ends
    normally, rolled back when it raises (the exception goes on). A request's
    is saas.lifecycle's."""
    sess = sess or session()
    try:
        yield sess
    except BaseException:
        # a connection the database dropped cannot roll back: the error that
        # ended the block is the one to report
        with suppress(Exception):
            sess.rollback()
        raise
    sess.commit()


@contextmanager
def platform_reader() -> Iterator[Session]:
    """The one named path for reading across agencies.

    Runs on a connection of its own, logged in as `saas_platform_reader`
    (SELECT only, a policy seeing every agency), in a read-only transaction
    that is always rolled back. Never a role switched to inside the app's
    transaction: on Citus the workers are reached as the current role, and
    placements written in a transaction cannot be read in it as another one.

    Tests that run inside one rolled-back transaction (`tests/conftest.py`)
    cannot see their rows from another connection: there, and only there
    (the session is bound to a connection, not the engine), the reader nests
    in a savepoint under `SET LOCAL ROLE`.
    """
    bind = session().get_bind()
    if isinstance(bind, Connection):
        reader = new_session(platform_reader="nested")
    else:
        if _reader_engine is None:
            raise RuntimeError("platform reader engine not initialised")
        reader = Session(bind=_reader_engine, info={"platform_reader": "own"}, expire_on_commit=False)
    try:
        yield reader
    finally:
        reader.rollback()
        reader.close()
