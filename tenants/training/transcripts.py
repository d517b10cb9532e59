"""Each worker's training: hours counted towards the pre-service and the
annual requirements, the sessions attended and coming, the certificates held,
and what is due next."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select

from saas import db
from tenants.staffing.certificates import certificates_of
from tenants.staffing.models import CertificateType, StaffFile
from tenants.staffing.settings import local_today, workforce_settings
from tenants.training.models import Course, Enrolment, TrainingSession
from tenants.training.services import plain


def year_start(today: date) -> date:
    return date(today.year, 1, 1)


def hours_subquery(today: date) -> Any:
    """Per worker: pre-service hours (ever) and annual-training hours this year."""
    held = TrainingSession.held_on
    pre = func.coalesce(
        func.sum(case((and_(Course.counts_as == "pre_service", held <= today), Enrolment.attended_hours))), 0
    )
    annual = func.coalesce(
        func.sum(
            case(
                (
                    and_(Course.counts_as == "annual", held >= year_start(today), held <= today),
                    Enrolment.attended_hours,
                )
            )
        ),
        0,
    )
    return (
        select(Enrolment.staff_file_id.label("staff_file_id"), pre.label("pre"), annual.label("annual"))
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(Enrolment.attended_hours.isnot(None))
        .group_by(Enrolment.staff_file_id)
    )


def training_hours(
    staff_ids: Iterable[uuid.UUID], today: date | None = None
) -> dict[uuid.UUID, tuple[Decimal, Decimal]]:
    ids = set(staff_ids)
    if not ids:
        return {}
    today = today or local_today()
    sub = hours_subquery(today).where(Enrolment.staff_file_id.in_(ids))
    return {r[0]: (Decimal(r[1]), Decimal(r[2])) for r in db.session.execute(sub)}


@dataclass(frozen=True)
class TranscriptLine:
    enrolment: Enrolment
    session: TrainingSession
    course: Course


@dataclass(frozen=True)
class Transcript:
    staff_file_id: uuid.UUID
    pre_service_hours: Decimal
    pre_service_required: Decimal
    annual_hours: Decimal
    annual_required: Decimal
    year: int
    lines: list[TranscriptLine]
    upcoming: list[TranscriptLine]
    certificates: list[Any]
    due: list[str]

    @property
    def pre_service_done(self) -> bool:
        return self.pre_service_hours >= self.pre_service_required

    @property
    def annual_done(self) -> bool:
        return self.annual_hours >= self.annual_required


def transcript(staff: StaffFile, today: date | None = None) -> Transcript:
    today = today or local_today()
    settings = workforce_settings()
    pre, annual = training_hours([staff.id], today).get(staff.id, (Decimal(0), Decimal(0)))
    rows = db.session.execute(
        select(Enrolment, TrainingSession, Course)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(Enrolment.staff_file_id == staff.id)
        .order_by(TrainingSession.held_on.desc())
    ).all()
    lines = [TranscriptLine(*r) for r in rows]
    done = [line for line in lines if line.enrolment.status != "enrolled"]
    upcoming = sorted(
        (line for line in lines if line.enrolment.status == "enrolled" and line.session.held_on >= today),
        key=lambda line: line.session.held_on,
    )
    certs = certificates_of([staff.id], today).get(staff.id, [])
    due = []
    if pre < settings.pre_service_hours:
        due.append(
            _(
                "%(hours)s more hours of pre-service training.",
                hours=plain(settings.pre_service_hours - pre),
            )
        )
    if annual < settings.annual_training_hours:
        due.append(
            _(
                "%(hours)s more hours of role training by the end of %(year)d.",
                hours=plain(settings.annual_training_hours - annual),
                year=today.year,
            )
        )
    held_types = {}
    for row in certs:
        current = held_types.get(row.certificate.certificate_type_id)
        if (
            current is None
            or row.status == "valid"
            or (row.status == "expiring" and current.status == "expired")
        ):
            held_types[row.certificate.certificate_type_id] = row
    required = settings.required_for(staff.staff_role)
    if required:
        names = dict(
            db.session.execute(
                select(CertificateType.id, CertificateType.name).where(CertificateType.id.in_(required))
            ).all()
        )
        for type_id in required:
            row = held_types.get(type_id)
            if row is None:
                due.append(_("A certificate your role requires: %(type)s.", type=names.get(type_id, "?")))
            elif row.status == "expired":
                due.append(_("Renew this certificate, which has expired: %(type)s.", type=row.type_name))
    for row in held_types.values():
        if row.status == "expiring":
            due.append(
                _(
                    "Your certificate expires on %(date)s: %(type)s.",
                    type=row.type_name,
                    date=format_date(row.certificate.expires_on, "medium"),
                )
            )
    return Transcript(
        staff_file_id=staff.id,
        pre_service_hours=pre,
        pre_service_required=settings.pre_service_hours,
        annual_hours=annual,
        annual_required=settings.annual_training_hours,
        year=today.year,
        lines=done,
        upcoming=upcoming,
        certificates=certs,
        due=due,
    )
