"""A case from intake to closure: its stages, the needs and risk assessments,
closure and the follow-ups after it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import case as sql_case
from sqlalchemy import func, select, text, update

from saas import audit, db
from saas.models import Agency, User
from saas.settings import settings_of
from tenants.clients.errors import ClientError
from tenants.clients.models import (
    ASSESSMENT_DOMAINS,
    AssessmentMethod,
    Case,
    CaseStatus,
    CaseTransition,
    Client,
    FollowUp,
    FollowUpMethod,
    IntakeChannel,
    NeedsAssessment,
    PlanStatus,
    RiskAssessment,
    ServicePlan,
)
from tenants.clients.services.profiles import agency_today

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
    agency: Agency,
    client: Client,
    *,
    channel: str,
    referrer: str,
    materials: str,
    by: User | None,
    special_programme: bool = False,
) -> Case:
    if channel not in {c.value for c in IntakeChannel}:
        raise ClientError("channel_unknown", "intake_channel")
    if client.anonymised_at is not None:
        raise ClientError("client_anonymised", "intake_channel")
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
        special_programme=special_programme,
    )
    db.session.add(case)
    db.session.flush()
    _record_transition(case, None, CaseStatus.INTAKE, by, "")
    audit.record("case.opened", case.number, client=str(client.id), special_programme=special_programme)
    mark_archived(client.id)
    return case


def mark_archived(client_id: uuid.UUID) -> None:
    """A client is archived from the moment none of their cases is open (the
    last one closed) until one opens again: their file leaves the current list
    and its retention runs from the closure."""
    db.session.flush()
    still_open = select(Case.id).where(Case.client_id == client_id, Case.status != CaseStatus.CLOSED).exists()
    db.session.execute(
        update(Client)
        .where(Client.id == client_id)
        .values(
            archived_at=sql_case((still_open, None), else_=func.coalesce(Client.archived_at, db.utcnow()))
        )
        .execution_options(synchronize_session="fetch")
    )


def _record_transition(case: Case, old: str | None, new: str, by: User | None, note: str) -> None:

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
    if CaseStatus.CLOSED in (old, new):
        mark_archived(case.client_id)


def set_special_programme(case: Case, special: bool, *, by: User | None) -> None:
    """Whether the case belongs to a special programme, whose files are kept
    longer (`special_programme_retention_years`): may change at any stage."""
    if case.special_programme == special:
        return
    case.special_programme = special
    audit.record("case.special_programme", case.number, actor_id=by.id if by else None, special=special)


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
    threshold = int(settings_of(agency).get("high_risk_score"))
    return [h for h in risk.hazards if risk_score(h) >= threshold]


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
    labels = settings_of(agency).get("follow_up_schedule")
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
