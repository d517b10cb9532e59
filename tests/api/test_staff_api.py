"""Staff files and their certificates over the API, for the office."""

from __future__ import annotations

from saas.models import Role
from tests.scheduling.test_scheduling import World


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_office_lists_and_reads_staff_files(client, factory, dbconn):
    world = World(factory)
    _u, first = world.carer(name="Amy Able")
    _u, second = world.carer(name="Ben Brook")
    _user, membership = factory.member(world.agency, Role.COORDINATOR)
    token = factory.api_token(membership)
    page = client.get(
        "/api/v1/staff", query_string={"limit": 1, "staff_role": "carer"}, headers=bearer(token)
    )
    assert page.status_code == 200, page.json
    assert len(page.json["items"]) == 1 and page.json["next_cursor"]
    rest = client.get(
        "/api/v1/staff",
        query_string={"limit": 1, "staff_role": "carer", "cursor": page.json["next_cursor"]},
        headers=bearer(token),
    )
    names = {page.json["items"][0]["name"], rest.json["items"][0]["name"]}
    assert names == {"Amy Able", "Ben Brook"}
    one = client.get(f"/api/v1/staff/{first.id}", headers=bearer(token))
    assert one.status_code == 200 and one.json["name"] == "Amy Able" and "assignable" in one.json
    certificates = client.get(f"/api/v1/staff/{second.id}/certificates", headers=bearer(token))
    assert certificates.status_code == 200 and certificates.json == {"certificates": []}
    bad = client.get("/api/v1/staff", query_string={"staff_role": "boss"}, headers=bearer(token))
    assert bad.status_code == 422 and bad.json["field"] == "staff_role"


def test_carers_read_only_their_own_file(client, factory, dbconn):
    world = World(factory)
    user, staff = world.carer()
    from sqlalchemy import select

    from saas import db
    from saas.models import Membership

    with db.tenant_scope(world.agency.id):
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    token = factory.api_token(membership)
    assert client.get("/api/v1/staff", headers=bearer(token)).status_code == 403
    assert client.get(f"/api/v1/staff/{staff.id}", headers=bearer(token)).status_code == 404
    assert client.get("/api/v1/my/staff-file", headers=bearer(token)).status_code == 200
