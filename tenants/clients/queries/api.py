"""The statements the API's lists page through (saas.api.paging adds the
cursor, the order and the limit): one statement per page."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, and_, or_, select

from saas import db
from saas.pagination import contains_pattern
from tenants.clients.models import (
    Case,
    Client,
    EmergencyContact,
    FollowUp,
    NeedsAssessment,
    RiskAssessment,
    ServicePlan,
    ServicePlanItem,
)


def clients(q: str, archived: bool | None) -> Select[Any]:
    stmt = select(Client)
    if archived is not None:
        stmt = stmt.where(Client.archived_at.is_not(None) if archived else Client.archived_at.is_(None))
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(
            or_(
                Client.full_name.ilike(pattern, escape="\\"),
                Client.preferred_name.ilike(pattern, escape="\\"),
            )
        )
    return stmt


def contacts_of(client_ids: list[uuid.UUID]) -> list[EmergencyContact]:
    """The emergency contacts of these clients, in one statement."""

    if not client_ids:
        return []
    return list(
        db.session.scalars(
            select(EmergencyContact)
            .where(EmergencyContact.client_id.in_(client_ids))
            .order_by(EmergencyContact.client_id, EmergencyContact.id)
        )
    )


def cases(client_id: uuid.UUID | None, status: str | None) -> Select[Any]:
    stmt = select(Case)
    if client_id is not None:
        stmt = stmt.where(Case.client_id == client_id)
    if status:
        stmt = stmt.where(Case.status == status)
    return stmt


def assessments(case_id: uuid.UUID) -> Select[Any]:
    return select(NeedsAssessment).where(NeedsAssessment.case_id == case_id)


def plans(case_id: uuid.UUID | None, status: str | None) -> Select[Any]:
    stmt = select(ServicePlan)
    if case_id is not None:
        stmt = stmt.where(ServicePlan.case_id == case_id)
    if status:
        stmt = stmt.where(ServicePlan.status == status)
    return stmt


def plan_items(plan_ids: list[uuid.UUID]) -> list[ServicePlanItem]:

    if not plan_ids:
        return []
    return list(
        db.session.scalars(
            select(ServicePlanItem)
            .where(ServicePlanItem.plan_id.in_(plan_ids))
            .order_by(ServicePlanItem.plan_id, ServicePlanItem.id)
        )
    )


def client_of_case(case_id: uuid.UUID) -> uuid.UUID | None:

    return db.session.scalar(select(Case.client_id).where(Case.id == case_id))


def client_of_plan(plan_id: uuid.UUID) -> uuid.UUID | None:

    return db.session.scalar(
        select(Case.client_id)
        .join(ServicePlan, and_(ServicePlan.tenant_id == Case.tenant_id, ServicePlan.case_id == Case.id))
        .where(ServicePlan.id == plan_id)
    )


def risks(case_id: uuid.UUID) -> Select[Any]:
    return select(RiskAssessment).where(RiskAssessment.case_id == case_id)


def follow_ups_of(case_id: uuid.UUID) -> Select[Any]:
    return select(FollowUp).where(FollowUp.case_id == case_id)


def follow_ups(case_id: uuid.UUID) -> list[FollowUp]:
    """A case's follow-ups by due date, in one statement (a case has a handful)."""
    return list(db.session.scalars(follow_ups_of(case_id).order_by(FollowUp.due_on, FollowUp.id)))
