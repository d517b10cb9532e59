"""The signed-in person's membership of the agency in scope, read by the user
loader in the same round trip as the user, with the figures every page of the
agency shows its member (the unread badge). The agency access check
(saas.tenancy) and the pages then read them from here, without a query."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import g
from sqlalchemy import Select, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from saas.models import Agency, Membership

# Figures read by the one query that finds the signed-in user and their
# membership: a name and a scalar subquery of the membership's id. Read them
# with `member_figure()`.
MEMBER_FIGURES: dict[str, Callable[[ColumnElement[Any]], Any]] = {}
_RESOLVED = "_resolved_membership"


def with_membership(stmt: Select[Any], user_id: ColumnElement[Any], tenant_id: uuid.UUID) -> Select[Any]:
    """Add to a query of the user their active membership of the agency in
    scope and its figures, so that signing in and the agency's access check
    read them in one round trip (`keep_membership` takes the extra columns).

    The agency's active memberships are outer-joined as a subquery, not as the
    table: Citus 13.2 crashes the coordinator (SIGSEGV) planning the sessions
    table joined to `users` and outer-joined to the distributed `memberships`
    under its row-level security. PostgreSQL pulls the subquery up: the plan
    is the same."""
    active = aliased(
        Membership,
        select(Membership)
        .where(Membership.tenant_id == tenant_id, Membership.active.is_(True))
        .subquery("memberships"),
    )
    stmt = stmt.outerjoin(active, active.user_id == user_id)
    stmt = stmt.add_columns(active)
    for name, figure in MEMBER_FIGURES.items():
        stmt = stmt.add_columns(figure(active.id).label(name))
    return stmt


def keep_membership(agency: Agency, columns: Any) -> None:
    """Remember what `with_membership` read, for this request and this agency."""
    membership, *figures = columns
    g.setdefault(_RESOLVED, {})[agency.id] = (membership, dict(zip(MEMBER_FIGURES, figures, strict=True)))


def kept_membership(agency_id: uuid.UUID) -> tuple[Membership | None] | None:
    """What `keep_membership` kept for this agency in this request: a
    one-tuple (its membership may be None), or None when nothing was kept."""
    kept = g.get(_RESOLVED, {}).get(agency_id)
    return None if kept is None else (kept[0],)


def member_figure(membership: Membership, name: str) -> Any | None:
    """A figure read with the membership, or None when it was read otherwise."""
    kept = g.get(_RESOLVED, {}).get(membership.tenant_id)
    if kept is None or kept[0] is not membership:
        return None
    return kept[1].get(name)
