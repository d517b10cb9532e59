"""Training rules: courses, sessions, enrolment, attendance and evaluations
(each worker's transcript is in `transcripts`, the compliance list in
`queries`).

Certificates granted by training: when a trainee's attendance is recorded as
*completed* for a course that grants a certificate type, the worker gets a
certificate of that type, issued on the session's date and expiring the
course's validity (in months) later, or never when the course gives none. It
is numbered `TRN-<session date>-<8 characters>`. If the attendance is later
changed to anything but completed, that certificate is withdrawn.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from saas import audit, db
from saas.models import User
from tenants.staffing.models import Certificate, CertificateType, StaffFile
from tenants.staffing.settings import agency_in_scope, local_today
from tenants.training.errors import Invalid, Problem, raise_if, too_long
from tenants.training.models import (
    ATTENDANCE,
    CATEGORIES,
    COUNTS_AS,
    FORMS,
    Course,
    Enrolment,
    TrainingSession,
)

HUNDRED = Decimal(100)
# one attendance form carries two fields per trainee, under Flask's 1,000 form parts
MAX_CAPACITY = 300


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# -- courses ---------------------------------------------------------------------------


@dataclass
class CourseInput:
    title: str
    category: str
    form: str
    hours: Decimal | None
    counts_as: str
    description: str = ""
    grants_certificate_type_id: uuid.UUID | None = None
    certificate_validity_months: int | None = None
    active: bool = True


def _course_problems(data: CourseInput, exclude: uuid.UUID | None) -> list[Problem]:
    problems = []
    title = (data.title or "").strip()
    if not title:
        problems.append(Problem("required", "title"))
    too_long(problems, "title", title, 200)
    if data.category not in CATEGORIES:
        problems.append(Problem("bad_choice", "category", {"choices": ", ".join(CATEGORIES)}))
    if data.form not in FORMS:
        problems.append(Problem("bad_choice", "form", {"choices": ", ".join(FORMS)}))
    if data.counts_as not in COUNTS_AS:
        problems.append(Problem("bad_choice", "counts_as", {"choices": ", ".join(COUNTS_AS)}))
    if data.hours is None:
        problems.append(Problem("required", "hours"))
    elif not Decimal(0) < data.hours <= Decimal(1000):
        problems.append(Problem("course_hours_range", "hours"))
    if data.grants_certificate_type_id is not None and not db.session.scalar(
        select(CertificateType.id).where(
            CertificateType.id == data.grants_certificate_type_id, CertificateType.active.is_(True)
        )
    ):
        problems.append(Problem("type_choose", "grants_certificate_type_id"))
    months = data.certificate_validity_months
    if months is not None:
        if data.grants_certificate_type_id is None:
            problems.append(Problem("validity_needs_certificate", "certificate_validity_months"))
        elif not 1 <= months <= 600:
            problems.append(Problem("range", "certificate_validity_months", {"min": 1, "max": 600}))
    too_long(problems, "description", data.description, 5000)
    if title:
        stmt = select(Course.id).where(func.lower(Course.title) == title.lower())
        if exclude is not None:
            stmt = stmt.where(Course.id != exclude)
        if db.session.scalar(stmt):
            problems.append(Problem("course_taken", "title"))
    return problems


def _apply_course(course: Course, data: CourseInput) -> None:
    course.title = data.title.strip()
    course.category = data.category
    course.form = data.form
    course.hours = data.hours
    course.counts_as = data.counts_as
    course.description = data.description or ""
    course.grants_certificate_type_id = data.grants_certificate_type_id
    course.certificate_validity_months = data.certificate_validity_months
    course.active = data.active


def create_course(data: CourseInput) -> Course:
    raise_if(_course_problems(data, None))
    course = Course()
    _apply_course(course, data)
    db.session.add(course)
    db.session.flush()
    audit.record("course.created", str(course.id), title=course.title)
    return course


def update_course(course: Course, data: CourseInput) -> None:
    raise_if(_course_problems(data, course.id))
    _apply_course(course, data)
    audit.record("course.updated", str(course.id))


# -- sessions and enrolment --------------------------------------------------------------


@dataclass
class SessionInput:
    held_on: date | None
    trainer: str
    location: str = ""
    capacity: int | None = 20
    notes: str = ""


def enrolled_count(session_id: uuid.UUID) -> int:
    return db.session.scalar(select(func.count()).where(Enrolment.session_id == session_id)) or 0


def _session_problems(data: SessionInput, enrolled: int = 0) -> list[Problem]:
    problems = []
    if data.held_on is None:
        problems.append(Problem("required", "held_on"))
    if not (data.trainer or "").strip():
        problems.append(Problem("required", "trainer"))
    too_long(problems, "trainer", data.trainer, 200)
    too_long(problems, "location", data.location, 300)
    too_long(problems, "notes", data.notes, 5000)
    if data.capacity is None:
        problems.append(Problem("required", "capacity"))
    elif not 1 <= data.capacity <= MAX_CAPACITY:
        problems.append(Problem("capacity_range", "capacity"))
    elif data.capacity < enrolled:
        problems.append(Problem("capacity_below_enrolled", "capacity", {"count": enrolled}))
    return problems


def create_session(course: Course, data: SessionInput) -> TrainingSession:
    problems = _session_problems(data)
    if not course.active:
        problems.append(Problem("course_not_offered", None))
    raise_if(problems)
    session = TrainingSession(
        course_id=course.id,
        held_on=data.held_on,
        trainer=data.trainer.strip(),
        location=(data.location or "").strip(),
        capacity=data.capacity,
        notes=data.notes or "",
    )
    db.session.add(session)
    db.session.flush()
    audit.record(
        "training_session.created", str(session.id), course=str(course.id), held_on=str(data.held_on)
    )
    return session


def _attendance_recorded(session_id: uuid.UUID) -> bool:
    return (
        db.session.scalar(
            select(Enrolment.id)
            .where(Enrolment.session_id == session_id, Enrolment.status != "enrolled")
            .limit(1)
        )
        is not None
    )


def update_session(session: TrainingSession, data: SessionInput) -> None:
    """The date cannot move once attendance is recorded: hours and granted
    certificates are dated by it."""
    problems = _session_problems(data, enrolled_count(session.id))
    if data.held_on is not None and data.held_on != session.held_on and _attendance_recorded(session.id):
        problems.append(Problem("date_fixed_by_attendance", "held_on"))
    raise_if(problems)
    session.held_on = data.held_on
    session.trainer = data.trainer.strip()
    session.location = (data.location or "").strip()
    session.capacity = data.capacity
    session.notes = data.notes or ""
    audit.record("training_session.updated", str(session.id))


def enrol(session: TrainingSession, staff: StaffFile) -> Enrolment:
    # lock the session so two enrolments cannot both take the last place
    db.session.execute(select(TrainingSession.id).where(TrainingSession.id == session.id).with_for_update())
    if db.session.scalar(
        select(Enrolment.id).where(Enrolment.session_id == session.id, Enrolment.staff_file_id == staff.id)
    ):
        raise Invalid.one("already_enrolled", "staff_file_id")
    if enrolled_count(session.id) >= session.capacity:
        raise Invalid.one("session_full", "staff_file_id", capacity=session.capacity)
    enrolment = Enrolment(session_id=session.id, staff_file_id=staff.id)
    db.session.add(enrolment)
    db.session.flush()
    audit.record("training.enrolled", str(enrolment.id), session=str(session.id), staff=str(staff.id))
    return enrolment


def unenrol(enrolment: Enrolment) -> None:
    """Only before attendance is recorded: a training record is not erased."""
    if enrolment.status != "enrolled":
        raise Invalid.one("attendance_recorded", None)
    db.session.delete(enrolment)
    audit.record("training.unenrolled", str(enrolment.id), session=str(enrolment.session_id))


# -- attendance ----------------------------------------------------------------------


@dataclass
class AttendanceInput:
    status: str
    hours: Decimal | None = None


def record_attendance(
    session: TrainingSession, entries: dict[uuid.UUID, AttendanceInput], *, by: User | None
) -> list[Certificate]:
    """Attendance for several trainees at once, all or nothing. Returns the
    certificates granted."""
    course = db.session.get(Course, (session.tenant_id, session.course_id))
    enrolments = {
        e.id: e for e in db.session.scalars(select(Enrolment).where(Enrolment.session_id == session.id))
    }
    problems: list[Problem] = []
    if session.held_on > local_today():
        problems.append(Problem("attendance_before_session", None))
    resolved: dict[uuid.UUID, tuple[str, Decimal | None]] = {}
    for enrolment_id, entry in entries.items():
        if enrolment_id not in enrolments:
            continue
        hours_field = f"hours_{enrolment_id}"
        if entry.status not in ATTENDANCE:
            problems.append(
                Problem("bad_choice", f"status_{enrolment_id}", {"choices": ", ".join(ATTENDANCE)})
            )
            continue
        hours = entry.hours
        if hours is not None and hours < 0:
            problems.append(Problem("negative", hours_field))
            continue
        if entry.status == "enrolled":
            hours = None
        elif entry.status == "absent":
            if hours not in (None, Decimal(0)):
                problems.append(Problem("absent_with_hours", hours_field))
                continue
            hours = Decimal(0)
        elif entry.status == "completed":
            hours = course.hours if hours is None else hours
            if not Decimal(0) < hours <= course.hours:
                problems.append(Problem("attended_hours_range", hours_field, {"max": plain(course.hours)}))
                continue
        else:  # partial
            if hours is None:
                problems.append(Problem("completed_needs_hours", hours_field))
                continue
            if not Decimal(0) < hours <= course.hours:
                problems.append(Problem("attended_hours_range", hours_field, {"max": plain(course.hours)}))
                continue
        resolved[enrolment_id] = (entry.status, hours)
    raise_if(problems)
    granted = []
    now = db.utcnow()
    for enrolment_id, (status, hours) in resolved.items():
        enrolment = enrolments[enrolment_id]
        if enrolment.status == status and enrolment.attended_hours == hours:
            continue
        enrolment.status = status
        enrolment.attended_hours = hours
        enrolment.attendance_recorded_at = now if status != "enrolled" else None
        enrolment.attendance_recorded_by_id = by.id if by is not None and status != "enrolled" else None
        if status == "completed":
            cert = _grant_certificate(enrolment, course, session, by=by)
            if cert is not None:
                granted.append(cert)
        else:
            _withdraw_certificate(enrolment)
    db.session.flush()
    audit.record(
        "training.attendance_recorded",
        str(session.id),
        entries={str(k): [s, str(h) if h is not None else None] for k, (s, h) in resolved.items()},
    )
    return granted


def plain(value: Decimal) -> str:
    """Hours without trailing zeros: 2, 1.5."""
    return f"{value.normalize():f}"


def _grant_certificate(
    enrolment: Enrolment, course: Course, session: TrainingSession, *, by: User | None
) -> Certificate | None:
    if course.grants_certificate_type_id is None:
        return None
    existing = db.session.scalar(select(Certificate).where(Certificate.enrolment_id == enrolment.id))
    if existing is not None:
        return None
    expires = (
        add_months(session.held_on, course.certificate_validity_months)
        if course.certificate_validity_months
        else None
    )
    cert = Certificate(
        staff_file_id=enrolment.staff_file_id,
        certificate_type_id=course.grants_certificate_type_id,
        number=f"TRN-{session.held_on:%Y%m%d}-{enrolment.id.hex[-8:].upper()}",
        issuer=agency_in_scope().name[:200],
        issued_on=session.held_on,
        expires_on=expires,
        enrolment_id=enrolment.id,
        created_by_id=by.id if by is not None else None,
    )
    db.session.add(cert)
    db.session.flush()
    audit.record(
        "certificate.granted_by_training",
        str(cert.id),
        staff=str(enrolment.staff_file_id),
        session=str(session.id),
        expires_on=str(expires) if expires else None,
    )
    return cert


def _withdraw_certificate(enrolment: Enrolment) -> None:
    cert = db.session.scalar(select(Certificate).where(Certificate.enrolment_id == enrolment.id))
    if cert is not None:
        db.session.delete(cert)
        audit.record("certificate.withdrawn", str(cert.id), staff=str(enrolment.staff_file_id))


# -- evaluation ------------------------------------------------------------------------


@dataclass
class EvaluationInput:
    satisfaction: int | None = None
    knowledge_score: Decimal | None = None
    practical_rating: int | None = None
    teamwork_rating: int | None = None
    transfer_rating: int | None = None
    comment: str = ""


def record_evaluation(enrolment: Enrolment, data: EvaluationInput, *, by: User | None) -> None:
    problems = []
    for name in ("satisfaction", "practical_rating", "teamwork_rating", "transfer_rating"):
        value = getattr(data, name)
        if value is not None and not 1 <= value <= 5:
            problems.append(Problem("rating_range", name))
    if data.knowledge_score is not None and not Decimal(0) <= data.knowledge_score <= HUNDRED:
        problems.append(Problem("knowledge_range", "knowledge_score"))
    too_long(problems, "comment", data.comment, 5000)
    raise_if(problems)
    enrolment.satisfaction = data.satisfaction
    enrolment.knowledge_score = data.knowledge_score
    enrolment.practical_rating = data.practical_rating
    enrolment.teamwork_rating = data.teamwork_rating
    enrolment.evaluation_comment = data.comment or ""
    if data.transfer_rating != enrolment.transfer_rating:
        enrolment.transfer_rating = data.transfer_rating
        enrolment.transfer_rated_on = local_today() if data.transfer_rating is not None else None
        enrolment.transfer_rated_by_id = (
            by.id if by is not None and data.transfer_rating is not None else None
        )
    audit.record("training.evaluated", str(enrolment.id), session=str(enrolment.session_id))


@dataclass(frozen=True)
class SessionAverages:
    satisfaction: Decimal | None
    knowledge_score: Decimal | None
    practical_rating: Decimal | None
    teamwork_rating: Decimal | None
    transfer_rating: Decimal | None
    evaluated: int
    attended_hours: Decimal


def session_averages(session_id: uuid.UUID) -> SessionAverages:
    row = db.session.execute(
        select(
            func.avg(Enrolment.satisfaction),
            func.avg(Enrolment.knowledge_score),
            func.avg(Enrolment.practical_rating),
            func.avg(Enrolment.teamwork_rating),
            func.avg(Enrolment.transfer_rating),
            func.count(Enrolment.satisfaction),
            func.coalesce(func.sum(Enrolment.attended_hours), 0),
        ).where(Enrolment.session_id == session_id)
    ).one()

    def two(value: Any) -> Decimal | None:
        return Decimal(value).quantize(Decimal("0.01")) if value is not None else None

    return SessionAverages(
        two(row[0]), two(row[1]), two(row[2]), two(row[3]), two(row[4]), row[5], Decimal(row[6])
    )
