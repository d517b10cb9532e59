"""The carer's phone and the client's portal over the API with bearer
tokens (made on the agency's tokens page): the office books a visit and
assigns it to a carer through the pages; the carer sees it in their schedule,
checks in and out with the service record; the client rates it; feedback is
sent and moved on. Then every operation of the OpenAPI document is called
with a token of each role: the roles that may use it get its documented
answer, the others the documented 403 or 404."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.journeys.browser import by_testid
from tests.journeys.conftest import DEMO_TOTP, Stack

pytestmark = [pytest.mark.journey, pytest.mark.slow, pytest.mark.xdist_group("journeys")]

SLUG = "sunrise"
LONDON = ZoneInfo("Europe/London")
ROLES = {
    "admin": "admin@sunrise.example",
    "coordinator": "coordinator@sunrise.example",
    "carer": "carer1@sunrise.example",
    "client": "client1@sunrise.example",
}


def token(stack: Stack, role: str) -> str:
    return stack.token(ROLES[role], SLUG, totp=DEMO_TOTP)


def book_and_assign(stack: Stack, client_visit_id: str) -> str:
    """The coordinator books a one-off visit starting soon for the client
    whose visit this is, and assigns Carer 1 (if the checks refuse, an admin
    assigns with a recorded reason, as the page allows them)."""
    office = stack.signed_in(ROLES["coordinator"], totp=DEMO_TOTP)
    office.get(f"/a/{SLUG}/visits/{client_visit_id}")
    client_name = re.search(r"<h1>(.*?) · ", office.page.text).group(1)
    office.get(f"/a/{SLUG}/clients")
    client_path = re.search(
        rf'href="(/a/{SLUG}/clients/[0-9a-f-]{{36}})">{re.escape(client_name)}<', office.page.text
    )
    assert client_path, f"{client_name} on the clients page"
    office.get(client_path.group(1) + "/visits/new")
    starts = datetime.now(LONDON).replace(second=0, microsecond=0) + timedelta(minutes=20)
    office.submit(
        None,
        {"day": starts.date().isoformat(), "start_time": starts.strftime("%H:%M"), "duration_minutes": 30},
        has="start_time",
    )
    assert "Visit booked." in office.flashes()
    visit_id = office.page.url.rsplit("/", 1)[1]
    assert by_testid(office.page.text, "visit-carer") == "Not assigned"

    answer = office.submit("/assign", {"staff_id": "Carer 1"}, expect=None)
    if answer.status_code == 422:  # refused: the reasons are named; only an admin may override them
        assert by_testid(answer.text, "refusals")
        office = stack.signed_in(ROLES["admin"], totp=DEMO_TOTP)
        office.get(f"/a/{SLUG}/visits/{visit_id}")
        office.submit("/assign", {"staff_id": "Carer 1", "override_reason": "Covering at short notice"})
    assert "Visit assigned." in office.flashes()
    assert by_testid(office.page.text, "visit-carer") == "Carer 1"
    return visit_id


def test_a_carer_checks_in_and_out_by_phone_and_the_client_rates_the_visit(stack: Stack, api):
    carer, client, coordinator = token(stack, "carer"), token(stack, "client"), token(stack, "coordinator")

    upcoming = api("GET", "/my/visits", client)
    assert upcoming.status_code == 200, upcoming.text
    assert upcoming.json()["visits"], "the demo client has visits coming"
    visit_id = book_and_assign(stack, upcoming.json()["visits"][0]["id"])

    schedule = api("GET", "/my/schedule", carer)
    assert schedule.status_code == 200, schedule.text
    mine = {v["id"]: v for v in schedule.json()["visits"]}
    assert visit_id in mine, "the assigned visit is on the carer's phone"
    assert mine[visit_id]["status"] == "scheduled" and mine[visit_id]["checked_in_at"] is None
    checklist = mine[visit_id]["checklist"]

    checked_in = api("POST", f"/visits/{visit_id}/check-in", carer, json={})
    assert checked_in.status_code == 200, checked_in.text
    assert checked_in.json()["status"] == "in_progress" and checked_in.json()["checked_in_at"]
    again = api("POST", f"/visits/{visit_id}/check-in", carer, json={})
    assert again.status_code == 409 and again.json()["error"]["status"] == 409

    record = {
        "checklist": [True] * len(checklist),
        "what_was_done": "Washed, dressed, breakfast made",
        "outcome": "Comfortable and in good spirits",
        "needs_attention": False,
    }
    # checked out straight after check-in: the problem names the field to fill
    short = api("POST", f"/visits/{visit_id}/check-out", carer, json=record)
    assert short.status_code == 400 and short.json()["error"]["field"] == "reason", short.text
    checked_out = api(
        "POST",
        f"/visits/{visit_id}/check-out",
        carer,
        json={**record, "reason": "She had a GP appointment and left early."},
    )
    assert checked_out.status_code == 200, checked_out.text
    done = checked_out.json()
    assert done["status"] == "completed" and done["checked_out_at"] >= done["checked_in_at"]
    assert api("GET", f"/visits/{visit_id}", carer).json()["status"] == "completed"

    scores = {"attitude": 5, "process": 4, "effect": 5, "environment": 4, "timeliness": 5}
    rated = api("POST", f"/visits/{visit_id}/rating", client, json={**scores, "comment": "Kind and on time"})
    assert rated.status_code == 200, rated.text
    assert rated.json()["visit_id"] == visit_id and rated.json()["can_amend"] is True
    ratings = api("GET", "/my/ratings", client).json()["ratings"]
    assert any(r["visit_id"] == visit_id and r["attitude"] == 5 for r in ratings)

    sent = api(
        "POST",
        "/feedback",
        carer,
        json={"kind": "suggestion", "description": "A second hoist in the van would help."},
    )
    assert sent.status_code == 200, sent.text
    item = sent.json()
    assert item["kind"] == "suggestion" and item["status"] == "received"
    listed = api("GET", "/feedback", coordinator).json()["items"]
    assert item["id"] in {i["id"] for i in listed}
    moved = api("POST", f"/feedback/{item['id']}/transition", coordinator, json={"to_status": "acknowledged"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "acknowledged"

    # something happened at the visit: the carer reports it from the phone, the head is told
    reported = api(
        "POST",
        "/incidents",
        carer,
        json={
            "type": "medication_error",
            "severity": "moderate",
            "occurred_at": datetime.now(LONDON).strftime("%Y-%m-%dT%H:%M"),
            "place": "Kitchen",
            "description": "The evening tablets were given at noon too",
            "immediate_response": "Called the GP's out-of-hours line; she is fine",
            "visit_id": visit_id,
        },
    )
    assert reported.status_code == 200, reported.text
    incident = reported.json()
    assert incident["status"] == "responded" and incident["client_id"]
    assert incident["id"] in {i["id"] for i in api("GET", "/incidents", coordinator).json()["incidents"]}
    # (the demo's own incidents are a fall and an outage)
    assert stack.mailbox.wait_for(ROLES["admin"], has="Incident reported: Medication error")

    stack.world.update(
        visit_id=visit_id,
        feedback_id=item["id"],
        incident_id=incident["id"],
        client_visit_id=upcoming.json()["visits"][0]["id"],
    )


# -- every operation, every role ------------------------------------------------------------------

# operation -> {role: status}; the roles not named may not use it and get the status under "other"
STAFF_FILE = {"carer": 200, "coordinator": 200, "other": 404}  # coordinators have staff files, admins not
OFFICE = {"admin": 200, "coordinator": 200, "other": 404}
OFFICE_LIST = {"admin": 200, "coordinator": 200, "other": 403}
NOT_NOW = {"admin": 422, "coordinator": 422, "other": 404}
CHECKED_OUT = {"admin": 409, "coordinator": 409, "other": 404}
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/me"): {"admin": 200, "coordinator": 200, "carer": 200, "client": 200},
    ("GET", "/members/{member_id}"): {"admin": 200, "coordinator": 200, "other": 403},
    ("GET", "/my/staff-file"): STAFF_FILE,
    ("GET", "/my/certificates"): STAFF_FILE,
    ("GET", "/my/training"): STAFF_FILE,
    ("GET", "/my/schedule"): STAFF_FILE,
    ("POST", "/my/calendar"): STAFF_FILE,
    ("GET", "/visits/{visit_id}"): {"carer": 200, "other": 404},
    ("POST", "/visits/{visit_id}/check-in"): {"carer": 409, "other": 404},  # done in the journey
    ("POST", "/visits/{visit_id}/check-out"): {"carer": 409, "other": 404},  # done in the journey
    ("GET", "/my/visits"): {"client": 200, "other": 403},
    ("POST", "/visits/{visit_id}/rating"): {"client": 200, "other": 404},  # amended within 7 days
    ("GET", "/my/ratings"): {"client": 200, "other": 404},
    ("GET", "/feedback"): {"admin": 200, "coordinator": 200, "other": 403},
    ("POST", "/feedback"): {"admin": 200, "coordinator": 200, "carer": 200, "client": 200},
    ("POST", "/feedback/{feedback_id}/transition"): {"admin": 200, "coordinator": 200, "other": 404},
    ("GET", "/incidents"): {"admin": 200, "coordinator": 200, "carer": 200, "other": 403},
    ("POST", "/incidents"): {"admin": 200, "coordinator": 200, "carer": 200, "other": 403},
    # reported by the carer in the journey
    ("GET", "/incidents/{incident_id}"): {"admin": 200, "coordinator": 200, "carer": 200, "other": 404},
    # the office's records: clients' files for those who manage cases
    ("GET", "/clients"): OFFICE_LIST,
    ("POST", "/clients"): {"admin": 201, "coordinator": 201, "other": 403},
    ("GET", "/clients/{client_id}"): OFFICE,
    ("PATCH", "/clients/{client_id}"): OFFICE,
    ("POST", "/clients/{client_id}/cases"): {"admin": 422, "coordinator": 422, "other": 404},  # one is open
    ("GET", "/cases"): OFFICE_LIST,
    ("GET", "/cases/{case_id}"): OFFICE,
    ("GET", "/cases/{case_id}/assessments"): OFFICE,
    ("POST", "/cases/{case_id}/assessments"): {"admin": 201, "coordinator": 201, "other": 404},
    # the admin starts the next version; the coordinator is told a draft exists
    ("POST", "/cases/{case_id}/plans"): {"admin": 201, "coordinator": 422, "other": 404},
    ("GET", "/plans"): OFFICE_LIST,
    ("GET", "/plans/{plan_id}"): OFFICE,
    # the active plan: no longer a draft
    ("PATCH", "/plans/{plan_id}"): NOT_NOW,
    ("POST", "/plans/{plan_id}/items"): NOT_NOW,
    ("DELETE", "/plans/{plan_id}/items/{plan_item_id}"): NOT_NOW,
    ("POST", "/plans/{plan_id}/submit"): NOT_NOW,
    ("POST", "/plans/{plan_id}/approve"): NOT_NOW,
    ("POST", "/plans/{plan_id}/activate"): NOT_NOW,
    ("POST", "/plans/{plan_id}/return"): NOT_NOW,
    # the case's other steps, on the case of the active plan: its stage and
    # programme as they are, a risk assessment added, closing refused (a date to come)
    ("POST", "/cases/{case_id}/stage"): OFFICE,
    ("POST", "/cases/{case_id}/special-programme"): OFFICE,
    ("GET", "/cases/{case_id}/risks"): OFFICE,
    ("POST", "/cases/{case_id}/risks"): {"admin": 201, "coordinator": 201, "other": 404},
    ("POST", "/cases/{case_id}/close"): NOT_NOW,
    ("GET", "/cases/{case_id}/follow-ups"): OFFICE,
    # the demo's cases are open: no follow-up of theirs to record
    ("POST", "/follow-ups/{follow_up_id}"): {"other": 404},
    ("GET", "/ratings"): OFFICE_LIST,
    ("GET", "/visits"): OFFICE_LIST,
    ("POST", "/visits"): {"admin": 201, "coordinator": 201, "other": 403},
    ("GET", "/visits/{visit_id}/booking"): OFFICE,
    # the journey's visit is checked out: nothing more to change
    ("POST", "/visits/{visit_id}/assign"): CHECKED_OUT,
    ("POST", "/visits/{visit_id}/reschedule"): CHECKED_OUT,
    ("POST", "/visits/{visit_id}/cancel"): CHECKED_OUT,
    ("GET", "/staff"): OFFICE_LIST,
    # opening and changing staff files, certificates and the catalogue: admins only
    ("POST", "/staff"): {"admin": 201, "other": 403},
    ("GET", "/staff/{staff_id}"): OFFICE,
    ("PATCH", "/staff/{staff_id}"): {"admin": 200, "other": 404},
    ("GET", "/staff/{staff_id}/certificates"): OFFICE,
    ("POST", "/staff/{staff_id}/certificates"): {"admin": 201, "other": 404},
    ("GET", "/certificate-types"): {"admin": 200, "other": 403},
    ("GET", "/catalogue/items"): OFFICE_LIST,
    ("POST", "/catalogue/items"): {"admin": 201, "other": 403},
    ("GET", "/catalogue/items/{item_id}"): OFFICE,
    ("PATCH", "/catalogue/items/{item_id}"): {"admin": 200, "other": 404},
    ("GET", "/training/sessions"): OFFICE_LIST,
    # course managers plan sessions; those who run training record attendance
    ("POST", "/training/sessions"): {"admin": 201, "other": 403},
    ("GET", "/training/sessions/{session_id}"): OFFICE,
    ("POST", "/training/sessions/{session_id}/attendance"): OFFICE,
    ("GET", "/quality/summaries"): OFFICE_LIST,
    ("GET", "/invoices"): {"admin": 200, "other": 403},
    ("GET", "/invoices/{care_invoice_id}"): {"admin": 200, "other": 404},
    # the demo's first invoice is issued; a line that is not its own: refused, nothing credited
    ("POST", "/invoices/{care_invoice_id}/credit-notes"): {"admin": 400, "other": 404},
    ("GET", "/timesheets"): OFFICE_LIST,
    ("GET", "/timesheets/{timesheet_id}"): OFFICE,
    ("GET", "/webhooks"): {"admin": 200, "other": 403},
    ("POST", "/webhooks"): {"admin": 422, "other": 403},  # a loopback address: refused
    ("GET", "/webhooks/{endpoint_id}/deliveries"): {"admin": 200, "other": 404},
}


NO_SUCH_FOLLOW_UP = "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b"
OFFICE_IDS = (
    "client_id",
    "case_id",
    "plan_id",
    "plan_item_id",
    "staff_id",
    "endpoint_id",
    "care_invoice_id",
    "timesheet_id",
    "item_id",
    "session_id",
)
# ids the bodies use, never in a path
BODY_IDS = ("service_item_id", "category_id", "certificate_type_id", "course_id", "attendance")


def office_ids(api, admin_token: str) -> dict[str, Any]:
    """Real ids of the office's records: an active plan with its case, client
    and first service, a carer's staff file, the demo's webhook, invoice and timesheet."""
    plan = api("GET", "/plans", admin_token, params={"status": "active", "limit": 1}).json()["items"][0]
    case = api("GET", f"/cases/{plan['case_id']}", admin_token).json()
    staff = api("GET", "/staff", admin_token, params={"staff_role": "carer", "limit": 1}).json()["items"][0]
    endpoint = api("GET", "/webhooks", admin_token).json()["items"][0]
    invoice = api("GET", "/invoices", admin_token).json()["items"][0]
    timesheet = api("GET", "/timesheets", admin_token).json()["items"][0]
    item = api("GET", "/catalogue/items", admin_token, params={"limit": 1}).json()["items"][0]
    kind = api("GET", "/certificate-types", admin_token).json()["certificate_types"][0]
    # a session already held, with trainees if one has: its attendance is recorded again as it is
    today = datetime.now(LONDON).date().isoformat()
    held = api("GET", "/training/sessions", admin_token, params={"to": today, "limit": 200}).json()["items"]
    session = next((s for s in held if s["enrolments"]), held[-1])
    return {
        "care_invoice_id": invoice["id"],
        "timesheet_id": timesheet["id"],
        "client_id": case["client_id"],
        "case_id": case["id"],
        "plan_id": plan["id"],
        "plan_item_id": plan["items"][0]["id"],
        "service_item_id": plan["items"][0]["service_item_id"],
        "staff_id": staff["id"],
        "endpoint_id": endpoint["id"],
        "item_id": item["id"],
        "category_id": item["category_id"],
        "certificate_type_id": kind["id"],
        "session_id": session["id"],
        "course_id": session["course_id"],
        "attendance": [
            {"enrolment_id": e["id"], "status": e["status"], "hours": e["attended_hours"]}
            for e in session["enrolments"]
        ],
    }


def _request(method: str, path: str, world: dict[str, Any], role: str) -> dict[str, Any]:
    """A valid call of this operation: real ids from the journey and a body
    the operation documents."""
    params = {
        "visit_id": world["visit_id"],
        "feedback_id": world["feedback_id"],
        "member_id": world["member_id"],
        "incident_id": world["incident_id"],
        "follow_up_id": NO_SUCH_FOLLOW_UP,
        **{k: world[k] for k in OFFICE_IDS},
    }
    today = datetime.now(LONDON).date()
    bodies = {
        "/visits/{visit_id}/check-in": {},
        "/visits/{visit_id}/check-out": {"checklist": [], "what_was_done": "Again"},
        "/visits/{visit_id}/rating": {
            "attitude": 4,
            "process": 4,
            "effect": 5,
            "environment": 5,
            "timeliness": 4,
        },
        "/feedback": {"kind": "praise", "description": f"Thank you, from the {role}."},
        "/incidents": {
            "type": "outage",
            "severity": "minor",
            "occurred_at": (datetime.now(LONDON) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "place": "Office",
            "description": f"The lights went out, told by the {role}.",
        },
        "/clients": {"full_name": f"Added by the {role}", "consent_services": True},
        "/clients/{client_id}": {"phone": "020 7946 0123"},
        "/clients/{client_id}/cases": {"intake_channel": "phone"},
        "/cases/{case_id}/assessments": {
            "method": "interview",
            "assessed_on": today.isoformat(),
            **{
                f"{d}_level": 2
                for d in ("physical", "psychological", "social", "family_network", "quality_of_life")
            },
        },
        "/plans/{plan_id}": {"goals": "Stay at home safely"},
        "/plans/{plan_id}/items": {
            "service_item_id": world["service_item_id"],
            "weekdays": [2],
            "start_time": "10:00",
            "duration_minutes": 30,
        },
        "/visits": {
            "client_id": world["client_id"],
            "service_item_id": world["service_item_id"],
            "day": (today + timedelta(days=3)).isoformat(),
            "start_time": "15:00",
            "duration_minutes": 30,
        },
        "/visits/{visit_id}/assign": {"staff_id": world["staff_id"]},
        "/visits/{visit_id}/reschedule": {
            "day": (today + timedelta(days=4)).isoformat(),
            "start_time": "11:00",
            "reason": "Moved",
        },
        "/visits/{visit_id}/cancel": {"reason": "Not needed"},
        "/webhooks": {"url": "http://127.0.0.1:9/hook", "events": ["visit.missed"]},
        "/invoices/{care_invoice_id}/credit-notes": {
            "reason": "Checked by the journey",
            "lines": [{"line_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b", "amount": "1.00"}],
        },
        "/plans/{plan_id}/return": {"note": "Not yet"},
        "/cases/{case_id}/stage": {
            "to": world.get("case_status", "active"),
            "note": f"As it is, by the {role}",
        },
        "/cases/{case_id}/special-programme": {"special": False},
        "/cases/{case_id}/risks": {
            "assessed_on": today.isoformat(),
            "hazards": [{"hazard": f"Loose rug, seen by the {role}", "likelihood": 3, "impact": 2}],
        },
        "/cases/{case_id}/close": {"closed_on": (today + timedelta(days=2)).isoformat(), "reason": "Moving"},
        "/follow-ups/{follow_up_id}": {"done_on": today.isoformat(), "method": "phone", "outcome": "Well"},
        "/staff": {
            "email": f"staff-{uuid.uuid4().hex[:8]}@sunrise.example",
            "name": f"Added by the {role}",
            "staff_role": "carer",
            "employment_start": today.isoformat(),
        },
        "/staff/{staff_id}": {"home_area": "North"},
        "/staff/{staff_id}/certificates": {
            "certificate_type_id": world["certificate_type_id"],
            "number": f"J-{uuid.uuid4().hex[:8]}",
            "issued_on": (today - timedelta(days=30)).isoformat(),
        },
        "/catalogue/items": {
            "category_id": world["category_id"],
            "name": f"Added by the {role} {uuid.uuid4().hex[:6]}",
            "price": 12.5,
            "unit": "per_visit",
            "duration_minutes": 30,
        },
        "/catalogue/items/{item_id}": {"description": "Checked by the journey."},
        "/training/sessions": {
            "course_id": world["course_id"],
            "held_on": (today + timedelta(days=20)).isoformat(),
            "trainer": "Tess Trainer",
            "capacity": 10,
        },
        "/training/sessions/{session_id}/attendance": {"attendance": world["attendance"]},
        "/feedback/{feedback_id}/transition": {
            "to_status": "investigating" if role == "admin" else "responded",
            "response": "Looked into it with the team.",
        },
    }
    return {
        "path_parameters": {k: v for k, v in params.items() if "{" + k + "}" in path},
        "body": bodies.get(path) if method in ("POST", "PATCH") else None,
    }


def test_every_operation_answers_each_role_as_documented(stack: Stack, api):
    if "incident_id" not in stack.world:
        # its visit and feedback come from the phone journey: when this test runs
        # without it (on its own, or the journey ran against an earlier stack), make them
        test_a_carer_checks_in_and_out_by_phone_and_the_client_rates_the_visit(stack, api)
    assert "visit_id" in stack.world and "feedback_id" in stack.world and "incident_id" in stack.world
    tokens = {role: token(stack, role) for role in ROLES}
    stack.world.update(office_ids(api, tokens["admin"]))
    # the stage step moves the case to where it is: no change to the demo's case
    stack.world["case_status"] = api("GET", f"/cases/{stack.world['case_id']}", tokens["admin"]).json()[
        "status"
    ]
    me = api("GET", "/me", tokens["carer"]).json()
    stack.world["member_id"] = next(
        m["membership_id"] for m in me["memberships"] if m["agency"]["slug"] == SLUG
    )

    # imported here: schemathesis (and hypothesis) take a second to import,
    # and every pytest process collects this module
    import schemathesis
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    schema = schemathesis.openapi.from_url(f"{stack.base_url}/api/v1/openapi.json")
    operations = {
        (op.method.upper(), op.path.removeprefix("/api/v1")): op
        for op in (result.ok() for result in schema.get_all_operations())
    }
    assert set(operations) == set(EXPECTED), "each documented operation has its expectations here"

    def call(key: tuple[str, str], role: str, headers: dict[str, str]) -> Any:
        request = _request(*key, stack.world, role)
        extra: dict[str, Any] = {}
        if request["body"] is not None:
            extra.update(body=request["body"], media_type="application/json")
        case = operations[key].Case(path_parameters=request["path_parameters"], headers=headers, **extra)
        response = case.call(base_url=stack.base_url)
        # the documented status and shape (the Error body for every refusal)
        case.validate_response(response, checks=[status_code_conformance, response_schema_conformance])
        return response

    for key in EXPECTED:
        # the transition goes forward only: the admin first, then the coordinator
        for role in sorted(ROLES, key=lambda r: (r != "admin", r)):
            expected = EXPECTED[key].get(role, EXPECTED[key].get("other"))
            response = call(key, role, {"Authorization": f"Bearer {tokens[role]}"})
            assert response.status_code == expected, (key, role, response.status_code, response.text[:500])
            if expected >= 400:
                assert response.json()["error"]["status"] == expected

        # nobody without a token, nor with a made-up one
        for headers in ({}, {"Authorization": "Bearer " + tokens["carer"][:-4] + "AAAA"}):
            response = call(key, "none", headers)
            assert response.status_code == 401, (key, response.status_code)
            assert response.headers["www-authenticate"][0].startswith("Bearer"), key


def test_a_body_too_large_is_the_documented_413(stack: Stack):
    body = b'{"kind": "opinion", "description": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    too_large = requests.post(
        f"{stack.base_url}/api/v1/feedback",
        data=body,
        headers={"Authorization": f"Bearer {token(stack, 'carer')}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert too_large.status_code == 413, too_large.text[:300]
    assert too_large.json()["error"]["status"] == 413
    spec = requests.get(f"{stack.base_url}/api/v1/openapi.json", timeout=30).json()
    assert "413" in spec["paths"]["/api/v1/feedback"]["post"]["responses"]


def test_a_token_never_signs_in_to_the_pages(stack: Stack):
    """A bearer token is for the API only: the pages ask to sign in."""
    page = requests.get(
        f"{stack.base_url}/a/{SLUG}/my/schedule",
        headers={"Authorization": f"Bearer {token(stack, 'carer')}"},
        allow_redirects=False,
        timeout=30,
    )
    assert page.status_code == 302 and "/login" in page.headers["Location"]
