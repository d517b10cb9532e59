"""The end of a client's file, after an appraisal: anonymised (the counts
kept) or destroyed (every care record gone).

The client's records are the rows that cannot exist without the client: the
tables whose foreign key to the client (or to such a row: a case, a visit, a
rating) is required, found from the metadata so that tables other areas add
later are included without a change here. A row that only may point at them
(a rectification opened after a rating) is the agency's, not the client's:
it stays, pointing at nothing; anonymised, such a row that names the client
loses its free text too. The agency's audit log is append-only and
keeps no row of the file: only the fact of the decision, with counts."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ForeignKeyConstraint,
    Table,
    Text,
    and_,
    case,
    delete,
    false,
    func,
    or_,
    select,
    text,
    tuple_,
    update,
)

from saas import audit, db
from tenants.clients.models import Client, NeedsAssessment, RiskAssessment

# what replaces free text that was written (empty text stays empty)
BLANKED = "—"
# rows that are nothing but personal data: removed on anonymising (who read
# the file stays: it says nothing of the client and answers for the staff)
PERSONAL_TABLES = ("client_emergency_contacts", "client_portal_links")


def _required(fk: ForeignKeyConstraint) -> bool:
    return all(not c.nullable for c in fk.columns if c.name != "tenant_id")


@cache
def file_tables() -> tuple[list[Table], list[tuple[Table, ForeignKeyConstraint]]]:
    """(the client's tables, parents first, `clients` first; the optional
    foreign keys of other tables pointing into them)."""
    import saas.all_models  # noqa: F401 - every area's tables

    tables = [t for t in db.Base.metadata.sorted_tables if "tenant_id" in t.c]
    owned: dict[str, Table] = {"clients": Client.__table__}  # type: ignore[dict-item]
    for table in tables:
        if table.name in owned:
            continue
        if any(fk.referred_table.name in owned and _required(fk) for fk in table.foreign_key_constraints):
            owned[table.name] = table
    optional = [
        (table, fk)
        for table in tables
        if table.name not in owned
        for fk in table.foreign_key_constraints
        if fk.referred_table.name in owned
    ]
    return [t for t in tables if t.name in owned], optional


def _rows_of(table: Table, client_id: uuid.UUID, tenant_id: uuid.UUID) -> ColumnElement[bool]:
    """The condition selecting `table`'s rows of this client (a chain of
    (tenant_id, key) IN (...) up to the client: every join carries the agency)."""
    if table.name == "clients":
        return and_(table.c.tenant_id == tenant_id, table.c.id == client_id)
    owned = {t.name: t for t in file_tables()[0]}
    ways = []
    for fk in table.foreign_key_constraints:
        parent = owned.get(fk.referred_table.name)
        if parent is None or not _required(fk):
            continue
        column = next(c for c in fk.columns if c.name != "tenant_id")
        ways.append(
            tuple_(table.c.tenant_id, column).in_(
                select(parent.c.tenant_id, parent.c.id).where(_rows_of(parent, client_id, tenant_id))
            )
        )
    return and_(table.c.tenant_id == tenant_id, or_(*ways) if ways else false())


def _blank(column: Any) -> Any:
    return case((or_(column.is_(None), func.btrim(column) == ""), column), else_=BLANKED)


def anonymise_client(client: Client, *, by: uuid.UUID | None = None) -> dict[str, int]:
    """Names, contacts, addresses and free text go; visits, ratings and their
    scores, cases and their dates, classifications stay (and so every count).
    Returns how many rows of each table were changed or removed."""
    tenant_id, client_id = client.tenant_id, client.id
    tables, _optional = file_tables()
    changed: dict[str, int] = {}
    for table in tables:
        if table.name in PERSONAL_TABLES:
            result = db.session.execute(delete(table).where(_rows_of(table, client_id, tenant_id)))
            changed[table.name] = result.rowcount or 0
            continue
        if table.name == "clients":
            continue
        texts = {c.name: _blank(c) for c in table.c if isinstance(c.type, Text)}
        if table.name == "cases":
            texts["referrer"] = _blank(table.c.referrer)
        if texts:
            result = db.session.execute(
                update(table).where(_rows_of(table, client_id, tenant_id)).values(**texts)
            )
            changed[table.name] = result.rowcount or 0
    # rows of other areas that name the client (an incident, a complaint): their
    # words go too; the row, its kind, its dates and its figures stay
    for table, fk in _optional:
        if fk.referred_table.name != "clients":
            continue
        texts = {c.name: _blank(c) for c in table.c if isinstance(c.type, Text)}
        if not texts:
            continue
        column = next(c for c in fk.columns if c.name != "tenant_id")
        result = db.session.execute(
            update(table).where(table.c.tenant_id == tenant_id, column == client_id).values(**texts)
        )
        changed[table.name] = changed.get(table.name, 0) + (result.rowcount or 0)
    # the notes inside the assessments: the levels and scores stay
    needs = NeedsAssessment.__table__
    db.session.execute(
        update(needs)
        .where(_rows_of(needs, client_id, tenant_id))  # type: ignore[arg-type]
        .values(
            domains=text(
                "coalesce((select jsonb_object_agg(d.key, case when jsonb_typeof(d.value) = 'object' "
                "then d.value - 'notes' else d.value end) from jsonb_each(domains) d), '{}'::jsonb)"
            ),
        )
    )
    risks = RiskAssessment.__table__
    db.session.execute(
        update(risks)
        .where(_rows_of(risks, client_id, tenant_id))  # type: ignore[arg-type]
        .values(
            hazards=text(
                "coalesce((select jsonb_agg(h || jsonb_build_object('hazard', :b, 'mitigation', :b) "
                "order by n) from jsonb_array_elements(hazards) with ordinality as x(h, n)), '[]'::jsonb)"
            ).bindparams(b=BLANKED)
        )
    )
    # a number in place of the name: the lists still tell one record from another
    client.full_name = f"#{client_id.hex[-8:].upper()}"
    client.preferred_name = ""
    client.date_of_birth = None
    client.phone = client.email = client.address = client.area = client.access_notes = ""
    client.latitude = client.longitude = None
    client.anonymised_at = db.utcnow()
    audit.record(
        "client.anonymised", str(client_id), actor_id=by, changed={k: v for k, v in changed.items() if v}
    )
    return changed


def destroy_client(client: Client, *, by: uuid.UUID | None = None) -> dict[str, int]:
    """Every row of the client's file removed, children first, in the caller's
    transaction; the rows of other tables that pointed at them keep nothing
    of it. The audit keeps the fact and the counts, no personal data."""
    tenant_id, client_id = client.tenant_id, client.id
    tables, optional = file_tables()
    for table, fk in optional:
        parent = fk.referred_table
        column = next(c for c in fk.columns if c.name != "tenant_id")
        db.session.execute(
            update(table)
            .where(
                table.c.tenant_id == tenant_id,
                tuple_(table.c.tenant_id, column).in_(
                    select(parent.c.tenant_id, parent.c.id).where(_rows_of(parent, client_id, tenant_id))
                ),
            )
            .values({column.name: None})
        )
    removed: dict[str, int] = {}
    for table in reversed(tables):
        result = db.session.execute(delete(table).where(_rows_of(table, client_id, tenant_id)))
        removed[table.name] = result.rowcount or 0
    db.session.expunge(client)
    audit.record(
        "client.destroyed", str(client_id), actor_id=by, removed={k: v for k, v in removed.items() if v}
    )
    return removed
