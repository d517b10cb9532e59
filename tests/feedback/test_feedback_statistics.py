"""The satisfaction statistics page: every figure against an independent SQL
query over the same data (and Python's `statistics` on a small set), the
chart, the date range and its refusals, the statement count, who may see it."""

from __future__ import annotations

import random
import re
import statistics as pystats
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import text

from saas import db
from saas.models import Agency, Role
from saas.settings import update_settings
from tenants.catalogue.models import ServiceCategory, ServiceItem
from tenants.clients.models import Client
from tenants.feedback import statistics as stats
from tenants.feedback.models import DIMENSIONS, FeedbackItem, VisitRating
from tenants.scheduling.models import Visit
from tenants.staffing.models import StaffFile, Team
from tests.factories import login
from tests.sqlcount import count_statements

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"
CARERS = (("Ann Lee", "Blue team"), ("Bob Chan", "Blue team"), ("Cai Wen", "Green team"), ("Dee Roy", None))
ITEMS = ("Bathing", "Shopping", "Company")
UNRATED_MONTH = -3  # a month with completed visits and no rating: a gap in the trend


@dataclass
class Data:
    agency: Agency
    admin: object
    coordinator: object
    carer_user: object
    staff: dict[str, StaffFile] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    items: dict[str, ServiceItem] = field(default_factory=dict)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def build(
    factory, *, now: datetime, today: date | None = None, scale: int = 1, tz: str = "Europe/London"
) -> Data:
    """An agency with teams, carers (one without a team), service items and,
    over several months: completed, cancelled and scheduled visits, rated and
    unrated, one without a carer; complaints and other opinions answered on
    time, late, overdue and waiting, in several categories."""
    agency = factory.agency(tz=tz)
    today = today or agency.today()
    admin, _ = factory.member(agency, Role.ADMIN, name="Ada Admin")
    coordinator, _ = factory.member(agency, Role.COORDINATOR, name="Cora Coordinator")
    data = Data(agency, admin, coordinator, None)
    people = {}
    for name, _team in CARERS:
        people[name] = factory.member(agency, Role.CARER, name=name)
    data.carer_user = people[CARERS[0][0]][0]
    with db.tenant_scope(agency.id):
        for team_name in {t for _, t in CARERS if t}:
            data.teams[team_name] = Team(name=team_name)
            db.session.add(data.teams[team_name])
        db.session.flush()
        for name, team_name in CARERS:
            staff = StaffFile(
                membership_id=people[name][1].id,
                staff_role="carer",
                employment_start=date(2020, 1, 1),
                team_id=data.teams[team_name].id if team_name else None,
            )
            data.staff[name] = staff
            db.session.add(staff)
        category = ServiceCategory(name="Home help")
        db.session.add(category)
        db.session.flush()
        for item_name in ITEMS:
            data.items[item_name] = ServiceItem(category_id=category.id, name=item_name)
            db.session.add(data.items[item_name])
        clients = [Client(full_name=f"Client {i}", consent_services=True) for i in range(2)]
        db.session.add_all(clients)
        db.session.flush()

        staff_list = [*data.staff.values(), None]  # index 4: a visit with no carer recorded
        item_list = list(data.items.values())
        this_month = today.replace(day=1)
        for offset in (0, -1, -2, -3, -4, -5, -14):
            month = add_months(this_month, offset)
            rng = random.Random(f"{offset}")
            for j in range(9 * scale):
                day = month + timedelta(days=(j * 3) % (today.day if offset == 0 else 28))
                starts = datetime.combine(day, time(9), tzinfo=ZoneInfo(tz))
                staff = staff_list[(j + offset) % 5]
                status = {5: "cancelled", 6: "scheduled"}.get(j % 7, "completed")
                visit = Visit(
                    client_id=clients[j % 2].id,
                    service_item_id=item_list[j % 3].id,
                    local_day=day,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    status=status,
                    staff_file_id=staff.id if staff else None,
                )
                db.session.add(visit)
                db.session.flush()
                # j % 4 == 3: completed but not rated; a cancelled visit with a rating is not counted
                rated = (status == "completed" and j % 4 != 3 and offset != UNRATED_MONTH) or (
                    status == "cancelled" and j == 5
                )
                if rated:
                    db.session.add(
                        VisitRating(
                            visit_id=visit.id,
                            client_id=visit.client_id,
                            staff_file_id=visit.staff_file_id,
                            channel="portal",
                            **{d: rng.randint(1, 5) for d in DIMENSIONS},
                        )
                    )

        def item(kind, category, received, *, due_days=3, responded=None, status="received"):
            db.session.add(
                FeedbackItem(
                    kind=kind,
                    category=category,
                    description="Something to say",
                    channel="phone",
                    received_at=received,
                    due_at=received + timedelta(days=due_days),
                    responded_at=responded,
                    status=status,
                    response="Done" if responded else "",
                )
            )

        for k in range(scale):
            early = now - timedelta(days=min(10, today.day - 1), hours=k)
            item("complaint", "Lateness", early, responded=early + timedelta(days=1), status="responded")
            item("complaint", "Lateness", early, responded=early + timedelta(days=5), status="closed")
            item("complaint", "Lateness", now - timedelta(days=5, hours=k), status="investigating")  # overdue
            item("complaint", "Lateness", now - timedelta(hours=1 + k))  # waiting
            item("complaint", "Rudeness", early, responded=early + timedelta(hours=5), status="closed")
            item("complaint", "", now - timedelta(days=4, hours=k), status="acknowledged")  # overdue
            item("opinion", "Food", early, responded=early + timedelta(days=2), status="responded")
            item("suggestion", "", now - timedelta(hours=2 + k))
            item("praise", "", early, responded=early, status="closed")
            item("complaint", "Lateness", now - timedelta(days=70 + k), responded=now - timedelta(days=60))
        db.session.commit()
    return data


@pytest.fixture
def world(factory):
    with time_machine.travel(NOW, tick=False):
        yield build(factory, today=date(2026, 11, 21), now=NOW)


def scoped(data: Data):
    return db.tenant_scope(data.agency.id)


def sql(query: str, **params):
    return db.session.execute(text(query), params).mappings().all()


# -- the independent SQL ------------------------------------------------------------------------

SCORE_COLUMNS = ", ".join(
    f"avg(r.{d})::float8 AS {d}_mean, stddev_samp(r.{d})::float8 AS {d}_sd" for d in DIMENSIONS
)
OVERALL = "(r.attitude + r.process + r.effect + r.environment + r.timeliness) / 5.0"
FROM_COMPLETED = """
    FROM visits v
    LEFT JOIN visit_ratings r ON r.tenant_id = v.tenant_id AND r.visit_id = v.id
    WHERE v.tenant_id = :t AND v.status = 'completed' AND v.local_day >= :s AND v.local_day <= :e
"""


def expected_monthly(data: Data, start: date, end: date):
    params = {"t": data.agency.id, "s": start, "e": end}
    select_list = f"""count(*) AS completed, count(r.id) AS n, {SCORE_COLUMNS},
        avg({OVERALL})::float8 AS overall_mean, stddev_samp({OVERALL})::float8 AS overall_sd"""
    months = sql(
        f"SELECT date_trunc('month', v.local_day)::date AS month, {select_list} {FROM_COMPLETED} GROUP BY 1",
        **params,
    )
    total = sql(f"SELECT {select_list} {FROM_COMPLETED}", **params)[0]
    return {row["month"]: row for row in months}, total


def assert_figures(figures: stats.Figures, row, *, with_sd: bool = True) -> None:
    assert (figures.completed, figures.n) == (row["completed"], row["n"])
    rate = row["n"] / row["completed"] if row["completed"] else None
    assert figures.response_rate == pytest.approx(rate)
    for m in stats.MEASURES:
        assert figures.means[m] == pytest.approx(row[f"{m}_mean"], abs=1e-9), m
        if with_sd:
            assert figures.sds[m] == pytest.approx(row[f"{m}_sd"], abs=1e-9), m


# -- ratings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 11, 1), date(2026, 11, 30)),
        (date(2026, 6, 1), date(2026, 11, 30)),
        (date(2025, 9, 1), date(2026, 11, 30)),
    ],
)
def test_monthly_figures_equal_an_independent_query(world, app, start, end):
    with app.test_request_context(), scoped(world):
        result = stats.monthly(start, end)
        months, total = expected_monthly(world, start, end)
    assert set(result.by_month) == set(months)
    for month, row in months.items():
        assert_figures(result.by_month[month], row)
    assert_figures(result.total, total)
    assert result.total.completed > result.total.n > 0, "some completed visits are not rated"
    if start.year == 2025:
        unrated = add_months(date(2026, 11, 1), UNRATED_MONTH)
        assert result.by_month[unrated].n == 0 and result.by_month[unrated].means["attitude"] is None


def test_only_completed_visits_and_their_ratings_count(world, app):
    with app.test_request_context(), scoped(world):
        result = stats.monthly(date(2026, 11, 1), date(2026, 11, 30))
        all_ratings = sql(
            "SELECT count(*) AS n FROM visit_ratings r"
            " JOIN visits v ON v.tenant_id = r.tenant_id AND v.id = r.visit_id "
            "WHERE v.local_day BETWEEN '2026-11-01' AND '2026-11-30'"
        )[0]["n"]
    assert result.total.n == all_ratings - 1, "the rating of the cancelled visit is left out"


BREAKDOWN_SQL = {
    "carer": (
        "v.staff_file_id AS key, u.name AS name",
        "LEFT JOIN staff_files s ON s.tenant_id = v.tenant_id AND s.id = v.staff_file_id "
        "LEFT JOIN memberships m ON m.tenant_id = s.tenant_id AND m.id = s.membership_id "
        "LEFT JOIN users u ON u.id = m.user_id",
        "v.staff_file_id, u.name",
    ),
    "service_item": (
        "i.id AS key, i.name AS name",
        "JOIN service_items i ON i.tenant_id = v.tenant_id AND i.id = v.service_item_id",
        "i.id, i.name",
    ),
    "team": (
        "t.id AS key, t.name AS name",
        "LEFT JOIN staff_files s ON s.tenant_id = v.tenant_id AND s.id = v.staff_file_id "
        "LEFT JOIN teams t ON t.tenant_id = s.tenant_id AND t.id = s.team_id",
        "t.id, t.name",
    ),
}


@pytest.mark.parametrize("by", ["carer", "service_item", "team"])
def test_breakdowns_equal_an_independent_query(world, app, by):
    start, end = date(2026, 6, 1), date(2026, 11, 30)
    keys, joins, group = BREAKDOWN_SQL[by]
    with app.test_request_context(), scoped(world):
        rows = stats.breakdown(by, start, end)
        expected = sql(
            f"""SELECT {keys}, count(*) AS completed, count(r.id) AS n,
                {", ".join(f"avg(r.{d})::float8 AS {d}_mean" for d in DIMENSIONS)},
                avg({OVERALL})::float8 AS overall_mean
            FROM visits v
            LEFT JOIN visit_ratings r ON r.tenant_id = v.tenant_id AND r.visit_id = v.id
            {joins}
            WHERE v.tenant_id = :t AND v.status = 'completed' AND v.local_day BETWEEN :s AND :e
            GROUP BY {group}""",
            t=world.agency.id,
            s=start,
            e=end,
        )
    by_key = {row["key"]: row for row in expected}
    assert [r.key for r in rows] and {r.key for r in rows} == set(by_key)
    for r in rows:
        assert r.name == by_key[r.key]["name"]
        assert_figures(r.figures, by_key[r.key], with_sd=False)
    overall = [r.figures.means["overall"] for r in rows]
    rated = [v for v in overall if v is not None]
    assert rated == sorted(rated, reverse=True) and overall[: len(rated)] == rated, "best first, unrated last"
    names = {r.name for r in rows}
    if by == "carer":
        assert {"Ann Lee", "Bob Chan", "Cai Wen", "Dee Roy", None} == names  # None: no carer recorded
    elif by == "team":
        assert {"Blue team", "Green team", None} == names  # None: a carer without a team, or no carer
    else:
        assert set(ITEMS) == names


def test_correlations_equal_an_independent_query(world, app):
    start, end = date(2026, 6, 1), date(2026, 11, 30)
    pairs = [(a, b) for i, a in enumerate(DIMENSIONS) for b in DIMENSIONS[i:]]
    with app.test_request_context(), scoped(world):
        result = stats.correlations(start, end, minimum=3)
        row = sql(
            "SELECT count(*) AS n, "
            + ", ".join(f"corr(r.{a}, r.{b})::float8 AS {a}_{b}" for a, b in pairs)
            + " FROM visit_ratings r JOIN visits v ON v.tenant_id = r.tenant_id AND v.id = r.visit_id"
            " WHERE r.tenant_id = :t AND v.status = 'completed' AND v.local_day BETWEEN :s AND :e",
            t=world.agency.id,
            s=start,
            e=end,
        )[0]
    assert result.n == row["n"] >= 3 and result.enough
    for a, b in pairs:
        assert row[f"{a}_{b}"] is not None
        assert result.r[(a, b)] == pytest.approx(row[f"{a}_{b}"], abs=1e-9)
        assert result.r[(b, a)] == result.r[(a, b)]
    assert result.r[("attitude", "attitude")] == pytest.approx(1.0)


def test_a_small_set_equals_pythons_statistics(factory, app):
    """Mean, sample standard deviation and Pearson's r of six ratings, by hand."""
    with time_machine.travel(NOW, tick=False):
        data = build(factory, today=date(2026, 11, 21), now=NOW, scale=0)  # people and catalogue only
        samples = [
            (5, 4, 3, 5, 4),
            (2, 3, 4, 1, 5),
            (4, 4, 4, 4, 3),
            (1, 5, 2, 3, 3),
            (3, 2, 5, 2, 1),
            (5, 5, 1, 4, 2),
        ]
        with app.test_request_context(), scoped(data):
            client = Client(full_name="Only Client", consent_services=True)
            db.session.add(client)
            db.session.flush()
            for i, values in enumerate(samples):
                starts = datetime(2026, 11, 2 + i, 9, tzinfo=UTC)
                visit = Visit(
                    client_id=client.id,
                    service_item_id=data.items["Bathing"].id,
                    local_day=starts.date(),
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    status="completed",
                )
                db.session.add(visit)
                db.session.flush()
                db.session.add(
                    VisitRating(
                        visit_id=visit.id,
                        client_id=client.id,
                        channel="portal",
                        **dict(zip(DIMENSIONS, values, strict=True)),
                    )
                )
            db.session.commit()
            total = stats.monthly(date(2026, 11, 1), date(2026, 11, 30)).total
            corr = stats.correlations(date(2026, 11, 1), date(2026, 11, 30), minimum=3)
    columns = {d: [s[i] for s in samples] for i, d in enumerate(DIMENSIONS)}
    overall = [sum(s) / 5 for s in samples]
    assert total.n == total.completed == 6 and total.response_rate == 1
    for d, column in columns.items():
        assert total.means[d] == pytest.approx(pystats.fmean(column))
        assert total.sds[d] == pytest.approx(pystats.stdev(column))
    assert total.means["overall"] == pytest.approx(pystats.fmean(overall))
    assert total.sds["overall"] == pytest.approx(pystats.stdev(overall))
    for a in DIMENSIONS:
        for b in DIMENSIONS:
            assert corr.r[(a, b)] == pytest.approx(pystats.correlation(columns[a], columns[b]))


def test_correlation_needs_enough_ratings_and_some_variance(factory, app):
    with time_machine.travel(NOW, tick=False):
        data = build(factory, today=date(2026, 11, 21), now=NOW, scale=0)
        with app.test_request_context(), scoped(data):
            client = Client(full_name="Only Client", consent_services=True)
            db.session.add(client)
            db.session.flush()
            for i, values in enumerate([(4, 1, 2, 3, 5), (4, 2, 3, 1, 5), (4, 5, 1, 2, 4)]):
                starts = datetime(2026, 11, 2 + i, 9, tzinfo=UTC)
                visit = Visit(
                    client_id=client.id,
                    service_item_id=data.items["Bathing"].id,
                    local_day=starts.date(),
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    status="completed",
                )
                db.session.add(visit)
                db.session.flush()
                db.session.add(
                    VisitRating(
                        visit_id=visit.id,
                        client_id=client.id,
                        channel="portal",
                        **dict(zip(DIMENSIONS, values, strict=True)),
                    )
                )
            db.session.commit()
            enough = stats.correlations(date(2026, 11, 1), date(2026, 11, 30), minimum=3)
            too_few = stats.correlations(date(2026, 11, 1), date(2026, 11, 30), minimum=4)
            empty = stats.correlations(date(2026, 10, 1), date(2026, 10, 31), minimum=3)
    # attitude is always 4: no variance, so no correlation with it (not a 0, not an error)
    assert enough.enough and all(enough.r[("attitude", d)] is None for d in DIMENSIONS)
    assert enough.r[("process", "effect")] == pytest.approx(pystats.correlation([1, 2, 5], [2, 3, 1]))
    assert not too_few.enough and all(v is None for v in too_few.r.values())
    assert empty.n == 0 and all(v is None for v in empty.r.values())
    login_client = app.test_client()
    with time_machine.travel(NOW, tick=False):
        login(login_client, data.coordinator)
        # the default minimum is 30 ratings: with 3, the matrix is not drawn, and the page says why
        hidden = login_client.get(f"/a/{data.agency.slug}/feedback/statistics?range=this_month")
    assert stats.min_correlation_n(data.agency) == 30
    assert (
        "Not shown: correlations need at least 30 ratings in the range, and it has 3." in hidden.text
        and 'data-testid="correlations"' not in hidden.text
    )
    with app.test_request_context(), scoped(data):
        update_settings(db.session.get(Agency, data.agency.id), {"statistics_min_correlation_n": 3})
        db.session.commit()
    with time_machine.travel(NOW, tick=False):
        page = login_client.get(f"/a/{data.agency.slug}/feedback/statistics?range=last_month")
    assert "Not shown: correlations need at least 3 ratings in the range, and it has 0." in page.text
    with time_machine.travel(NOW, tick=False):
        november = login_client.get(f"/a/{data.agency.slug}/feedback/statistics?range=this_month")
    got = cells(november.text, "correlations", "attitude")
    # enough ratings, but attitude did not vary: said so, not "not enough data"
    assert got["process"] == "no variation" and got["attitude"] == "no variation"
    assert (
        cells(november.text, "correlations", "process")["effect"] == f"{enough.r[('process', 'effect')]:.2f}"
    )


# -- opinions and complaints --------------------------------------------------------------------


def test_complaint_handling_equals_an_independent_query(factory, app):
    # Shanghai: the range's days are the agency's, not UTC's
    with time_machine.travel(NOW, tick=False):
        data = build(factory, today=date(2026, 11, 21), now=NOW, tz="Asia/Shanghai")
        with app.test_request_context(), scoped(data):
            # 23:30 UTC on 31 October is 1 November in Shanghai: in November's figures
            db.session.add(
                FeedbackItem(
                    kind="complaint",
                    category="Lateness",
                    description="Edge of the month",
                    channel="phone",
                    received_at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC),
                    due_at=datetime(2026, 11, 3, 23, 30, tzinfo=UTC),
                )
            )
            # anonymous ones may be closed without a response: the closing answers them
            for closed_after in (timedelta(days=1), timedelta(days=4)):
                received = NOW - timedelta(days=6)
                db.session.add(
                    FeedbackItem(
                        kind="complaint",
                        category="Anonymous",
                        description="No name, no contact",
                        channel="public",
                        received_at=received,
                        due_at=received + timedelta(days=3),
                        status="closed",
                        closed_at=received + closed_after,
                    )
                )
            db.session.commit()
            ranges = [(date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 6, 1), date(2026, 11, 30))]
            results = [stats.feedback_handling(data.agency, s, e) for s, e in ranges]
            expected = [
                sql(
                    """SELECT kind, category, count(*) AS received,
                        sum(CASE WHEN responded_at <= due_at
                                   OR (responded_at IS NULL AND closed_at <= due_at)
                                 THEN 1 ELSE 0 END) AS on_time,
                        sum(CASE WHEN responded_at > due_at
                                   OR (responded_at IS NULL AND closed_at > due_at)
                                 THEN 1 ELSE 0 END) AS late,
                        sum(CASE WHEN responded_at IS NULL AND closed_at IS NULL
                                   AND status NOT IN ('responded', 'closed')
                                 AND due_at < :now THEN 1 ELSE 0 END) AS overdue,
                        sum(CASE WHEN responded_at IS NULL AND closed_at IS NULL
                                   AND status NOT IN ('responded', 'closed')
                                 AND due_at >= :now THEN 1 ELSE 0 END) AS waiting
                    FROM feedback_items
                    WHERE tenant_id = :t
                      AND (received_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN :s AND :e
                    GROUP BY kind, category""",
                    t=data.agency.id,
                    s=s,
                    e=e,
                    now=NOW,
                )
                for s, e in ranges
            ]
    for result, rows in zip(results, expected, strict=True):

        def fig(h):
            return (h.received, h.on_time, h.late, h.overdue, h.waiting)

        def exp(rs):
            return tuple(sum(r[k] for r in rs) for k in ("received", "on_time", "late", "overdue", "waiting"))

        got = {(kind, category): fig(h) for kind, cats in result.by_category.items() for category, h in cats}
        assert got == {(r["kind"], r["category"]): exp([r]) for r in rows}
        for kind in {r["kind"] for r in rows}:
            assert fig(result.by_kind[kind]) == exp([r for r in rows if r["kind"] == kind])
        assert fig(result.total) == exp(rows)
        complaints = result.complaint_categories()
        assert [c for c, _ in complaints][0] == "Lateness", "most received first"
    november = results[0]
    # built: 2 answered on time, 1 late, 2 overdue, 1 waiting, plus the edge-of-month one (overdue)
    # and the two anonymous ones closed without a response (one on time, one late)
    assert fig(november.complaints()) == (9, 3, 2, 3, 1)
    assert fig(dict(november.complaint_categories())["Anonymous"]) == (2, 1, 1, 0, 0)
    for result in results:  # every item is in exactly one of the four
        for h in [result.total, *result.by_kind.values()]:
            assert h.received == h.on_time + h.late + h.overdue + h.waiting
    assert november.by_kind["praise"].on_time == 1 and "Lateness" in dict(november.complaint_categories())


# -- ranges -------------------------------------------------------------------------------------


def test_presets_and_range_rules(factory):
    agency = factory.agency()
    assert stats.preset_range("this_month", date(2026, 11, 21)) == stats.DateRange(
        date(2026, 11, 1), date(2026, 11, 30), "this_month"
    )
    assert stats.preset_range("last_month", date(2026, 1, 5)) == stats.DateRange(
        date(2025, 12, 1), date(2025, 12, 31), "last_month"
    )
    assert stats.preset_range("last_3_months", date(2026, 2, 28)).start == date(2025, 12, 1)
    last_12 = stats.preset_range("last_12_months", date(2026, 11, 21))
    assert (last_12.start, last_12.end, len(last_12.months())) == (date(2025, 12, 1), date(2026, 11, 30), 12)
    assert stats.preset_range("bogus", date(2026, 11, 21)).preset == "this_month"
    assert stats.trend_range(stats.DateRange(date(2026, 3, 5), date(2026, 3, 9))).months()[0] == date(
        2025, 4, 1
    )
    assert stats.range_problem(date(2026, 2, 1), date(2026, 1, 31), agency) == "end_before_start"
    assert stats.range_problem(date(2024, 12, 1), date(2026, 11, 30), agency) is None  # 24 months
    assert stats.range_problem(date(2024, 11, 30), date(2026, 11, 30), agency) == "too_long"
    assert stats.range_problem(date(1, 1, 1), date(1, 1, 31), agency) == "out_of_bounds"
    assert stats.range_problem(date(9999, 1, 1), date(9999, 12, 31), agency) == "out_of_bounds"
    assert stats.range_problem(stats.FIRST_DAY, stats.FIRST_DAY, agency) is None
    agency.settings = {"statistics_max_range_months": 36, "statistics_min_correlation_n": 1}
    assert stats.range_problem(date(2024, 11, 30), date(2026, 11, 30), agency) is None
    # under 3 is refused (with 2 ratings r is always -1 or 1): the default applies
    assert stats.min_correlation_n(agency) == 30


@pytest.mark.parametrize(
    ("instant", "first", "last"),
    [
        # 1 July in Shanghai while still 30 June in UTC: the window ends with July
        (datetime(2026, 6, 30, 17, 0, tzinfo=UTC), "Aug 1, 2025", "Jul 31, 2026"),
        # 1 January in Shanghai: the window is the year just begun and the 11 months before
        (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), "Feb 1, 2026", "Jan 31, 2027"),
    ],
)
def test_last_12_months_is_a_rolling_window_on_the_agencys_clock(factory, app, instant, first, last):
    agency = factory.agency(tz="Asia/Shanghai")
    coordinator, _ = factory.member(agency, Role.COORDINATOR, name="Cora Coordinator")
    browser = app.test_client()
    with time_machine.travel(instant, tick=False):
        login(browser, coordinator)
        page = browser.get(f"/a/{agency.slug}/feedback/statistics?range=last_12_months")
        window = stats.preset_range("last_12_months", agency.today())
    shown = re.search(r'data-testid="range-shown">([^<]*)<', page.text)
    assert page.status_code == 200 and shown is not None
    # the page's date words come from the user's locale (another change may make them en_GB)
    assert first.split(",")[0].split()[0] in shown.group(1) and last[-4:] in shown.group(1)
    assert window == stats.DateRange(
        datetime.strptime(first, "%b %d, %Y").date(),
        datetime.strptime(last, "%b %d, %Y").date(),
        "last_12_months",
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-11-10&end=2026-11-01", "The last day must be on or after the first day."),
        ("start=2023-01-01&end=2026-11-30", "Choose a range of at most 24 months."),
        ("start=2026-13-45&end=2026-11-30", "Enter a date as year-month-day, e.g. 2026-11-01."),
        ("start=2026-11-01&end=", "Enter the last day."),
        ("start=&end=2026-11-01", "Enter the first day."),
        # the trend reaches 11 months back and the bounds a day on: these were a 500
        ("start=0001-06-01&end=0001-06-30", "Enter a day between 1900-01-01 and 2999-12-31."),
        ("start=9999-01-01&end=9999-12-31", "Enter a day between 1900-01-01 and 2999-12-31."),
        ("start=2026-11-01&end=9999-12-31", "Enter a day between 1900-01-01 and 2999-12-31."),
    ],
)
def test_a_bad_range_is_refused_next_to_the_field(world, client, query, message):
    login(client, world.coordinator)
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/a/{world.agency.slug}/feedback/statistics?{query}")
    assert page.status_code == 422
    assert re.search(r'<p class="error" id="(start|end)-error">' + re.escape(message), page.text), page.text[
        :3000
    ]
    assert "From 1 Nov 2026 to 30 Nov 2026" in page.text, "the default range is shown meanwhile"


# -- the page -----------------------------------------------------------------------------------


def cells(html: str, testid: str, key: str) -> dict[str, str]:
    """The cells (data-col -> text) of the row `key` of the table `testid`."""
    table = html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    row = table.split(f'data-key="{key}"', 1)[1].split("</tr>", 1)[0]
    return {
        col: re.sub(r"<[^>]+>", "", value).strip()
        for col, value in re.findall(r'data-col="([^"]+)">(.*?)</t[dh]>', row, re.S)
    }


def extract_svg(html: str) -> ET.Element:
    # the chart (role="img"), not the navigation's icons
    return ET.fromstring(re.search(r'<svg[^>]*role="img".*?</svg>', html, re.S).group(0))


def test_page_shows_every_figure_and_the_chart(world, client, app):
    login(client, world.coordinator)
    start, end = date(2026, 6, 1), date(2026, 11, 30)
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/a/{world.agency.slug}/feedback/statistics?start={start}&end={end}")
    assert page.status_code == 200
    html = page.text
    with app.test_request_context(), scoped(world):
        months, total = expected_monthly(world, start, end)
        trend, _ = expected_monthly(world, date(2025, 12, 1), end)
        # independent of the module under test: plain SQL, not stats.breakdown()/feedback_handling()
        ann_overall = sql(
            f"""SELECT avg({OVERALL})::float8 AS overall FROM visit_ratings r
                JOIN visits v ON v.tenant_id = r.tenant_id AND v.id = r.visit_id
                WHERE v.staff_file_id = :s AND v.status = 'completed' AND v.local_day BETWEEN :a AND :b""",
            s=world.staff["Ann Lee"].id,
            a=start,
            b=end,
        )[0]["overall"]
        london = ZoneInfo("Europe/London")
        complaint_rows = sql(
            """SELECT category, responded_at, closed_at, due_at, status FROM feedback_items
               WHERE kind = 'complaint' AND received_at >= :a AND received_at < :b""",
            a=datetime.combine(start, time(0), tzinfo=london),
            b=datetime.combine(end + timedelta(days=1), time(0), tzinfo=london),
        )

    def shown(value):
        return "–" if value is None else f"{value:.2f}"

    for month, row in months.items():
        got = cells(html, "months", month.isoformat())
        assert got["completed"] == str(row["completed"]) and got["n"] == str(row["n"])
        assert got["response_rate"] == f"{row['n'] / row['completed'] * 100:.1f}%"
        for m in stats.MEASURES:
            if row[f"{m}_mean"] is None:
                assert got[m] == "–"
            else:
                assert got[m] == f"{shown(row[f'{m}_mean'])} ± {shown(row[f'{m}_sd'])}"
    for m in stats.MEASURES:
        got = cells(html, "dimensions", m)
        assert got == {"mean": shown(total[f"{m}_mean"]), "sd": shown(total[f"{m}_sd"]), "n": str(total["n"])}
    for month, row in trend.items():  # the chart's table alternative
        got = cells(html, "trend-table", month.isoformat())
        assert got["n"] == str(row["n"])
        assert all(got[m] == shown(row[f"{m}_mean"]) for m in stats.MEASURES), (month, got)
    ann = world.staff["Ann Lee"].id
    got = cells(html, "by-carer", str(ann))
    assert got["overall"] == shown(ann_overall)
    assert "Ann Lee" in html and "No carer recorded" in html and "Blue team" in html and "Shopping" in html

    def handled(rows):  # by hand, over the rows
        pairs = [(r["responded_at"] or r["closed_at"], r["due_at"]) for r in rows]
        return {
            "received": str(len(rows)),
            "on_time": str(sum(1 for answered, due in pairs if answered and answered <= due)),
            "late": str(sum(1 for answered, due in pairs if answered and answered > due)),
            "overdue": str(sum(1 for answered, due in pairs if not answered and due < NOW)),
            "waiting": str(sum(1 for answered, due in pairs if not answered and due >= NOW)),
        }

    assert cells(html, "complaints", "*total*") == handled(complaint_rows)
    lateness = [r for r in complaint_rows if r["category"] == "Lateness"]
    assert cells(html, "complaints", "Lateness") == handled(lateness)
    assert "Client 0" not in html and "Client 1" not in html, "no client personal data"

    svg = extract_svg(html)  # well-formed XML, or this raises
    assert svg.tag == f"{SVG}svg" and svg.find(f"{SVG}title").text == "Mean score per month, last 12 months"
    x_labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert x_labels[-1] == "11/2026"
    series = {g.get("data-series"): g for g in svg.iter(f"{SVG}g") if g.get("data-series")}
    assert set(series) == {"Attitude", "Process", "Effect", "Environment", "Timeliness", "Overall"}
    names = {"attitude": "Attitude", "process": "Process", "effect": "Effect"}
    names |= {"environment": "Environment", "timeliness": "Timeliness", "overall": "Overall"}
    for m, name in names.items():  # every point of every line is the independent query's mean
        points = [c.find(f"{SVG}title").text for c in series[name].iter(f"{SVG}circle")]
        assert points == [
            # a UK agency: months as en_GB writes them (06/2026)
            f"{name}, {month.month:02d}/{month.year}: {row[f'{m}_mean']:.2f}"
            for month, row in sorted(trend.items())
            if row[f"{m}_mean"] is not None
        ]
    unrated = add_months(date(2026, 11, 1), UNRATED_MONTH)
    assert not any(f"{unrated.month:02d}/{unrated.year}:" in p for p in points), (
        "a month without ratings is a gap"
    )
    # the gap splits the line: two runs, two paths
    assert len(series["Attitude"].findall(f"{SVG}path")) == 2


def test_user_text_is_shown_as_text(factory, client, app):
    """Carer, team, service and category names are typed by people: escaped on the page."""
    nasty = '<img src=x onerror="alert(1)">'
    with time_machine.travel(NOW, tick=False):
        data = build(factory, today=date(2026, 11, 21), now=NOW)
        with app.test_request_context(), scoped(data):
            data.teams["Blue team"].name = f"Blue {nasty}"
            data.items["Bathing"].name = f"Bathing {nasty}"
            received = NOW - timedelta(days=1)
            db.session.add(
                FeedbackItem(
                    kind="complaint",
                    category=f"Topic {nasty}",
                    description="x",
                    channel="public",
                    received_at=received,
                    due_at=received + timedelta(days=3),
                )
            )
            db.session.commit()
        login(client, data.coordinator)
        page = client.get(f"/a/{data.agency.slug}/feedback/statistics")
    assert page.status_code == 200
    assert "<img src=x" not in page.text
    escaped = "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"
    assert (
        f"Blue {escaped}" in page.text
        and f"Bathing {escaped}" in page.text
        and f"Topic {escaped}" in page.text
    )
    extract_svg(page.text)


def test_statement_count_does_not_grow_with_the_data(factory, app):
    counts = []
    for scale in (1, 4):
        with time_machine.travel(NOW, tick=False):
            data = build(factory, today=date(2026, 11, 21), now=NOW, scale=scale)
            browser = app.test_client()
            login(browser, data.coordinator)
            with count_statements() as counter:
                page = browser.get(f"/a/{data.agency.slug}/feedback/statistics?range=last_12_months")
        assert page.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 15, counts


def test_only_supervisors_see_it_and_only_their_agency_counts(world, client, factory, app):
    login(client, world.carer_user)
    assert client.get(f"/a/{world.agency.slug}/feedback/statistics").status_code == 403
    with time_machine.travel(NOW, tick=False):
        other = build(factory, today=date(2026, 11, 21), now=NOW, scale=2)
        with app.test_request_context(), scoped(world):
            mine = stats.monthly(date(2026, 6, 1), date(2026, 11, 30)).total
            mine_sql = expected_monthly(world, date(2026, 6, 1), date(2026, 11, 30))[1]
            theirs_visible = sql(
                "SELECT count(*) AS n FROM visit_ratings WHERE tenant_id = :t", t=other.agency.id
            )
    assert (mine.completed, mine.n) == (mine_sql["completed"], mine_sql["n"])
    assert theirs_visible[0]["n"] == 0, "row-level security hides the other agency"
    admin_client = app.test_client()
    login(admin_client, world.admin)
    assert admin_client.get(f"/a/{world.agency.slug}/feedback/statistics").status_code == 200


def test_a_new_agency_sees_an_empty_page(factory, client, app):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    page = client.get(f"/a/{agency.slug}/feedback/statistics")
    assert page.status_code == 200
    assert "No ratings in these months." in page.text and "No complaints in this range." in page.text
    extract_svg(page.text)


# -- saas.charts --------------------------------------------------------------------------------


def parse(markup) -> ET.Element:
    svg = ET.fromstring(str(markup))  # well-formed, standalone XML
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    assert not list(svg.iter(f"{SVG}script")) and "href" not in str(markup) and "style=" not in str(markup)
    return svg


def circles(svg: ET.Element, series: str) -> list[ET.Element]:
    group = next(g for g in svg.iter(f"{SVG}g") if g.get("data-series") == series)
    return list(group.iter(f"{SVG}circle"))


def paths(svg: ET.Element, series: str) -> list[ET.Element]:
    group = next(g for g in svg.iter(f"{SVG}g") if g.get("data-series") == series)
    return group.findall(f"{SVG}path")


def test_chart_points_follow_the_scale_and_gaps_break_the_line():
    from saas.charts import line_chart

    labels = ["Jan", "Feb", "Mar", "Apr", "May"]
    svg = parse(
        line_chart(labels, {"A": [1, 3, None, 5, 2.5]}, y_min=1, y_max=5, title="T", width=600, height=300)
    )
    points = circles(svg, "A")
    assert [p.find(f"{SVG}title").text for p in points] == [
        "A, Jan: 1.00",
        "A, Feb: 3.00",
        "A, Apr: 5.00",
        "A, May: 2.50",
    ]
    ys = [float(p.get("cy")) for p in points]
    xs = [float(p.get("cx")) for p in points]
    bottom, top = ys[0], ys[2]  # 1 at the bottom of the plot, 5 at its top
    assert bottom > top
    assert ys[1] == pytest.approx((top + bottom) / 2, abs=0.01)  # 3: half way
    assert ys[3] == pytest.approx(bottom - (bottom - top) * 1.5 / 4, abs=0.01)
    step = xs[1] - xs[0]
    assert xs[2] == pytest.approx(xs[0] + 3 * step) and xs[3] == pytest.approx(xs[0] + 4 * step)
    # two runs (Jan-Feb, Apr-May): two paths, none across the gap
    runs = [p.get("d") for p in paths(svg, "A")]
    assert len(runs) == 2 and all(d.count("L") == 1 for d in runs)
    assert [t.text for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "middle"] == labels
    desc = svg.find(f"{SVG}desc").text
    assert desc == "A: Jan 1.00, Feb 3.00, Mar –, Apr 5.00, May 2.50"
    title_id = svg.find(f"{SVG}title").get("id")
    assert title_id in svg.get("aria-labelledby")


def test_chart_single_point_all_none_and_out_of_range():
    from saas.charts import line_chart, y_position

    single = parse(line_chart(["a", "b", "c"], {"S": [None, 4, None]}, y_min=1, y_max=5, title="One"))
    assert len(circles(single, "S")) == 1 and paths(single, "S") == []
    empty = parse(
        line_chart(
            ["a", "b"], {"S": [None, None]}, y_min=1, y_max=5, title="None", no_data_text="No data yet"
        )
    )
    assert circles(empty, "S") == [] and paths(empty, "S") == []
    assert [t.text for t in empty.iter(f"{SVG}text") if t.get("class") == "no-data"] == ["No data yet"]
    nothing = parse(line_chart([], {}, y_min=0, y_max=1, title="Nothing at all"))
    assert nothing.find(f"{SVG}title").text == "Nothing at all"
    assert y_position(9, y_min=1, y_max=5, top=10, bottom=110) == 10  # held at the edge
    assert y_position(-3, y_min=1, y_max=5, top=10, bottom=110) == 110
    with pytest.raises(ValueError):
        line_chart(["a"], {"S": [1, 2]}, y_min=1, y_max=5, title="Mismatch")
    with pytest.raises(ValueError):
        line_chart(["a"], {"S": [1]}, y_min=5, y_max=5, title="Flat scale")


def test_chart_text_is_escaped():
    from saas.charts import line_chart

    nasty = '<script>alert("x")</script> & co'
    markup = line_chart(
        [nasty, "ok"], {nasty: [2, 3]}, y_min=1, y_max=5, title=nasty, description=nasty, no_data_text=nasty
    )
    assert "<script>" not in str(markup)
    svg = parse(markup)
    assert svg.find(f"{SVG}title").text == nasty and svg.find(f"{SVG}desc").text == nasty
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts.count(nasty) >= 3  # the printed title, the legend, the x label
    assert circles(svg, nasty)[0].find(f"{SVG}title").text == f"{nasty}, {nasty}: 2.00"
    # the same content gives the same ids; chart_id sets them
    assert 'id="mine-title"' in str(
        line_chart(["a"], {"S": [1]}, y_min=1, y_max=5, title="t", chart_id="mine")
    )


def test_chart_drops_what_xml_cannot_hold_and_skips_non_numbers():
    from saas.charts import line_chart

    odd = "Team\x01\x0b\ufffe one"  # control characters are not allowed in XML 1.0, even escaped
    svg = parse(
        line_chart(
            [odd, "b", "c"],
            {odd: [2, float("nan"), float("inf")]},
            y_min=1,
            y_max=5,
            title=odd,
            chart_id='x"><script>',
        )
    )
    assert svg.find(f"{SVG}title").text == "Team one"
    assert [c.find(f"{SVG}title").text for c in circles(svg, "Team one")] == ["Team one, Team one: 2.00"]
    assert "nan" not in ET.tostring(svg, encoding="unicode").lower()
    assert svg.find(f"{SVG}title").get("id") == 'x"><script>-title'  # escaped in the attribute


def test_the_page_follows_the_agency_language(factory, client):
    agency = factory.agency(locale="zh_CN", tz="Asia/Shanghai")
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    with time_machine.travel(NOW, tick=False):
        login(client, coordinator)
        page = client.get(f"/a/{agency.slug}/feedback/statistics?range=last_3_months")
    assert page.status_code == 200
    svg = extract_svg(page.text)
    x_axis = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "x-axis")
    assert [t.text for t in x_axis.iter(f"{SVG}text")][-1] == "2026/11"
    assert "2026年9月" in page.text  # the month rows, in the agency's calendar language
