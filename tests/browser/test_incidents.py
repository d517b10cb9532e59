"""An incident in a real browser: a carer reports it from the visit page on
their phone, a coordinator investigates, the head acknowledges and closes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from saas import db
from saas.models import MailMessage, Role
from tenants.incidents.models import Incident
from tests.browser.conftest import PHONE
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET
from tests.scheduling.test_scheduling import World

pytestmark = pytest.mark.browser


def test_a_carer_reports_a_coordinator_investigates_and_the_head_closes(new_context, make, live_server):
    world = World(make)
    world.activate()
    carer_user, carer = world.carer(name="Pat Carer")
    coordinator, _ = make.member(world.agency, Role.COORDINATOR, name="Cora Coordinator")
    head, _ = make.member(world.agency, Role.ADMIN, name="Hana Head")
    visit = world.visits()[0]
    with db.tenant_scope(world.agency.id):
        from tenants.scheduling import services

        row = db.session.scalar(select(type(visit)).where(type(visit).id == visit.id))
        services.assign(world.agency, row, carer.id, by=None, role="coordinator")
        db.session.commit()
    slug = world.agency.slug

    phone: Page = new_context(**PHONE).new_page()
    sign_in(phone, carer_user.email)
    phone.goto(f"/a/{slug}/visits/{visit.id}")
    phone.get_by_test_id("report-incident").click()
    expect(phone.get_by_test_id("incident-visit")).to_contain_text("Edith Carver")
    phone.get_by_role("button", name="Send the report").click()
    expect(phone.get_by_text("Choose what kind of incident it was.")).to_be_visible()
    phone.get_by_label("What happened", exact=True).select_option(label="Fall")
    phone.get_by_label("How serious").select_option(label="Serious")
    phone.get_by_label("Where it happened").fill("Bathroom")
    phone.get_by_label("Describe what happened").fill("Slipped getting out of the bath")
    phone.get_by_label("What was done at once (optional)").fill("Helped her up, called her daughter")
    phone.get_by_role("button", name="Send the report").click()
    expect(phone.get_by_text("Incident reported. The agency head has been told.")).to_be_visible()
    expect(phone.get_by_test_id("incident-status")).to_have_text("Immediate response recorded")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    with db.tenant_scope(world.agency.id):
        incident = db.session.scalar(select(Incident).where(Incident.visit_id == visit.id))
    told = db.session.scalars(
        select(MailMessage.to_address).where(
            MailMessage.agency_id == world.agency.id, MailMessage.subject.startswith("Incident reported")
        )
    ).all()
    assert head.email in told and coordinator.email not in told, "the agency head, at once"

    desk: BrowserContext = new_context()
    office = desk.new_page()
    sign_in(office, coordinator.email, totp_secret=TOTP_SECRET)
    office.goto(f"/a/{slug}/incidents/")
    office.get_by_test_id("incident-row").filter(has_text="Edith Carver").get_by_role("link").click()
    expect(office.get_by_test_id("incident-description")).to_have_text("Slipped getting out of the bath")
    office.get_by_label("Investigator").select_option(label="Cora Coordinator")
    office.get_by_role("button", name="Assign the investigation").click()
    expect(office.get_by_test_id("incident-status")).to_have_text("Under investigation")
    office.get_by_label("Findings", exact=True).fill("Wet floor and no bath mat")
    office.get_by_label("Root cause").fill("The home's risk assessment missed the bathroom")
    office.get_by_role("button", name="Record the findings").click()
    expect(office.get_by_test_id("findings")).to_have_text("Wet floor and no bath mat")
    office.get_by_label("What will be done").fill("Fit a non-slip mat and a grab rail")
    office.get_by_label("Owner").select_option(label="Cora Coordinator")
    office.get_by_label("Due by").fill((world.agency.today() + timedelta(days=3)).isoformat())
    office.get_by_role("button", name="Add the action").click()
    expect(office.get_by_test_id("incident-action")).to_contain_text("Fit a non-slip mat")
    office.get_by_role("button", name="Mark done").click()
    office.get_by_role("button", name="Close the incident").click()
    expect(
        office.get_by_text("The investigator cannot close the incident: someone else must.")
    ).to_be_visible()

    chief = new_context().new_page()
    sign_in(chief, head.email, totp_secret=TOTP_SECRET)
    chief.goto(f"/a/{slug}/incidents/{incident.id}")
    chief.get_by_role("button", name="Acknowledge").click()
    expect(chief.get_by_test_id("acknowledgement")).to_contain_text("Acknowledged by Hana Head")
    chief.get_by_label("Closing note").fill("Mat and rail fitted; family told")
    chief.get_by_role("button", name="Close the incident").click()
    expect(chief.get_by_test_id("incident-status")).to_have_text("Closed")
    expect(chief.get_by_test_id("closure")).to_contain_text("Hana Head")
    expect(chief).to_have_url(re.compile(rf"/incidents/{incident.id}$"))
