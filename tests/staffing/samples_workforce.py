"""Sample rows of the workforce areas (tenants/staffing, tenants/training,
tenants/catalogue) for the schema test and the isolation walk."""

from __future__ import annotations

import uuid

from saas import db
from saas.models import Role
from tests.samples import AgencyWorld, sample

# -- workforce (tenants/staffing, tenants/training, tenants/catalogue) ----------------


def _in_agency(factory, world: AgencyWorld):
    """A request context (services build URLs) with the agency in scope."""
    from contextlib import ExitStack

    stack = ExitStack()
    stack.enter_context(factory.app.test_request_context())
    stack.enter_context(db.tenant_scope(world.agency.id))
    return stack


@sample("certificate_types")
def _certificate_type(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.staffing import services

    with _in_agency(factory, world):
        kind = services.create_certificate_type("First aid")
        db.session.commit()
        return kind.id


@sample("staff_files")
def _staff_file(factory, world: AgencyWorld) -> uuid.UUID:
    from datetime import date

    from tenants.staffing import services

    user, _membership = factory.member(world.agency, Role.CARER, name="Sam Sample")
    world.people["carer"] = user
    with _in_agency(factory, world):
        staff = services.add_staff(
            user.email,
            "",
            services.StaffInput(staff_role="carer", employment_start=date(2020, 1, 1)),
            by=None,
        )
        db.session.commit()
        return staff.id


@sample("teams")
def _team(factory, world: AgencyWorld) -> uuid.UUID:
    return factory.team(world.agency, "North team", staff_ids=(world.ids["staff_files"],)).id


def _staff(world: AgencyWorld):
    from sqlalchemy import select

    from tenants.staffing.models import StaffFile

    return db.session.scalar(select(StaffFile).where(StaffFile.id == world.ids["staff_files"]))


@sample("staff_documents")
def _staff_document(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.staffing import services

    with _in_agency(factory, world):
        document = services.store_document(_staff(world), "scan.pdf", b"%PDF-1.4 sample", by=None)
        db.session.commit()
        return document.id


@sample("staff_certificates")
def _staff_certificate(factory, world: AgencyWorld) -> uuid.UUID:
    from datetime import date

    from tenants.staffing.models import Certificate

    with _in_agency(factory, world):
        cert = Certificate(
            staff_file_id=world.ids["staff_files"],
            certificate_type_id=world.ids["certificate_types"],
            number="FA-0001",
            issued_on=date(2020, 1, 1),
            document_id=world.ids["staff_documents"],
        )
        db.session.add(cert)
        db.session.commit()
        return cert.id


@sample("staff_time_off")
def _staff_time_off(factory, world: AgencyWorld) -> uuid.UUID:
    from datetime import date

    from tenants.staffing import services

    with _in_agency(factory, world):
        entry = services.add_time_off(_staff(world), date(2030, 1, 1), date(2030, 1, 5), "Holiday")
        db.session.commit()
        return entry.id


@sample("recruitment_records")
def _recruitment(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.staffing import services

    with _in_agency(factory, world):
        record = services.recruitment_of(_staff(world))
        db.session.commit()
        return record.id


@sample("caseload_assignments")
def _caseload(factory, world: AgencyWorld) -> uuid.UUID:
    from datetime import date

    from tenants.staffing import services

    with _in_agency(factory, world):
        assignment = services.assign_caseload(
            _staff(world),
            services.CaseloadInput(kind="individual", label="Mrs Sample", starts_on=date(2020, 1, 1)),
            by=None,
        )
        db.session.commit()
        return assignment.id


@sample("performance_reviews")
def _review(factory, world: AgencyWorld) -> uuid.UUID:
    from datetime import date

    from tenants.staffing import services

    with _in_agency(factory, world):
        review = services.create_review(
            _staff(world), "yearly", date(2025, 1, 1), date(2025, 12, 31), "", by=None
        )
        db.session.commit()
        return review.id


@sample("performance_review_ratings")
def _rating(factory, world: AgencyWorld) -> uuid.UUID:
    from sqlalchemy import select

    from tenants.staffing import services
    from tenants.staffing.models import REVIEW_DIMENSIONS, PerformanceReview

    with _in_agency(factory, world):
        review = db.session.scalar(
            select(PerformanceReview).where(PerformanceReview.id == world.ids["performance_reviews"])
        )
        rating = services.add_rating(review, "self", dict.fromkeys(REVIEW_DIMENSIONS, 4), "", by=None)
        db.session.commit()
        return rating.id


@sample("staff_rewards_penalties")
def _reward(factory, world: AgencyWorld) -> uuid.UUID:
    from datetime import date

    from tenants.staffing import services

    with _in_agency(factory, world):
        entry = services.add_reward_penalty(
            _staff(world), "reward", date(2025, 6, 1), "Kind to everyone", by=None
        )
        db.session.commit()
        return entry.id


@sample("assignability_overrides")
def _override(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.staffing import services

    with _in_agency(factory, world):
        row = services.grant_override(_staff(world), "Sample override", None, by=None)
        db.session.commit()
        return row.id


@sample("import_batches")
def _import_batch(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.staffing import imports

    with _in_agency(factory, world):
        batch = imports.start_import(
            "certificates",
            "certs.csv",
            b"email,certificate_type,number,issued_on\nx@example.net,First aid,1,2020-01-01\n",
            by=None,
        )
        db.session.commit()
        return batch.id


@sample("training_courses")
def _course(factory, world: AgencyWorld) -> uuid.UUID:
    from decimal import Decimal

    from tenants.training import services

    with _in_agency(factory, world):
        course = services.create_course(
            services.CourseInput(
                title="Induction", category="ethics", form="classroom", hours=Decimal(8),
                counts_as="pre_service", grants_certificate_type_id=world.ids["certificate_types"],
                certificate_validity_months=24,
            )
        )  # fmt: skip
        db.session.commit()
        return course.id


@sample("training_sessions")
def _session(factory, world: AgencyWorld) -> uuid.UUID:
    from datetime import date

    from sqlalchemy import select

    from tenants.training import services
    from tenants.training.models import Course

    with _in_agency(factory, world):
        course = db.session.scalar(select(Course).where(Course.id == world.ids["training_courses"]))
        session = services.create_session(
            course, services.SessionInput(held_on=date(2025, 3, 1), trainer="T. Trainer")
        )
        db.session.commit()
        return session.id


@sample("training_enrolments")
def _enrolment(factory, world: AgencyWorld) -> uuid.UUID:
    from sqlalchemy import select

    from tenants.training import services
    from tenants.training.models import TrainingSession

    with _in_agency(factory, world):
        session = db.session.scalar(
            select(TrainingSession).where(TrainingSession.id == world.ids["training_sessions"])
        )
        enrolment = services.enrol(session, _staff(world))
        db.session.commit()
        return enrolment.id


@sample("service_categories")
def _category(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.catalogue import services

    with _in_agency(factory, world):
        category = services.create_category("Daily living")
        db.session.commit()
        return category.id


@sample("service_items")
def _item(factory, world: AgencyWorld) -> uuid.UUID:
    from decimal import Decimal

    from tenants.catalogue import services

    with _in_agency(factory, world):
        item = services.create_item(
            services.ItemInput(category_id=world.ids["service_categories"], name="Housekeeping"),
            services.TermsInput(
                price=Decimal("20.00"), unit="per_hour", duration_minutes=60, checklist=["Tidy"]
            ),
            by=None,
        )
        db.session.commit()
        return item.id


@sample("service_item_terms")
def _terms(factory, world: AgencyWorld) -> uuid.UUID:
    from sqlalchemy import select

    from tenants.catalogue.models import ItemTerms

    with _in_agency(factory, world):
        return db.session.scalar(select(ItemTerms.id).where(ItemTerms.item_id == world.ids["service_items"]))
