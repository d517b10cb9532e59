"""Emergency contacts: a plan is submitted only for a client who has one (an
agency setting, on by default); the carer sees them on the visit sheet and
the phone as links that call, and every such read is logged in the client's
file."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from saas import db
from saas.models import Membership, User
from saas.settings import update_settings
from tenants.clients import services
from tenants.clients.models import ClientFileAccess, PlanStatus, ServicePlan
from tenants.clients.services import ClientError
from tenants.staffing.models import StaffFile
from tests.factories import login
from tests.scheduling.test_scheduling import World, assign, first_visit

pytestmark = pytest.mark.dates  # the World's visits are booked from today


def _draft(factory, *, contacts):
    world = World(factory)
    client = factory.client(world.agency, "Nora Nocontact", contacts=contacts)
    case = factory.case(world.agency, client, by=world.admin)
    with db.tenant_scope(world.agency.id):
        plan = services.new_plan(case, by=world.coordinator)
        today = services.agency_today(world.agency)
        services.update_plan(plan, services.PlanFields("Stay at home", None, "", None, today, None))
        services.add_plan_item(plan, services.PlanItemData(world.item.id, [1], "09:00", 60))
        db.session.commit()
    return world, client, case, plan


def _reads(agency_id, client_id, section):
    with db.tenant_scope(agency_id):
        return db.session.scalar(
            select(func.count())
            .select_from(ClientFileAccess)
            .where(ClientFileAccess.client_id == client_id, ClientFileAccess.section == section)
        )


def test_a_plan_is_not_submitted_without_an_emergency_contact(factory, dbconn):
    world, client, case, plan = _draft(factory, contacts=())
    with db.tenant_scope(world.agency.id):
        with pytest.raises(ClientError) as err:
            services.submit_plan(plan, case, by=world.coordinator, agency=world.agency)
        assert (err.value.code, err.value.field) == ("emergency_contact_needed", "contacts")
        # the agency may turn the rule off
        update_settings(world.agency, {"plan_needs_emergency_contact": False})
        services.submit_plan(plan, case, by=world.coordinator, agency=world.agency)
        assert plan.status == PlanStatus.SUBMITTED


def test_the_plan_page_says_why_and_keeps_the_draft(client, factory, dbconn):
    world, person, _case, plan = _draft(factory, contacts=())
    login(client, world.coordinator)
    page = client.get(f"/a/{world.agency.slug}/plans/{plan.id}")
    assert 'data-testid="needs-contact"' in page.text, "said beside the submit button"
    refused = client.post(f"/a/{world.agency.slug}/plans/{plan.id}/submit", follow_redirects=True)
    assert "Add at least one emergency contact to the client&#39;s file" in refused.text
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(ServicePlan.status).where(ServicePlan.id == plan.id)) == "draft"
    # in Chinese too, for a coordinator who reads Chinese
    db.session.execute(update(User).where(User.id == world.coordinator.id).values(locale="zh_CN"))
    db.session.commit()
    zh = client.post(f"/a/{world.agency.slug}/plans/{plan.id}/submit", follow_redirects=True)
    assert "紧急联系人" in zh.text


def test_the_plan_goes_through_once_a_contact_is_added(client, factory, dbconn):
    world, _person, _case, plan = _draft(factory, contacts=(("Kit Carver", "son", "07700 900123"),))
    login(client, world.coordinator)
    page = client.get(f"/a/{world.agency.slug}/plans/{plan.id}")
    assert 'data-testid="needs-contact"' not in page.text
    assert client.post(f"/a/{world.agency.slug}/plans/{plan.id}/submit").status_code == 302
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(ServicePlan.status).where(ServicePlan.id == plan.id)) == "submitted"


def test_the_carer_calls_the_contacts_from_the_visit_sheet_and_the_read_is_logged(client, factory, dbconn):
    world = World(factory)
    world.activate()
    carer_user, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    login(client, carer_user)
    sheet = client.get(f"/a/{world.agency.slug}/visits/{visit.id}")
    assert sheet.status_code == 200
    assert 'href="tel:07700900123"' in sheet.text and "Kit Carver (daughter)" in sheet.text
    assert _reads(world.agency.id, world.client.id, "visit") == 1, "the sheet's read of the file is logged"


def test_the_phone_gets_the_contacts_with_the_visit_and_the_read_is_logged(client, factory, dbconn):
    world = World(factory)
    world.activate()
    _carer_user, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    with db.tenant_scope(world.agency.id):
        membership = db.session.scalar(
            select(Membership).where(
                Membership.id
                == select(StaffFile.membership_id).where(StaffFile.id == carer.id).scalar_subquery()
            )
        )
    headers = {"Authorization": f"Bearer {factory.api_token(membership)}"}
    found = client.get(f"/api/v1/visits/{visit.id}", headers=headers)
    assert found.status_code == 200
    assert found.json["emergency_contacts"] == [
        {"name": "Kit Carver", "relationship": "daughter", "phone": "07700 900123", "tel": "tel:07700900123"}
    ]
    assert _reads(world.agency.id, world.client.id, "api") == 1, "the phone's read of the file is logged"
    spec = client.get("/api/v1/openapi.json").json
    detail = spec["paths"]["/api/v1/visits/{visit_id}"]["get"]["responses"]["200"]
    assert "emergency_contacts" in str(detail)


def test_tel_links_keep_only_what_dials():
    row = services.EmergencyContactRow("A", "", "+44 (0)7700-900 123")
    assert row.tel == "tel:+4407700900123"
    assert services.EmergencyContactRow("B", "", "010 + 5555").tel == "tel:0105555"
