"""The recruitment record of a staff file: screening, interview, practical
test and the hiring decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from saas import audit, db
from saas.models import User
from tenants.staffing.errors import Problem, raise_if, too_long
from tenants.staffing.models import (
    DECISIONS,
    STAGE_RESULTS,
    RecruitmentRecord,
    StaffFile,
)
from tenants.staffing.staff_files import user_id_of


@dataclass
class RecruitmentInput:
    screening_result: str = "pending"
    screening_on: date | None = None
    interview_result: str = "pending"
    interview_on: date | None = None
    practical_result: str = "pending"
    practical_on: date | None = None
    decision: str = "pending"
    decided_on: date | None = None
    notes: str = ""


def recruitment_of(staff: StaffFile) -> RecruitmentRecord:
    record = db.session.scalar(select(RecruitmentRecord).where(RecruitmentRecord.staff_file_id == staff.id))
    if record is None:
        record = RecruitmentRecord(staff_file_id=staff.id)
        db.session.add(record)
        db.session.flush()
    return record


def update_recruitment(record: RecruitmentRecord, data: RecruitmentInput, *, by: User | None) -> None:
    problems = []
    for stage in ("screening", "interview", "practical"):
        if getattr(data, f"{stage}_result") not in STAGE_RESULTS:
            problems.append(Problem("bad_choice", f"{stage}_result", {"choices": ", ".join(STAGE_RESULTS)}))
    if data.decision not in DECISIONS:
        problems.append(Problem("bad_choice", "decision", {"choices": ", ".join(DECISIONS)}))
    elif data.decision != "pending":
        if data.decided_on is None:
            problems.append(Problem("decision_date_required", "decided_on"))
        if data.decision == "hired" and not all(
            getattr(data, f"{s}_result") == "passed" for s in ("screening", "interview", "practical")
        ):
            problems.append(Problem("hire_needs_passes", "decision"))
    too_long(problems, "notes", data.notes, 5000)
    raise_if(problems)
    decision_changed = record.decision != data.decision or record.decided_on != data.decided_on
    for name, value in data.__dict__.items():
        setattr(record, name, value)
    if data.decision == "pending":
        record.decided_on = None
        record.decided_by_id = None
    elif decision_changed:
        record.decided_by_id = user_id_of(by)
    audit.record("staff.recruitment_updated", str(record.staff_file_id), decision=data.decision)
