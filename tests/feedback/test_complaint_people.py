"""Opinions and complaints tied to their people: the portal names the client,
a recent visit and its carer, and shows the member what they said with the
answers; the answer is mailed to the complainant once; a carer logs what a
client told them on site; a complaint against a worker is in their 360-degree
review, and every item in the client's file; opinion-box slips are entered
against their day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from saas import db
from saas.models import MailMessage, Role
from tenants.feedback import services
from tenants.feedback.models import FeedbackItem
from tenants.feedback.services import FeedbackData, FeedbackError
from tenants.outreach.models import BoxLog
from tenants.staffing import services as staffing
from tests.factories import login
from tests.feedback.test_feedback import completed_world, portal_member
from tests.sqlcount import count_statements
from tests.staffing import workforce_helpers as wf

pytestmark = pytest.mark.dates  # the visits are of the last days


def _items(agency_id):
    with db.tenant_scope(agency_id):
        return list(db.session.scalars(select(FeedbackItem).order_by(FeedbackItem.received_at)))


def _responses(agency_id):
    return list(
        db.session.scalars(
            select(MailMessage.to_address).where(
                MailMessage.agency_id == agency_id, MailMessage.kind == "feedback.response"
            )
        )
    )


# -- the portal --------------------------------------------------------------------------------


def test_the_portal_offers_the_clients_recent_visits_and_carers(client, factory, dbconn):
    world = completed_world(factory, carer_name="Joan Smith")
    user, membership = portal_member(factory, world)
    login(client, user)
    page = client.get(f"/a/{world.agency.slug}/portal/feedback")
    assert page.status_code == 200
    assert f'<option value="{world.visit.id}">' in page.text, "the completed visit is offered"
    assert f'<option value="{world.staff.id}">Joan</option>' in page.text, "its carer, by first name"
    assert "Smith" not in page.text
    # from the portal's past visits, the form opens on that visit
    portal = client.get(f"/a/{world.agency.slug}/portal").text
    assert f"/portal/feedback?visit={world.visit.id}" in portal
    chosen = client.get(f"/a/{world.agency.slug}/portal/feedback?visit={world.visit.id}").text
    assert f'<option selected value="{world.visit.id}">' in chosen
    response = client.post(
        f"/a/{world.agency.slug}/portal/feedback",
        data={
            "kind": "complaint",
            "about": "carer",
            "visit_id": str(world.visit.id),
            "staff_file_id": str(world.staff.id),
            "description": "She shouted at my mother",
        },
    )
    assert response.status_code == 302
    (item,) = _items(world.agency.id)
    assert (item.client_id, item.visit_id, item.staff_file_id) == (
        world.client.id,
        world.visit.id,
        world.staff.id,
    )
    assert item.membership_id == membership.id and item.channel == "portal"

    office = factory.app.test_client()
    login(office, world.coordinator)
    inbox = office.get(f"/a/{world.agency.slug}/feedback/inbox").text
    assert "Mary Daughter" in inbox, "the From says who sent it"
    shown = office.get(f"/a/{world.agency.slug}/feedback/items/{item.id}").text
    assert 'data-testid="feedback-carer">Joan Smith<' in shown and world.client.full_name in shown


def test_the_portal_refuses_a_visit_or_carer_not_its_own_next_to_the_field(client, factory, dbconn):
    world = completed_world(factory)
    other = completed_world(factory, carer_name="Olga Other")
    user, _membership = portal_member(factory, world)
    login(client, user)
    url = f"/a/{world.agency.slug}/portal/feedback"
    cases = (
        ({"about": "visit", "visit_id": ""}, "visit_id-error", "Say which visit it is about."),
        ({"about": "carer", "staff_file_id": ""}, "staff_file_id-error", "Say which carer it is about."),
        ({"about": "visit", "visit_id": str(other.visit.id)}, "visit_id-error", "Choose one of the visits"),
        (
            {"about": "carer", "staff_file_id": str(other.staff.id)},
            "staff_file_id-error",
            "Choose one of the carers",
        ),
    )
    for data, error_id, message in cases:
        refused = client.post(url, data={"kind": "complaint", "description": "Bad", **data})
        assert refused.status_code == 422, data
        assert f'id="{error_id}"' in refused.text and message in refused.text, data
    assert _items(world.agency.id) == [], "nothing half-saved"


def test_the_portal_lists_the_members_own_items_with_status_and_answer(client, factory, dbconn):
    world = completed_world(factory)
    user, membership = portal_member(factory, world)
    _other_user, other_membership = portal_member(factory, world, name="Otto Son")
    mine = factory.portal_feedback(world.agency, membership, description="Lunch was cold")
    factory.portal_feedback(world.agency, other_membership, description="Someone else's words")
    factory.respond(world.agency, mine.id, "We spoke to the kitchen.", by=world.coordinator)
    login(client, user)
    page = client.get(f"/a/{world.agency.slug}/portal/feedback").text
    assert "Lunch was cold" in page and "We spoke to the kitchen." in page
    assert 'data-testid="my-feedback-status"' in page and "Responded" in page
    assert "Someone else&#39;s words" not in page and "Someone else's words" not in page


def test_the_portal_page_costs_the_same_with_more_items_and_answers(client, factory, dbconn):
    world = completed_world(factory)
    user, membership = portal_member(factory, world)
    login(client, user)
    url = f"/a/{world.agency.slug}/portal/feedback"

    def statements() -> int:
        client.get(url)  # warm: the session, the settings
        with count_statements() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    first = factory.portal_feedback(world.agency, membership, description="One")
    factory.respond(world.agency, first.id, "Answer one")
    few = statements()
    for n in range(4):
        item = factory.portal_feedback(world.agency, membership, description=f"More {n}")
        factory.respond(world.agency, item.id, f"Answer {n}")
    assert statements() == few


# -- the answer by mail ----------------------------------------------------------------------


def test_the_answer_is_mailed_to_the_portal_member_once(factory, dbconn):
    world = completed_world(factory)
    user, membership = portal_member(factory, world)
    item = factory.portal_feedback(world.agency, membership)
    factory.respond(world.agency, item.id, "We are sorry; another carer will come.", by=world.coordinator)
    assert _responses(world.agency.id) == [user.email]
    with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
        row = db.session.scalar(select(FeedbackItem).where(FeedbackItem.id == item.id))
        services.transition(row, "closed", by=world.coordinator, agency=world.agency)
        assert services.send_response(world.agency, row) is False, "never twice"
        db.session.commit()
    assert _responses(world.agency.id) == [user.email], "closing it sends nothing more"
    body = db.session.scalar(
        select(MailMessage.body).where(
            MailMessage.agency_id == world.agency.id, MailMessage.kind == "feedback.response"
        )
    )
    assert "another carer will come" in body and "portal" in body


def test_the_answer_goes_to_an_email_left_and_not_to_a_phone_number(factory, dbconn):
    world = completed_world(factory)
    by_mail = factory.feedback_item(world.agency, contact="ming@example.org")
    by_phone = factory.feedback_item(world.agency, contact="07700 900111")
    factory.respond(world.agency, by_mail.id, "Answered.")
    factory.respond(world.agency, by_phone.id, "Called back.")
    assert _responses(world.agency.id) == ["ming@example.org"]


# -- on site ------------------------------------------------------------------------------------


def test_the_carer_logs_what_the_client_said_on_their_visit(client, factory, dbconn):
    world = completed_world(factory)
    login(client, world.carer_user)
    sheet = client.get(f"/a/{world.agency.slug}/visits/{world.visit.id}").text
    assert f"/visits/{world.visit.id}/client-feedback" in sheet
    url = f"/a/{world.agency.slug}/visits/{world.visit.id}/client-feedback"
    page = client.get(url)
    assert page.status_code == 200 and world.client.full_name in page.text
    refused = client.post(url, data={"kind": "complaint", "about": "agency", "description": ""})
    assert refused.status_code == 422 and 'id="description-error"' in refused.text
    done = client.post(
        url, data={"kind": "complaint", "about": "agency", "description": "Bills are confusing"}
    )
    assert done.status_code == 302
    about_visit = {"kind": "complaint", "about": "visit", "description": "The bath was cold"}
    assert client.post(url, data=about_visit).status_code == 302
    agency_item, visit_item = _items(world.agency.id)
    assert agency_item.channel == "on_site" and agency_item.entered_by_user_id == world.carer_user.id
    assert (agency_item.client_id, agency_item.visit_id) == (world.client.id, world.visit.id)
    assert agency_item.staff_file_id is None, "about the agency, it is against nobody"
    assert visit_item.staff_file_id == world.staff.id, "about the visit, it names its carer"
    item = visit_item
    # the carer sees none of the agency's feedback
    assert client.get(f"/a/{world.agency.slug}/feedback/inbox").status_code == 403
    assert client.get(f"/a/{world.agency.slug}/feedback/items/{item.id}").status_code in (403, 404)


def test_a_carer_cannot_log_on_another_carers_visit(client, factory, dbconn):
    world = completed_world(factory)
    other_user, _m, _staff_id = wf.staff(factory, world.agency, name="Other Carer")
    login(client, other_user)
    url = f"/a/{world.agency.slug}/visits/{world.visit.id}/client-feedback"
    assert client.get(url).status_code == 404
    assert (
        client.post(url, data={"kind": "praise", "about": "visit", "description": "Nice"}).status_code == 404
    )
    assert _items(world.agency.id) == []


# -- the worker's review and the client's file --------------------------------------------------


def test_complaints_against_a_worker_are_in_their_review(client, factory, dbconn):
    world = completed_world(factory, carer_name="Joan Smith")
    _user, membership = portal_member(factory, world)
    factory.portal_feedback(
        world.agency,
        membership,
        about="carer",
        staff_file_id=world.staff.id,
        description="Joan was late again",
    )
    factory.portal_feedback(world.agency, membership, kind="praise", description="Praise is not a complaint")
    factory.feedback_item(world.agency, description="About nobody in particular")
    today = world.agency.today()
    with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
        review = staffing.create_review(
            world.staff, "quarterly", today - timedelta(days=30), today, "", by=world.admin
        )
        db.session.commit()
    login(client, world.admin)
    page = client.get(f"/a/{world.agency.slug}/reviews/{review.id}").text
    assert "Joan was late again" in page and "Complaints against them in the period (1)" in page
    assert "Praise is not a complaint" not in page and "About nobody" not in page
    assert "Mary Daughter" not in page, "never who complained"


def test_feedback_is_in_the_clients_file(client, factory, dbconn):
    world = completed_world(factory)
    _user, membership = portal_member(factory, world)
    factory.portal_feedback(world.agency, membership, description="Please come earlier", kind="suggestion")
    factory.portal_feedback(world.agency, membership, description="Secret words", confidential=True)
    login(client, world.coordinator)
    page = client.get(f"/a/{world.agency.slug}/clients/{world.client.id}").text
    assert "Suggestion (Received)" in page and "Please come earlier" in page
    assert "Complaint (Received)" in page and "Secret words" not in page, (
        "a confidential one says only what it is"
    )


# -- the opinion box ----------------------------------------------------------------------------


def test_each_slip_of_a_box_day_becomes_one_item(client, factory, dbconn):
    world = completed_world(factory)
    coordinator_membership = factory.member(world.agency, Role.COORDINATOR)[1]
    location = factory.box_location(world.agency)
    log = factory.box_log(world.agency, location.id, world.agency.today(), by=coordinator_membership, slips=2)
    login(client, world.coordinator)
    page = client.get(f"/a/{world.agency.slug}/outreach/opinion-box/logs/{log.id}").text
    assert "0 of 2 slips entered as feedback." in page
    form = client.get(f"/a/{world.agency.slug}/feedback/new?channel=opinion_box&box_log={log.id}").text
    assert f'value="{log.id}"' in form
    url = f"/a/{world.agency.slug}/feedback/new"
    for n in (1, 2):
        data = {"channel": "opinion_box", "kind": "opinion", "about": "agency", "box_log_id": str(log.id)}
        assert client.post(url, data={**data, "description": f"Slip {n}"}).status_code == 302
    refused = client.post(url, data={**data, "description": "Slip 3"})
    assert (
        refused.status_code == 422
        and "Every slip of this opinion box day has been entered already." in refused.text
    )
    items = _items(world.agency.id)
    assert [i.description for i in items] == ["Slip 1", "Slip 2"] and {i.box_log_id for i in items} == {
        log.id
    }
    assert (
        "2 of 2 slips entered as feedback."
        in client.get(f"/a/{world.agency.slug}/outreach/opinion-box/logs/{log.id}").text
    )
    # a slip is only ever the box's
    with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
        with pytest.raises(FeedbackError) as err:
            services.submit_feedback(
                world.agency,
                FeedbackData(kind="opinion", description="x", box_log_id=log.id),
                channel="phone",
            )
        assert err.value.code == "box_log_unknown"
        assert db.session.scalar(select(func.count()).select_from(BoxLog)) == 1
    # the day's count cannot drop below the slips already entered
    edit = {
        "opened": "yes",
        "slips": "1",
        "opened_by": str(coordinator_membership.id),
        "notes": "",
        "not_opened_reason": "",
    }
    refused = client.post(f"/a/{world.agency.slug}/outreach/opinion-box/logs/{log.id}", data=edit)
    assert refused.status_code == 422 and 'id="slips-error"' in refused.text
    assert "More slips of this day have been entered as feedback than that." in refused.text
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(BoxLog.slips).where(BoxLog.id == log.id)) == 2, "nothing saved"
    edit["slips"] = "3"
    assert (
        client.post(f"/a/{world.agency.slug}/outreach/opinion-box/logs/{log.id}", data=edit).status_code
        == 302
    )
