"""Staffing rules: staff files, certificates and their scans, time off,
recruitment, caseload and its limits, reviews, rewards and penalties, and the
one function that says who may be assigned to work.

Every change is validated in full before anything is written (`Invalid`
carries every problem found), and recorded in the agency's audit log.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from saas import audit, db
from saas.auth.services import invite
from saas.models import Membership, Role, User
from tenants.staffing.errors import Invalid, Problem, raise_if
from tenants.staffing.models import (
    CASELOAD_KINDS,
    DECISIONS,
    RATING_SOURCES,
    REVIEW_DIMENSIONS,
    REVIEW_KINDS,
    REWARD_KINDS,
    STAFF_ROLES,
    STAGE_RESULTS,
    WEEKDAYS,
    AssignabilityOverride,
    CaseloadAssignment,
    Certificate,
    CertificateType,
    PerformanceReview,
    RecruitmentRecord,
    ReviewRating,
    RewardPenalty,
    StaffDocument,
    StaffFile,
    StaffTimeOff,
)
from tenants.staffing.settings import WorkforceSettings, agency_in_scope, local_today, workforce_settings
from tenants.staffing.signals import client_ratings

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
TIME_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*[-–~至]\s*([01]\d|2[0-4]):([0-5]\d)$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _user_id(by: User | None) -> uuid.UUID | None:
    return by.id if by is not None else None


def _length(problems: list[Problem], field_name: str, value: str | None, limit: int) -> None:
    if value and len(value) > limit:
        problems.append(Problem("too_long", field_name, {"max": limit}))


# -- staff files -----------------------------------------------------------------


def membership_role_for(staff_role: str) -> Role:
    return Role.COORDINATOR if staff_role == "coordinator" else Role.CARER


def clean_list(values: Iterable[str], *, limit: int = 30, length: int = 60) -> list[str]:
    cleaned = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    return [v[:length] for v in cleaned[:limit]]


def parse_availability(texts: dict[str, str]) -> dict[str, list[list[str]]]:
    """{"mon": "08:00-12:00, 14:00-18:00"} -> {"mon": [["08:00", "12:00"], ...]}.
    Raises ValueError on anything else."""
    result: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        text = (texts.get(day) or "").strip()
        if not text:
            continue
        ranges = []
        for part in re.split(r"[,;，；]+", text):
            part = part.strip()
            if not part:
                continue
            match = TIME_RANGE.match(part)
            if not match:
                raise ValueError(day)
            start, end = f"{match[1]}:{match[2]}", f"{match[3]}:{match[4]}"
            if end <= start or end > "24:00":
                raise ValueError(day)
            ranges.append([start, end])
        ranges.sort()
        for (_s1, e1), (s2, _e2) in zip(ranges, ranges[1:], strict=False):
            if s2 < e1:
                raise ValueError(day)
        if ranges:
            result[day] = ranges
    return result


def availability_texts(availability: dict[str, Any] | None) -> dict[str, str]:
    return {day: ", ".join(f"{a}-{b}" for a, b in (availability or {}).get(day, [])) for day in WEEKDAYS}


@dataclass
class StaffInput:
    staff_role: str
    employment_start: date | None
    employment_end: date | None = None
    staff_number: str | None = None
    contracted_hours: Decimal | None = Decimal(0)
    home_area: str = ""
    skills: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    availability: dict[str, str] = field(default_factory=dict)
    caseload_limit: int | None = None
    community_limit: int | None = None
    notes: str = ""


def staff_input_problems(data: StaffInput) -> tuple[list[Problem], dict[str, list[list[str]]]]:
    """Checks that need no database; returns the problems and the parsed availability."""
    problems: list[Problem] = []
    if data.staff_role not in STAFF_ROLES:
        problems.append(Problem("role_unknown", "staff_role"))
    if data.employment_start is None:
        problems.append(Problem("required", "employment_start"))
    elif data.employment_end is not None and data.employment_end < data.employment_start:
        problems.append(Problem("employment_dates", "employment_end"))
    if data.contracted_hours is None:
        data.contracted_hours = Decimal(0)
    if not Decimal(0) <= data.contracted_hours <= Decimal(168):
        problems.append(Problem("range", "contracted_hours", {"min": 0, "max": 168}))
    for name in ("caseload_limit", "community_limit"):
        value = getattr(data, name)
        if value is not None and value < 0:
            problems.append(Problem("negative", name))
    _length(problems, "staff_number", data.staff_number, 40)
    _length(problems, "home_area", data.home_area, 120)
    _length(problems, "notes", data.notes, 5000)
    try:
        availability = parse_availability(data.availability)
    except ValueError as exc:
        problems.append(Problem("availability_format", f"availability_{exc.args[0]}"))
        availability = {}
    return problems, availability


def _staff_number_taken(number: str | None, exclude: uuid.UUID | None = None) -> bool:
    if not number:
        return False
    stmt = select(StaffFile.id).where(StaffFile.staff_number == number)
    if exclude is not None:
        stmt = stmt.where(StaffFile.id != exclude)
    return db.session.scalar(stmt) is not None


def _apply(staff: StaffFile, data: StaffInput, availability: dict[str, list[list[str]]]) -> None:
    staff.staff_role = data.staff_role
    staff.employment_start = data.employment_start
    staff.employment_end = data.employment_end
    staff.staff_number = data.staff_number or None
    staff.contracted_hours = data.contracted_hours or Decimal(0)
    staff.home_area = (data.home_area or "").strip()
    staff.skills = clean_list(data.skills)
    staff.languages = clean_list(data.languages)
    staff.availability = availability
    staff.caseload_limit = data.caseload_limit
    staff.community_limit = data.community_limit
    staff.notes = data.notes or ""


def find_membership(email: str) -> tuple[User | None, Membership | None]:
    """The agency's own member with this address (active or not), in one
    statement: accounts elsewhere on the platform are not looked at, so
    whether an address has one changes nothing the admin sees."""
    row = db.session.execute(
        select(User, Membership).join(Membership, Membership.user_id == User.id).where(User.email == email)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def _account_for(email: str, name: str) -> User:
    """The person's account, made (without a password) when the address has
    none: the same statements either way, and an existing account keeps its
    own name. The invitation lets them set a password or sign in to join."""
    db.session.execute(
        pg_insert(User)
        .values(id=db.new_id(), email=email, name=name)
        .on_conflict_do_nothing(index_elements=[User.email])
    )
    return db.session.scalars(select(User).where(User.email == email)).one()


def add_staff(email: str, name: str, data: StaffInput, *, by: User | None) -> StaffFile:
    """Open a staff file. Someone who is not yet a member of the agency gets a
    membership (carer or coordinator, by their staff role) and an invitation
    to set their password; an existing member keeps their membership."""
    email = (email or "").strip().lower()
    name = (name or "").strip()
    problems, availability = staff_input_problems(data)
    if not EMAIL.match(email) or len(email) > 254:
        problems.append(Problem("bad_email", "email"))
    _length(problems, "name", name, 200)
    user, membership = find_membership(email) if EMAIL.match(email) else (None, None)
    if membership is not None:
        if membership.role == Role.CLIENT:
            problems.append(Problem("member_is_client", "email"))
        elif db.session.scalar(select(StaffFile.id).where(StaffFile.membership_id == membership.id)):
            problems.append(Problem("staff_exists", "email"))
    elif not name:
        # asked of everyone new to the agency, whether or not the address has an account elsewhere
        problems.append(Problem("required", "name"))
    if _staff_number_taken(data.staff_number):
        problems.append(Problem("staff_number_taken", "staff_number"))
    raise_if(problems)

    if membership is None:
        role = membership_role_for(data.staff_role)
        invite(agency_in_scope(), email, role, invited_by=by)
        user = _account_for(email, name)
        membership = Membership(user_id=user.id, role=role)
        db.session.add(membership)
        db.session.flush()
    staff = StaffFile(membership_id=membership.id)
    _apply(staff, data, availability)
    db.session.add(staff)
    db.session.flush()
    db.session.add(RecruitmentRecord(staff_file_id=staff.id))
    db.session.flush()
    audit.record("staff.created", str(staff.id), role=data.staff_role)
    return staff


def update_staff(staff: StaffFile, data: StaffInput) -> None:
    problems, availability = staff_input_problems(data)
    if _staff_number_taken(data.staff_number, exclude=staff.id):
        problems.append(Problem("staff_number_taken", "staff_number"))
    raise_if(problems)
    _apply(staff, data, availability)
    audit.record("staff.updated", str(staff.id))


def staff_person(staff_id: uuid.UUID) -> tuple[StaffFile, Membership, User] | None:
    return db.session.execute(
        select(StaffFile, Membership, User)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(StaffFile.id == staff_id)
    ).first()


def staff_of_membership(membership_id: uuid.UUID) -> StaffFile | None:
    return db.session.scalar(select(StaffFile).where(StaffFile.membership_id == membership_id))


def names_of(staff_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = set(staff_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(StaffFile.id, User.name, User.email)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(StaffFile.id.in_(ids))
    ).all()
    return {r.id: r.name or r.email for r in rows}


def user_names(user_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return {
        r.id: r.name or r.email
        for r in db.session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    }


def is_employed(staff: StaffFile, membership: Membership, at: date) -> bool:
    return (
        membership.active
        and staff.employment_start <= at
        and (staff.employment_end is None or staff.employment_end > at)
    )


# -- time off ------------------------------------------------------------------------


def add_time_off(staff: StaffFile, starts_on: date | None, ends_on: date | None, reason: str) -> StaffTimeOff:
    problems = []
    if starts_on is None:
        problems.append(Problem("required", "starts_on"))
    if ends_on is None:
        problems.append(Problem("required", "ends_on"))
    if starts_on and ends_on and ends_on < starts_on:
        problems.append(Problem("dates_ordered", "ends_on"))
    _length(problems, "reason", reason, 200)
    raise_if(problems)
    entry = StaffTimeOff(staff_file_id=staff.id, starts_on=starts_on, ends_on=ends_on, reason=reason or "")
    db.session.add(entry)
    db.session.flush()
    audit.record("staff.time_off_added", str(staff.id), starts_on=str(starts_on), ends_on=str(ends_on))
    return entry


def remove_time_off(entry: StaffTimeOff) -> None:
    db.session.delete(entry)
    audit.record("staff.time_off_removed", str(entry.staff_file_id))


# -- certificate types and certificates ------------------------------------------------


def certificate_types(*, active_only: bool = False) -> list[CertificateType]:
    stmt = select(CertificateType).order_by(CertificateType.name)
    if active_only:
        stmt = stmt.where(CertificateType.active.is_(True))
    return list(db.session.scalars(stmt))


def create_certificate_type(name: str, description: str = "") -> CertificateType:
    name = (name or "").strip()
    problems = []
    if not name:
        problems.append(Problem("required", "name"))
    _length(problems, "name", name, 120)
    if name and db.session.scalar(
        select(CertificateType.id).where(func.lower(CertificateType.name) == name.lower())
    ):
        problems.append(Problem("type_taken", "name"))
    raise_if(problems)
    kind = CertificateType(name=name, description=(description or "").strip())
    db.session.add(kind)
    db.session.flush()
    audit.record("certificate_type.created", str(kind.id), name=name)
    return kind


def set_certificate_type_active(kind: CertificateType, active: bool) -> None:
    from tenants.staffing.settings import forget_certificate_type

    kind.active = active
    if not active:
        forget_certificate_type(agency_in_scope(), kind.id)
    audit.record("certificate_type.retired" if not active else "certificate_type.reactivated", str(kind.id))


def sniff_document(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) by the file's first bytes, never by its name."""
    for magic, content_type, extension in DOCUMENT_TYPES:
        if data.startswith(magic):
            return content_type, extension
    return None


def document_problems(data: bytes | None) -> list[Problem]:
    if data is None:
        return []
    if len(data) == 0:
        return [Problem("file_empty", "document")]
    if len(data) > MAX_DOCUMENT_BYTES:
        return [Problem("file_too_large", "document", {"mb": MAX_DOCUMENT_BYTES // (1024 * 1024)})]
    if sniff_document(data) is None:
        return [Problem("file_type", "document")]
    return []


def safe_filename(filename: str, extension: str) -> str:
    base = re.split(r"[\\/]", filename or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f\"]", "", base).strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return (stem[:150] or "document") + extension


@dataclass
class CertificateInput:
    certificate_type_id: uuid.UUID | None
    number: str
    issuer: str
    issued_on: date | None
    expires_on: date | None


def certificate_input_problems(
    data: CertificateInput, today: date, known_types: set[uuid.UUID]
) -> list[Problem]:
    problems = []
    if data.certificate_type_id is None or data.certificate_type_id not in known_types:
        problems.append(Problem("type_choose", "certificate_type_id"))
    if not (data.number or "").strip():
        problems.append(Problem("required", "number"))
    _length(problems, "number", data.number, 80)
    _length(problems, "issuer", data.issuer, 200)
    if data.issued_on is None:
        problems.append(Problem("required", "issued_on"))
    else:
        if data.issued_on > today:
            problems.append(Problem("issued_in_future", "issued_on"))
        if data.expires_on is not None and data.expires_on < data.issued_on:
            problems.append(Problem("expiry_before_issue", "expires_on"))
    return problems


def certificate_number_taken(type_id: uuid.UUID, number: str) -> bool:
    return (
        db.session.scalar(
            select(Certificate.id).where(
                Certificate.certificate_type_id == type_id, Certificate.number == number.strip()
            )
        )
        is not None
    )


def add_certificate(
    staff: StaffFile,
    data: CertificateInput,
    *,
    document: tuple[str, bytes] | None = None,
    by: User | None,
) -> Certificate:
    known = {t.id for t in certificate_types(active_only=True)}
    problems = certificate_input_problems(data, local_today(), known)
    problems += document_problems(document[1] if document else None)
    if not any(p.field in ("certificate_type_id", "number") for p in problems) and certificate_number_taken(
        data.certificate_type_id, data.number
    ):
        problems.append(Problem("number_taken", "number", {"number": data.number.strip()}))
    raise_if(problems)
    document_id = None
    if document is not None:
        document_id = store_document(staff, document[0], document[1], by=by).id
    cert = Certificate(
        staff_file_id=staff.id,
        certificate_type_id=data.certificate_type_id,
        number=data.number.strip(),
        issuer=(data.issuer or "").strip(),
        issued_on=data.issued_on,
        expires_on=data.expires_on,
        document_id=document_id,
        created_by_id=_user_id(by),
    )
    db.session.add(cert)
    db.session.flush()
    audit.record("certificate.added", str(cert.id), staff=str(staff.id), type=str(data.certificate_type_id))
    return cert


def store_document(staff: StaffFile, filename: str, data: bytes, *, by: User | None) -> StaffDocument:
    raise_if(document_problems(data))
    content_type, extension = sniff_document(data)  # type: ignore[misc]
    document = StaffDocument(
        staff_file_id=staff.id,
        filename=safe_filename(filename, extension),
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by_id=_user_id(by),
    )
    db.session.add(document)
    db.session.flush()
    audit.record("document.uploaded", str(document.id), staff=str(staff.id), size=len(data))
    return document


def remove_certificate(cert: Certificate) -> None:
    document_id = cert.document_id
    db.session.delete(cert)
    db.session.flush()
    if document_id is not None:
        document = db.session.get(StaffDocument, (cert.tenant_id, document_id))
        if document is not None:
            db.session.delete(document)
    audit.record("certificate.removed", str(cert.id), staff=str(cert.staff_file_id))


def certificate_status(expires_on: date | None, today: date, window_days: int) -> str:
    """valid, expiring (within the agency's window) or expired."""
    if expires_on is None:
        return "valid"
    if expires_on < today:
        return "expired"
    if (expires_on - today).days <= window_days:
        return "expiring"
    return "valid"


@dataclass(frozen=True)
class CertificateRow:
    certificate: Certificate
    type_name: str
    status: str
    document: StaffDocument | None


def certificates_of(
    staff_ids: Iterable[uuid.UUID], today: date | None = None
) -> dict[uuid.UUID, list[CertificateRow]]:
    """Every certificate of these workers, with status, in two queries."""
    ids = set(staff_ids)
    if not ids:
        return {}
    today = today or local_today()
    window = workforce_settings().certificate_expiring_days
    rows = db.session.execute(
        select(Certificate, CertificateType.name)
        .join(CertificateType, CertificateType.id == Certificate.certificate_type_id)
        .where(Certificate.staff_file_id.in_(ids))
        .order_by(CertificateType.name, Certificate.expires_on.desc().nulls_first())
    ).all()
    doc_ids = {c.document_id for c, _ in rows if c.document_id}
    documents = (
        {d.id: d for d in db.session.scalars(select(StaffDocument).where(StaffDocument.id.in_(doc_ids)))}
        if doc_ids
        else {}
    )
    out: dict[uuid.UUID, list[CertificateRow]] = defaultdict(list)
    for cert, type_name in rows:
        out[cert.staff_file_id].append(
            CertificateRow(
                cert,
                type_name,
                certificate_status(cert.expires_on, today, window),
                documents.get(cert.document_id),
            )
        )
    return out


# -- recruitment --------------------------------------------------------------------------


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
    _length(problems, "notes", data.notes, 5000)
    raise_if(problems)
    decision_changed = record.decision != data.decision or record.decided_on != data.decided_on
    for name, value in data.__dict__.items():
        setattr(record, name, value)
    if data.decision == "pending":
        record.decided_on = None
        record.decided_by_id = None
    elif decision_changed:
        record.decided_by_id = _user_id(by)
    audit.record("staff.recruitment_updated", str(record.staff_file_id), decision=data.decision)


# -- caseload -----------------------------------------------------------------------------


def caseload_limit(staff: StaffFile, kind: str, settings: WorkforceSettings | None = None) -> int:
    settings = settings or workforce_settings()
    if kind == "community":
        return (
            staff.community_limit if staff.community_limit is not None else settings.caseload_limit_community
        )
    return staff.caseload_limit if staff.caseload_limit is not None else settings.caseload_limit_individual


def _running(at: date) -> Any:
    return and_(
        CaseloadAssignment.starts_on <= at,
        or_(CaseloadAssignment.ends_on.is_(None), CaseloadAssignment.ends_on > at),
    )


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
        .where(CaseloadAssignment.staff_file_id.in_(ids), _running(at))
        .group_by(CaseloadAssignment.staff_file_id)
    ).all()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def _peak_load(staff_id: uuid.UUID, kind: str, starts_on: date, ends_on: date | None) -> int:
    """The highest load of this kind at any day of [starts_on, ends_on)."""
    stmt = select(
        CaseloadAssignment.starts_on, CaseloadAssignment.ends_on, CaseloadAssignment.residents
    ).where(
        CaseloadAssignment.staff_file_id == staff_id,
        CaseloadAssignment.kind == kind,
        or_(CaseloadAssignment.ends_on.is_(None), CaseloadAssignment.ends_on > starts_on),
    )
    if ends_on is not None:
        stmt = stmt.where(CaseloadAssignment.starts_on < ends_on)
    rows = db.session.execute(stmt).all()
    # the load only rises on a start date: check the new start and each later start
    checkpoints = {starts_on} | {r.starts_on for r in rows if r.starts_on > starts_on}
    peak = 0
    for day in checkpoints:
        load = sum(
            (r.residents if kind == "community" else 1)
            for r in rows
            if r.starts_on <= day and (r.ends_on is None or r.ends_on > day)
        )
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
    _length(problems, "label", label, 200)
    _length(problems, "reference", data.reference, 100)
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
        created_by_id=_user_id(by),
    )
    if load > limit:
        assignment.override_reason = reason
        assignment.override_by_id = _user_id(by)
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


# -- performance: reviews, ratings, rewards and penalties -----------------------------------


def client_ratings_average(staff_id: uuid.UUID, start: date, end: date) -> Decimal | None:
    """The clients' average rating of the carer's visits (feedback answers
    `client_ratings_wanted`); None without ratings."""
    return client_ratings([staff_id], start, end).get(staff_id)


def create_review(
    staff: StaffFile,
    kind: str,
    period_start: date | None,
    period_end: date | None,
    summary: str,
    *,
    by: User | None,
) -> PerformanceReview:
    problems = []
    if kind not in REVIEW_KINDS:
        problems.append(Problem("bad_choice", "kind", {"choices": ", ".join(REVIEW_KINDS)}))
    if period_start is None:
        problems.append(Problem("required", "period_start"))
    if period_end is None:
        problems.append(Problem("required", "period_end"))
    if period_start and period_end and period_end < period_start:
        problems.append(Problem("dates_ordered", "period_end"))
    _length(problems, "summary", summary, 5000)
    if not problems and db.session.scalar(
        select(PerformanceReview.id).where(
            PerformanceReview.staff_file_id == staff.id,
            PerformanceReview.kind == kind,
            PerformanceReview.period_start == period_start,
        )
    ):
        problems.append(Problem("review_exists", "period_start"))
    raise_if(problems)
    review = PerformanceReview(
        staff_file_id=staff.id,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        summary=summary or "",
        created_by_id=_user_id(by),
    )
    db.session.add(review)
    db.session.flush()
    audit.record("review.created", str(review.id), staff=str(staff.id), kind=kind)
    return review


def add_rating(
    review: PerformanceReview, source: str, scores: dict[str, int | None], comment: str, *, by: User | None
) -> ReviewRating:
    problems = []
    if source not in RATING_SOURCES:
        problems.append(Problem("bad_choice", "source", {"choices": ", ".join(RATING_SOURCES)}))
    clean: dict[str, int] = {}
    for dimension in REVIEW_DIMENSIONS:
        value = scores.get(dimension)
        if value is None:
            problems.append(Problem("required", dimension))
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            problems.append(Problem("score_range", dimension))
        else:
            clean[dimension] = value
    _length(problems, "comment", comment, 5000)
    raise_if(problems)
    rating = ReviewRating(
        review_id=review.id, source=source, scores=clean, comment=comment or "", rater_id=_user_id(by)
    )
    db.session.add(rating)
    db.session.flush()
    audit.record("review.rated", str(review.id), source=source)
    return rating


@dataclass(frozen=True)
class ReviewSummary:
    # source -> dimension -> average; source -> number of raters
    by_source: dict[str, dict[str, Decimal]]
    raters: dict[str, int]
    client_average: Decimal | None
    overall: Decimal | None


def review_summary(review: PerformanceReview, ratings: list[ReviewRating]) -> ReviewSummary:
    by_source: dict[str, dict[str, Decimal]] = {}
    raters: dict[str, int] = {}
    for source in RATING_SOURCES:
        chosen = [r for r in ratings if r.source == source]
        raters[source] = len(chosen)
        if chosen:
            by_source[source] = {
                d: (Decimal(sum(r.scores.get(d, 0) for r in chosen)) / len(chosen)).quantize(Decimal("0.01"))
                for d in REVIEW_DIMENSIONS
            }
    client = client_ratings_average(review.staff_file_id, review.period_start, review.period_end)
    means = [sum(v.values()) / len(v) for v in by_source.values()]
    if client is not None:
        means.append(Decimal(client))
    overall = (sum(means) / len(means)).quantize(Decimal("0.01"), ROUND_HALF_UP) if means else None
    return ReviewSummary(by_source=by_source, raters=raters, client_average=client, overall=overall)


def add_reward_penalty(
    staff: StaffFile, kind: str, on_date: date | None, reason: str, *, by: User | None
) -> RewardPenalty:
    problems = []
    if kind not in REWARD_KINDS:
        problems.append(Problem("bad_choice", "kind", {"choices": ", ".join(REWARD_KINDS)}))
    if on_date is None:
        problems.append(Problem("required", "on_date"))
    if not (reason or "").strip():
        problems.append(Problem("required", "reason"))
    _length(problems, "reason", reason, 5000)
    raise_if(problems)
    entry = RewardPenalty(
        staff_file_id=staff.id, kind=kind, on_date=on_date, reason=reason.strip(), recorded_by_id=_user_id(by)
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(f"staff.{kind}_recorded", str(staff.id), on=str(on_date))
    return entry


# -- who may be assigned --------------------------------------------------------------------

# Reasons an override cannot lift: someone not working here cannot be sent anywhere.
NOT_OVERRIDABLE = ("inactive", "employment_ended", "employment_not_started")


@dataclass(frozen=True)
class Reason:
    """Why a worker is not assignable. `code` is stable (`inactive`,
    `employment_ended`, `employment_not_started`, `pre_service_hours`,
    `certificate_missing:<type id>`, `certificate_expired:<type id>`)."""

    code: str
    type_name: str = ""
    hours: Decimal | None = None
    required: Decimal | None = None
    expired_on: date | None = None
    # required by the worker's role (settings), or by the work itself (`require=`)
    by_role: bool = True

    @property
    def kind(self) -> str:
        return self.code.split(":", 1)[0]

    @property
    def overridable(self) -> bool:
        return self.kind not in NOT_OVERRIDABLE

    def __str__(self) -> str:
        return self.code

    def message(self) -> str:
        if self.kind == "inactive":
            return _("Their account in the agency is deactivated.")
        if self.kind == "employment_ended":
            return _("Their employment has ended.")
        if self.kind == "employment_not_started":
            return _("Their employment has not started yet.")
        if self.kind == "pre_service_hours":
            return _(
                "%(hours)s of the %(required)s hours of pre-service training done.",
                hours=_hours(self.hours),
                required=_hours(self.required),
            )
        if self.kind == "certificate_missing" and self.by_role:
            return _("No valid %(type)s certificate, which their role requires.", type=self.type_name)
        if self.kind == "certificate_missing":
            return _("No valid %(type)s certificate, which this work requires.", type=self.type_name)
        if self.kind == "certificate_expired":
            return _(
                "Their %(type)s certificate expired on %(date)s.",
                type=self.type_name,
                date=format_date(self.expired_on, "medium") if self.expired_on else "",
            )
        return self.code


def _hours(value: Decimal | None) -> str:
    if value is None:
        return "0"
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:.2f}".rstrip("0")


@dataclass(frozen=True)
class Override:
    id: uuid.UUID
    reason: str
    by_id: uuid.UUID | None
    at: datetime
    expires_on: date | None


@dataclass(frozen=True)
class Assignability:
    staff_file_id: uuid.UUID
    assignable: bool
    reasons: list[Reason]
    override: Override | None
    pre_service_hours: Decimal

    @property
    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    @property
    def overridden(self) -> bool:
        return self.assignable and bool(self.reasons)


def pre_service_hours(staff_ids: Iterable[uuid.UUID], at: date) -> dict[uuid.UUID, Decimal]:
    """Hours attended of courses flagged pre-service, at sessions held by `at`."""
    from tenants.training.models import Course, Enrolment, TrainingSession

    ids = set(staff_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Enrolment.staff_file_id, func.sum(Enrolment.attended_hours))
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(
            Enrolment.staff_file_id.in_(ids),
            Course.counts_as == "pre_service",
            TrainingSession.held_on <= at,
            Enrolment.attended_hours.isnot(None),
        )
        .group_by(Enrolment.staff_file_id)
    ).all()
    return {r[0]: Decimal(r[1] or 0) for r in rows}


def assignability(
    staff_ids: uuid.UUID | Iterable[uuid.UUID],
    at: date | None = None,
    *,
    require: Iterable[uuid.UUID] = (),
) -> dict[uuid.UUID, Assignability]:
    """Who may be assigned on day `at` (default: the agency's today), for any
    number of workers in four queries. Never stored.

    Assignable = membership active, employment started and not ended, at least
    the agency's pre-service hours attended, and a valid certificate (issued by
    `at`, not expired at `at`) of every type their staff role requires, plus
    any type in `require` (a visit's required qualification). An active admin
    override makes a worker assignable despite missing training or
    certificates, never despite not being employed. Unknown ids are left out.
    """
    ids = [staff_ids] if isinstance(staff_ids, uuid.UUID) else list(dict.fromkeys(staff_ids))
    if not ids:
        return {}
    at = at or local_today()
    settings = workforce_settings()
    extra = tuple(require)
    people = db.session.execute(
        select(
            StaffFile.id,
            StaffFile.staff_role,
            StaffFile.employment_start,
            StaffFile.employment_end,
            Membership.active,
        )
        .join(Membership, Membership.id == StaffFile.membership_id)
        .where(StaffFile.id.in_(ids))
    ).all()
    if not people:
        return {}
    hours = pre_service_hours([p.id for p in people], at)
    needed_types = set(extra)
    for p in people:
        needed_types.update(settings.required_for(p.staff_role))
    # best certificate per worker and type: valid at `at` if any, else the latest expiry
    held: dict[tuple[uuid.UUID, uuid.UUID], tuple[bool, date | None]] = {}
    names: dict[uuid.UUID, str] = {}
    if needed_types:
        names = dict(
            db.session.execute(
                select(CertificateType.id, CertificateType.name).where(CertificateType.id.in_(needed_types))
            ).all()
        )
        rows = db.session.execute(
            select(
                Certificate.staff_file_id,
                Certificate.certificate_type_id,
                func.bool_or(or_(Certificate.expires_on.is_(None), Certificate.expires_on >= at)),
                func.max(Certificate.expires_on),
            )
            .where(
                Certificate.staff_file_id.in_([p.id for p in people]),
                Certificate.certificate_type_id.in_(needed_types),
                Certificate.issued_on <= at,
            )
            .group_by(Certificate.staff_file_id, Certificate.certificate_type_id)
        ).all()
        held = {(r[0], r[1]): (bool(r[2]), r[3]) for r in rows}
    overrides = {}
    for o in db.session.scalars(
        select(AssignabilityOverride)
        .where(
            AssignabilityOverride.staff_file_id.in_([p.id for p in people]),
            AssignabilityOverride.revoked_at.is_(None),
            or_(AssignabilityOverride.expires_on.is_(None), AssignabilityOverride.expires_on >= at),
        )
        .order_by(AssignabilityOverride.created_at)
    ):
        overrides[o.staff_file_id] = Override(o.id, o.reason, o.created_by_id, o.created_at, o.expires_on)

    result = {}
    for p in people:
        reasons: list[Reason] = []
        if not p.active:
            reasons.append(Reason("inactive"))
        if p.employment_end is not None and p.employment_end <= at:
            reasons.append(Reason("employment_ended"))
        if p.employment_start > at:
            reasons.append(Reason("employment_not_started"))
        done = hours.get(p.id, Decimal(0))
        if done < settings.pre_service_hours:
            reasons.append(Reason("pre_service_hours", hours=done, required=settings.pre_service_hours))
        by_role = settings.required_for(p.staff_role)
        for type_id in dict.fromkeys((*by_role, *extra)):
            valid, latest = held.get((p.id, type_id), (False, None))
            if valid:
                continue
            type_name = names.get(type_id, "?")
            if latest is not None:
                reasons.append(
                    Reason(
                        f"certificate_expired:{type_id}",
                        type_name=type_name,
                        expired_on=latest,
                        by_role=type_id in by_role,
                    )
                )
            else:
                reasons.append(
                    Reason(f"certificate_missing:{type_id}", type_name=type_name, by_role=type_id in by_role)
                )
        override = overrides.get(p.id)
        assignable = not reasons or (override is not None and all(r.overridable for r in reasons))
        result[p.id] = Assignability(p.id, assignable, reasons, override, done)
    return result


def is_assignable(staff_id: uuid.UUID, at: date | None = None) -> bool:
    found = assignability(staff_id, at)
    return bool(found.get(staff_id) and found[staff_id].assignable)


def grant_override(
    staff: StaffFile, reason: str, expires_on: date | None, *, by: User | None
) -> AssignabilityOverride:
    reason = (reason or "").strip()
    problems = []
    if not reason:
        problems.append(Problem("reason_required", "reason"))
    _length(problems, "reason", reason, 2000)
    if expires_on is not None and expires_on < local_today():
        problems.append(Problem("expires_in_past", "expires_on"))
    raise_if(problems)
    # one active override at a time: a new one replaces the old
    for old in db.session.scalars(
        select(AssignabilityOverride).where(
            AssignabilityOverride.staff_file_id == staff.id, AssignabilityOverride.revoked_at.is_(None)
        )
    ):
        old.revoked_at = db.utcnow()
        old.revoked_by_id = _user_id(by)
    override = AssignabilityOverride(
        staff_file_id=staff.id, reason=reason, expires_on=expires_on, created_by_id=_user_id(by)
    )
    db.session.add(override)
    db.session.flush()
    reasons = assignability(staff.id).get(staff.id)
    audit.record(
        "staff.assignability_override",
        str(staff.id),
        reason=reason,
        expires_on=str(expires_on) if expires_on else None,
        reasons=reasons.reason_codes if reasons else [],
    )
    return override


def revoke_override(override: AssignabilityOverride, *, by: User | None) -> None:
    if override.revoked_at is None:
        override.revoked_at = db.utcnow()
        override.revoked_by_id = _user_id(by)
        audit.record(
            "staff.assignability_override_revoked", str(override.staff_file_id), override=str(override.id)
        )
