"""Every read of a client's file logged (visit sheet, schedule, phone API,
calendar feed), one insert per request; a closed agency's read-only archive;
the purge following retention after the operator's export window."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from billing import lifecycle, purge
from saas import db
from saas.models import PlatformAuditEvent, Role
from tenants.clients.models import ClientFileAccess
from tests.billing.billing_support import operator, reload
from tests.factories import login
from tests.scheduling.test_scheduling import World, assign
from tests.sqlcount import count_statements

pytestmark = pytest.mark.dates


def reads(agency, section: str) -> list[ClientFileAccess]:
    with db.tenant_scope(agency.id):
        return list(
            db.session.scalars(
                select(ClientFileAccess)
                .where(ClientFileAccess.section == section)
                .execution_options(populate_existing=True)
            )
        )


def inserts(counter) -> int:
    return sum("INSERT INTO client_file_access" in s for s in counter.statements)


@pytest.fixture
def week(factory):
    """A carer with this week's visits of two clients."""
    world = World(factory)
    world.activate()
    carer_user, carer = world.carer()
    other = factory.client(world.agency, "Olive Other", address="9 Dock Road")
    visits = [v for v in world.visits() if v.starts_at < world.visits()[0].starts_at + timedelta(days=7)]
    for visit in visits:
        assign(world, visit, carer)
    factory.visit(
        world.agency, other.id, world.item.id, visits[0].starts_at + timedelta(hours=3), staff_id=carer.id
    )
    world.carer_user, world.staff, world.other = carer_user, carer, other
    return world


def test_the_carer_schedule_logs_each_client_shown_in_one_insert(client, week):
    login(client, week.carer_user)
    with count_statements() as counter:
        page = client.get(f"/a/{week.agency.slug}/my/schedule")
    assert page.status_code == 200 and "3 Mill Lane" in page.text
    logged = reads(week.agency, "schedule")
    assert {r.client_id for r in logged} == {week.client.id, week.other.id} and len(logged) == 2
    assert {r.user_id for r in logged} == {week.carer_user.id}
    # one INSERT for every client shown
    assert inserts(counter) == 1


def test_the_visit_sheet_logs_its_client(client, week):
    visit = week.visits()[0]
    login(client, week.carer_user)
    with count_statements() as counter:
        page = client.get(f"/a/{week.agency.slug}/visits/{visit.id}")
    assert page.status_code == 200
    (read,) = reads(week.agency, "visit")
    assert (read.client_id, read.user_id) == (week.client.id, week.carer_user.id)
    assert inserts(counter) == 1
    # the admins see it in the file's access log, worded
    login(client, week.admin)
    log = client.get(f"/a/{week.agency.slug}/clients/{week.client.id}/access-log")
    assert week.carer_user.email in log.text and "A visit sheet" in log.text


def test_the_phone_api_logs_the_clients_it_sends(client, factory, week):
    with db.tenant_scope(week.agency.id):
        from tenants.staffing.models import StaffFile

        membership_id = db.session.scalar(
            select(StaffFile.membership_id).where(StaffFile.id == week.staff.id)
        )
    from saas.models import Membership

    with db.tenant_scope(week.agency.id):
        membership = db.session.get(Membership, (week.agency.id, membership_id))
    headers = {"Authorization": f"Bearer {factory.api_token(membership)}"}
    with count_statements() as counter:
        answer = client.get("/api/v1/my/schedule", headers=headers)
    assert answer.status_code == 200 and answer.json["visits"]
    assert {r.client_id for r in reads(week.agency, "api")} == {week.client.id, week.other.id}
    assert inserts(counter) == 1
    visit_id = answer.json["visits"][0]["id"]
    one = client.get(f"/api/v1/visits/{visit_id}", headers=headers)
    assert one.status_code == 200 and one.json["address"]
    assert len(reads(week.agency, "api")) == 3, "the visit's client once more"


def test_the_calendar_feed_logs_its_owners_reads(client, week):
    login(client, week.carer_user)
    page = client.post(f"/a/{week.agency.slug}/my/calendar", data={"action": "issue"})
    url = page.text.split('data-testid="feed-url">')[1].split("<")[0].replace("http://localhost", "")
    client.get("/logout")
    with count_statements() as counter:
        feed = client.get(url)
    assert feed.status_code == 200 and "3 Mill Lane" in feed.text
    logged = reads(week.agency, "calendar_feed")
    assert {r.client_id for r in logged} == {week.client.id, week.other.id}
    assert {r.user_id for r in logged} == {week.carer_user.id}, "whose feed it is"
    assert inserts(counter) == 1


def test_the_operator_sets_the_export_window(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    assert client.get("/operator/settings").status_code == 404, "operators only"
    assert client.post("/operator/settings", data={"export_window_days": "9"}).status_code == 404
    user = operator(client, factory)
    page = client.get("/operator/settings")
    assert page.status_code == 200 and 'value="30"' in page.text
    for bad, message in (("soon", "Enter a whole number."), ("3", "Enter a number from 7 to 365.")):
        refused = client.post("/operator/settings", data={"export_window_days": bad})
        assert refused.status_code == 422 and message in refused.text and 'class="error"' in refused.text
    assert lifecycle.export_window() == timedelta(days=30), "nothing kept"
    assert client.post("/operator/settings", data={"export_window_days": "45"}).status_code == 302
    assert lifecycle.export_window() == timedelta(days=45)
    entry = db.session.scalar(
        # this operator's: the browser tests commit settings changes of their own
        select(PlatformAuditEvent).where(
            PlatformAuditEvent.action == "platform.setting_changed", PlatformAuditEvent.actor_id == user.id
        )
    )
    assert entry.actor_id == user.id and (entry.details["old"], entry.details["new"]) == (30, 45)


def closed_agency_with_a_file(factory, *, special=False):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    carer, _ = factory.member(agency, Role.CARER)
    person = factory.client(agency, "Ada Ordinary")
    case = factory.case(agency, person, by=admin, special_programme=special)
    factory.close_case(agency, case, by=admin)
    lifecycle.close(db.session.get(type(agency), agency.id), reason="left")
    db.session.commit()
    return reload(agency), admin, carer, person


def test_a_closed_agency_is_a_read_only_archive_for_its_admins(client, factory):
    agency, admin, carer, person = closed_agency_with_a_file(factory)
    login(client, admin)
    listing = client.get(f"/a/{agency.slug}/clients?status=archived")
    assert listing.status_code == 200 and "Ada Ordinary" in listing.text
    assert client.get(f"/a/{agency.slug}/clients/{person.id}").status_code == 200
    changed = client.post(f"/a/{agency.slug}/clients/{person.id}/cases", data={"intake_channel": "phone"})
    assert changed.status_code == 403
    assert client.post(f"/a/{agency.slug}/billing/exports").status_code == 302, "exporting is allowed"
    login(client, carer)
    assert client.get(f"/a/{agency.slug}/clients").status_code == 403


def test_the_purge_waits_for_the_export_window_and_every_files_retention(app, factory):
    agency, _admin, _carer, _person = closed_agency_with_a_file(factory)
    closed_at = agency.closed_at
    assert not purge.is_due(agency, closed_at + timedelta(days=31)), "the file's 3 years are running"
    three = closed_at + relativedelta(years=3, days=2)
    assert purge.is_due(agency, three)
    with time_machine.travel(three, tick=False):
        assert agency.id in purge.due_agencies()
    special, *_ = closed_agency_with_a_file(factory, special=True)
    assert not purge.is_due(special, special.closed_at + relativedelta(years=3, days=2))
    assert purge.is_due(special, special.closed_at + relativedelta(years=5, days=2))


def test_an_agency_with_no_file_is_purged_after_the_export_window(app, factory, client):
    agency = factory.agency()
    lifecycle.close(db.session.get(type(agency), agency.id), reason="left")
    db.session.commit()
    agency = reload(agency)
    assert not purge.is_due(agency, agency.closed_at + timedelta(days=29))
    assert purge.is_due(agency, agency.closed_at + timedelta(days=31))
    operator(client, factory)
    client.post("/operator/settings", data={"export_window_days": "60"})
    assert not purge.is_due(agency, agency.closed_at + timedelta(days=31)), "the operator's window"
    assert purge.is_due(agency, agency.closed_at + timedelta(days=61))


def test_open_cases_of_a_closed_agency_count_from_its_closing(factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    factory.case(agency, factory.client(agency, "Stan Served"), by=admin)
    lifecycle.close(db.session.get(type(agency), agency.id), reason="left")
    db.session.commit()
    agency = reload(agency)
    assert not purge.is_due(agency, agency.closed_at + relativedelta(years=2))
    assert purge.is_due(agency, agency.closed_at + relativedelta(years=3, days=2))
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(ClientFileAccess)) == 0
