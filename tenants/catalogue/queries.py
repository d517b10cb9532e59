"""Read models of the catalogue pages: the filtered item list, item counts
per category and the export's rows, each in one statement."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.dialects.postgresql import distinct_on

from saas import db
from saas.fields import uuid_or_none
from saas.pagination import Page, contains_pattern, paginate
from tenants.catalogue.models import ItemTerms, ServiceCategory, ServiceItem


def catalogue_query(q: str, category: str, status: str) -> Select:
    """Items with their category's name, filtered by name, category and
    status (active, retired or any), in catalogue order: a page's statement."""
    stmt = select(ServiceItem, ServiceCategory.name).join(
        ServiceCategory, ServiceCategory.id == ServiceItem.category_id
    )
    if q:
        stmt = stmt.where(func.lower(ServiceItem.name).like(contains_pattern(q.lower()), escape="\\"))
    category_id = uuid_or_none(category)
    if category_id is not None:
        stmt = stmt.where(ServiceItem.category_id == category_id)
    if status == "active":
        stmt = stmt.where(ServiceItem.active.is_(True))
    elif status == "retired":
        stmt = stmt.where(ServiceItem.active.is_(False))
    return stmt.order_by(
        ServiceCategory.position, ServiceCategory.name, func.lower(ServiceItem.name), ServiceItem.id
    )


def item_counts() -> dict[uuid.UUID, int]:
    """How many items each category holds."""
    stmt = select(ServiceItem.category_id, func.count()).group_by(ServiceItem.category_id)
    return dict(db.session.execute(stmt).all())


def export_rows(today: date) -> list[Row[Any]]:
    """Every item with its category's name and the columns of its terms in
    effect on `today` (None where it has none yet), in catalogue order."""
    current = (
        select(ItemTerms)
        .where(ItemTerms.effective_from <= today)
        .order_by(ItemTerms.item_id, ItemTerms.effective_from.desc())
        .ext(distinct_on(ItemTerms.item_id))
        .subquery("current")
    )
    return list(
        db.session.execute(
            select(ServiceItem, ServiceCategory.name, current)
            .join(ServiceCategory, ServiceCategory.id == ServiceItem.category_id)
            .outerjoin(current, current.c.item_id == ServiceItem.id)
            .order_by(ServiceCategory.position, ServiceCategory.name, func.lower(ServiceItem.name))
        ).all()
    )


def catalogue_page(q: str, category: str, status: str) -> Page:
    """The page of the item list the request asks for (`catalogue_query`)."""
    return paginate(catalogue_query(q, category, status), scalars=False)


def items_statement(active: bool | None) -> Select[Any]:
    """The catalogue's items (active or not, or all), for the API's paged list."""
    stmt = select(ServiceItem)
    return stmt if active is None else stmt.where(ServiceItem.active.is_(active))
