"""Certificate types, certificates and their scans, and each certificate's
status against the agency's expiry window."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from saas import audit, db
from saas.models import User
from tenants.staffing.errors import Problem, raise_if, too_long
from tenants.staffing.models import (
    Certificate,
    CertificateType,
    StaffDocument,
    StaffFile,
)
from tenants.staffing.settings import (
    agency_in_scope,
    forget_certificate_type,
    local_today,
    workforce_settings,
)
from tenants.staffing.staff_files import user_id_of

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


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
    too_long(problems, "name", name, 120)
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
    too_long(problems, "number", data.number, 80)
    too_long(problems, "issuer", data.issuer, 200)
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
        created_by_id=user_id_of(by),
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
        uploaded_by_id=user_id_of(by),
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


# the JSON of a certificate in the API (CertificateRow.as_json), shared by the
# staffing and training endpoints
CERTIFICATE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "type": {"type": "string"},
        "number": {"type": "string"},
        "issuer": {"type": "string"},
        "issued_on": {"type": "string", "format": "date"},
        "expires_on": {"type": "string", "format": "date", "nullable": True},
        "status": {"type": "string", "enum": ["valid", "expiring", "expired"]},
        "has_document": {"type": "boolean"},
        "granted_by_training": {"type": "boolean"},
    },
}


@dataclass(frozen=True)
class CertificateRow:
    certificate: Certificate
    type_name: str
    status: str
    document: StaffDocument | None

    def as_json(self) -> dict[str, Any]:
        cert = self.certificate
        return {
            "id": str(cert.id),
            "type": self.type_name,
            "number": cert.number,
            "issuer": cert.issuer,
            "issued_on": cert.issued_on.isoformat(),
            "expires_on": cert.expires_on.isoformat() if cert.expires_on else None,
            "status": self.status,
            "has_document": cert.document_id is not None,
            "granted_by_training": cert.enrolment_id is not None,
        }


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
