"""Read models of the clients area around the file: the clients list, the
access log, the case page, a plan's lines and the plan form's choices."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from saas import db
from saas.models import Membership, Role, User
from saas.pagination import Page, contains_pattern, paginate
from tenants.catalogue.models import ServiceItem
from tenants.clients.models import (
    Case,
    CaseStatus,
    CaseTransition,
    Client,
    ClientFileAccess,
    EmergencyContact,
    FollowUp,
    NeedsAssessment,
    PlanStatus,
    RiskAssessment,
    ServicePlan,
    ServicePlanItem,
)

# the list's filters behind the dashboard's figures
PLAN_WAITING = "plan_waiting"
FOLLOW_UP_DUE = "follow_up_due"


def _plan_waiting(case: Any) -> Any:
    """The case has a plan submitted for approval."""
    return (
        select(ServicePlan.id)
        .where(
            ServicePlan.tenant_id == case.tenant_id,
            ServicePlan.case_id == case.id,
            ServicePlan.status == PlanStatus.SUBMITTED,
        )
        .exists()
    )


def _follow_up_due(client: Any, today: date) -> Any:
    """A follow-up of one of the client's cases is due by today and not done."""
    return (
        select(FollowUp.id)
        .join(Case, and_(Case.tenant_id == FollowUp.tenant_id, Case.id == FollowUp.case_id))
        .where(
            Case.tenant_id == client.tenant_id,
            Case.client_id == client.id,
            FollowUp.done_on.is_(None),
            FollowUp.due_on <= today,
        )
        .exists()
    )


def client_list(q: str, status: str, today: date | None = None) -> Page:
    """The clients list: active clients with their open case, by name,
    matching `q` in the name or preferred name, with the case stage `status`
    ("none": no open case; PLAN_WAITING: a plan of the open case waits for
    approval; FOLLOW_UP_DUE: a follow-up is due by `today`). "archived": the clients whose cases are all
    closed, kept apart from the others (their files wait for their appraisal)."""
    open_case = and_(
        Case.tenant_id == Client.tenant_id, Case.client_id == Client.id, Case.status != CaseStatus.CLOSED
    )
    archived = Client.archived_at.is_not(None) if status == "archived" else Client.archived_at.is_(None)
    stmt = select(Client, Case).outerjoin(Case, open_case)
    if status != FOLLOW_UP_DUE:  # follow-ups come after closing: archived clients too
        stmt = stmt.where(archived)
    if q:
        stmt = stmt.where(
            or_(
                Client.full_name.ilike(contains_pattern(q), escape="\\"),
                Client.preferred_name.ilike(contains_pattern(q), escape="\\"),
            )
        )
    if status == "none":
        stmt = stmt.where(Case.id.is_(None))
    elif status == PLAN_WAITING:
        stmt = stmt.where(_plan_waiting(Case))
    elif status == FOLLOW_UP_DUE:
        stmt = stmt.where(_follow_up_due(Client, today or date.today()))
    elif status in {s.value for s in CaseStatus if s != CaseStatus.CLOSED}:
        stmt = stmt.where(Case.status == status)
    return paginate(stmt.order_by(Client.full_name, Client.id), scalars=False)


def active_client_count() -> int:
    """The agency's clients not archived (what the plan's included clients count)."""
    return db.session.scalar(select(func.count()).where(Client.archived_at.is_(None))) or 0


def contacts_of(client_id: uuid.UUID) -> list[EmergencyContact]:
    return list(db.session.scalars(select(EmergencyContact).where(EmergencyContact.client_id == client_id)))


def portal_candidates() -> list[Any]:
    """(membership, user) of the active members with the client role, who may
    be linked to a client's portal."""
    return list(
        db.session.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.role == Role.CLIENT, Membership.active.is_(True))
            .order_by(User.name, User.email)
            .limit(500)
        )
    )


def access_log(client_id: uuid.UUID) -> Page:
    """A page of who read the client's file, newest first."""
    return paginate(
        select(ClientFileAccess, User)
        .outerjoin(User, User.id == ClientFileAccess.user_id)
        .where(ClientFileAccess.client_id == client_id)
        .order_by(ClientFileAccess.at.desc()),
        scalars=False,
    )


def client_of(case: Case) -> Client | None:
    return db.session.scalar(select(Client).where(Client.id == case.client_id))


@dataclass(frozen=True, slots=True)
class CaseFile:
    """What the case page shows: its assessments and risk assessments newest
    first, its plans by version, follow-ups by due date, its transitions with
    who made them."""

    assessments: list[NeedsAssessment]
    risks: list[RiskAssessment]
    plans: list[ServicePlan]
    follow_ups: list[FollowUp]
    transitions: list[Any]  # (CaseTransition, User | None)


def case_file(case: Case) -> CaseFile:
    return CaseFile(
        assessments=list(
            db.session.scalars(
                select(NeedsAssessment)
                .where(NeedsAssessment.case_id == case.id)
                .order_by(NeedsAssessment.assessed_on.desc())
            )
        ),
        risks=list(
            db.session.scalars(
                select(RiskAssessment)
                .where(RiskAssessment.case_id == case.id)
                .order_by(RiskAssessment.assessed_on.desc())
            )
        ),
        plans=list(
            db.session.scalars(
                select(ServicePlan).where(ServicePlan.case_id == case.id).order_by(ServicePlan.version.desc())
            )
        ),
        follow_ups=list(
            db.session.scalars(select(FollowUp).where(FollowUp.case_id == case.id).order_by(FollowUp.due_on))
        ),
        transitions=list(
            db.session.execute(
                select(CaseTransition, User)
                .outerjoin(User, User.id == CaseTransition.by_user_id)
                .where(CaseTransition.case_id == case.id)
                .order_by(CaseTransition.at)
            )
        ),
    )


def plan_lines(plan: ServicePlan) -> list[Any]:
    """(plan item, catalogue item) of the plan, by service name."""
    return list(
        db.session.execute(
            select(ServicePlanItem, ServiceItem)
            .join(
                ServiceItem,
                and_(
                    ServiceItem.tenant_id == ServicePlanItem.tenant_id,
                    ServiceItem.id == ServicePlanItem.service_item_id,
                ),
            )
            .where(ServicePlanItem.plan_id == plan.id)
            .order_by(ServiceItem.name)
        )
    )


def plan_people(plan: ServicePlan) -> dict[uuid.UUID, str]:
    """The names of the plan's author and approver, by user id."""
    return dict(
        db.session.execute(
            select(User.id, User.name).where(User.id.in_([plan.author_user_id, plan.approved_by_user_id]))
        ).all()
    )


def active_service_items() -> list[Any]:
    """(id, name) of the catalogue's active services, by name."""
    return list(
        db.session.execute(
            select(ServiceItem.id, ServiceItem.name)
            .where(ServiceItem.active.is_(True))
            .order_by(ServiceItem.name)
            .limit(1000)
        )
    )


def active_carers() -> list[Any]:
    """(membership id, name) of the active carers, by name."""
    return list(
        db.session.execute(
            select(Membership.id, User.name)
            .join(User, User.id == Membership.user_id)
            .where(Membership.role == Role.CARER, Membership.active.is_(True))
            .order_by(User.name)
            .limit(1000)
        )
    )


@dataclass(frozen=True, slots=True)
class CareFigures:
    plans_waiting: int  # plans submitted for approval
    follow_ups_due: int  # follow-ups due by today, not done
    follow_ups_overdue: int  # of which due before today

    @classmethod
    def of(cls, row: Any) -> CareFigures:
        return cls(row["plans"], row["due"], row["overdue"])


def care_figures(today: date) -> Select[Any]:
    """One row of the dashboard's care figures (`CareFigures.of` reads it)."""

    def count(*conditions: Any, of: Any) -> Any:
        return select(func.count()).select_from(of).where(*conditions).scalar_subquery()

    open_follow_up = FollowUp.done_on.is_(None)
    return select(
        count(ServicePlan.status == PlanStatus.SUBMITTED, of=ServicePlan).label("plans"),
        count(open_follow_up, FollowUp.due_on <= today, of=FollowUp).label("due"),
        count(open_follow_up, FollowUp.due_on < today, of=FollowUp).label("overdue"),
    )
