"""Service plans: drafts, items, approval by someone other than the author,
activation, versions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update

from saas import audit, db
from saas.models import Agency, User
from saas.settings import agency_setting
from saas.signals import announce
from tenants.catalogue.models import ServiceItem
from tenants.clients.errors import ClientError
from tenants.clients.models import Case, CaseStatus, PlanStatus, ServicePlan, ServicePlanItem
from tenants.clients.services.cases import transition
from tenants.clients.services.profiles import has_emergency_contact
from tenants.clients.signals import PlanActivated, PlanBooked, plan_activated


@dataclass
class PlanFields:
    goals: str
    budget: Decimal | None
    risk_plan: str
    review_on: date | None
    starts_on: date | None
    ends_on: date | None


@dataclass
class PlanItemData:
    service_item_id: uuid.UUID
    weekdays: list[int]
    start_time: str
    duration_minutes: int
    preferred_staff_ids: list[uuid.UUID] = field(default_factory=list)
    notes: str = ""


def _plan_items(plan_id: uuid.UUID) -> list[ServicePlanItem]:
    return list(db.session.scalars(select(ServicePlanItem).where(ServicePlanItem.plan_id == plan_id)))


def new_plan(case: Case, *, by: User | None) -> ServicePlan:
    """A new draft: the first plan of the case, or a revision copying the latest
    version (approved plans are never edited in place)."""
    if case.status in (CaseStatus.INTAKE, CaseStatus.CLOSED):
        raise ClientError("assess_first" if case.status == CaseStatus.INTAKE else "case_closed")
    open_draft = db.session.scalar(
        select(ServicePlan.id).where(
            ServicePlan.case_id == case.id, ServicePlan.status.in_([PlanStatus.DRAFT, PlanStatus.SUBMITTED])
        )
    )
    if open_draft is not None:
        raise ClientError("draft_exists")
    latest = db.session.scalar(
        select(ServicePlan)
        .where(ServicePlan.case_id == case.id)
        .order_by(ServicePlan.version.desc())
        .limit(1)
    )
    plan = ServicePlan(
        case_id=case.id,
        version=(latest.version + 1) if latest else 1,
        status=PlanStatus.DRAFT,
        author_user_id=by.id if by else None,
        editor_user_ids=[str(by.id)] if by else [],
    )
    if latest is not None:
        for name in ("goals", "budget", "risk_plan", "review_on", "starts_on", "ends_on"):
            setattr(plan, name, getattr(latest, name))
    db.session.add(plan)
    db.session.flush()
    if latest is not None:
        for item in _plan_items(latest.id):
            db.session.add(
                ServicePlanItem(
                    plan_id=plan.id,
                    service_item_id=item.service_item_id,
                    weekdays=list(item.weekdays),
                    start_time=item.start_time,
                    duration_minutes=item.duration_minutes,
                    preferred_staff_ids=list(item.preferred_staff_ids),
                    notes=item.notes,
                )
            )
    if case.status == CaseStatus.ASSESSMENT:
        transition(case, CaseStatus.PLANNING, by=by, note="plan drafted")
    audit.record("plan.drafted", case.number, version=plan.version)
    return plan


def _require_draft(plan: ServicePlan) -> None:
    if plan.status != PlanStatus.DRAFT:
        raise ClientError("not_draft")


def _edited_by(plan: ServicePlan, by: User | None) -> None:
    if by is not None and str(by.id) not in (plan.editor_user_ids or []):
        plan.editor_user_ids = [*(plan.editor_user_ids or []), str(by.id)]


def update_plan(
    plan: ServicePlan, data: PlanFields, *, by: User | None = None, today: date | None = None
) -> None:
    """`today`: the agency's day (looked up when not given)."""
    _require_draft(plan)
    _edited_by(plan, by)
    if data.budget is not None and data.budget < 0:
        raise ClientError("negative", "budget")
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        raise ClientError("end_before_start", "ends_on")
    if data.review_on is not None:
        # a review is something to do: one already past would never be reminded of
        today = today or db.session.get(Agency, plan.tenant_id).today()
        if data.review_on < today:
            raise ClientError("review_in_past", "review_on")
    if data.review_on and data.starts_on and data.review_on < data.starts_on:
        raise ClientError("review_before_start", "review_on")
    for name, value in data.__dict__.items():
        setattr(plan, name, value.strip() if isinstance(value, str) else value)


def add_plan_item(plan: ServicePlan, data: PlanItemData, *, by: User | None = None) -> ServicePlanItem:

    _require_draft(plan)
    _edited_by(plan, by)
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.id == data.service_item_id))
    if item is None or not item.active:
        raise ClientError("item_unknown", "service_item_id")
    weekdays = sorted(set(data.weekdays))
    if not weekdays or any(d not in range(1, 8) for d in weekdays):
        raise ClientError("weekdays_needed", "weekdays")
    hours, _, minutes = data.start_time.partition(":")
    # ASCII digits only: isdigit() is also true for "²", which int() refuses
    digits = (hours + minutes).isascii() and hours.isdigit() and minutes.isdigit()
    if not (digits and int(hours) < 24 and int(minutes) < 60 and len(minutes) == 2):
        raise ClientError("time_format", "start_time")
    if not 5 <= data.duration_minutes <= 1440:
        raise ClientError("duration_range", "duration_minutes")
    row = ServicePlanItem(
        plan_id=plan.id,
        service_item_id=item.id,
        weekdays=weekdays,
        start_time=f"{int(hours):02d}:{minutes}",
        duration_minutes=data.duration_minutes,
        preferred_staff_ids=[str(s) for s in data.preferred_staff_ids],
        notes=data.notes.strip(),
    )
    db.session.add(row)
    return row


def remove_plan_item(plan: ServicePlan, item: ServicePlanItem, *, by: User | None = None) -> None:
    _require_draft(plan)
    _edited_by(plan, by)
    if item.plan_id != plan.id:
        raise ClientError("item_unknown")
    db.session.delete(item)


def submit_plan(plan: ServicePlan, case: Case, *, by: User | None, agency: Agency | None = None) -> None:
    _require_draft(plan)
    agency = agency or db.session.get(Agency, case.tenant_id)
    if (
        agency is not None
        and agency_setting(agency, "plan_needs_emergency_contact")
        and not has_emergency_contact(case.client_id)
    ):
        raise ClientError("emergency_contact_needed", "contacts")
    if not plan.goals.strip():
        raise ClientError("goals_needed", "goals")
    if not _plan_items(plan.id):
        raise ClientError("items_needed")
    if plan.starts_on is None:
        raise ClientError("start_needed", "starts_on")
    _edited_by(plan, by)
    plan.status = PlanStatus.SUBMITTED
    plan.submitted_at = db.utcnow()
    audit.record("plan.submitted", case.number, version=plan.version)


def approval_refusal(agency: Agency, plan: ServicePlan, *, by: User, role: str) -> str | None:
    """Why `by` may not approve the plan now (an error code), or None: the
    page offers Approve only where this is None."""
    if plan.status != PlanStatus.SUBMITTED:
        return "not_submitted"
    if role not in agency_setting(agency, "plan_approver_roles"):
        return "approver_role"
    if plan.author_user_id == by.id or str(by.id) in (plan.editor_user_ids or []):
        # the author, and anyone who changed or submitted this version
        return "approver_is_author"
    return None


def approve_plan(agency: Agency, plan: ServicePlan, case: Case, *, by: User, role: str) -> None:
    """Approval by someone other than the author, with a role the agency allows."""
    refusal = approval_refusal(agency, plan, by=by, role=role)
    if refusal is not None:
        raise ClientError(refusal)
    plan.status = PlanStatus.APPROVED
    plan.approved_by_user_id = by.id
    plan.approved_at = db.utcnow()
    audit.record("plan.approved", case.number, version=plan.version)
    announce(
        "plan.approved", plan.id, case_id=str(case.id), client_id=str(case.client_id), version=plan.version
    )


def return_plan(plan: ServicePlan, case: Case, *, by: User, note: str) -> None:
    """Send a submitted plan back to its author as a draft."""
    if plan.status != PlanStatus.SUBMITTED:
        raise ClientError("not_submitted")
    plan.status = PlanStatus.DRAFT
    plan.submitted_at = None
    audit.record("plan.returned", case.number, version=plan.version, note=note[:500])


def activate_plan(plan: ServicePlan, case: Case, *, by: User | None) -> list[PlanBooked]:
    """The approved version becomes the one visits are generated from; the
    version it replaces stays readable as superseded. Returns what the
    receivers booked (scheduling: the visits, and those given to their
    preferred carer)."""
    if plan.status != PlanStatus.APPROVED:
        raise ClientError("not_approved")
    if case.status == CaseStatus.CLOSED:
        raise ClientError("case_closed")
    db.session.execute(
        update(ServicePlan)
        .where(
            ServicePlan.case_id == case.id,
            ServicePlan.id != plan.id,
            ServicePlan.status.in_([PlanStatus.ACTIVE, PlanStatus.APPROVED]),
        )
        .values(status=PlanStatus.SUPERSEDED)
    )
    plan.status = PlanStatus.ACTIVE
    if case.status != CaseStatus.ACTIVE:
        if case.status == CaseStatus.ASSESSMENT:
            transition(case, CaseStatus.PLANNING, by=by)
        transition(case, CaseStatus.ACTIVE, by=by, note=f"plan v{plan.version} active")
    audit.record("plan.activated", case.number, version=plan.version)
    answers = plan_activated.send(PlanActivated(plan, case, by))
    return [answer for _receiver, answer in answers if isinstance(answer, PlanBooked)]
