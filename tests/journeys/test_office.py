"""The office's journeys through the real pages of what `saas run` serves:
an operator onboards an agency, its admin accepts the mailed invitation and
turns on two-factor, invites a coordinator who writes a care plan that only
someone else may approve; a complaint from the public page is answered and
closed; a forgotten password is reset from the mailed link."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.journeys.browser import Person, by_testid
from tests.journeys.conftest import DEMO_TOTP, Stack

pytestmark = [pytest.mark.journey, pytest.mark.slow, pytest.mark.xdist_group("journeys")]

MIN_FILL_S = 3.2  # the public form refuses what is sent faster than a person types (3 s)


def accept_invitation(stack: Stack, email: str, name: str, password: str) -> Person:
    """Follow the invitation link from the delivered mail and create the account."""
    mail = stack.mailbox.wait_for(email, "/invite/")
    link = next(u for u in mail.links() if "/invite/" in u)
    assert link.startswith(stack.base_url), "links point at BASE_URL"
    person = stack.person(email)
    person.get(link)
    done = person.submit(None, {"name": name, "password": password, "confirm": password}, has="confirm")
    if done.url.endswith("/account/two-factor"):
        person.enrol_two_factor()
    return person


def test_operator_onboards_an_agency_whose_admin_accepts_and_approves_a_plan(stack: Stack):
    operator = stack.signed_in("operator@demo.example", totp=DEMO_TOTP)
    slug = f"harbour-{uuid.uuid4().hex[:6]}"
    name = f"Harbour Care {slug}"
    admin_email = f"ada-{slug}@example.com"

    operator.get("/operator/agencies/new")
    operator.submit(
        None,
        {
            "name": name,
            "slug": slug,
            "timezone": "Asia/Shanghai",
            "locale": "en",
            "plan": "Standard",
            "admin_email": admin_email,
            "catalogue_preset": "home_care",
        },
        has="slug",
    )
    assert re.search(r"/operator/agencies/[0-9a-f-]{36}$", operator.page.url)
    assert f"Agency {name} created." in operator.flashes()

    # the invitation really goes out by SMTP, and its link works
    invitation = stack.mailbox.wait_for(admin_email, "/invite/")
    assert invitation.subject == f"You are invited to join {name}"
    ada = accept_invitation(stack, admin_email, "Ada Admin", "Blue-kettle-harbour-42")
    assert ada.totp_secret, "an admin turns on two-factor before anything else"
    assert ada.page.url == f"{stack.base_url}/a/{slug}/"
    assert "Welcome, Ada Admin" in ada.text()

    # the admin invites a coordinator, who accepts from the mail
    coordinator_email = f"cora-{slug}@example.com"
    ada.get(f"/a/{slug}/members")
    ada.submit("/members/invite", {"email": coordinator_email, "role": "Coordinator"})
    assert f"Invitation sent to {coordinator_email}." in ada.flashes()
    cora = accept_invitation(stack, coordinator_email, "Cora Coordinator", "Green-teapot-meadow-17")
    assert cora.page.url == f"{stack.base_url}/a/{slug}/"

    # intake to a submitted plan
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    cora.get(f"/a/{slug}/clients/new")
    cora.submit(
        None,
        {
            "full_name": "Harold Finch",
            "date_of_birth": "1944-06-01",
            "address": "9 Elm Row",
            "consent_services": True,
            # a plan is submitted only for a client with an emergency contact
            "contacts-0-name": "Grace Finch",
            "contacts-0-relationship": "daughter",
            "contacts-0-phone": "021 5555 0101",
        },
        has="full_name",
    )
    assert "Client added." in cora.flashes()
    cora.submit("/cases", {"intake_channel": "phone"})
    assert by_testid(cora.page.text, "case-status") == "Intake"
    cora.get(cora.page.url + "/assessments/new")
    levels = ("physical", "psychological", "social", "family_network", "quality_of_life")
    cora.submit(None, {f"{d}_level": 3 for d in levels}, has="physical_level")
    assert by_testid(cora.page.text, "case-status") == "Assessment"
    cora.submit("/plans")
    plan_url = cora.page.url
    cora.submit(
        None,
        {
            "plan-goals": "Stay at home safely",
            "plan-starts_on": today.isoformat(),
            "plan-review_on": (today + timedelta(days=90)).isoformat(),
        },
        has="plan-goals",
    )
    cora.submit(
        "/items",
        {
            "item-service_item_id": "Bathing assistance",
            "item-weekdays": [1, 2, 3, 4, 5, 6, 7],
            "item-start_time": "10:30",
            "item-duration_minutes": 45,
        },
    )
    assert "Service added to the plan." in cora.flashes()
    cora.submit("/submit")
    assert by_testid(cora.page.text, "plan-status") == "Submitted"

    # its author is not offered Approve, and is told why; the admin approves and makes it active
    assert "/approve" not in cora.page.text
    assert "someone other than its author" in by_testid(cora.page.text, "approval-refusal")
    assert by_testid(cora.page.text, "plan-status") == "Submitted"
    ada.get(plan_url)
    ada.submit("/approve")
    assert by_testid(ada.page.text, "plan-status") == "Approved"
    ada.submit("/activate")
    assert by_testid(ada.page.text, "plan-status") == "Active"

    # the plan's visits are generated, waiting for a carer
    ada.get(f"/a/{slug}/visits")
    assert ada.text().count("Harold Finch") >= 6, "a week of daily visits"


def test_a_public_complaint_is_answered_and_closed(stack: Stack):
    description = f"The carer did not come on Tuesday and nobody called ({uuid.uuid4().hex[:6]})."
    public = stack.person("a member of the public")
    public.get("/a/sunrise/feedback")
    assert "Tell Sunrise Home Care what you think" in public.text()
    time.sleep(MIN_FILL_S)  # the time a person takes to type it
    thanks = public.submit(
        None,
        {
            "kind": "complaint",
            "description": description,
            "contact_name": "Ming Li",
            "contact": "ming@example.org",
        },
        has="description",
        expect=201,
    )
    assert "Thank you" in thanks.text

    # the agency head is told by mail at once
    stack.mailbox.wait_for("admin@sunrise.example", "complaint")

    coordinator = stack.signed_in("coordinator@sunrise.example", totp=DEMO_TOTP)
    coordinator.get("/a/sunrise/feedback/inbox")
    row = re.search(
        r'<tr[^>]*data-testid="feedback-row"[^>]*>(?:(?!</tr>).)*?' + re.escape(description[:40]),
        coordinator.page.text,
        re.S,
    )
    assert row, coordinator.text()[:3000]
    assert 'data-state="on_time"' in row.group(0)
    item_path = re.search(r'href="(/a/sunrise/feedback/items/[0-9a-f-]{36})"', row.group(0)).group(1)

    coordinator.get(item_path)
    coordinator.submit("/transition", {"to_status": "Acknowledged", "note": "Called Ming back"})
    assert by_testid(coordinator.page.text, "feedback-status") == "Acknowledged"
    refused = coordinator.submit("/transition", {"to_status": "Closed"}, expect=422)
    assert "Record the response given to the person first." in coordinator.text(), refused.url
    coordinator.submit(
        "/transition", {"to_status": "Responded", "response": "We apologised and moved Tuesday visits."}
    )
    assert by_testid(coordinator.page.text, "feedback-status") == "Responded"
    coordinator.submit("/transition", {"to_status": "Closed"})
    assert by_testid(coordinator.page.text, "feedback-status") == "Closed"

    coordinator.get("/a/sunrise/feedback/inbox")
    assert description[:40] not in coordinator.text(), "a closed complaint leaves the open list"


def test_a_forgotten_password_is_reset_from_the_mailed_link(stack: Stack):
    email = "carer3@sunrise.example"
    new_password = "Quiet-lantern-orchard-58"
    person = stack.person(email)
    person.get("/password/forgot")
    person.submit(None, {"email": email}, has="email")
    mail = stack.mailbox.wait_for(email, "/password/reset/")
    link = next(u for u in mail.links() if "/password/reset/" in u)
    person.get(link)
    person.submit(None, {"password": new_password, "confirm": new_password}, has="confirm")
    assert "/login" in person.page.url or person.page.url.endswith("/"), person.page.url

    again = stack.person(email)
    again.sign_in(email, new_password)
    assert "/a/sunrise/" in again.page.url, again.page.url
    # the link was for one use
    assert stack.person().get(link, expect=None).status_code == 404
