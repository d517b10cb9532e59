"""The case loop's steps over the API, as the case pages offer them: move a
case's stage, mark a special programme, record risks, close it, record its
follow-ups, return a submitted plan. The same services refuse with the same
reasons; each POST is taken once per Idempotency-Key."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from saas import db
from saas.models import Role
from tenants.clients import services as clients
from tenants.clients.models import Case, ClientFileAccess, FollowUp, RiskAssessment


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def office(factory, role: Role = Role.COORDINATOR):
    agency = factory.agency()
    user, membership = factory.member(agency, role)
    return agency, user, factory.api_token(membership)


def test_a_case_moves_through_its_steps_to_closure_and_follow_up(client, factory):
    agency, user, token = office(factory)
    case = factory.case(agency, by=user, assessed=False)
    url = f"/api/v1/cases/{case.id}"

    to_assessment = client.post(
        f"{url}/stage", json={"to": "assessment", "note": "Seen"}, headers=bearer(token)
    )
    assert to_assessment.status_code == 200 and to_assessment.json["status"] == "assessment"
    skipped = client.post(f"{url}/stage", json={"to": "active"}, headers=bearer(token))
    assert skipped.status_code == 422, "assessment cannot jump to active, as on the page"
    assert skipped.json["detail"] == "A case cannot move from this stage to that one."
    closing_by_stage = client.post(f"{url}/stage", json={"to": "closed"}, headers=bearer(token))
    assert closing_by_stage.status_code == 422 and closing_by_stage.json["field"] == "to"

    special = client.post(f"{url}/special-programme", json={"special": True}, headers=bearer(token))
    assert special.status_code == 200 and special.json["special_programme"] is True

    today = clients.agency_today(agency)
    hazards = [
        {"hazard": "Steep stairs", "likelihood": 2, "impact": 5, "mitigation": "Second handrail"},
        {"hazard": "Loose rug", "likelihood": 4, "impact": 4},
        {"hazard": "", "likelihood": None, "impact": None},
    ]
    risk = client.post(
        f"{url}/risks", json={"assessed_on": today.isoformat(), "hazards": hazards}, headers=bearer(token)
    )
    assert risk.status_code == 201, risk.json
    assert [(h["hazard"], h["score"]) for h in risk.json["hazards"]] == [
        ("Loose rug", 16),
        ("Steep stairs", 10),
    ]
    listed = client.get(f"{url}/risks", headers=bearer(token))
    assert [r["id"] for r in listed.json["items"]] == [risk.json["id"]]

    closed = client.post(
        f"{url}/close", json={"closed_on": today.isoformat(), "reason": "Goals met"}, headers=bearer(token)
    )
    assert closed.status_code == 200, closed.json
    assert closed.json["case"]["status"] == "closed" and closed.json["case"]["closed_on"] == today.isoformat()
    follow_ups = closed.json["follow_ups"]
    assert follow_ups and all(f["done_on"] is None for f in follow_ups)
    paged = client.get(f"{url}/follow-ups", query_string={"limit": 1}, headers=bearer(token))
    assert paged.json["items"][0]["id"] == follow_ups[0]["id"] and paged.json["next_cursor"]

    done = client.post(
        f"/api/v1/follow-ups/{follow_ups[0]['id']}",
        json={
            "done_on": today.isoformat(),
            "method": "phone",
            "outcome": "Needs help again",
            "new_intervention": True,
            "reopen": True,
        },
        headers=bearer(token),
    )
    assert done.status_code == 200, done.json
    assert (done.json["done_on"], done.json["method"], done.json["new_intervention_needed"]) == (
        today.isoformat(),
        "phone",
        True,
    )
    with db.tenant_scope(agency.id):
        again = db.session.get(Case, (agency.id, case.id))
        assert again.status == "assessment", "re-opened for assessment after the follow-up"
        logged = db.session.scalar(
            select(func.count()).where(
                ClientFileAccess.client_id == case.client_id, ClientFileAccess.section == "api"
            )
        )
        assert logged >= 7, "each step reads the client's file, and is logged"


def test_refusals_name_their_field_and_keep_nothing(client, factory):
    agency, user, token = office(factory)
    case = factory.case(agency, by=user)
    url = f"/api/v1/cases/{case.id}"
    today = clients.agency_today(agency)
    tomorrow = (today + timedelta(days=1)).isoformat()
    cases = [
        (f"{url}/close", {"closed_on": today.isoformat(), "reason": ""}, 422, "reason"),
        (f"{url}/close", {"closed_on": tomorrow, "reason": "Moved away"}, 422, "closed_on"),
        (f"{url}/close", {"closed_on": "next week", "reason": "Moved away"}, 422, "closed_on"),
        (f"{url}/risks", {"assessed_on": today.isoformat(), "hazards": []}, 422, "hazards-0-hazard"),
        (
            f"{url}/risks",
            {"assessed_on": tomorrow, "hazards": [{"hazard": "Stairs", "likelihood": 2, "impact": 2}]},
            422,
            "assessed_on",
        ),
        (
            f"{url}/risks",
            {
                "assessed_on": today.isoformat(),
                "hazards": [{"hazard": "Stairs", "likelihood": 9, "impact": 2}],
            },
            422,
            "hazards-0-likelihood",
        ),
        (f"{url}/risks", {"assessed_on": today.isoformat(), "hazards": "stairs"}, 422, "hazards"),
        (f"{url}/stage", {"to": "nowhere"}, 422, "to"),
        (f"{url}/stage", {"to": "planning", "note": "x" * 501}, 422, "note"),
        (f"{url}/special-programme", {"special": "yes"}, 422, "special"),
        (f"{url}/special-programme", {}, 422, "special"),
    ]
    for path, body, status, field in cases:
        answer = client.post(path, json=body, headers=bearer(token))
        assert answer.status_code == status, (path, body, answer.json)
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json["field"] == field, (path, body, answer.json)
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(RiskAssessment)) == 0
        assert db.session.get(Case, (agency.id, case.id)).status == "assessment"

    # a follow-up on a date before the closure is refused as on the page
    closed = client.post(
        f"{url}/close", json={"closed_on": today.isoformat(), "reason": "Done"}, headers=bearer(token)
    )
    first = closed.json["follow_ups"][0]["id"]
    before = client.post(
        f"/api/v1/follow-ups/{first}",
        json={"done_on": (today - timedelta(days=1)).isoformat(), "method": "phone", "outcome": "Fine"},
        headers=bearer(token),
    )
    assert before.status_code == 422 and before.json["field"] == "done_on"
    assert before.json["detail"] == "A follow-up cannot be before the case was closed."
    bad_method = client.post(
        f"/api/v1/follow-ups/{first}",
        json={"done_on": today.isoformat(), "method": "pigeon", "outcome": "Fine"},
        headers=bearer(token),
    )
    assert bad_method.status_code == 422 and bad_method.json["field"] == "method"
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(FollowUp.done_on).where(FollowUp.id == first)) is None
    closed_again = client.post(f"{url}/stage", json={"to": "planning"}, headers=bearer(token))
    assert closed_again.status_code == 422


def test_a_submitted_plan_is_returned_to_its_author(client, factory):
    agency, author, _author_token = office(factory)
    reviewer, reviewer_membership = factory.member(agency, Role.ADMIN)
    token = factory.api_token(reviewer_membership)
    case = factory.case(agency, by=author)
    item_id = factory.service_item(agency, "Shopping")
    with db.tenant_scope(agency.id):
        plan = clients.new_plan(case, by=author)
        clients.update_plan(
            plan, clients.PlanFields("Shop weekly", None, "", None, clients.agency_today(agency), None)
        )
        clients.add_plan_item(plan, clients.PlanItemData(item_id, [5], "10:00", 60))
        clients.submit_plan(plan, case, by=author)
        db.session.commit()
        plan_id = plan.id
    returned = client.post(
        f"/api/v1/plans/{plan_id}/return", json={"note": "Add the pharmacy"}, headers=bearer(token)
    )
    assert returned.status_code == 200 and returned.json["status"] == "draft"
    again = client.post(f"/api/v1/plans/{plan_id}/return", headers=bearer(token))
    assert again.status_code == 422
    assert again.json["detail"] == "Only a submitted plan can be approved or returned."
    too_long = client.post(f"/api/v1/plans/{plan_id}/return", json={"note": "x" * 501}, headers=bearer(token))
    assert too_long.status_code == 422 and too_long.json["field"] == "note"


def test_a_step_is_taken_once_per_idempotency_key(client, factory):
    agency, user, token = office(factory)
    case = factory.case(agency, by=user)
    today = clients.agency_today(agency).isoformat()
    body = {"assessed_on": today, "hazards": [{"hazard": "Stairs", "likelihood": 3, "impact": 3}]}
    key = {"Idempotency-Key": "risk-once-1"}
    first = client.post(f"/api/v1/cases/{case.id}/risks", json=body, headers=bearer(token, **key))
    second = client.post(f"/api/v1/cases/{case.id}/risks", json=body, headers=bearer(token, **key))
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true" and second.json == first.json
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(RiskAssessment)) == 1
    other = client.post(
        f"/api/v1/cases/{case.id}/close",
        json={"closed_on": today, "reason": "Done"},
        headers=bearer(token, **key),
    )
    assert other.status_code == 422, "the same key for a different request"


def test_steps_need_their_role_and_the_write_scope(client, factory):
    agency, user, _token = office(factory)
    case = factory.case(agency, by=user)
    _carer, carer_membership = factory.member(agency, Role.CARER)
    carer = factory.api_token(carer_membership)
    _user, membership = factory.member(agency, Role.COORDINATOR)
    read_only = factory.api_token(membership, ["read", "clients"])
    body = {"closed_on": clients.agency_today(agency).isoformat(), "reason": "Done"}
    # a carer is not shown that the case exists
    assert client.post(f"/api/v1/cases/{case.id}/close", json=body, headers=bearer(carer)).status_code == 404
    refused = client.post(f"/api/v1/cases/{case.id}/close", json=body, headers=bearer(read_only))
    assert refused.status_code == 403 and refused.json["field"] == "scope"
    assert client.get(f"/api/v1/cases/{case.id}/risks", headers=bearer(read_only)).status_code == 200
    with db.tenant_scope(agency.id):
        assert db.session.get(Case, (agency.id, case.id)).status != "closed"


def test_another_agencys_case_and_follow_up_are_404(client, factory):
    agency, user, token = office(factory)
    other, other_user, _ = office(factory)
    theirs = factory.case(other, by=other_user)
    factory.close_case(other, theirs, by=other_user)
    with db.tenant_scope(other.id):
        follow_up = db.session.scalar(select(FollowUp.id).where(FollowUp.case_id == theirs.id))
    today = clients.agency_today(agency).isoformat()
    for path, body in [
        (f"/api/v1/cases/{theirs.id}/stage", {"to": "planning"}),
        (f"/api/v1/cases/{theirs.id}/special-programme", {"special": True}),
        (f"/api/v1/cases/{theirs.id}/risks", {"assessed_on": today, "hazards": []}),
        (f"/api/v1/cases/{theirs.id}/close", {"closed_on": today, "reason": "x"}),
        (f"/api/v1/follow-ups/{follow_up}", {"done_on": today, "method": "phone", "outcome": "x"}),
    ]:
        answer = client.post(path, json=body, headers=bearer(token))
        assert answer.status_code == 404, (path, answer.json)
        assert str(theirs.id) not in answer.text
    assert client.get(f"/api/v1/cases/{theirs.id}/follow-ups", headers=bearer(token)).status_code == 404
