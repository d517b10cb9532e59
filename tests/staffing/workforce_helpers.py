"""Building workforce data for tests through the real services."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from saas import db
from saas.models import Agency, Membership, Role, User
from tenants.catalogue import services as catalogue
from tenants.staffing import services as staffing
from tenants.staffing.models import StaffFile
from tenants.staffing.settings import number_keys, save_workforce_settings, workforce_settings
from tenants.training import services as training
from tenants.training.models import Course, TrainingSession

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@contextmanager
def in_agency(app, agency: Agency) -> Iterator[None]:
    """A request context (services build links) with the agency in scope; commits at the end."""
    with app.test_request_context(), db.tenant_scope(agency.id):
        yield
        db.session.commit()


def cert_type(app, agency: Agency, name: str = "First aid") -> uuid.UUID:
    with in_agency(app, agency):
        return staffing.create_certificate_type(name).id


def staff(
    factory,
    agency: Agency,
    *,
    role: Role = Role.CARER,
    staff_role: str = "carer",
    start: date = date(2020, 1, 1),
    end: date | None = None,
    name: str = "Casey Carer",
    **extra: object,
) -> tuple[User, Membership, uuid.UUID]:
    user, membership = factory.member(agency, role, name=name)
    with in_agency(factory.app, agency):
        data = staffing.StaffInput(staff_role=staff_role, employment_start=start, employment_end=end, **extra)
        staff_file = staffing.add_staff(user.email, "", data, by=None)
        return user, membership, staff_file.id


def staff_file(staff_id: uuid.UUID) -> StaffFile:
    return db.session.scalar(select(StaffFile).where(StaffFile.id == staff_id))


def change_staff(app, agency: Agency, staff_id: uuid.UUID, **changes: object) -> None:
    """Change fields of a staff file (`employment_start`, `staff_role`...)
    through `update_staff`, the others as they are, as its edit page does."""
    with in_agency(app, agency):
        row = db.session.scalar(
            select(StaffFile).where(StaffFile.id == staff_id).execution_options(populate_existing=True)
        )
        data = staffing.StaffInput(
            staff_role=row.staff_role,
            employment_start=row.employment_start,
            employment_end=row.employment_end,
            staff_number=row.staff_number,
            contracted_hours=row.contracted_hours,
            home_area=row.home_area,
            skills=list(row.skills or []),
            languages=list(row.languages or []),
            availability={k: v for k, v in staffing.availability_texts(row.availability).items() if v},
            caseload_limit=row.caseload_limit,
            community_limit=row.community_limit,
            notes=row.notes,
        )
        for name, value in changes.items():
            setattr(data, name, value)
        staffing.update_staff(row, data)


def settings(
    app, agency: Agency, *, required: dict[str, list[uuid.UUID]] | None = None, **numbers: int
) -> None:
    with in_agency(app, agency):
        current = workforce_settings(agency)
        values = {key: int(getattr(current, key)) for key in number_keys()}
        values.update(numbers)
        req = {role: list(ids) for role, ids in current.required_certificate_types.items()}
        req.update(required or {})
        save_workforce_settings(agency, values, req)


def certificate(
    app,
    agency: Agency,
    staff_id: uuid.UUID,
    type_id: uuid.UUID,
    *,
    number: str | None = None,
    issued: date = date(2020, 1, 1),
    expires: date | None = None,
) -> uuid.UUID:
    with in_agency(app, agency):
        data = staffing.CertificateInput(
            type_id, number or uuid.uuid4().hex[:10], "Red Cross", issued, expires
        )
        return staffing.add_certificate(staff_file(staff_id), data, by=None).id


def course(
    app,
    agency: Agency,
    *,
    title: str | None = None,
    hours: str = "40",
    counts_as: str = "pre_service",
    grants: uuid.UUID | None = None,
    validity: int | None = None,
) -> uuid.UUID:
    with in_agency(app, agency):
        return training.create_course(
            training.CourseInput(
                title=title or f"Course {uuid.uuid4().hex[:6]}",
                category="theory_practice",
                form="classroom",
                hours=Decimal(hours),
                counts_as=counts_as,
                grants_certificate_type_id=grants,
                certificate_validity_months=validity,
            )
        ).id


def session(app, agency: Agency, course_id: uuid.UUID, held_on: date, *, capacity: int = 10) -> uuid.UUID:
    with in_agency(app, agency):
        row = db.session.scalar(select(Course).where(Course.id == course_id))
        return training.create_session(
            row, training.SessionInput(held_on=held_on, trainer="Tess Trainer", capacity=capacity)
        ).id


def attend(
    app,
    agency: Agency,
    session_id: uuid.UUID,
    staff_id: uuid.UUID,
    status: str = "completed",
    hours: str | None = None,
) -> uuid.UUID:
    """Enrol (if needed) and record attendance."""
    from tenants.training.models import Enrolment

    with in_agency(app, agency):
        row = db.session.scalar(select(TrainingSession).where(TrainingSession.id == session_id))
        enrolment = db.session.scalar(
            select(Enrolment).where(Enrolment.session_id == session_id, Enrolment.staff_file_id == staff_id)
        )
        if enrolment is None:
            enrolment = training.enrol(row, staff_file(staff_id))
        training.record_attendance(
            row,
            {enrolment.id: training.AttendanceInput(status, Decimal(hours) if hours is not None else None)},
            by=None,
        )
        return enrolment.id


def pre_service_done(app, agency: Agency, staff_id: uuid.UUID, held_on: date = date(2020, 2, 1)) -> None:
    course_id = course(app, agency, hours="40")
    attend(app, agency, session(app, agency, course_id, held_on), staff_id)


def category(app, agency: Agency, name: str = "Daily living") -> uuid.UUID:
    with in_agency(app, agency):
        return catalogue.create_category(name).id


def item(
    app,
    agency: Agency,
    category_id: uuid.UUID,
    name: str | None = None,
    *,
    price: str = "20.00",
    required: uuid.UUID | None = None,
) -> uuid.UUID:
    with in_agency(app, agency):
        return catalogue.create_item(
            catalogue.ItemInput(category_id=category_id, name=name or f"Item {uuid.uuid4().hex[:6]}"),
            catalogue.TermsInput(
                price=Decimal(price),
                unit="per_visit",
                duration_minutes=60,
                checklist=["Arrive on time", "Leave the place tidy"],
                required_certificate_type_id=required,
            ),
            by=None,
        ).id
