"""Samples for the care loop's tables (clients, cases, plans, visits)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select

from saas import db
from saas.models import Role
from tests.samples import AgencyWorld, sample


def _scoped(world: AgencyWorld):
    return db.tenant_scope(world.agency.id)


def _service_item(world: AgencyWorld) -> uuid.UUID:
    return world.ids["service_items"]


def _staff_file(factory, world: AgencyWorld) -> uuid.UUID:
    return world.ids["staff_files"]


@sample("clients")
def _client(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import Client

    with _scoped(world):
        client = Client(full_name="Sample Client", consent_services=True)
        db.session.add(client)
        db.session.commit()
        return client.id


@sample("client_emergency_contacts")
def _contact(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import EmergencyContact

    with _scoped(world):
        row = EmergencyContact(client_id=world.ids["clients"], name="Kin", phone="1")
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("client_portal_links")
def _portal(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import PortalLink

    user, membership = factory.member(world.agency, Role.CLIENT)
    world.people["client"] = user
    with _scoped(world):
        row = PortalLink(client_id=world.ids["clients"], membership_id=membership.id)
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("cases")
def _case(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import Case

    with _scoped(world):
        row = Case(
            client_id=world.ids["clients"],
            number=f"S-{uuid.uuid4().hex[:6]}",
            status="active",
            intake_channel="phone",
            opened_on=date(2026, 1, 1),
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("case_transitions")
def _transition(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import CaseTransition

    with _scoped(world):
        row = CaseTransition(case_id=world.ids["cases"], to_status="intake")
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("needs_assessments")
def _assessment(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import NeedsAssessment

    with _scoped(world):
        row = NeedsAssessment(case_id=world.ids["cases"], method="interview", assessed_on=date(2026, 1, 2))
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("risk_assessments")
def _risk(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import RiskAssessment

    with _scoped(world):
        row = RiskAssessment(
            case_id=world.ids["cases"],
            assessed_on=date(2026, 1, 2),
            hazards=[{"hazard": "stairs", "likelihood": 2, "impact": 3, "mitigation": ""}],
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("service_plans")
def _plan(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import ServicePlan

    with _scoped(world):
        row = ServicePlan(
            case_id=world.ids["cases"], version=1, status="draft", goals="g", starts_on=date(2026, 1, 5)
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("service_plan_items")
def _plan_item(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import ServicePlanItem

    with _scoped(world):
        row = ServicePlanItem(
            plan_id=world.ids["service_plans"],
            service_item_id=_service_item(world),
            weekdays=[1],
            start_time="09:00",
            duration_minutes=30,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("case_follow_ups")
def _follow_up(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import FollowUp

    with _scoped(world):
        row = FollowUp(case_id=world.ids["cases"], label="1w", due_on=date(2026, 2, 1))
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("client_file_access")
def _access(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import ClientFileAccess

    with _scoped(world):
        row = ClientFileAccess(client_id=world.ids["clients"], section="file")
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("visits")
def _visit(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.scheduling.models import Visit

    staff_id = _staff_file(factory, world)
    with _scoped(world):
        start = db.utcnow() + timedelta(days=1)
        row = Visit(
            client_id=world.ids["clients"],
            service_item_id=_service_item(world),
            local_day=start.date(),
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            staff_file_id=staff_id,
            checklist=["Tidy"],
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("assignment_overrides")
def _assignment_override(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.scheduling.models import AssignmentOverride

    visit_id = world.ids["visits"]
    with _scoped(world):
        row = AssignmentOverride(
            visit_id=visit_id,
            staff_file_id=_staff_file(factory, world),
            refusals=["time_off"],
            reason="Cover",
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("service_records")
def _record(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.scheduling.models import ServiceRecord

    with _scoped(world):
        row = ServiceRecord(visit_id=world.ids["visits"], what_was_done="x")
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("return_visits")
def _return_visit(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.scheduling.models import ReturnVisit

    with _scoped(world):
        row = ReturnVisit(
            staff_file_id=_staff_file(factory, world),
            client_id=world.ids["clients"],
            month=date(2026, 1, 1),
            visited_on=date(2026, 1, 3),
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("calendar_feeds")
def _feed(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.scheduling.models import CalendarFeed

    with _scoped(world):
        row = CalendarFeed(staff_file_id=_staff_file(factory, world), token_hash=uuid.uuid4().hex)
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("visit_cancellation_requests")
def _cancel_request(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.clients.models import PortalLink
    from tenants.scheduling.models import CancellationRequest

    with _scoped(world):
        membership_id = db.session.scalar(
            select(PortalLink.membership_id).where(PortalLink.id == world.ids["client_portal_links"])
        )
        row = CancellationRequest(visit_id=world.ids["visits"], membership_id=membership_id, reason="ill")
        db.session.add(row)
        db.session.commit()
        return row.id
