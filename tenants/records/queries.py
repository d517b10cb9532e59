"""What the appraisal pages read: the files waiting for a decision, the
decisions taken, one file's review."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, func, select

from saas import db
from saas.models import User
from saas.pagination import Page, paginate
from tenants.clients.models import Case, Client
from tenants.records.models import RetentionReview


def _cases() -> Any:
    """Per client: how many cases, the last closing, whether one was of a special programme."""
    return (
        select(
            Case.tenant_id,
            Case.client_id,
            func.count().label("cases"),
            func.max(Case.closed_on).label("last_closed_on"),
            func.bool_or(Case.special_programme).label("special"),
        )
        .group_by(Case.tenant_id, Case.client_id)
        .subquery()
    )


def pending() -> Page:
    """The files waiting for a decision, those due longest first: (review, client name, cases...)."""
    cases = _cases()
    stmt = (
        select(RetentionReview, Client.full_name, cases.c.cases, cases.c.last_closed_on, cases.c.special)
        .join(
            Client,
            and_(Client.tenant_id == RetentionReview.tenant_id, Client.id == RetentionReview.client_id),
        )
        .outerjoin(cases, and_(cases.c.tenant_id == Client.tenant_id, cases.c.client_id == Client.id))
        .where(RetentionReview.decision.is_(None))
        .order_by(RetentionReview.due_on, RetentionReview.id)
    )
    return paginate(stmt, scalars=False)


def decided(limit: int = 20) -> list[Any]:
    """The latest decisions still on file (a destroyed file's is in the audit log only)."""
    return db.session.execute(
        select(RetentionReview, Client.full_name, User.name, User.email)
        .join(
            Client,
            and_(Client.tenant_id == RetentionReview.tenant_id, Client.id == RetentionReview.client_id),
        )
        .outerjoin(User, User.id == RetentionReview.decided_by_user_id)
        .where(RetentionReview.decision.is_not(None))
        .order_by(RetentionReview.decided_at.desc())
        .limit(limit)
    ).all()


def review(review_id: uuid.UUID) -> Any | None:
    """One review with its client's name and cases, or None."""
    cases = _cases()
    return db.session.execute(
        select(RetentionReview, Client.full_name, cases.c.cases, cases.c.last_closed_on, cases.c.special)
        .join(
            Client,
            and_(Client.tenant_id == RetentionReview.tenant_id, Client.id == RetentionReview.client_id),
        )
        .outerjoin(cases, and_(cases.c.tenant_id == Client.tenant_id, cases.c.client_id == Client.id))
        .where(RetentionReview.id == review_id)
    ).first()
