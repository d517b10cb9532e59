"""Visit ratings for the office, over the API and on their page: every
rating, the latest visit first, filtered by client, carer, the visits' days
and low scores; for the roles that follow ratings up, never the carers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from saas import db
from saas.models import Membership, Role
from tenants.feedback import services as feedback
from tenants.feedback.models import RatingChannel
from tenants.feedback.services import Scores
from tenants.scheduling import services as scheduling
from tests.factories import login
from tests.feedback.test_feedback import completed_world
from tests.sqlcount import count_statements


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def membership_of(world, user) -> Membership:
    with db.tenant_scope(world.agency.id):
        return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


def rated_world(factory, count: int = 3):
    """`completed_world` with its first `count` visits completed by the carer
    and rated by phone: the first low (attitude 1), the others fine."""
    world = completed_world(factory)
    for n in range(1, count):
        # loaded again each time: a completion ends the session it was read in
        visit = world.visits()[n]
        with db.tenant_scope(world.agency.id):
            visit = db.session.merge(visit)
            scheduling.assign(world.agency, visit, world.staff.id, by=world.coordinator, role="coordinator")
            db.session.commit()
        factory.complete_visit(world.agency, visit.id, world.staff.id, by=world.carer_user)
    world.rated = []
    for n, visit in enumerate(world.visits()[:count]):
        with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
            rating = feedback.rate_visit(
                world.agency,
                visit,
                Scores(attitude=1 if n == 0 else 4, process=4, effect=5, environment=4, timeliness=4),
                channel=RatingChannel.PHONE,
                by=world.coordinator,
            )
            db.session.commit()
            world.rated.append((visit.id, visit.local_day, rating.id))
    return world


def walk(client, token: str, **query) -> list[dict]:
    seen, cursor = [], None
    while True:
        params = {**query, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/ratings", query_string=params, headers=bearer(token))
        assert page.status_code == 200, page.json
        seen += page.json["items"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            return seen


def test_the_office_pages_through_ratings_latest_visit_first(client, factory, dbconn):
    world = rated_world(factory)
    token = factory.api_token(membership_of(world, world.coordinator))
    everything = walk(client, token)
    assert [r["id"] for r in everything] == [str(rating_id) for _v, _d, rating_id in reversed(world.rated)]
    first = everything[-1]
    assert (first["attitude"], first["low"], first["channel"]) == (1, True, "phone")
    assert first["client_id"] == str(world.client.id) and first["staff_id"] == str(world.staff.id)
    assert first["visit_day"] == world.rated[0][1].isoformat()
    assert "full_name" not in first and "name" not in first, "ids only: names to who may read them"

    low = walk(client, token, low="true")
    assert [r["id"] for r in low] == [str(world.rated[0][2])]
    assert len(walk(client, token, low="false")) == 3
    assert len(walk(client, token, client_id=str(world.client.id))) == 3
    assert len(walk(client, token, staff_id=str(world.staff.id))) == 3
    someone_else = factory.client(world.agency, "Nobody Rated")
    assert walk(client, token, client_id=str(someone_else.id)) == []
    first_day, last_day = world.rated[0][1], world.rated[-1][1]
    only_first = walk(client, token, to=first_day.isoformat())
    assert [r["id"] for r in only_first] == [str(world.rated[0][2])]
    after_first = walk(client, token, **{"from": (first_day + timedelta(days=1)).isoformat()})
    assert len(after_first) == 2
    assert walk(client, token, **{"from": (last_day + timedelta(days=1)).isoformat()}) == []

    read = client.get("/api/v1/ratings", headers=bearer(token))
    again = client.get("/api/v1/ratings", headers=bearer(token, **{"If-None-Match": read.headers["ETag"]}))
    assert again.status_code == 304


def test_bad_rating_filters_are_problems_naming_the_field(client, factory, dbconn):
    world = completed_world(factory)
    token = factory.api_token(membership_of(world, world.admin))
    for query, status, field in [
        ({"client_id": "edith"}, 400, "client_id"),
        ({"staff_id": "42"}, 400, "staff_id"),
        ({"from": "2026-02-30"}, 400, "from"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, 422, "to"),
        ({"low": "yes"}, 422, "low"),
        ({"cursor": "eyJ4Ijox"}, 400, "cursor"),
    ]:
        answer = client.get("/api/v1/ratings", query_string=query, headers=bearer(token))
        assert answer.status_code == status, (query, answer.json)
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json["field"] == field, answer.json


def test_carers_and_clients_do_not_read_the_offices_ratings(client, factory, dbconn):
    world = rated_world(factory, count=1)
    carer = factory.api_token(membership_of(world, world.carer_user))
    assert client.get("/api/v1/ratings", headers=bearer(carer)).status_code == 403
    _user, portal = factory.member(world.agency, Role.CLIENT)
    assert client.get("/api/v1/ratings", headers=bearer(factory.api_token(portal))).status_code == 403
    login(client, world.carer_user)
    assert client.get(f"/a/{world.agency.slug}/feedback/ratings").status_code == 403


def test_the_ratings_need_the_feedback_scope(client, factory, dbconn):
    world = rated_world(factory, count=1)
    coordinator = membership_of(world, world.coordinator)
    with_area = factory.api_token(coordinator, ["read", "feedback"])
    without = factory.api_token(coordinator, ["read", "clients"])
    write_only = factory.api_token(coordinator, ["write", "feedback"])
    assert client.get("/api/v1/ratings", headers=bearer(with_area)).status_code == 200
    for token in (without, write_only):
        refused = client.get("/api/v1/ratings", headers=bearer(token))
        assert refused.status_code == 403 and refused.json["field"] == "scope"


# -- the page --------------------------------------------------------------------------------------


def test_the_ratings_page_lists_filters_and_pages(client, factory, dbconn):
    world = rated_world(factory)
    login(client, world.coordinator)
    url = f"/a/{world.agency.slug}/feedback/ratings"
    page = client.get(url)
    assert page.status_code == 200
    assert page.text.count('data-testid="rating-row"') == 3
    assert page.text.count('data-low="yes"') == 1
    assert "Joan Smith" in page.text and world.client.full_name in page.text
    home = client.get(f"/a/{world.agency.slug}/").text
    assert f'href="{url}"' in home, "the feedback area's menu links the page"
    low = client.get(url, query_string={"low": "1"})
    assert low.text.count('data-testid="rating-row"') == 1
    by_carer = client.get(url, query_string={"staff_id": str(world.staff.id)})
    assert by_carer.text.count('data-testid="rating-row"') == 3
    bad = client.get(url, query_string={"from": "soon", "client_id": "someone"})
    assert bad.status_code == 422 and bad.text.count('data-testid="filter-error"') == 2
    assert bad.text.count('data-testid="rating-row"') == 3, "a filter that cannot be read is left out"


def test_the_ratings_page_reads_the_same_statements_whatever_the_number(client, factory, dbconn, monkeypatch):
    from tenants.feedback import queries

    monkeypatch.setattr(queries, "RATINGS_PAGE", 2)
    few, many = rated_world(factory, count=1), rated_world(factory, count=3)
    counts = []
    for world in (few, many):
        login(client, world.coordinator)
        with count_statements() as counted:
            answer = client.get(f"/a/{world.agency.slug}/feedback/ratings")
        assert answer.status_code == 200
        counts.append(counted.count)
    assert counts[0] == counts[1]
    login(client, many.coordinator)
    first = client.get(f"/a/{many.agency.slug}/feedback/ratings")
    assert first.text.count('data-testid="rating-row"') == 2 and 'data-testid="next-page"' in first.text
