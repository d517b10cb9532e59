"""Caseload: who looks after which clients or communities, each worker's
current load, and the limits an assignment must respect (or an admin
overrides, with a reason the audit log keeps)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from saas import audit, db
from saas.models import User
from tenants.staffing.errors import Invalid, Problem, raise_if, too_long
from tenants.staffing.models import (
    CASELOAD_KINDS,
    CaseloadAssignment,
    StaffFile,
)
from tenants.staffing.settings import (
    WorkforceSettings,
    local_today,
    workforce_settings,
)
from tenants.staffing.staff_files import user_id_of


def caseload_limit(staff: StaffFile, kind: str, settings: WorkforceSettings | None = None) -> int:
    settings = settings or workforce_settings()
    if kind == "community":
        return (
            staff.community_limit if staff.community_limit is not None else settings.caseload_limit_community
        )
    return staff.caseload_limit if staff.caseload_limit is not None else settings.caseload_limit_individual


def load_expression() -> tuple[Any, Any]:
    """(individual clients, community residents) as SQL aggregates."""
    individual = func.count().filter(CaseloadAssignment.kind == "individual")
    community = func.coalesce(
        func.sum(CaseloadAssignment.residents).filter(CaseloadAssignment.kind == "community"), 0
    )
    return individual, community


def current_loads(staff_ids: Iterable[uuid.UUID], at: date | None = None) -> dict[uuid.UUID, tuple[int, int]]:
    ids = set(staff_ids)
    if not ids:
        return {}
    at = at or local_today()
    individual, community = load_expression()
    rows = db.session.execute(
        select(CaseloadAssignment.staff_file_id, individual, community)
        .where(CaseloadAssignment.staff_file_id.in_(ids), CaseloadAssignment.running_on(at))
        .group_by(CaseloadAssignment.staff_file_id)
    ).all()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def _peak_load(staff_id: uuid.UUID, kind: str, starts_on: date, ends_on: date | None) -> int:
    """The highest load of this kind at any day of [starts_on, ends_on)."""
    stmt = select(CaseloadAssignment).where(
        CaseloadAssignment.staff_file_id == staff_id,
        CaseloadAssignment.kind == kind,
        CaseloadAssignment.ends_after(starts_on),
    )
    if ends_on is not None:
        stmt = stmt.where(CaseloadAssignment.starts_on < ends_on)
    rows = db.session.scalars(stmt).all()
    # the load only rises on a start date: check the new start and each later start
    checkpoints = {starts_on} | {r.starts_on for r in rows if r.starts_on > starts_on}
    peak = 0
    for day in checkpoints:
        load = sum((r.residents if kind == "community" else 1) for r in rows if r.running_on(day))
        peak = max(peak, load)
    return peak


@dataclass
class CaseloadInput:
    kind: str
    label: str
    reference: str = ""
    residents: int | None = 1
    starts_on: date | None = None
    ends_on: date | None = None


def assign_caseload(
    staff: StaffFile,
    data: CaseloadInput,
    *,
    by: User | None,
    override_reason: str | None = None,
) -> CaseloadAssignment:
    """Refused past the worker's limit unless an admin overrides with a
    written reason (the caller checks the role), which the audit log keeps."""
    problems = []
    if data.kind not in CASELOAD_KINDS:
        problems.append(Problem("bad_choice", "kind", {"choices": ", ".join(CASELOAD_KINDS)}))
    label = (data.label or "").strip()
    if not label:
        problems.append(Problem("required", "label"))
    too_long(problems, "label", label, 200)
    too_long(problems, "reference", data.reference, 100)
    residents = 1 if data.kind == "individual" else data.residents
    if residents is None:
        problems.append(Problem("required", "residents"))
    elif residents < 1:
        problems.append(Problem("range", "residents", {"min": 1, "max": 100000}))
    if data.starts_on is None:
        problems.append(Problem("required", "starts_on"))
    elif data.ends_on is not None and data.ends_on < data.starts_on:
        problems.append(Problem("dates_ordered", "ends_on"))
    raise_if(problems)
    # one assignment at a time per worker, so two cannot both squeeze under the limit
    db.session.execute(select(StaffFile.id).where(StaffFile.id == staff.id).with_for_update())
    limit = caseload_limit(staff, data.kind)
    load = _peak_load(staff.id, data.kind, data.starts_on, data.ends_on) + residents
    reason = (override_reason or "").strip()
    if load > limit and not reason:
        raise Invalid.one("caseload_full", "label", load=load, limit=limit)
    assignment = CaseloadAssignment(
        staff_file_id=staff.id,
        kind=data.kind,
        label=label,
        reference=(data.reference or "").strip(),
        residents=residents,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        created_by_id=user_id_of(by),
    )
    if load > limit:
        assignment.override_reason = reason
        assignment.override_by_id = user_id_of(by)
    db.session.add(assignment)
    db.session.flush()
    if load > limit:
        audit.record(
            "caseload.over_limit_override",
            str(assignment.id),
            staff=str(staff.id),
            load=load,
            limit=limit,
            reason=reason,
        )
    else:
        audit.record("caseload.assigned", str(assignment.id), staff=str(staff.id), kind=data.kind)
    return assignment


def end_caseload(assignment: CaseloadAssignment, on: date | None) -> None:
    on = on or local_today()
    if on < assignment.starts_on:
        raise Invalid.one("ended_before_start", "ends_on")
    assignment.ends_on = on
    audit.record("caseload.ended", str(assignment.id), on=str(on))
