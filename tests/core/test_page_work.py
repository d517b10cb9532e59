"""What a request does in Python, counted rather than timed: the work a page
does once must not be done per row, nor per request what can be done once per
process. Timings stay in the benchmarks (bench/http.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import flask_babel
import pytest
from sqlalchemy import event, select

from saas import db
from saas.models import Membership
from tenants.scheduling import queries, services
from tenants.scheduling.models import Visit
from tests.factories import login
from tests.scheduling.test_scheduling import World
from tests.sqlcount import count_round_trips

EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)


class Week:
    """A carer with a visit every day of the coming week, the first one done
    with its record, so the following visits show what it says."""

    def __init__(self, factory: Any) -> None:
        self.world = world = World(factory, weekdays=EVERY_DAY)
        world.activate()
        self.agency = world.agency
        self.carer_user, self.carer = world.carer(name="Cara Carer")
        with db.tenant_scope(self.agency.id):
            _assigned, refused = services.bulk_assign(
                self.agency, world.plan, self.carer.id, by=world.coordinator
            )
            assert refused == 0
            db.session.commit()
        first = world.visits()[0]
        factory.complete_visit(
            self.agency, first.id, self.carer.id, by=self.carer_user, notes="She asked for tea without sugar"
        )

    def membership(self) -> Membership:
        with db.tenant_scope(self.agency.id):
            return db.session.scalar(select(Membership).where(Membership.user_id == self.carer_user.id))

    def give_half_to_another_carer(self, shown: int) -> None:
        _user, other = self.world.carer(name="Other Carer")
        today = services.local_now(self.agency).date()
        with db.tenant_scope(self.agency.id):
            rows = queries.staff_schedule(self.agency, self.carer.id, today, today + timedelta(days=7))
            for row in [r for r in rows if r.status == "scheduled"][: shown // 2]:
                visit = db.session.scalar(select(Visit).where(Visit.id == row.id))
                services.assign(self.agency, visit, other.id, by=self.world.coordinator, role="coordinator")
            db.session.commit()


@pytest.fixture
def week(factory: Any) -> Week:
    return Week(factory)


def test_the_schedule_page_translates_as_much_for_a_longer_week(client, week, monkeypatch):
    lookups: list[int] = []
    real = flask_babel.Domain.get_translations

    def counting(self: flask_babel.Domain) -> Any:
        lookups.append(1)
        return real(self)

    login(client, week.carer_user)
    url = f"/a/{week.agency.slug}/my/schedule"
    client.get(url)  # the menu's links are rendered once per process (saas.menu)
    monkeypatch.setattr(flask_babel.Domain, "get_translations", counting)
    long_page = client.get(url)
    long_lookups = len(lookups)
    shown = long_page.text.count('class="visit-card')
    assert shown >= 6 and long_page.text.count("Last time:") >= 5
    week.give_half_to_another_carer(shown)
    lookups.clear()
    short_page = client.get(url)
    assert short_page.text.count('class="visit-card') < shown
    # "Last time:", the status labels and the times are written once per page, not per visit
    assert len(lookups) == long_lookups


def test_the_schedule_statement_is_built_once_per_process(client, factory, week, monkeypatch):
    builds: list[int] = []
    real = queries._week

    def counting(*args: Any, **kwargs: Any) -> Any:
        builds.append(1)
        return real(*args, **kwargs)

    login(client, week.carer_user)
    token = factory.api_token(week.membership())
    url = f"/a/{week.agency.slug}/my/schedule"
    assert client.get(url).status_code == 200
    monkeypatch.setattr(queries, "_week", counting)
    # building the statement costs more than running it: each request binds its values only
    assert client.get(url).status_code == 200
    api = client.get("/api/v1/my/schedule", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.json["visits"]
    assert builds == []


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _plan_nodes(child))]


@pytest.mark.plans  # reads a query plan: in the session of its own
@pytest.mark.explain
def test_the_unread_badge_reads_only_unread_notifications(app, factory):
    from saas.notifications.models import Notification
    from saas.notifications.reminders import Due, send_due
    from saas.notifications.services import mark_all_read, unread_figure

    world = World(factory)
    with db.tenant_scope(world.agency.id):
        member = db.session.scalar(select(Membership).where(Membership.user_id == world.coordinator.id))
    when = datetime.now(UTC).replace(microsecond=0)
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        send_due(
            [
                Due("visit.missed", f"v-{i}", when, (member.id,), {"start": "09:00", "date": "2026-11-23"})
                for i in range(40)
            ]
        )
        assert mark_all_read(member) == 40
        db.session.commit()
    captured: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        captured.append((statement, parameters))

    engine = db.get_engine()
    with db.tenant_scope(world.agency.id):
        event.listen(engine, "before_cursor_execute", capture)
        try:
            assert db.session.scalar(select(unread_figure(member.id))) == 0
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        ((statement, parameters),) = [c for c in captured if "notifications" in c[0]]
        conn = db.session.connection()
        # as with the platform's statistics: the member's history is more than a page of it
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        (plan,) = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()
        db.session.rollback()
    (scan,) = [n for n in _plan_nodes(plan["Plan"]) if n.get("Relation Name") == Notification.__tablename__]
    # the partial index of the unread alone: the read ones are never visited, however many
    assert scan["Index Name"] == "ix_notifications_unread", scan
    assert scan.get("Rows Removed by Filter", 0) == 0


def test_the_page_frame_builds_no_form(client, week, monkeypatch):
    from flask_wtf import FlaskForm

    built: list[str] = []
    real = FlaskForm.__init__

    def counting(self: FlaskForm, *args: Any, **kwargs: Any) -> None:
        built.append(type(self).__name__)
        real(self, *args, **kwargs)

    login(client, week.carer_user)
    monkeypatch.setattr(FlaskForm, "__init__", counting)
    for url in (f"/a/{week.agency.slug}/", f"/a/{week.agency.slug}/my/schedule"):
        page = client.get(url)
        # the language switch and signing out carry their CSRF field, as forms render it
        fields = re.findall(
            r'<input id="csrf_token" name="csrf_token" type="hidden" value="[^"]+">', page.text
        )
        assert page.status_code == 200 and len(fields) == 2
    assert built == []
    # and the field is a working one: the language switch takes it
    answer = client.post("/language", data={"locale": "zh_CN", "next": f"/a/{week.agency.slug}/"})
    assert answer.status_code == 302
    assert 'lang="zh-Hans"' in client.get(f"/a/{week.agency.slug}/").text


def test_the_api_reads_its_agency_with_the_token(client, factory, week, dbconn):
    token = factory.api_token(week.membership())
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/my/schedule", headers=headers).status_code == 200  # notes the token's use
    db.clear_tenant_setting(dbconn)
    with count_round_trips() as trips:
        answer = client.get("/api/v1/my/schedule", headers=headers)
    assert answer.status_code == 200 and answer.json["visits"]
    reads = [s for s in trips.statements if "FROM agencies" in s or "JOIN agencies" in s]
    # the token names its agency: in scope first, then one query for agency, token, membership and user
    assert len(reads) == 1 and "api_tokens" in reads[0], trips.statements
    # and one INSERT logging the clients sent as read (not inside the reading
    # statement: Citus refuses that INSERT ... SELECT under row-level security)
    assert len(trips.statements) <= 6, trips.statements
    assert sum(s.startswith("INSERT INTO client_file_access") for s in trips.statements) == 1


def test_a_weeks_checklists_are_parsed_once_each(client, factory, week, monkeypatch):
    import json

    parsed: list[str] = []
    real = json.loads

    def counting(text: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(text)
        return real(text, *args, **kwargs)

    token = factory.api_token(week.membership())
    queries._parsed.cache_clear()
    monkeypatch.setattr(queries.json, "loads", counting)
    answer = client.get("/api/v1/my/schedule", headers={"Authorization": f"Bearer {token}"})
    monkeypatch.undo()
    visits = answer.json["visits"]
    assert len(visits) >= 6
    assert all(v["checklist"] == ["Safe transfer", "Skin check"] for v in visits)
    assert parsed == ['["Safe transfer", "Skin check"]']


def test_the_menu_is_rendered_once_for_each_kind_of_reader(client, factory, week, monkeypatch):
    """The frame's menu links are the same for one agency, role and language:
    made once per process, and made anew when one of those changes."""
    import saas.menu

    renders: list[str] = []
    real = saas.menu.render_template

    def counting(name: str, **context: Any) -> str:
        renders.append(name)
        return real(name, **context)

    monkeypatch.setattr(saas.menu, "render_template", counting)
    login(client, week.carer_user)
    first = client.get(f"/a/{week.agency.slug}/my/schedule")
    client.get(f"/a/{week.agency.slug}/my/schedule")
    assert renders.count("_menu_links.html") == 1  # each test's agency is new
    assert f'href="/a/{week.agency.slug}/my/schedule"' in first.text and "Switch agency" in first.text
    renders.clear()
    client.post("/language", data={"locale": "zh_CN", "next": f"/a/{week.agency.slug}/my/schedule"})
    chinese = client.get(f"/a/{week.agency.slug}/my/schedule")
    assert renders == ["_menu_links.html"]
    assert "切换机构" in chinese.text and "Switch agency" not in chinese.text
