"""The service loop for one client: intake, assessment, plan, closure and
follow-ups. Views, jobs and the API all call these."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, text, update

from saas import audit, db
from saas.models import Agency, Membership, Role, User
from tenants.clients.models import (
    ASSESSMENT_DOMAINS,
    AssessmentMethod,
    Case,
    CaseStatus,
    Client,
    ClientFileAccess,
    EmergencyContact,
    FollowUp,
    FollowUpMethod,
    IntakeChannel,
    NeedsAssessment,
    PlanStatus,
    PortalLink,
    RiskAssessment,
    ServicePlan,
    ServicePlanItem,
)
from tenants.clients.signals import PlanActivated, plan_activated

DEFAULT_FOLLOW_UPS = ("1w", "2w", "1m", "2m")
DEFAULT_HIGH_RISK = 15
DEFAULT_ELDERLY_FROM = 60
APPROVER_ROLES = (Role.ADMIN, Role.COORDINATOR)


class ClientError(ValueError):
    """A rule refused the change. `field` is the form field it belongs next to."""

    def __init__(self, code: str, field: str | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params


# -- classification --------------------------------------------------------------


def age_group(dob: date | None, today: date, elderly_from: int = DEFAULT_ELDERLY_FROM) -> str | None:
    """child (under 12), adolescent (12-17), adult, elderly (from 60 by default)."""
    if dob is None:
        return None
    age = relativedelta(today, dob).years
    if age < 12:
        return "child"
    if age < 18:
        return "adolescent"
    if age < elderly_from:
        return "adult"
    return "elderly"


def agency_today(agency: Agency) -> date:
    return agency.today()


# -- clients ---------------------------------------------------------------------


@dataclass
class ContactData:
    name: str
    relationship: str
    phone: str


@dataclass
class ClientData:
    full_name: str
    preferred_name: str = ""
    date_of_birth: date | None = None
    gender: str = "undisclosed"
    phone: str = ""
    email: str = ""
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    checkin_radius_m: int = 300
    languages: list[str] = field(default_factory=list)
    family_status: str | None = None
    economic_status: str | None = None
    health_status: str | None = None
    psychological_state: str | None = None
    consent_services: bool = False
    consent_data: bool = False
    contacts: list[ContactData] = field(default_factory=list)


def _validate_client(data: ClientData, today: date) -> None:
    if not data.full_name.strip():
        raise ClientError("required", "full_name")
    if data.date_of_birth and data.date_of_birth > today:
        raise ClientError("birth_in_future", "date_of_birth")
    if (data.latitude is None) != (data.longitude is None):
        raise ClientError("position_incomplete", "latitude")
    if data.latitude is not None and not (-90 <= data.latitude <= 90):
        raise ClientError("latitude_range", "latitude")
    if data.longitude is not None and not (-180 <= data.longitude <= 180):
        raise ClientError("longitude_range", "longitude")
    if not 10 <= data.checkin_radius_m <= 50000:
        raise ClientError("radius_range", "checkin_radius_m")
    if not data.consent_services:
        raise ClientError("consent_needed", "consent_services")


def save_client(agency: Agency, data: ClientData, client: Client | None = None) -> Client:
    """Create or update a client with their emergency contacts, all or nothing."""
    _validate_client(data, agency_today(agency))
    creating = client is None
    if client is None:
        client = Client()
        db.session.add(client)
    consent_changed = creating or (client.consent_services, client.consent_data) != (
        data.consent_services,
        data.consent_data,
    )
    for name in (
        "full_name",
        "preferred_name",
        "date_of_birth",
        "gender",
        "phone",
        "email",
        "address",
        "latitude",
        "longitude",
        "checkin_radius_m",
        "languages",
        "family_status",
        "economic_status",
        "health_status",
        "psychological_state",
        "consent_services",
        "consent_data",
    ):
        setattr(client, name, getattr(data, name))
    if consent_changed:
        client.consent_recorded_at = db.utcnow()
    db.session.flush()
    db.session.execute(
        EmergencyContact.__table__.delete().where(
            EmergencyContact.tenant_id == client.tenant_id, EmergencyContact.client_id == client.id
        )
    )
    for contact in data.contacts:
        db.session.add(
            EmergencyContact(
                client_id=client.id, name=contact.name, relationship=contact.relationship, phone=contact.phone
            )
        )
    audit.record("client.created" if creating else "client.updated", str(client.id))
    return client


def link_portal_member(client: Client, membership: Membership, relationship: str) -> PortalLink:
    if membership.role != Role.CLIENT or not membership.active:
        raise ClientError("portal_role", "membership_id")
    existing = db.session.scalar(
        select(PortalLink).where(PortalLink.client_id == client.id, PortalLink.membership_id == membership.id)
    )
    if existing is not None:
        existing.relationship = relationship
        return existing
    link = PortalLink(client_id=client.id, membership_id=membership.id, relationship=relationship)
    db.session.add(link)
    audit.record(
        "client.portal_linked", str(client.id), membership=str(membership.id), relationship=relationship
    )
    return link


def log_file_access(client_id: uuid.UUID, user_id: uuid.UUID | None, section: str) -> None:
    db.session.add(ClientFileAccess(client_id=client_id, user_id=user_id, section=section))


# -- cases -----------------------------------------------------------------------

# (from, to) pairs a case may move along; closing needs a reason, re-opening a follow-up or note
TRANSITIONS = {
    (CaseStatus.INTAKE, CaseStatus.ASSESSMENT),
    (CaseStatus.ASSESSMENT, CaseStatus.PLANNING),
    (CaseStatus.PLANNING, CaseStatus.ACTIVE),
    (CaseStatus.ACTIVE, CaseStatus.PLANNING),
    (CaseStatus.INTAKE, CaseStatus.CLOSED),
    (CaseStatus.ASSESSMENT, CaseStatus.CLOSED),
    (CaseStatus.PLANNING, CaseStatus.CLOSED),
    (CaseStatus.ACTIVE, CaseStatus.CLOSED),
    (CaseStatus.CLOSED, CaseStatus.ASSESSMENT),
}


def _next_case_number(agency_id: uuid.UUID, year: int) -> str:
    # one number at a time per agency: serialise on an advisory lock for the transaction
    db.session.execute(text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"case-number:{agency_id}"})
    prefix = f"{year}-"
    last = db.session.scalar(select(func.max(Case.number)).where(Case.number.like(f"{prefix}%")))
    seq = int(last.split("-")[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def open_case(
    agency: Agency, client: Client, *, channel: str, referrer: str, materials: str, by: User | None
) -> Case:
    if channel not in {c.value for c in IntakeChannel}:
        raise ClientError("channel_unknown", "intake_channel")
    open_cases = db.session.scalar(
        select(func.count()).where(Case.client_id == client.id, Case.status != CaseStatus.CLOSED)
    )
    if open_cases:
        raise ClientError("case_open", "intake_channel")
    today = agency_today(agency)
    case = Case(
        client_id=client.id,
        number=_next_case_number(agency.id, today.year),
        status=CaseStatus.INTAKE,
        intake_channel=channel,
        referrer=referrer.strip(),
        materials_received=materials.strip(),
        opened_on=today,
    )
    db.session.add(case)
    db.session.flush()
    _record_transition(case, None, CaseStatus.INTAKE, by, "")
    audit.record("case.opened", case.number, client=str(client.id))
    return case


def _record_transition(case: Case, old: str | None, new: str, by: User | None, note: str) -> None:
    from tenants.clients.models import CaseTransition

    db.session.add(
        CaseTransition(
            case_id=case.id, from_status=old, to_status=new, by_user_id=by.id if by else None, note=note
        )
    )


def transition(case: Case, new: CaseStatus | str, *, by: User | None, note: str = "") -> None:
    new = CaseStatus(new)
    old = CaseStatus(case.status)
    if old == new:
        return
    if (old, new) not in TRANSITIONS:
        raise ClientError("transition_not_allowed", None, old=old.value, new=new.value)
    case.status = new
    if new == CaseStatus.CLOSED:
        case.closed_on = case.closed_on or db.utcnow().date()
    if old == CaseStatus.CLOSED:
        case.closed_on = None
        case.closure_reason = ""
    _record_transition(case, old, new, by, note)
    audit.record("case.status_changed", case.number, old=old.value, new=new.value)


def record_assessment(
    case: Case,
    *,
    method: str,
    assessed_on: date,
    domains: dict[str, dict[str, Any]],
    summary: str,
    by: User | None,
    today: date,
) -> NeedsAssessment:
    if case.status == CaseStatus.CLOSED:
        raise ClientError("case_closed")
    if method not in {m.value for m in AssessmentMethod}:
        raise ClientError("method_unknown", "method")
    if assessed_on > today:
        raise ClientError("date_in_future", "assessed_on")
    clean: dict[str, dict[str, Any]] = {}
    for domain in ASSESSMENT_DOMAINS:
        entry = domains.get(domain) or {}
        level = entry.get("level")
        if not isinstance(level, int) or not 1 <= level <= 5:
            raise ClientError("level_range", f"{domain}_level")
        clean[domain] = {"level": level, "notes": str(entry.get("notes") or "").strip()}
    assessment = NeedsAssessment(
        case_id=case.id,
        method=method,
        assessed_on=assessed_on,
        domains=clean,
        summary=summary.strip(),
        assessor_user_id=by.id if by else None,
    )
    db.session.add(assessment)
    if case.status == CaseStatus.INTAKE:
        transition(case, CaseStatus.ASSESSMENT, by=by, note="assessment recorded")
    audit.record("case.assessed", case.number, method=method)
    return assessment


def risk_score(hazard: dict[str, Any]) -> int:
    return int(hazard["likelihood"]) * int(hazard["impact"])


def record_risks(
    case: Case, *, assessed_on: date, hazards: list[dict[str, Any]], by: User | None, today: date
) -> RiskAssessment:
    if assessed_on > today:
        raise ClientError("date_in_future", "assessed_on")
    clean = []
    for i, hazard in enumerate(hazards):
        name = str(hazard.get("hazard") or "").strip()
        if not name:
            continue
        likelihood, impact = hazard.get("likelihood"), hazard.get("impact")
        if not (isinstance(likelihood, int) and 1 <= likelihood <= 5):
            raise ClientError("score_range", f"hazards-{i}-likelihood")
        if not (isinstance(impact, int) and 1 <= impact <= 5):
            raise ClientError("score_range", f"hazards-{i}-impact")
        clean.append(
            {
                "hazard": name,
                "likelihood": likelihood,
                "impact": impact,
                "mitigation": str(hazard.get("mitigation") or "").strip(),
            }
        )
    if not clean:
        raise ClientError("no_hazards", "hazards-0-hazard")
    clean.sort(key=risk_score, reverse=True)
    risk = RiskAssessment(
        case_id=case.id, assessed_on=assessed_on, hazards=clean, assessor_user_id=by.id if by else None
    )
    db.session.add(risk)
    audit.record("case.risk_assessed", case.number, hazards=len(clean))
    return risk


def high_risks(agency: Agency, risk: RiskAssessment | None) -> list[dict[str, Any]]:
    """High risks first: the ones at or above the agency's threshold (default 15 of 25)."""
    if risk is None:
        return []
    threshold = int(agency.setting("high_risk_score", DEFAULT_HIGH_RISK))
    return [h for h in risk.hazards if risk_score(h) >= threshold]


# -- closure and follow-ups ----------------------------------------------------------


def follow_up_offset(label: str) -> relativedelta:
    """'1w' -> one week, '2m' -> two months, '10d' -> ten days."""
    amount, unit = int(label[:-1]), label[-1]
    return {
        "d": relativedelta(days=amount),
        "w": relativedelta(weeks=amount),
        "m": relativedelta(months=amount),
    }[unit]


def close_case(
    agency: Agency, case: Case, *, reason: str, closed_on: date, by: User | None
) -> list[FollowUp]:
    if not reason.strip():
        raise ClientError("reason_required", "reason")
    if closed_on > agency_today(agency):
        raise ClientError("date_in_future", "closed_on")
    if closed_on < case.opened_on:
        raise ClientError("before_opening", "closed_on")
    transition(case, CaseStatus.CLOSED, by=by, note=reason.strip())
    case.closed_on = closed_on
    case.closure_reason = reason.strip()
    db.session.execute(
        update(ServicePlan)
        .where(
            ServicePlan.case_id == case.id, ServicePlan.status.in_([PlanStatus.ACTIVE, PlanStatus.APPROVED])
        )
        .values(status=PlanStatus.CLOSED)
    )
    labels = agency.setting("follow_up_schedule", list(DEFAULT_FOLLOW_UPS))
    db.session.execute(
        FollowUp.__table__.delete().where(
            FollowUp.tenant_id == case.tenant_id, FollowUp.case_id == case.id, FollowUp.done_on.is_(None)
        )
    )
    done = set(db.session.scalars(select(FollowUp.label).where(FollowUp.case_id == case.id)))
    created = []
    for label in labels:
        if label in done:
            continue
        follow_up = FollowUp(case_id=case.id, label=label, due_on=closed_on + follow_up_offset(label))
        db.session.add(follow_up)
        created.append(follow_up)
    audit.record("case.closed", case.number, reason=reason.strip())
    return created


def record_follow_up(
    follow_up: FollowUp,
    case: Case,
    *,
    done_on: date,
    method: str,
    outcome: str,
    new_intervention: bool,
    reopen: bool,
    by: User | None,
    today: date,
) -> None:
    if method not in {m.value for m in FollowUpMethod}:
        raise ClientError("method_unknown", "method")
    if done_on > today:
        raise ClientError("date_in_future", "done_on")
    if case.closed_on and done_on < case.closed_on:
        raise ClientError("before_closure", "done_on")
    if not outcome.strip():
        raise ClientError("required", "outcome")
    follow_up.done_on = done_on
    follow_up.method = method
    follow_up.outcome = outcome.strip()
    follow_up.new_intervention_needed = new_intervention
    follow_up.by_user_id = by.id if by else None
    audit.record("case.follow_up", case.number, label=follow_up.label, new_intervention=new_intervention)
    if new_intervention and reopen:
        transition(case, CaseStatus.ASSESSMENT, by=by, note=f"re-opened after follow-up {follow_up.label}")


# -- service plans ------------------------------------------------------------------


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
    from tenants.catalogue.models import ServiceItem

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


def submit_plan(plan: ServicePlan, case: Case, *, by: User | None) -> None:
    _require_draft(plan)
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


def approve_plan(agency: Agency, plan: ServicePlan, case: Case, *, by: User, role: str) -> None:
    """Approval by someone other than the author, with a role the agency allows."""
    if plan.status != PlanStatus.SUBMITTED:
        raise ClientError("not_submitted")
    allowed = agency.setting("plan_approver_roles", [r.value for r in APPROVER_ROLES])
    if role not in allowed:
        raise ClientError("approver_role")
    if plan.author_user_id == by.id or str(by.id) in (plan.editor_user_ids or []):
        # the author, and anyone who changed or submitted this version
        raise ClientError("approver_is_author")
    plan.status = PlanStatus.APPROVED
    plan.approved_by_user_id = by.id
    plan.approved_at = db.utcnow()
    audit.record("plan.approved", case.number, version=plan.version)


def return_plan(plan: ServicePlan, case: Case, *, by: User, note: str) -> None:
    """Send a submitted plan back to its author as a draft."""
    if plan.status != PlanStatus.SUBMITTED:
        raise ClientError("not_submitted")
    plan.status = PlanStatus.DRAFT
    plan.submitted_at = None
    audit.record("plan.returned", case.number, version=plan.version, note=note[:500])


def activate_plan(plan: ServicePlan, case: Case, *, by: User | None) -> None:
    """The approved version becomes the one visits are generated from; the
    version it replaces stays readable as superseded."""
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
    plan_activated.send(PlanActivated(plan, case))


def portal_client_ids(membership: Membership) -> list[uuid.UUID]:
    """The clients whose portal this member (a client's account) opens."""
    return list(
        db.session.scalars(select(PortalLink.client_id).where(PortalLink.membership_id == membership.id))
    )
