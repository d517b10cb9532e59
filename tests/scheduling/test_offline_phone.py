"""The carer's phone offline: every API POST taken once per Idempotency-Key,
the phone's own time kept beside the server's, conflicts that say what
happened to the visit meanwhile, presence by the client's QR code."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import func, select

from saas import db
from saas.models import AuditEvent, IdempotencyKey, Membership, User
from saas.settings import update_settings
from tenants.clients.models import Client
from tenants.scheduling import services
from tenants.scheduling.models import ServiceRecord, Visit
from tenants.staffing.models import StaffFile
from tests.factories import login
from tests.scheduling.test_scheduling import World, assign, first_visit

pytestmark = pytest.mark.dates


def phone_of(world, factory, staff):
    with db.tenant_scope(world.agency.id):
        membership_id = db.session.scalar(select(StaffFile.membership_id).where(StaffFile.id == staff.id))
        membership = db.session.scalar(select(Membership).where(Membership.id == membership_id))
    return {"Authorization": f"Bearer {factory.api_token(membership)}"}


class Booked:
    """A visit's id and times, read before any request (whose end closes the session)."""

    def __init__(self, visit: Visit) -> None:
        self.id, self.starts_at = visit.id, visit.starts_at


def booked(factory):
    world = World(factory)
    world.coordinator_id = world.coordinator.id
    world.activate()
    _user, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    return world, SimpleNamespace(id=carer.id), Booked(visit), phone_of(world, factory, carer)


def fresh(world, visit_id) -> Visit:
    with db.tenant_scope(world.agency.id):
        return db.session.scalar(
            select(Visit).where(Visit.id == visit_id).execution_options(populate_existing=True)
        )


def count(world, model, *where) -> int:
    with db.tenant_scope(world.agency.id):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_a_post_sent_again_with_its_key_is_taken_once(client, factory, dbconn):
    world, _carer, visit, phone = booked(factory)
    url = f"/api/v1/visits/{visit.id}/check-in"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with time_machine.travel(visit.starts_at, tick=True):
        first = client.post(url, json={"latitude": 51.5, "longitude": -0.12}, headers={**phone, **key})
        assert first.status_code == 200 and first.json["status"] == "in_progress"
        # the answer was lost: the phone sends the same request again
        again = client.post(url, json={"latitude": 51.5, "longitude": -0.12}, headers={**phone, **key})
        assert again.status_code == 200 and again.json == first.json
        assert again.headers["Idempotent-Replayed"] == "true"
        # the same key for something else is refused, and changes nothing
        other = client.post(url, json={"latitude": 52.0, "longitude": -0.12}, headers={**phone, **key})
        assert other.status_code == 422
        assert "already used for a different request" in other.json["error"]["message"]
        # without a key (or with a new one) it is a second check-in: refused
        assert client.post(url, json={}, headers=phone).status_code == 409
    assert count(world, AuditEvent, AuditEvent.action == "visit.checked_in") == 1
    assert fresh(world, visit.id).checkin_latitude == 51.5
    assert count(world, IdempotencyKey) == 1


def test_every_api_post_is_taken_once_and_keys_are_the_members_own(client, factory, dbconn):
    """Generic: an incident report sent twice with one key is one incident;
    another member using the same key is another request."""
    world, _carer, visit, phone = booked(factory)
    body = {
        "type": "outage",
        "severity": "minor",
        "occurred_at": datetime.now(UTC).isoformat(),
        "place": "Kitchen",
        "description": "The power went out.",
        "visit_id": str(visit.id),
    }
    key = {"Idempotency-Key": "incident-1"}
    first = client.post("/api/v1/incidents", json=body, headers={**phone, **key})
    assert first.status_code == 200
    again = client.post("/api/v1/incidents", json=body, headers={**phone, **key})
    assert again.json["id"] == first.json["id"]
    from tenants.incidents.models import Incident

    assert count(world, Incident) == 1
    _user, coordinator = world.factory.member(world.agency, "coordinator")
    office = {"Authorization": f"Bearer {factory.api_token(coordinator)}"}
    second = client.post("/api/v1/incidents", json=body, headers={**office, **key})
    assert second.status_code == 200 and second.json["id"] != first.json["id"]
    # a key that is not printable text is refused before anything runs
    bad = client.post("/api/v1/incidents", json=body, headers={**phone, "Idempotency-Key": "a b"})
    assert bad.status_code == 400 and count(world, Incident) == 2


def test_a_refused_request_keeps_no_key_and_may_be_sent_again(client, factory, dbconn):
    world, _carer, visit, phone = booked(factory)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    url = f"/api/v1/visits/{visit.id}/check-in"
    too_early = client.post(url, json={}, headers={**phone, **key})
    assert too_early.status_code == 409 and count(world, IdempotencyKey) == 0
    with time_machine.travel(visit.starts_at, tick=True):
        assert client.post(url, json={}, headers={**phone, **key}).status_code == 200


def test_the_phones_time_is_kept_beside_the_servers(client, factory, dbconn):
    world, _carer, visit, phone = booked(factory)
    with time_machine.travel(visit.starts_at + timedelta(hours=2), tick=False):
        now = datetime.now(UTC)
        # checked in offline at the start, sent two hours later by a phone whose clock is right
        r = client.post(
            f"/api/v1/visits/{visit.id}/check-in",
            json={"phone_time": iso(visit.starts_at)},
            headers={**phone, "X-Phone-Sent-At": iso(now), "Idempotency-Key": "in-1"},
        )
        assert r.status_code == 200, r.json
        row = fresh(world, visit.id)
        assert row.checked_in_at == visit.starts_at and row.checkin_phone_at == visit.starts_at
        assert row.checkin_received_at == now and not row.phone_clock_flagged
        # checked out by a phone whose clock is 40 minutes slow: corrected, and flagged
        slow = timedelta(minutes=40)
        out = client.post(
            f"/api/v1/visits/{visit.id}/check-out",
            json={
                "checklist": [True, False],
                "what_was_done": "Bathed",
                "phone_time": iso(now - timedelta(minutes=30) - slow),
            },
            headers={**phone, "X-Phone-Sent-At": iso(now - slow), "Idempotency-Key": "out-1"},
        )
        assert out.status_code == 200, out.json
    row = fresh(world, visit.id)
    assert row.checked_out_at == now - timedelta(minutes=30)
    assert row.checkout_phone_at == now - timedelta(minutes=30) - slow
    assert row.checkout_received_at == now
    assert row.phone_clock_off_s == 40 * 60 and row.phone_clock_flagged
    # the office sees both times and the flag on the visit sheet
    with db.tenant_scope(world.agency.id):
        office = db.session.get(User, world.coordinator_id)
    login(client, office)
    sheet = client.get(f"/a/{world.agency.slug}/visits/{visit.id}").text
    assert "off by 40 min" in sheet and "On the phone:" in sheet


def test_the_agency_sets_how_far_a_phone_clock_may_be_off(client, factory, dbconn):
    world, _carer, visit, phone = booked(factory)
    with db.tenant_scope(world.agency.id):
        update_settings(world.agency, {"phone_clock_tolerance_minutes": 60})
        db.session.commit()
    with time_machine.travel(visit.starts_at, tick=False):
        now = datetime.now(UTC)
        r = client.post(
            f"/api/v1/visits/{visit.id}/check-in",
            json={"phone_time": iso(now - timedelta(minutes=40))},
            headers={**phone, "X-Phone-Sent-At": iso(now - timedelta(minutes=40))},
        )
        assert r.status_code == 200
    row = fresh(world, visit.id)
    assert row.phone_clock_off_s == 40 * 60 and not row.phone_clock_flagged


def test_conflicts_say_what_happened_to_the_visit(client, factory, dbconn, app):
    world, carer, visit, phone = booked(factory)
    other_phone = phone_of(world, factory, carer)
    second, third = (Booked(v) for v in world.visits()[1:3])
    # while the phone was offline, the office gave the second visit to another
    # carer and cancelled the third
    _user2, other = world.carer(name="Olu Other")
    assign(world, second, carer)
    assign(world, third, carer)
    with db.tenant_scope(world.agency.id):
        row = db.session.get(Visit, (world.agency.id, second.id))
        services.unassign(row)
        db.session.commit()
    assign(world, second, other)
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        row = db.session.get(Visit, (world.agency.id, third.id))
        services.cancel(world.agency, row, reason="Client in hospital", by=None)
        db.session.commit()

    url = f"/api/v1/visits/{visit.id}"
    record = {"checklist": [True, True], "what_was_done": "Bathed"}
    with time_machine.travel(visit.starts_at, tick=True):
        # a check-out queued for a visit never checked in
        never = client.post(f"{url}/check-out", json=record, headers=phone)
        assert never.status_code == 409 and "never checked in" in never.json["error"]["message"]
        # checked in from another phone first
        assert client.post(f"{url}/check-in", json={}, headers=other_phone).status_code == 200
        twice = client.post(f"{url}/check-in", json={}, headers={**phone, "Idempotency-Key": "k2"})
        assert twice.status_code == 409
        checked_at = fresh(world, visit.id).checked_in_at.astimezone(world.agency.zone).strftime("%H:%M")
        assert f"already checked in at {checked_at}" in twice.json["error"]["message"]
    with time_machine.travel(second.starts_at, tick=True):
        moved = client.post(f"/api/v1/visits/{second.id}/check-in", json={}, headers=phone)
        assert moved.status_code == 409 and "given to another carer" in moved.json["error"]["message"]
    with time_machine.travel(third.starts_at, tick=True):
        gone = client.post(f"/api/v1/visits/{third.id}/check-in", json={}, headers=phone)
        assert gone.status_code == 409 and "cancelled this visit" in gone.json["error"]["message"]
    assert fresh(world, third.id).checked_in_at is None
    assert fresh(world, second.id).checked_in_at is None
    assert count(world, ServiceRecord) == 0


def test_bad_input_from_the_phone_saves_nothing(client, factory, dbconn):
    world, _carer, visit, phone = booked(factory)
    url = f"/api/v1/visits/{visit.id}/check-in"
    with time_machine.travel(visit.starts_at, tick=True):
        for body, field in (
            ({"latitude": "north", "longitude": 1}, "latitude"),
            ({"phone_time": "yesterday"}, "phone_time"),
            ({"phone_time": "2026-01-01T10:00"}, "phone_time"),  # no time zone
            ({"presence_code": "hello"}, "presence_code"),
        ):
            r = client.post(url, json=body, headers=phone)
            assert r.status_code == 400, (body, r.json)
            assert r.json["error"]["message"], field
        r = client.post(url, json={}, headers={**phone, "X-Phone-Sent-At": "soon"})
        assert r.status_code == 200  # no phone_time: the header is not read
    assert count(world, IdempotencyKey) == 0


def test_presence_by_the_clients_code(client, factory, dbconn, app):
    world, _carer, visit, phone = booked(factory)
    with app.app_context(), db.tenant_scope(world.agency.id):
        person = db.session.get(Client, (world.agency.id, world.client.id))
        person.presence_mode = "qr"
        old_code = services.presence_code(person)
        person.presence_code_version += 1  # the office printed a new sheet
        code = services.presence_code(person)
        db.session.commit()
    url = f"/api/v1/visits/{visit.id}/check-in"
    with time_machine.travel(visit.starts_at, tick=True):
        stale = client.post(url, json={"presence_code": old_code}, headers=phone)
        assert stale.status_code == 400 and "replaced" in stale.json["error"]["message"]
        assert fresh(world, visit.id).checked_in_at is None
        forged = old_code[:-4] + "0000"
        assert client.post(url, json={"presence_code": forged}, headers=phone).status_code == 400
        r = client.post(url, json={"presence_code": code}, headers=phone)
        assert r.status_code == 200
    row = fresh(world, visit.id)
    assert row.checkin_presence == "qr" and not row.presence_missing


def test_the_office_chooses_presence_and_prints_the_sheet_in_the_clients_language(client, factory, dbconn):
    world = World(factory)
    with db.tenant_scope(world.agency.id):
        person = db.session.get(Client, (world.agency.id, world.client.id))
        person.languages = ["中文"]
        db.session.commit()
    login(client, world.coordinator)
    slug, client_id = world.agency.slug, world.client.id
    page = client.get(f"/a/{slug}/clients/{client_id}")
    assert f"/a/{slug}/clients/{client_id}/presence" in page.text
    url = f"/a/{slug}/clients/{client_id}/presence"
    assert client.get(url).status_code == 200
    assert client.post(url, data={"presence_mode": "teleport"}).status_code == 422
    assert client.post(url, data={"presence_mode": "qr"}).status_code == 302
    sheet = client.get(f"{url}/sheet")
    assert sheet.status_code == 200 and "<svg" in sheet.text and 'lang="zh-Hans"' in sheet.text
    with db.tenant_scope(world.agency.id):
        person = db.session.get(Client, (world.agency.id, client_id))
        assert person.presence_mode == "qr" and person.presence_code_version == 1
    assert client.post(url, data={"action": "replace", "presence_mode": "qr"}).status_code == 302
    with db.tenant_scope(world.agency.id):
        person = db.session.scalar(
            select(Client).where(Client.id == client_id).execution_options(populate_existing=True)
        )
        assert person.presence_code_version == 2
    # a carer may not change it
    carer_user, _staff = world.carer()
    login(client, carer_user)
    assert client.post(url, data={"presence_mode": "position"}).status_code == 404


def test_stored_answers_are_kept_a_month(client, factory, dbconn, app):
    from saas.api.idempotency import KEEP_DAYS, purge_old_keys

    world, _carer, visit, phone = booked(factory)
    with time_machine.travel(visit.starts_at, tick=True):
        url = f"/api/v1/visits/{visit.id}/check-in"
        assert client.post(url, json={}, headers={**phone, "Idempotency-Key": "once"}).status_code == 200
    with time_machine.travel(visit.starts_at + timedelta(days=KEEP_DAYS - 1), tick=False), app.app_context():
        purge_old_keys.__wrapped__()
    assert count(world, IdempotencyKey) == 1
    with time_machine.travel(visit.starts_at + timedelta(days=KEEP_DAYS + 1), tick=False), app.app_context():
        purge_old_keys.__wrapped__()
    assert count(world, IdempotencyKey) == 0
