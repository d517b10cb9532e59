"""One sample row per tenant-owned table, and which URL parameters name them.

The schema test fails for a tenant table with no sample here, and the
isolation test fails for a URL parameter it cannot fill: every new table and
route has to be registered, so none escapes the cross-tenant checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from saas import audit, db
from saas.models import Agency, Role


@dataclass
class AgencyWorld:
    """Everything one agency owns in the tests: ids by table name."""

    agency: Agency
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    people: dict[str, object] = field(default_factory=dict)
    api_token: str = ""


SAMPLES: dict[str, Callable[[object, AgencyWorld], uuid.UUID]] = {}


def sample(table: str):
    def decorator(fn):
        SAMPLES[table] = fn
        return fn

    return decorator


@sample("memberships")
def _membership(factory, world: AgencyWorld) -> uuid.UUID:
    user, membership = factory.member(world.agency, Role.COORDINATOR)
    world.people["coordinator"] = user
    return membership.id


@sample("invitations")
def _invitation(factory, world: AgencyWorld) -> uuid.UUID:
    invitation, _ = factory.invitation(world.agency, f"invitee-{uuid.uuid4().hex[:6]}@example.net")
    return invitation.id


@sample("api_tokens")
def _api_token(factory, world: AgencyWorld) -> uuid.UUID:
    from sqlalchemy import select

    from saas.models import ApiToken, Membership

    with db.tenant_scope(world.agency.id):
        membership = db.session.scalar(select(Membership).where(Membership.id == world.ids["memberships"]))
        world.api_token = factory.api_token(membership)
        return db.session.scalar(select(ApiToken.id).where(ApiToken.membership_id == membership.id))


@sample("audit_events")
def _audit(factory, world: AgencyWorld) -> uuid.UUID:
    from sqlalchemy import select

    from saas.models import AuditEvent

    with db.tenant_scope(world.agency.id):
        audit.record("test.sample", "sample")
        db.session.commit()
        return db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "test.sample"))


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
    from tenants.staffing import teams

    with _in_agency(factory, world):
        team = teams.create_team(teams.TeamInput(name="North team"))
        teams.place_in_team(_staff(world), team.id)
        db.session.commit()
        return team.id


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


@sample("subscriptions")
def _subscription(factory, world: AgencyWorld) -> uuid.UUID:
    from billing.models import Subscription

    with db.tenant_scope(world.agency.id):
        row = Subscription(provider="manual", status="manual")
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("invoices")
def _invoice(factory, world: AgencyWorld) -> uuid.UUID:
    from decimal import Decimal

    from billing import services

    invoice = services.record_invoice(
        world.agency, amount=Decimal("120.00"), currency="GBP", description="Sample invoice",
        period_start=None, period_end=None, due_at=None, by=None,
    )  # fmt: skip
    db.session.commit()
    return invoice.id


@sample("payments")
def _payment(factory, world: AgencyWorld) -> uuid.UUID:
    from decimal import Decimal

    from sqlalchemy import select

    from billing import services
    from billing.models import Invoice

    with db.tenant_scope(world.agency.id):
        invoice = db.session.scalar(select(Invoice).where(Invoice.id == world.ids["invoices"]))
    payment = services.record_payment(
        world.agency, invoice, amount=Decimal("20.00"), method="bank_transfer", reference="sample",
        paid_at=None, by=None,
    )  # fmt: skip
    db.session.commit()
    return payment.id


@sample("data_exports")
def _data_export(factory, world: AgencyWorld) -> uuid.UUID:
    from billing import exports

    export = exports.request_export(world.agency, by=None, by_operator=False)
    db.session.commit()
    return export.id


@sample("impersonation_sessions")
def _impersonation(factory, world: AgencyWorld) -> uuid.UUID:
    from datetime import timedelta

    from billing.models import ImpersonationSession

    operator = factory.user(operator=True, totp=True)
    with db.tenant_scope(world.agency.id):
        row = ImpersonationSession(
            operator_id=operator.id,
            user_session_id=uuid.uuid4(),
            reason="Sample: helping the agency with its settings",
            expires_at=db.utcnow() + timedelta(minutes=30),
        )
        db.session.add(row)
        db.session.commit()
        return row.id


# URL parameter name -> the table whose id it takes
URL_PARAMS: dict[str, str] = {
    "member_id": "memberships",
    "invitation_id": "invitations",
    "token_id": "api_tokens",
    "staff_id": "staff_files",
    "team_id": "teams",
    "time_off_id": "staff_time_off",
    "certificate_id": "staff_certificates",
    "certificate_type_id": "certificate_types",
    "assignment_id": "caseload_assignments",
    "review_id": "performance_reviews",
    "override_id": "assignability_overrides",
    "import_id": "import_batches",
    "course_id": "training_courses",
    "session_id": "training_sessions",
    "enrolment_id": "training_enrolments",
    "item_id": "service_items",
    "terms_id": "service_item_terms",
    "category_id": "service_categories",
    "invoice_id": "invoices",
    "export_id": "data_exports",
    "summary_id": "quality_summaries",
}
# parameters that name no agency-owned object (platform objects, link secrets)
NON_TENANT_PARAMS = {"slug", "token", "agency_id", "message_id", "filename", "billing_plan_id", "action"}


def url_values(rule, slug: str, ids: dict[str, uuid.UUID]) -> dict[str, object]:
    """Fill a URL rule's parameters: the slug, the sample ids, and for other
    parameters a valid non-tenant value."""
    values: dict[str, object] = {}
    for arg in rule.arguments:
        if arg == "slug":
            values[arg] = slug
        elif arg in URL_PARAMS:
            values[arg] = ids[URL_PARAMS[arg]]
        else:
            assert arg in NON_TENANT_PARAMS, f"{rule.rule}: register <{arg}> in tests/samples.py"
            options = getattr(rule._converters[arg], "items", None)  # an <any(...)> choice
            values[arg] = sorted(options)[0] if options else "00000000000000000000000000000000"
    return values


def build_world(factory, slug: str | None = None) -> AgencyWorld:
    """An agency with one sample row in every tenant table (dict order is
    dependency order)."""
    world = AgencyWorld(agency=factory.agency(slug))
    for table, make in SAMPLES.items():
        world.ids[table] = make(factory, world)
    return world


import tests.samples_care  # noqa: E402, F401 - the care loop registers its samples
import tests.samples_feedback  # noqa: E402, F401 - ratings, complaints, rectifications
import tests.samples_notifications  # noqa: E402, F401 - reminders, notifications, preferences
import tests.samples_outreach  # noqa: E402, F401 - opinion box, stakeholder rounds, funder visits
import tests.samples_quality  # noqa: E402, F401 - monthly quality summaries
import tests.samples_surveys  # noqa: E402, F401 - survey templates, campaigns, links, answers
