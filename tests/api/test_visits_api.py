"""The agency's visits over the API: list by range, carer, client and status;
one-off visits; assign with the board's checks and reasons; reschedule and
cancel with If-Match."""

from __future__ import annotations

from datetime import timedelta

from saas import db
from saas.models import Role
from tenants.scheduling import services
from tests.scheduling.test_scheduling import World


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _token(factory, world, role=Role.COORDINATOR):
    _user, membership = factory.member(world.agency, role)
    return factory.api_token(membership)


def test_one_off_visit_assign_reschedule_cancel(client, factory, dbconn):
    world = World(factory)
    token = _token(factory, world)
    _u, staff = world.carer(
        availability={d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    with db.tenant_scope(world.agency.id):
        day = (services.local_now(world.agency) + timedelta(days=3)).date()
    booked = client.post(
        "/api/v1/visits",
        json={
            "client_id": str(world.client.id),
            "service_item_id": str(world.item.id),
            "day": day.isoformat(),
            "start_time": "10:00",
            "duration_minutes": 45,
        },
        headers=bearer(token),
    )
    assert booked.status_code == 201, booked.json
    visit_id = booked.json["id"]
    assert booked.json["status"] == "scheduled" and booked.json["staff_id"] is None
    assert booked.json["price"] == "25.00"

    read = client.get(f"/api/v1/visits/{visit_id}/booking", headers=bearer(token))
    etag = read.headers["ETag"]
    assigned = client.post(
        f"/api/v1/visits/{visit_id}/assign",
        json={"staff_id": str(staff.id)},
        headers=bearer(token, **{"If-Match": etag}),
    )
    assert assigned.status_code == 200, assigned.json
    assert assigned.json["staff_id"] == str(staff.id) and assigned.json["carer"] == "Cara Carer"
    stale = client.post(
        f"/api/v1/visits/{visit_id}/cancel", json={"reason": "x"}, headers=bearer(token, **{"If-Match": etag})
    )
    assert stale.status_code == 412

    listed = client.get(
        "/api/v1/visits",
        query_string={"from": day.isoformat(), "to": day.isoformat(), "staff_id": str(staff.id)},
        headers=bearer(token),
    )
    assert [v["id"] for v in listed.json["items"]] == [visit_id]
    none = client.get("/api/v1/visits", query_string={"status": "cancelled"}, headers=bearer(token))
    assert visit_id not in [v["id"] for v in none.json["items"]]

    no_reason = client.post(
        f"/api/v1/visits/{visit_id}/reschedule",
        json={"day": day.isoformat(), "start_time": "11:00"},
        headers=bearer(token),
    )
    assert no_reason.status_code == 422 and no_reason.json["field"] == "reason"
    moved = client.post(
        f"/api/v1/visits/{visit_id}/reschedule",
        json={"day": day.isoformat(), "start_time": "11:00", "reason": "Doctor"},
        headers=bearer(token),
    )
    assert moved.status_code == 200 and moved.json["reschedule_reason"] == "Doctor", moved.json
    cancelled = client.post(
        f"/api/v1/visits/{visit_id}/cancel", json={"reason": "In hospital"}, headers=bearer(token)
    )
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = client.post(f"/api/v1/visits/{visit_id}/cancel", json={"reason": "Twice"}, headers=bearer(token))
    assert again.status_code == 409 and again.json["detail"]


def test_assignment_refusals_name_every_reason(client, factory, dbconn):
    world = World(factory)
    world.activate()
    token = _token(factory, world)
    _u, unavailable = world.carer(availability={"sat": [["06:00", "07:00"]]})
    visit = world.visits()[0]
    refused = client.post(
        f"/api/v1/visits/{visit.id}/assign", json={"staff_id": str(unavailable.id)}, headers=bearer(token)
    )
    assert refused.status_code == 422, refused.json
    assert refused.json["field"] == "staff_id"
    codes = {r["code"].split(":")[0] for r in refused.json["reasons"]}
    assert "unavailable" in codes, refused.json
    assert all(r["message"] for r in refused.json["reasons"])
    unknown = client.post(
        f"/api/v1/visits/{visit.id}/assign", json={"staff_id": "not-a-carer"}, headers=bearer(token)
    )
    assert unknown.status_code == 422 and unknown.json["field"] == "staff_id"


def test_carers_cannot_manage_visits(client, factory, dbconn):
    world = World(factory)
    token = _token(factory, world, Role.CARER)
    assert client.get("/api/v1/visits", headers=bearer(token)).status_code == 403


def test_lists_cost_the_same_at_any_size(client, factory, dbconn):
    """Each list reads a fixed number of statements, however many rows it shows."""
    from tests.sqlcount import count_statements

    world = World(factory)
    world.activate()
    token = _token(factory, world, Role.ADMIN)
    paths = ("/api/v1/visits", "/api/v1/clients", "/api/v1/plans", "/api/v1/staff", "/api/v1/cases")

    def counts() -> dict[str, int]:
        found = {}
        for path in paths:
            with count_statements() as counter:
                assert client.get(path, query_string={"limit": 200}, headers=bearer(token)).status_code == 200
            found[path] = counter.count
        return found

    world.carer(name="First Carer")
    client.get("/api/v1/me", headers=bearer(token))  # the token's first use is recorded once
    small = counts()
    for n in range(6):
        factory.client(world.agency, f"More {n}")
        world.carer(name=f"Extra {n}")
    case = factory.case(world.agency, factory.client(world.agency, "Planned Again"), by=world.admin)
    plan = factory.plan(
        world.agency, case, world.item.id, author=world.coordinator, approver=world.admin, active=True
    )
    assert plan is not None
    assert counts() == small
