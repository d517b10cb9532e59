"""Each role's home says what needs doing, every figure linking to the list
behind it; each dashboard costs a fixed number of statements however much the
agency holds; the frame marks where one is; a page not found inside an agency
keeps the agency's frame for its members only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from saas import db
from saas.models import Role
from tenants.clients import services as clients
from tenants.scheduling.models import ServiceRecord, Visit
from tests.factories import login
from tests.scheduling.test_scheduling import World
from tests.sqlcount import count_statements

pytestmark = pytest.mark.dates  # today is the agency's: run at moved instants too


def figure(html: str, key: str) -> tuple[str, str]:
    """(value, link) of the figure `key` on a dashboard."""
    found = re.search(
        rf'data-figure="{re.escape(key)}">\s*<a href="([^"]*)">\s*<span class="value">([^<]*)</span>', html
    )
    assert found, f"no figure {key}"
    return found.group(2).strip(), found.group(1).replace("&amp;", "&")


def grow(world: World, carer_id, n: int = 30) -> None:
    """More of everything the dashboards count: visits today and to come,
    unassigned and assigned, flagged late and missed, records asking for attention."""
    with db.tenant_scope(world.agency.id):
        now = db.utcnow()
        today = world.agency.today()
        for i in range(n):
            start = now + timedelta(minutes=30 + 20 * i)
            db.session.add(
                Visit(
                    client_id=world.client.id,
                    service_item_id=world.item.id,
                    local_day=start.astimezone(world.agency.zone).date(),
                    starts_at=start,
                    ends_at=start + timedelta(minutes=15),
                    staff_file_id=carer_id if i % 2 else None,
                )
            )
            past = now - timedelta(hours=1 + i)
            visit = Visit(
                client_id=world.client.id,
                service_item_id=world.item.id,
                local_day=today,
                starts_at=past,
                ends_at=past + timedelta(minutes=15),
                staff_file_id=carer_id,
                late_flagged_at=now,
                missed_flagged_at=now if i % 3 == 0 else None,
            )
            db.session.add(visit)
            db.session.flush()
            db.session.add(ServiceRecord(visit_id=visit.id, needs_attention=True, what_was_done="x"))
        db.session.commit()


@pytest.mark.parametrize("role", ["admin", "coordinator", "carer", "client"])
def test_each_dashboard_costs_the_same_at_any_size(role, client, factory, dbconn):
    world = World(factory)
    world.activate()
    carer_user, carer = world.carer()
    client_user, client_membership = factory.member(world.agency, Role.CLIENT)
    with db.tenant_scope(world.agency.id):
        clients.link_portal_member(world.client, client_membership, "self")
        db.session.commit()
    user = {
        "admin": world.admin,
        "coordinator": world.coordinator,
        "carer": carer_user,
        "client": client_user,
    }[role]
    grow(world, carer.id, n=2)  # a little of everything: a schedule to log the read of
    login(client, user)
    home = f"/a/{world.agency.slug}/"
    client.get(home)  # the menu and the settings read once per process
    with count_statements() as small:
        assert client.get(home).status_code == 200
    grow(world, carer.id)
    with count_statements() as large:
        page = client.get(home)
    assert page.status_code == 200
    assert large.count == small.count, "\n\n".join(large.statements)


def test_the_coordinators_figures_link_to_their_lists(client, factory, dbconn):
    world = World(factory)
    world.activate()
    _carer_user, carer = world.carer()
    grow(world, carer.id, n=6)
    login(client, world.coordinator)
    html = client.get(f"/a/{world.agency.slug}/").text
    with db.tenant_scope(world.agency.id):
        now = db.utcnow()
        unassigned = db.session.scalar(
            select(func.count()).where(
                Visit.staff_file_id.is_(None),
                Visit.status == "scheduled",
                Visit.starts_at >= now,
                Visit.starts_at < now + timedelta(days=7),
            )
        )
    value, link = figure(html, "visits.unassigned")
    assert int(value) == unassigned and unassigned >= 3
    assert link.endswith("/visits#unassigned")
    value, link = figure(html, "visits.missed")
    assert value == "2" and link.endswith("/visits#flagged")  # i = 0, 3
    assert figure(html, "visits.late")[0] == "4"
    assert figure(html, "visits.attention")[0] == "6"
    # today's visits by status, each opening the board's list of today filtered by it
    value, link = figure(html, "visits.today.scheduled")
    board = client.get(link.split("#")[0])
    assert board.status_code == 200
    assert board.text.count("<tr><td><a href=") >= int(value) > 0
    completed = client.get(f"/a/{world.agency.slug}/visits?day_status=completed").text
    assert 'data-testid="today-visits"' in completed and "None." in completed
    # the care figures open the clients list filtered to them
    value, link = figure(html, "care.plans_waiting")
    assert value == "0" and "status=plan_waiting" in link
    assert client.get(link).status_code == 200
    value, link = figure(html, "staff.certificates_expiring")
    assert "status=expiring" in link and client.get(link).status_code == 200
    # what only an admin sees
    assert 'data-figure="quality.visits_delivered"' not in html
    login(client, world.admin)
    admin_home = client.get(f"/a/{world.agency.slug}/").text
    assert 'data-figure="quality.visits_delivered"' in admin_home and "target 95%" in admin_home


def test_the_carers_home_shows_the_next_visit_with_a_map_and_check_in(client, factory, dbconn):
    world = World(factory)
    carer_user, carer = world.carer()
    # hours ahead: an hour ahead may be the clock's repeated hour on the day daylight saving ends
    soon = db.utcnow() + timedelta(hours=3)
    visit = factory.visit(world.agency, world.client.id, world.item.id, soon, staff_id=carer.id)
    login(client, carer_user)
    html = client.get(f"/a/{world.agency.slug}/").text
    card = html[html.index('data-testid="next-visit"') :]
    card = card[: card.index("</section>")]
    assert world.client.full_name in card or (world.client.preferred_name or "@@") in card
    assert "openstreetmap.org/search?query=3%20Mill%20Lane" in card
    assert "Safe transfer" in card and f"/visits/{visit.id}" in card
    # check-in is offered on the visit's own day (in the agency's time zone)
    on_its_day = soon.astimezone(world.agency.zone).date() == world.agency.today()
    assert (f"/visits/{visit.id}/check-in" in card) is on_its_day


def test_a_page_not_found_inside_an_agency_keeps_its_frame_for_members_only(client, factory, dbconn):
    world = World(factory)
    login(client, world.coordinator)
    missing = client.get(f"/a/{world.agency.slug}/no-such-page")
    assert missing.status_code == 404
    assert 'class="side"' in missing.text and world.agency.name in missing.text
    outsider = factory.agency()
    foreign = client.get(f"/a/{outsider.slug}/no-such-page")
    unknown = client.get("/a/no-such-agency-here/no-such-page")
    assert foreign.status_code == unknown.status_code == 404
    assert outsider.name not in foreign.text and 'class="side"' not in foreign.text
    # the same page (but for the address it was asked at, kept for the language choice)
    assert foreign.text.replace(outsider.slug, "x") == unknown.text.replace("no-such-agency-here", "x")


def test_the_menu_marks_the_section_one_is_in(client, factory, dbconn):
    world = World(factory)
    login(client, world.coordinator)
    page = client.get(f"/a/{world.agency.slug}/clients/{world.client.id}").text
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', page)
    assert current and all(url.endswith("/clients") for url in current)
    home = client.get(f"/a/{world.agency.slug}/").text
    assert re.search(r'<a href="/a/[^/"]+/" aria-current="page">', home)


def test_the_operators_dashboard(client, factory, dbconn):
    factory.agency()  # a row in the list below the figures
    operator = factory.user(operator=True, totp=True)
    login(client, operator)
    html = client.get("/operator/").text
    value, link = figure(html, "agencies.active")
    assert int(value) >= 0 and "state=active" in link
    assert client.get(link).status_code == 200
    assert 'data-figure="jobs.failed"' in html and 'data-figure="jobs.late_sweeps"' in html
    assert 'data-figure="revenue.churn"' in html
    client.post("/language", data={"locale": "zh_CN", "next": "/operator/"})
    assert client.get("/operator/").status_code == 200
    assert client.get("/operator/jobs").status_code == 200


def test_a_sparkline_draws_the_known_values_and_gaps():
    from saas.dashboard import sparkline

    assert sparkline([None, 3.0], label="x") == ""  # one value is no trend
    line = sparkline([1.0, None, 3.0, 4.0], label="Visits <on time>")
    assert line.count("<polyline") == 1  # the gap breaks the line: 1 | 3, 4
    assert 'aria-label="Visits &lt;on time&gt;"' in line and 'viewBox="0 0 96 28"' in line
    flat = sparkline([2.0, 2.0], label="flat")
    assert "<polyline" in flat and "nan" not in flat
