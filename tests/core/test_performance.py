"""What a page costs, in what cannot drift with the machine: round trips to
PostgreSQL per page, the plans of the hot queries (read with EXPLAIN ANALYZE:
which index, how many rows), the columns a list loads and the URLs it
builds. Timings stay in the benchmarks (bench/)."""

from __future__ import annotations

import re
import runpy
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import g
from sqlalchemy import create_engine, event, func, select, text
from werkzeug.routing import MapAdapter

from saas import db
from saas.models import Membership
from saas.pagination import Keyset
from tenants.scheduling import queries, services
from tenants.scheduling.models import Visit
from tests.factories import login
from tests.scheduling.test_scheduling import World
from tests.sqlcount import count_round_trips

# the plans read here are the planner's for tables holding only this test's rows:
# `make test` runs this module in a session of its own (see the marker)
pytestmark = pytest.mark.plans

MAX_ROUND_TRIPS = 6
HISTORY_DAYS = 50


def second_client(world: World, name: str, at: str) -> Any:
    """Another client of the world's agency with an active plan, every day at `at`."""
    from tenants.clients import services as clients

    with db.tenant_scope(world.agency.id):
        client = clients.save_client(
            world.agency,
            clients.ClientData(
                full_name=name,
                consent_services=True,
                address="9 High Street",
                contacts=[clients.ContactData("Kit Carver", "son", "07700 900123")],
            ),
        )
        case = clients.open_case(world.agency, client, channel="phone", referrer="", materials="", by=None)
        today = clients.agency_today(world.agency)
        clients.record_assessment(
            case,
            method="interview",
            assessed_on=today,
            by=world.admin,
            today=today,
            summary="",
            domains={
                d: {"level": 2}
                for d in ("physical", "psychological", "social", "family_network", "quality_of_life")
            },
        )
        plan = clients.new_plan(case, by=world.coordinator)
        clients.update_plan(plan, clients.PlanFields("Eat well", None, "", None, today, None))
        clients.add_plan_item(plan, clients.PlanItemData(world.item.id, [1, 2, 3, 4, 5, 6, 7], at, 60))
        clients.submit_plan(plan, case, by=world.coordinator)
        clients.approve_plan(world.agency, plan, case, by=world.admin, role="admin")
        clients.activate_plan(plan, case, by=world.admin)
        db.session.commit()
    return plan


class History:
    """A carer with two clients, each seen every day: HISTORY_DAYS of completed visits,
    each with its service record (as in real use), and the coming weeks booked."""

    def __init__(self, factory: Any) -> None:
        now = datetime.now(UTC)
        with time_machine.travel(now - timedelta(days=HISTORY_DAYS), tick=True):
            world = World(factory, weekdays=(1, 2, 3, 4, 5, 6, 7))
            with db.tenant_scope(world.agency.id):
                world.agency.settings = {**world.agency.settings, "visit_window_days": 120}
                db.session.commit()
            world.activate()
            second = second_client(world, "Frank Miller", "11:00")
            self.carer_user, self.carer = world.carer(name="Cara Carer")
            with db.tenant_scope(world.agency.id):
                for plan in (world.plan, second):
                    assigned, refused = services.bulk_assign(
                        world.agency, plan, self.carer.id, by=world.coordinator
                    )
                    assert refused == 0 and assigned > HISTORY_DAYS
                db.session.commit()
        self.world = world
        self.agency = world.agency
        self.completed = 0
        self.recorded: set[Any] = set()  # the visits with a service record
        for visit in [v for v in world.visits() if v.ends_at < now]:
            self.complete(visit, f"Visit of {visit.local_day:%d %B} at {visit.starts_at:%H:%M}")
        assert self.completed >= 2 * (HISTORY_DAYS - 1)
        # the office has booked more this week than this carer does: visits not given to anyone yet
        today = services.local_now(self.agency).date()
        with db.tenant_scope(self.agency.id):
            for day in range(1, 8):
                for hour in (11, 13, 17):
                    services.add_one_off_visit(
                        self.agency,
                        world.client,
                        service_item_id=world.item.id,
                        day=today + timedelta(days=day),
                        start=f"{hour:02d}:30",
                        duration_minutes=30,
                        by=world.coordinator,
                    )
            db.session.commit()

    def complete(self, visit: Visit, notes: str) -> None:
        self.recorded.add(visit.id)
        with time_machine.travel(visit.starts_at + timedelta(minutes=1), tick=True):
            with db.tenant_scope(self.agency.id):
                visit = db.session.scalar(
                    select(Visit).where(Visit.id == visit.id).execution_options(populate_existing=True)
                )
                services.check_in(self.agency, visit, staff_id=self.carer.id)
                services.check_out(
                    self.agency,
                    visit,
                    services.RecordData(
                        ticked=[True, True],
                        what_was_done="Washed and dressed",
                        tools_used="",
                        outcome="",
                        notes=notes,
                        needs_attention=False,
                        reason="Checked out at once in this test.",
                    ),
                    staff_id=self.carer.id,
                    by=self.carer_user,
                )
                db.session.commit()
        self.completed += 1

    def booked_this_week(self) -> int:
        first, last = self.week()
        with db.tenant_scope(self.agency.id):
            return db.session.scalar(
                select(func.count())
                .select_from(Visit)
                .where(
                    Visit.starts_at >= services.at_local(self.agency, first, "00:00"),
                    Visit.starts_at < services.at_local(self.agency, last, "00:00"),
                )
            )

    def membership(self) -> Membership:
        with db.tenant_scope(self.agency.id):
            return db.session.scalar(select(Membership).where(Membership.user_id == self.carer_user.id))

    def week(self) -> tuple[Any, Any]:
        today = services.local_now(self.agency).date()
        return today, today + timedelta(days=7)


@pytest.fixture
def history(factory: Any) -> History:
    return History(factory)


def measured(client: Any, dbconn: Any, url: str, **kwargs: Any) -> tuple[Any, list[str]]:
    """The page's round trips once warm, from a transaction as fresh as in production."""
    assert client.get(url, **kwargs).status_code == 200
    db.clear_tenant_setting(dbconn)
    with count_round_trips() as trips:
        response = client.get(url, **kwargs)
    return response, trips.statements


def summary(statements: list[str]) -> str:
    return "\n".join(" ".join(s.split())[:160] for s in statements)


# -- round trips per page --------------------------------------------------------------


def test_the_carer_schedule_page_takes_at_most_six_round_trips(client, dbconn, history):
    login(client, history.carer_user)
    page, trips = measured(client, dbconn, f"/a/{history.agency.slug}/my/schedule")
    assert page.status_code == 200 and "Last time:" in page.text
    # and one INSERT logging the clients shown as read (not in the reading
    # statement itself: Citus refuses that INSERT ... SELECT under row-level security)
    assert len(trips) <= MAX_ROUND_TRIPS + 1, summary(trips)
    assert sum(s.startswith("INSERT INTO client_file_access") for s in trips) == 1, summary(trips)
    # the agency is set once per transaction, and nothing is sent before it is known
    assert [s for s in trips if s.startswith("SET")] == [f"SET LOCAL app.tenant_id = '{history.agency.id}'"]


def test_the_api_schedule_takes_at_most_six_round_trips(client, dbconn, factory, history):
    token = factory.api_token(history.membership())
    headers = {"Authorization": f"Bearer {token}"}
    answer, trips = measured(client, dbconn, "/api/v1/my/schedule", headers=headers)
    assert answer.status_code == 200 and len(answer.json["visits"]) >= 6
    assert len(trips) <= MAX_ROUND_TRIPS, summary(trips)


def test_the_agency_home_takes_at_most_six_round_trips(client, dbconn, factory):
    world = World(factory)
    login(client, world.coordinator)
    page, trips = measured(client, dbconn, f"/a/{world.agency.slug}/")
    assert page.status_code == 200
    assert len(trips) <= MAX_ROUND_TRIPS, summary(trips)


def test_the_unread_count_comes_with_the_membership_and_follows_reads(client, dbconn, factory):
    from saas.notifications.models import Notification
    from saas.notifications.reminders import Due, send_due

    world = World(factory)
    login(client, world.coordinator)
    with db.tenant_scope(world.agency.id):
        membership_id = db.session.scalar(
            select(Membership.id).where(Membership.user_id == world.coordinator.id)
        )

    def tell(count: int, start: int = 0) -> None:
        when = datetime.now(UTC).replace(microsecond=0)
        params = {"start": "09:00", "date": "2026-11-23"}
        with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
            send_due(
                [Due("visit.missed", f"v-{start + i}", when, (membership_id,), params) for i in range(count)]
            )

    def badge() -> str | None:
        page = client.get(f"/a/{world.agency.slug}/")
        found = re.search(r'data-testid="unread-count"[^>]*>([^<]+)<', page.text)
        return found.group(1) if found else None

    tell(2)
    assert badge() == "2"
    with db.tenant_scope(world.agency.id):
        first = db.session.scalar(select(Notification.id).where(Notification.membership_id == membership_id))
    client.post(f"/a/{world.agency.slug}/notifications/{first}/read")
    assert badge() == "1"
    # the count stops where the badge does: it costs the same with any number unread
    tell(120, start=10)
    assert badge() == "99+"


# -- the pool and the setting -------------------------------------------------------------


def test_checkout_sends_no_ping_and_replaces_a_connection_the_server_closed(app, dbconn):
    engine = db.get_engine()
    assert not engine.pool._pre_ping, "a pre-ping is a round trip on every checkout"
    with engine.connect() as conn:
        pid = conn.scalar(text("select pg_backend_pid()"))
    # the server ends the pooled connection (as a restart does) while it waits in the pool
    assert dbconn.scalar(text("select pg_terminate_backend(cast(:pid as integer))"), {"pid": pid})
    for _ in range(100):
        if not dbconn.scalar(text("select count(*) from pg_stat_activity where pid = :pid"), {"pid": pid}):
            break
        time.sleep(0.05)
    with count_round_trips() as trips, engine.connect() as conn:
        # every idle pooled connection is checked: the closed one is replaced, never handed out
        for _ in range(engine.pool.checkedin() + 1):
            assert conn.scalar(text("select 1")) == 1
    assert "PING" not in trips.statements


def test_the_agency_is_set_once_per_transaction(app, dbconn, factory):
    agency = factory.agency()
    with db.tenant_scope(agency.id), count_round_trips() as trips:
        db.session.scalar(select(Visit.id).limit(1))
        db.set_tenant(agency.id)
        db.session.scalar(select(Visit.id).limit(1))
        with db.session.begin_nested():
            db.session.scalar(select(Visit.id).limit(1))
        db.session.rollback()
    assert sum(s.startswith("SET LOCAL") for s in trips.statements) == 1, summary(trips.statements)


def test_a_rolled_back_savepoint_restores_the_agency_it_started_with(app, dbconn, factory):
    one, two = factory.agency(), factory.agency()
    setting = text("select current_setting('app.tenant_id', true)")
    with db.tenant_scope(one.id):
        assert db.session.scalar(setting) == str(one.id)
        nested = db.session.begin_nested()
        db.set_tenant(two.id)
        assert db.session.scalar(setting) == str(two.id)
        nested.rollback()
        db.set_tenant(one.id)  # known to be in place again: nothing is sent
        assert db.session.scalar(setting) == str(one.id)
        db.session.rollback()
    # a new transaction starts with no agency
    assert db.session.scalar(setting) in ("", None)
    db.session.rollback()


# -- the schedule's query ---------------------------------------------------------------------


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(_plan_nodes(child))
    return nodes


def _rows_read(node: dict[str, Any]) -> int:
    read = (
        node.get("Actual Rows", 0)
        + node.get("Rows Removed by Filter", 0)
        + node.get("Rows Removed by Index Recheck", 0)
    )
    return int(read * node.get("Actual Loops", 1))


@pytest.mark.explain
def test_the_schedule_reads_the_week_by_index_never_the_history(dbconn, history):
    first, last = history.week()
    with db.tenant_scope(history.agency.id):
        rows, plan = plan_of(
            lambda: queries.member_schedule(history.agency, history.membership().id, first, last), "LATERAL"
        )
        db.session.rollback()
    assert rows is not None and len(rows) >= 6
    nodes = _plan_nodes(plan)
    visits_read = {
        alias: [n for n in nodes if n.get("Alias") == alias and n.get("Relation Name") == "visits"]
        for alias in ("visits", "earlier")
    }
    (week_scan,) = visits_read["visits"]
    # an index scan bounded by the week's first and last moments (with statistics,
    # ix_visits_staff_start; the test's fresh tables have none, so the planner may
    # take the agency's index by time, which reads the agency's week)
    assert week_scan["Node Type"] == "Index Scan", week_scan
    assert week_scan["Index Name"] in ("ix_visits_staff_start", "ix_visits_start"), week_scan
    assert "starts_at >=" in week_scan["Index Cond"] and "starts_at <" in week_scan["Index Cond"]
    (last_record,) = visits_read["earlier"]
    assert last_record["Node Type"] == "Index Scan" and last_record["Scan Direction"] == "Backward"
    assert last_record["Index Name"] == "ix_visits_client_completed"
    week, in_the_week = len(rows), history.booked_this_week()
    history_size = history.completed
    assert history_size > 2 * in_the_week
    assert _rows_read(week_scan) <= in_the_week
    # one earlier visit per visit shown, for its last record
    assert _rows_read(last_record) <= week
    assert all(_rows_read(n) < history_size for n in nodes), "no step reads the client's history"


def test_last_time_is_the_clients_latest_record(dbconn, history):
    from tenants.clients.models import Client

    with db.tenant_scope(history.agency.id):
        names = dict(db.session.execute(select(Client.id, Client.full_name)).all())
    # the carer's own: the office's one-off visits of the coming days are on no one's schedule
    visits = [v for v in history.world.visits() if v.staff_file_id == history.carer.id]
    upcoming = [v for v in visits if v.starts_at > datetime.now(UTC)]
    done = upcoming[0]

    def latest(client_id: object) -> str:
        # only visits with a record: one in progress as the test runs has none yet
        recorded = [v for v in visits if v.client_id == client_id and v.id in history.recorded]
        last = max(recorded, key=lambda v: v.starts_at)
        return f"Visit of {last.local_day:%d %B} at {last.starts_at:%H:%M}"

    with db.tenant_scope(history.agency.id):
        before = queries.member_schedule(history.agency, history.membership().id, *history.week())
    latest_before = latest(done.client_id)
    history.complete(done, "Today: she asked for tea without sugar")
    with db.tenant_scope(history.agency.id):
        rows = queries.member_schedule(history.agency, history.membership().id, *history.week())

    def card(visit: Visit, rows: list[queries.ScheduleRow] = rows) -> queries.ScheduleRow:
        return next(r for r in rows if r.id == visit.id)

    # before: the client's latest record from the history
    assert card(done, before).last_notes == latest_before
    # what was written today, on the visit just checked out (the carer is sent back to the
    # schedule: it is the card they read) and on the next ones to the same client
    following = next(v for v in upcoming if v.client_id == done.client_id and v.starts_at > done.starts_at)
    assert card(done).last_notes == card(following).last_notes == "Today: she asked for tea without sugar"
    # another client's card shows that client's own latest record
    other = next(v for v in upcoming if v.client_id != done.client_id)
    assert card(other).client == names[other.client_id]
    assert card(other).last_notes == latest(other.client_id) != card(done).last_notes


def test_the_schedule_loads_only_the_columns_it_shows(app_ctx, factory):
    agency = factory.agency()
    sql = str(queries.week_statement(agency, agency.id, datetime.now(UTC).date(), datetime.now(UTC).date()))
    shown = {"id", "starts_at", "ends_at", "status", "checklist", "checked_in_at", "checked_out_at"}
    keys = {"tenant_id", "client_id", "service_item_id", "staff_file_id"}
    assert set(re.findall(r"\bvisits\.(\w+)", sql)) <= shown | keys
    assert set(re.findall(r"\bearlier\.(\w+)", sql)) <= {
        "id",
        "tenant_id",
        "client_id",
        "status",
        "starts_at",
    }


def test_row_links_cost_the_same_for_a_longer_schedule(client, dbconn, history, monkeypatch):
    builds: list[str] = []
    real_build = MapAdapter.build

    def counting(self: MapAdapter, endpoint: str, *args: Any, **kwargs: Any) -> str:
        builds.append(endpoint)
        return real_build(self, endpoint, *args, **kwargs)

    login(client, history.carer_user)
    url = f"/a/{history.agency.slug}/my/schedule"
    client.get(url)  # the menu's links are built once per process (saas.menu)
    monkeypatch.setattr(MapAdapter, "build", counting)
    long_page = client.get(url)
    long_builds = len(builds)
    visits = long_page.text.count('class="visit-card')
    assert visits >= 6
    # half the week goes to another carer: the page has fewer rows, and builds as many URLs
    _other_user, other = history.world.carer(name="Other Carer")
    with db.tenant_scope(history.agency.id):
        # only visits still to come can go to another carer (one begun today cannot)
        upcoming = [
            row
            for row in queries.staff_schedule(history.agency, history.carer.id, *history.week())
            if row.starts_at > datetime.now(UTC)
        ]
        for row in upcoming[: visits // 2]:
            visit = db.session.scalar(select(Visit).where(Visit.id == row.id))
            services.assign(history.agency, visit, other.id, by=history.world.coordinator, role="coordinator")
        db.session.commit()
    builds.clear()
    short_page = client.get(url)
    assert short_page.text.count('class="visit-card') < visits
    assert len(builds) == long_builds


# -- the web server ------------------------------------------------------------------------------


def test_gunicorn_preloads_the_app_and_each_worker_starts_clean(app, monkeypatch):
    from saas import jobs

    config = runpy.run_path(str(Path(__file__).parents[2] / "deploy" / "gunicorn.conf.py"))
    assert config["preload_app"] is True, "each recycled worker would import the app again"
    # recycled now and then, not every few seconds at a busy worker's rate (a restart shows in the p99)
    assert config["max_requests"] >= 10_000
    engine = create_engine(str(db.get_engine().url.render_as_string(hide_password=False)))
    monkeypatch.setattr(db, "_engine", engine)
    with engine.connect() as conn:
        conn.scalar(text("select 1"))
    jobs._redis.setdefault("redis://example.invalid/0", object())  # type: ignore[arg-type]
    assert engine.pool.checkedin() == 1
    config["post_fork"](object(), object())
    # no connection of the master is used by a worker, no Redis client is shared
    assert engine.pool.checkedin() == 0
    assert "redis://example.invalid/0" not in jobs._redis
    engine.dispose()


# -- plans, for any page's statement ------------------------------------------------------------


def plan_of(run: Any, marker: str) -> tuple[Any, dict[str, Any]]:
    """Run `run()` in the current agency's scope and EXPLAIN ANALYZE the one
    statement it sent that contains `marker`: (what run returned, the plan)."""
    captured: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if marker in statement:
            captured.append((statement, parameters))

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", capture)
    # undone before it runs again under EXPLAIN ANALYZE (which writes what it writes)
    nested = db.session.begin_nested()
    try:
        result = run()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
        nested.rollback()
    ((statement, parameters),) = captured
    # the test's tables are small and have no statistics, where reading a whole
    # table and sorting it is cheapest: the plan is read as the planner makes it
    # for a large table, where neither is (a sort that remains has no other way)
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    db.session.execute(text("SET LOCAL enable_sort = off"))
    (plan,) = (
        db.session.connection()
        .exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
        .scalar()
    )
    db.session.execute(text("SET LOCAL enable_seqscan = on"))
    db.session.execute(text("SET LOCAL enable_sort = on"))
    return result, plan["Plan"]


def scans_of(plan: dict[str, Any], relation: str) -> list[dict[str, Any]]:
    return [n for n in _plan_nodes(plan) if n.get("Relation Name") == relation]


# -- the complaints inbox ----------------------------------------------------------------------


def feedback_history(factory: Any, *, open_items: int, closed_items: int) -> World:
    """An agency with open opinions and complaints and an archive of closed ones."""
    from tenants.feedback import services as feedback
    from tenants.feedback.services import FeedbackData

    world = World(factory)
    with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
        for i in range(closed_items):
            item = feedback.submit_feedback(
                world.agency, FeedbackData(kind="opinion", description=f"Old opinion {i}"), channel="public"
            )
            feedback.transition(item, "closed", by=world.coordinator)
        for i in range(open_items):
            feedback.submit_feedback(
                world.agency,
                FeedbackData(kind="suggestion", description=f"Open suggestion {i} " + "word " * 40),
                channel="phone",
            )
        db.session.commit()
    return world


def test_the_complaints_inbox_takes_at_most_six_round_trips(client, dbconn, factory):
    world = feedback_history(factory, open_items=4, closed_items=3)
    login(client, world.coordinator)
    for url in (f"/a/{world.agency.slug}/feedback/inbox", f"/a/{world.agency.slug}/feedback/inbox?closed=1"):
        page, trips = measured(client, dbconn, url)
        assert page.text.count('data-testid="feedback-row"') >= 4
        assert len(trips) <= MAX_ROUND_TRIPS, summary(trips)


# an Incremental Sort (the index gives the deadline's order, the id breaks ties)
# takes rows from below in groups of at least 32 before it sorts them
SORT_GROUP = 32


@pytest.mark.explain
def test_the_inbox_reads_a_page_by_index_never_the_closed_history(dbconn, factory, monkeypatch):
    from tenants.feedback import queries as inbox

    monkeypatch.setattr(inbox, "INBOX_PAGE", 3)
    open_items, closed_items = 40, 30
    world = feedback_history(factory, open_items=open_items, closed_items=closed_items)
    bound = 3 + 1 + SORT_GROUP
    assert bound < open_items
    with db.tenant_scope(world.agency.id):
        page, plan = plan_of(lambda: inbox.inbox(with_closed=False, start=None), "feedback_items")
        (scan,) = scans_of(plan, "feedback_items")
        # the partial index holds only open items: the closed history is never read
        assert scan["Node Type"] == "Index Scan" and scan["Index Name"] == "ix_feedback_items_open_due"
        assert _rows_read(scan) <= bound and len(page.rows) == 3 and page.next
        after, plan = plan_of(lambda: inbox.inbox(with_closed=False, start=page.next), "feedback_items")
        (scan,) = scans_of(plan, "feedback_items")
        assert _rows_read(scan) <= bound and "due_at >=" in scan["Index Cond"]
        assert len(after.rows) == 3 and {r.id for r in page.rows}.isdisjoint(r.id for r in after.rows)
        # page after page, every open item once, by deadline
        seen, start = [], None
        while True:
            page = inbox.inbox(with_closed=False, start=start)
            seen += page.rows
            if page.next is None:
                break
            start = page.next
        assert len(seen) == len({r.id for r in seen}) == open_items
        assert [r.due_at for r in seen] == sorted(r.due_at for r in seen)
        # with the closed ones: the latest received first, a page at a time, backwards on its index
        everything, plan = plan_of(lambda: inbox.inbox(with_closed=True, start=None), "feedback_items")
        (scan,) = scans_of(plan, "feedback_items")
        assert scan["Index Name"] == "ix_feedback_items_received" and scan["Scan Direction"] == "Backward"
        assert _rows_read(scan) <= bound
        seen, start = [], None
        while True:
            page = inbox.inbox(with_closed=True, start=start)
            seen += page.rows
            if page.next is None:
                break
            start = page.next
        assert len(seen) == len({r.id for r in seen}) == open_items + closed_items
        assert [r.received_at for r in seen] == sorted((r.received_at for r in seen), reverse=True)
        db.session.rollback()


def test_the_inbox_loads_only_the_columns_it_shows(app_ctx):
    from tenants.feedback import queries as inbox

    for stmt in (inbox.open_statement(None), inbox.everything_statement(None)):
        sql = str(stmt)
        shown = {"id", "received_at", "kind", "contact_name", "contact", "confidential", "status", "due_at"}
        # the sender's and the client's names are read by the keys the rows hold
        keys = {"tenant_id", "membership_id", "client_id"}
        assert set(re.findall(r"\bfeedback_items\.(\w+)", sql)) <= shown | keys | {
            "responded_at",
            "description",
        }
        # the description cut where the page cuts it
        assert "left(feedback_items.description" in sql


def test_inbox_links_cost_the_same_for_a_longer_page(client, dbconn, factory, monkeypatch):
    builds: list[str] = []
    real_build = MapAdapter.build

    def counting(self: MapAdapter, endpoint: str, *args: Any, **kwargs: Any) -> str:
        builds.append(endpoint)
        return real_build(self, endpoint, *args, **kwargs)

    short = feedback_history(factory, open_items=2, closed_items=0)
    long = feedback_history(factory, open_items=12, closed_items=0)
    counts = []
    for world in (short, long):
        login(client, world.coordinator)
        monkeypatch.setattr(MapAdapter, "build", counting)
        page = client.get(f"/a/{world.agency.slug}/feedback/inbox")
        monkeypatch.setattr(MapAdapter, "build", real_build)
        assert page.text.count('data-testid="feedback-row"') in (2, 12)
        counts.append(len(builds))
        builds.clear()
        client.post("/logout")
    assert counts[0] == counts[1]


# -- the quality summary page -----------------------------------------------------------------

QUALITY_MONTH = date(2025, 3, 1)


def test_the_quality_summary_page_takes_at_most_six_round_trips(app, client, dbconn, factory):
    from tenants.quality import jobs
    from tenants.quality import queries as quality
    from tenants.quality import services as summaries
    from tenants.quality.models import QualitySummary
    from tests.quality.test_quality import generate, make_world

    world = make_world(factory)
    generate(world, QUALITY_MONTH)
    with time_machine.travel(datetime(2025, 4, 2, 10, 0, tzinfo=UTC), tick=False):
        with app.app_context(), db.tenant_scope(world.agency.id):
            built, queued = summaries.request_build(world.agency, QUALITY_MONTH)
            db.session.commit()
            jobs.build(summary_id=str(built.id))
            db.session.commit()
            built = db.session.scalar(select(QualitySummary).where(QualitySummary.id == built.id))
    planned = built.figures["visits"]["planned"]
    for i in range(5):  # comparable agencies with their own summary of the month
        peer = factory.agency(name=f"Peer {i}")
        with db.tenant_scope(peer.id):
            db.session.add(
                QualitySummary(
                    month=QUALITY_MONTH,
                    state="done",
                    figures={
                        "visits": {"planned": planned},
                        "kpis": {k.key: {"value": 10.0 * i} for k in summaries.targets.KPIS},
                    },
                    built_at=db.utcnow(),
                )
            )
            db.session.commit()
    quality.forget_peer_positions()
    login(client, world.admin)
    url = f"/a/{world.agency.slug}/quality/{built.id}"
    page, trips = measured(client, dbconn, url)
    assert "better than or equal to" in page.text
    # the position among peers was read by the first view and kept: no second transaction
    assert not any("saas_platform_reader" in s for s in trips)
    assert len(trips) <= MAX_ROUND_TRIPS, summary(trips)
    archive, trips = measured(client, dbconn, f"/a/{world.agency.slug}/quality/")
    assert 'data-testid="quality-row"' in archive.text
    assert len(trips) <= MAX_ROUND_TRIPS, summary(trips)
    # the archive lists the months without loading the figures behind them
    (listed,) = [s for s in trips if "FROM quality_summaries" in s]
    assert re.findall(r"quality_summaries\.figures(.)", listed) == ["["], listed


# -- the client's file -------------------------------------------------------------------------


def file_reads(history: History, client_id: Any) -> int:
    from tenants.clients.models import ClientFileAccess

    with db.tenant_scope(history.agency.id):
        return db.session.scalar(
            select(func.count()).select_from(ClientFileAccess).where(ClientFileAccess.client_id == client_id)
        )


def test_the_client_file_takes_at_most_six_round_trips_and_logs_every_read(client, dbconn, history):
    login(client, history.world.coordinator)
    person = history.world.client
    url = f"/a/{history.agency.slug}/clients/{person.id}"
    page, trips = measured(client, dbconn, url)
    assert "Edith Carver" in page.text and "Washed and dressed" in page.text
    assert len(trips) <= MAX_ROUND_TRIPS, summary(trips)
    # the read is logged by the statement that reads the file, and committed
    (file_read,) = [s for s in trips if "client_file_access" in s]
    assert "INSERT INTO client_file_access" in file_read and "FROM clients" in file_read
    assert trips[-1] in ("COMMIT", "RELEASE SAVEPOINT") or trips[-1].startswith("RELEASE SAVEPOINT")
    assert file_reads(history, person.id) == 2
    older = re.search(r'href="([^"]+)" data-testid="file-older"', page.text)
    assert older, "a long file has a link to its earlier entries"
    earlier, trips = measured(client, dbconn, older.group(1).replace("&amp;", "&"))
    assert len(trips) <= MAX_ROUND_TRIPS, summary(trips)
    assert file_reads(history, person.id) == 4, "every page of the file is a read"


def test_another_agencys_client_file_is_not_found_and_not_logged(client, dbconn, factory, history):
    other = World(factory)
    login(client, other.coordinator)
    assert client.get(f"/a/{other.agency.slug}/clients/{history.world.client.id}").status_code == 404
    assert file_reads(history, history.world.client.id) == 0


def test_the_client_file_pages_through_its_history_newest_first(client, dbconn, history, monkeypatch):
    from tenants.clients.queries import file as files

    monkeypatch.setattr(files, "TIMELINE_PAGE", 7)
    login(client, history.world.coordinator)
    person = history.world.client
    url = f"/a/{history.agency.slug}/clients/{person.id}"
    pages, seen = 0, []
    while url:
        page = client.get(url)
        assert page.status_code == 200
        pages += 1
        shown = re.findall(
            r'<li><time datetime="([^"]+)">[^<]*</time>\s*(?:<a href="([^"]*)">)?([^<]*)<', page.text
        )
        assert len(shown) <= 7
        seen += shown
        older = re.search(r'href="([^"]+)" data-testid="file-older"', page.text)
        url = older.group(1).replace("&amp;", "&") if older else None
    # every visit that took place, once, and the case's own lines, newest first
    with db.tenant_scope(history.agency.id):
        visits = db.session.scalars(
            select(Visit)
            .where(
                Visit.client_id == person.id, Visit.starts_at < datetime.now(UTC), Visit.status != "scheduled"
            )
            .order_by(Visit.starts_at.desc())
        ).all()
    visit_lines = [s for s in seen if "/visits/" in s[1]]
    assert [link.rsplit("/", 1)[-1] for _day, link, _title in visit_lines] == [str(v.id) for v in visits]
    assert len(visits) >= HISTORY_DAYS - 1 and pages >= len(visits) // 7
    days = [day for day, _link, _title in seen]
    assert days == sorted(days, reverse=True)
    titles = [title.strip() for _day, _link, title in seen]
    assert any(t.startswith("Case ") and t.endswith(" opened") for t in titles)
    assert any(t.startswith("Needs assessment") for t in titles)
    assert any(t.startswith("Service plan v1") for t in titles)
    assert len(seen) == len(set(seen))
    assert file_reads(history, person.id) == pages


@pytest.mark.explain
def test_the_client_file_reads_a_page_of_visits_by_index_never_the_history(dbconn, history, monkeypatch):
    from tenants.clients.queries import file as files

    monkeypatch.setattr(files, "TIMELINE_PAGE", 5)
    person = history.world.client
    with history.world.factory.app.test_request_context(), db.tenant_scope(history.agency.id):
        g.agency = history.agency  # as an agency's request has it: its links need no slug
        found, plan = plan_of(
            lambda: files.client_file(history.agency, person.id, history.world.coordinator.id, None),
            "client_file_access",
        )
        assert found is not None and found.older and len(found.timeline) == 5
        # an earlier page starts where the page before ended, on the index
        _earlier, earlier_plan = plan_of(
            lambda: files.client_file(
                history.agency, person.id, history.world.coordinator.id, Keyset.parse(found.older)
            ),
            "client_file_access",
        )
        past = db.session.scalar(
            select(func.count())
            .select_from(Visit)
            .where(Visit.client_id == person.id, Visit.starts_at < datetime.now(UTC))
        )
        db.session.rollback()
    # the page, one more to know there is more, and one sort group
    bound = 5 + 1 + SORT_GROUP
    assert bound < past
    (visits_scan,) = scans_of(plan, "visits")
    assert visits_scan["Node Type"] == "Index Scan" and visits_scan["Scan Direction"] == "Backward"
    # by the client and time (with statistics, the client's index; the test's
    # fresh tables have none, so the planner may take the agency's by time and
    # pass over the other client's visits of the same days)
    assert visits_scan["Index Name"] in ("ix_visits_client_start", "ix_visits_start"), visits_scan
    if visits_scan["Index Name"] == "ix_visits_client_start":
        assert "client_id" in visits_scan["Index Cond"]
    assert "starts_at <" in visits_scan["Index Cond"]
    # never the client's history
    assert visits_scan["Actual Rows"] * visits_scan["Actual Loops"] <= bound
    for records in scans_of(plan, "service_records"):
        assert records["Node Type"] == "Index Scan" and _rows_read(records) <= bound
    (earlier_scan,) = scans_of(earlier_plan, "visits")
    assert "starts_at <=" in earlier_scan["Index Cond"]
    assert earlier_scan["Actual Rows"] * earlier_scan["Actual Loops"] <= bound


def test_the_client_file_costs_the_same_with_more_visits(client, dbconn, factory, history):
    empty = World(factory)
    counts = []
    for agency, person, user in (
        (empty.agency, empty.client, empty.coordinator),
        (history.agency, history.world.client, history.world.coordinator),
    ):
        login(client, user)
        _page, trips = measured(client, dbconn, f"/a/{agency.slug}/clients/{person.id}")
        counts.append(len(trips))
        client.post("/logout")
    assert counts[0] == counts[1]
