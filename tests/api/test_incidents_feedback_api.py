"""The incidents and feedback lists over the API: paged by cursor, filtered,
304 on an ETag still current, bad filters named in a problem document, and
the token's scopes and the member's role checked. The phone apps' reports and
opinions are sent as they always were."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from saas import db
from saas.models import Membership, Role
from tests.feedback.test_feedback import completed_world


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def membership_of(world, user) -> Membership:
    with db.tenant_scope(world.agency.id):
        return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


def walk(client, url: str, token: str, **query) -> list[dict]:
    """Every page of a list, one item a page: the items in order."""
    seen, cursor = [], None
    while True:
        params = {**query, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, query_string=params, headers=bearer(token))
        assert page.status_code == 200, page.json
        assert len(page.json["items"]) <= 1
        seen += page.json["items"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            return seen


def report(client, token: str, world, **fields) -> dict:
    """A report as the phone app sends it (the agency's wall clock, no offset)."""
    body = {
        "type": "fall",
        "severity": "moderate",
        "occurred_at": (datetime.now(world.agency.zone) - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
        "place": "Bathroom",
        "description": "Slipped getting out of the bath",
        **fields,
    }
    made = client.post("/api/v1/incidents", json=body, headers=bearer(token))
    assert made.status_code == 200, made.json
    return made.json


def test_incidents_are_paged_newest_first_and_filtered(client, factory, dbconn):
    world = completed_world(factory)
    coordinator = factory.api_token(membership_of(world, world.coordinator))
    about_client = report(client, coordinator, world, visit_id=str(world.visit.id))
    serious = report(client, coordinator, world, severity="serious", type="medication_error")
    plain = report(client, coordinator, world)

    everything = walk(client, "/api/v1/incidents", coordinator)
    assert [i["id"] for i in everything] == [plain["id"], serious["id"], about_client["id"]]
    first = client.get("/api/v1/incidents", headers=bearer(coordinator))
    # the apps that read the list before it was paged find it where it was
    assert first.json["incidents"] == first.json["items"]

    def ids(**query) -> set[str]:
        return {i["id"] for i in walk(client, "/api/v1/incidents", coordinator, **query)}

    assert ids(client_id=str(world.client.id)) == {about_client["id"]}
    assert ids(severity="serious") == {serious["id"]}
    assert ids(type="medication_error") == {serious["id"]}
    assert ids(status="reported") == {about_client["id"], serious["id"], plain["id"]}
    assert ids(status="closed") == set()
    assert ids(open="true") == {about_client["id"], serious["id"], plain["id"]}
    today = datetime.now(world.agency.zone).date()
    assert len(ids(**{"from": (today - timedelta(days=1)).isoformat()})) == 3
    assert ids(to=(today - timedelta(days=1)).isoformat()) == set()


def test_the_incidents_list_answers_304_while_nothing_changed(client, factory, dbconn):
    world = completed_world(factory)
    carer = factory.api_token(membership_of(world, world.carer_user))
    report(client, carer, world, visit_id=str(world.visit.id))
    read = client.get("/api/v1/incidents", headers=bearer(carer))
    etag = read.headers["ETag"]
    again = client.get("/api/v1/incidents", headers=bearer(carer, **{"If-None-Match": etag}))
    assert again.status_code == 304 and not again.data
    report(client, carer, world)
    changed = client.get("/api/v1/incidents", headers=bearer(carer, **{"If-None-Match": etag}))
    assert changed.status_code == 200 and len(changed.json["items"]) == 2


def test_a_carer_lists_only_the_incidents_they_see(client, factory, dbconn):
    world = completed_world(factory)
    coordinator = factory.api_token(membership_of(world, world.coordinator))
    carer = factory.api_token(membership_of(world, world.carer_user))
    theirs = report(client, carer, world, visit_id=str(world.visit.id))
    report(client, coordinator, world, place="Office car park")
    assert [i["id"] for i in walk(client, "/api/v1/incidents", carer)] == [theirs["id"]]
    assert len(walk(client, "/api/v1/incidents", coordinator)) == 2


def test_bad_incident_filters_are_problems_naming_the_field(client, factory, dbconn):
    world = completed_world(factory)
    token = factory.api_token(membership_of(world, world.coordinator))
    cases = [
        ({"status": "lost"}, 422, "status"),
        ({"type": "meteor"}, 422, "type"),
        ({"severity": "mild-ish"}, 422, "severity"),
        ({"open": "maybe"}, 422, "open"),
        ({"client_id": "edith"}, 400, "client_id"),
        ({"from": "yesterday"}, 400, "from"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, 422, "to"),
        ({"cursor": "not-ours"}, 400, "cursor"),
        ({"limit": "1000"}, 422, "limit"),
    ]
    for query, status, field in cases:
        answer = client.get("/api/v1/incidents", query_string=query, headers=bearer(token))
        assert answer.status_code == status, (query, answer.json)
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json["field"] == field and answer.json["detail"], answer.json


def test_incident_scopes_are_read_and_write_per_area(client, factory, dbconn):
    world = completed_world(factory)
    membership = membership_of(world, world.carer_user)
    reads = factory.api_token(membership, ["read", "incidents"])
    elsewhere = factory.api_token(membership, ["read", "write", "scheduling"])
    assert client.get("/api/v1/incidents", headers=bearer(reads)).status_code == 200
    refused = client.post(
        "/api/v1/incidents", json={"type": "fall", "severity": "minor"}, headers=bearer(reads)
    )
    assert refused.status_code == 403 and refused.json["field"] == "scope"
    other_area = client.get("/api/v1/incidents", headers=bearer(elsewhere))
    assert other_area.status_code == 403 and other_area.json["field"] == "scope"


def test_a_client_role_may_not_list_incidents(client, factory, dbconn):
    world = completed_world(factory)
    _user, membership = factory.member(world.agency, Role.CLIENT)
    answer = client.get("/api/v1/incidents", headers=bearer(factory.api_token(membership)))
    assert answer.status_code == 403


# -- opinions and complaints ----------------------------------------------------------------------


def submit(client, token: str, **fields) -> dict:
    made = client.post(
        "/api/v1/feedback", json={"description": "Said so by phone", **fields}, headers=bearer(token)
    )
    assert made.status_code == 200, made.json
    return made.json


def test_feedback_is_paged_by_deadline_and_filtered(client, factory, dbconn):
    world = completed_world(factory)
    token = factory.api_token(membership_of(world, world.coordinator))
    opinion = submit(client, token, kind="opinion")
    complaint = submit(client, token, kind="complaint")
    praise = submit(client, token, kind="praise")
    closing = f"/api/v1/feedback/{praise['id']}/transition"
    answered = client.post(
        closing, json={"to_status": "responded", "response": "Thank you"}, headers=bearer(token)
    )
    assert answered.status_code == 200, answered.json
    closed = client.post(closing, json={"to_status": "closed"}, headers=bearer(token))
    assert closed.status_code == 200, closed.json

    def ids(**query) -> list[str]:
        return [i["id"] for i in walk(client, "/api/v1/feedback", token, **query)]

    # not yet closed, by deadline (a complaint's may come first): as the inbox
    assert sorted(ids()) == sorted([opinion["id"], complaint["id"]])
    assert sorted(ids(closed="true")) == sorted([opinion["id"], complaint["id"], praise["id"]])
    assert ids(kind="complaint") == [complaint["id"]]
    assert ids(status="closed") == [praise["id"]]
    assert ids(kind="praise") == []
    today = datetime.now(world.agency.zone).date()
    assert len(ids(**{"from": today.isoformat(), "closed": "true"})) == 3
    assert ids(to=(today - timedelta(days=1)).isoformat()) == []

    read = client.get("/api/v1/feedback", headers=bearer(token))
    again = client.get("/api/v1/feedback", headers=bearer(token, **{"If-None-Match": read.headers["ETag"]}))
    assert again.status_code == 304


def test_bad_feedback_filters_are_problems_naming_the_field(client, factory, dbconn):
    world = completed_world(factory)
    token = factory.api_token(membership_of(world, world.coordinator))
    for query, status, field in [
        ({"kind": "rant"}, 422, "kind"),
        ({"status": "forgotten"}, 422, "status"),
        ({"closed": "1"}, 422, "closed"),
        ({"to": "31/12/2026"}, 400, "to"),
    ]:
        answer = client.get("/api/v1/feedback", query_string=query, headers=bearer(token))
        assert answer.status_code == status and answer.json["field"] == field, (query, answer.json)


def test_feedback_list_needs_its_role_and_scope(client, factory, dbconn):
    world = completed_world(factory)
    carer = factory.api_token(membership_of(world, world.carer_user))
    assert client.get("/api/v1/feedback", headers=bearer(carer)).status_code == 403
    # a carer still passes on what a client told them, as the app always did
    assert submit(client, carer, kind="opinion", client_id=str(world.client.id))["status"] == "received"
    coordinator = membership_of(world, world.coordinator)
    no_area = factory.api_token(coordinator, ["read", "incidents"])
    refused = client.get("/api/v1/feedback", headers=bearer(no_area))
    assert refused.status_code == 403 and refused.json["field"] == "scope"
