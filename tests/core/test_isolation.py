"""Every route, as a member of agency A, against agency B: always 404.

The walk reads Flask's URL map, so each later feature's routes are in it
automatically; a URL parameter it cannot fill fails the test (register it in
tests/samples.py)."""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from saas.models import Role
from saas.tenancy import PUBLIC_ATTR
from tests.factories import login
from tests.samples import NON_TENANT_PARAMS, URL_PARAMS, build_world, url_values

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def rules(app) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def methods(rule: Rule) -> list[str]:
    return [m for m in METHODS if m in rule.methods]


@pytest.fixture
def two_agencies(factory):
    a = build_world(factory)
    b = build_world(factory)
    admin, membership = factory.member(a.agency, Role.ADMIN)
    a.people["admin"] = admin
    # the API walk goes as the admin too: a coordinator's refusal of an
    # admin-only write must not hide that the object is looked up in the agency
    a.people["admin_token"] = factory.api_token(membership)
    return a, b


def test_every_parameter_is_known(app):
    for rule in rules(app):
        for arg in rule.arguments:
            assert arg in URL_PARAMS or arg in NON_TENANT_PARAMS, f"{rule.rule}: unknown parameter <{arg}>"


def test_agency_routes_with_another_agencys_slug_are_404(app, client, two_agencies):
    a, b = two_agencies
    login(client, a.people["admin"])
    adapter = app.url_map.bind("localhost")
    checked = 0
    for rule in rules(app):
        if "slug" not in rule.arguments or getattr(app.view_functions[rule.endpoint], PUBLIC_ATTR, False):
            continue  # a public agency page (the feedback form) is open to anyone by design
        for method in methods(rule):
            url = adapter.build(rule.endpoint, url_values(rule, b.agency.slug, b.ids), method=method)
            response = client.open(url, method=method)
            assert response.status_code == 404, f"{method} {url} -> {response.status_code}"
            assert b.agency.name not in response.text
            checked += 1
    assert checked >= 10


def test_agency_routes_with_another_agencys_ids_are_404(app, client, two_agencies):
    a, b = two_agencies
    login(client, a.people["admin"])
    adapter = app.url_map.bind("localhost")
    checked = 0
    for rule in rules(app):
        if "slug" not in rule.arguments or not set(rule.arguments) & set(URL_PARAMS):
            continue
        for method in methods(rule):
            url = adapter.build(rule.endpoint, url_values(rule, a.agency.slug, b.ids), method=method)
            response = client.open(url, method=method)
            assert response.status_code == 404, f"{method} {url} -> {response.status_code}"
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_api_routes_with_another_agencys_ids_are_404(app, client, two_agencies, who):
    a, b = two_agencies
    adapter = app.url_map.bind("localhost")
    token = a.api_token if who == "coordinator" else a.people["admin_token"]
    headers = {"Authorization": f"Bearer {token}"}
    checked = 0
    for rule in rules(app):
        if not rule.rule.startswith("/api/") or not set(rule.arguments) & set(URL_PARAMS):
            continue
        for method in methods(rule):
            url = adapter.build(rule.endpoint, url_values(rule, a.agency.slug, b.ids), method=method)
            # a body of the right shape: the 404 comes from the id, not from an empty body
            response = client.open(url, method=method, headers=headers, json={})
            assert response.status_code == 404, f"{method} {url} -> {response.status_code}"
            assert (
                str(b.ids[URL_PARAMS[next(iter(set(rule.arguments) & set(URL_PARAMS)))]]) not in response.text
            )
            checked += 1
    assert checked >= 1


def test_api_writes_naming_another_agencys_ids_in_their_body_are_refused(app, client, two_agencies):
    """The writes that take an id in their body (the walk above fills only
    URLs): another agency's course, category, certificate type or enrolment
    is refused as one the agency has not, naming the field, and nothing is made."""
    from sqlalchemy import func, select

    from saas import db
    from tenants.catalogue.models import ServiceItem
    from tenants.staffing.models import Certificate
    from tenants.training.models import Enrolment, TrainingSession

    a, b = two_agencies
    headers = {"Authorization": f"Bearer {a.people['admin_token']}"}
    writes = [
        (
            "/api/v1/training/sessions",
            {
                "course_id": str(b.ids["training_courses"]),
                "held_on": "2027-03-01",
                "trainer": "T",
                "capacity": 5,
            },
            "course_id",
        ),
        (
            "/api/v1/catalogue/items",
            {
                "category_id": str(b.ids["service_categories"]),
                "name": "Laundry",
                "price": 10,
                "unit": "per_visit",
                "duration_minutes": 30,
            },
            "category_id",
        ),
        (
            "/api/v1/catalogue/items",
            {
                "category_id": str(a.ids["service_categories"]),
                "name": "Laundry",
                "price": 10,
                "unit": "per_visit",
                "duration_minutes": 30,
                "required_certificate_type_id": str(b.ids["certificate_types"]),
            },
            "required_certificate_type_id",
        ),
        (
            f"/api/v1/staff/{a.ids['staff_files']}/certificates",
            {
                "certificate_type_id": str(b.ids["certificate_types"]),
                "number": "B-1",
                "issued_on": "2025-01-01",
            },
            "certificate_type_id",
        ),
        (
            f"/api/v1/training/sessions/{a.ids['training_sessions']}/attendance",
            {"attendance": [{"enrolment_id": str(b.ids["training_enrolments"]), "status": "completed"}]},
            "attendance-0-enrolment_id",
        ),
    ]

    def counts() -> list[int]:
        with db.tenant_scope(a.agency.id):
            made = [
                db.session.scalar(select(func.count()).select_from(m)) for m in (TrainingSession, ServiceItem)
            ]
            made.append(db.session.scalar(select(func.count()).select_from(Certificate)))
            made.append(db.session.scalar(select(func.count()).where(Enrolment.status != "enrolled")))
        return made

    before = counts()
    for path, body, field in writes:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 422, (path, response.status_code, response.text[:300])
        assert response.json["field"] == field, (path, response.json)
        assert str(b.ids["service_categories"]) not in response.text
    assert counts() == before


def test_same_ids_work_for_their_own_agency(app, client, two_agencies):
    """The control: the 404s above are about the agency, not broken routes."""
    a, _b = two_agencies
    login(client, a.people["admin"])
    assert client.get(f"/a/{a.agency.slug}/members").status_code == 200
    response = client.get(
        f"/api/v1/members/{a.ids['memberships']}", headers={"Authorization": f"Bearer {a.api_token}"}
    )
    assert response.status_code == 200
    assert response.json["id"] == str(a.ids["memberships"])


def test_operator_routes_are_404_for_agency_members(app, client, two_agencies):
    a, _b = two_agencies
    login(client, a.people["admin"])
    adapter = app.url_map.bind("localhost")
    for rule in rules(app):
        if not rule.rule.startswith("/operator"):
            continue
        for method in methods(rule):
            url = adapter.build(rule.endpoint, url_values(rule, a.agency.slug, a.ids), method=method)
            assert client.open(url, method=method).status_code == 404, url


def test_a_published_quality_page_under_another_agencys_slug_is_404(app, client, two_agencies):
    """The public quality page (open to anyone, so outside the walks above):
    agency A's published month is not found under agency B's slug, signed in
    as A's admin or not at all."""
    from saas import db
    from tenants.quality import publishing
    from tenants.quality.models import QualitySummary

    a, b = two_agencies
    with app.test_request_context(), db.tenant_scope(a.agency.id):
        summary = db.session.get(QualitySummary, (a.agency.id, a.ids["quality_summaries"]))
        publishing.publish(a.agency, summary, ["coverage"], by=a.people["admin"])
        db.session.commit()
        month = f"{summary.month:%Y-%m}"
    adapter = app.url_map.bind("localhost")
    public = [r for r in rules(app) if r.endpoint == "quality.public"]
    assert public, "the public quality page is a route"
    for rule in public:
        own = adapter.build(rule.endpoint, {"slug": a.agency.slug, "month": month})
        other = adapter.build(rule.endpoint, {"slug": b.agency.slug, "month": month})
        assert client.get(own).status_code == 200
        response = client.get(other)
        assert response.status_code == 404 and a.agency.name not in response.text
        login(client, a.people["admin"])
        assert client.get(other).status_code == 404


# the query parameters the API's lists filter by, and the table whose id each names
FILTER_PARAMS = {"client_id": "clients", "staff_id": "staff_files", "case_id": "cases"}


def test_api_lists_filtered_by_another_agencys_ids_show_nothing_of_it(app, client, two_agencies):
    """Every list of the OpenAPI document, with each filter naming one of
    agency B's objects, as a member of agency A: nothing of B's, never an error."""
    a, b = two_agencies
    headers = {"Authorization": f"Bearer {a.api_token}"}
    spec = client.get("/api/v1/openapi.json").json
    checked = 0
    for path, operations in spec["paths"].items():
        listing = operations.get("get")
        if listing is None or "{" in path:
            continue
        filters = {p["name"] for p in listing.get("parameters", []) if p["in"] == "query"}
        for name in sorted(filters & set(FILTER_PARAMS)):
            theirs = str(b.ids[FILTER_PARAMS[name]])
            response = client.get(path, query_string={name: theirs}, headers=headers)
            assert response.status_code in (200, 403, 404), f"GET {path}?{name}= -> {response.status_code}"
            assert theirs not in response.text, f"GET {path}?{name}= shows agency B's id"
            if response.status_code == 200 and "items" in response.json:
                assert response.json["items"] == [], f"GET {path}?{name}= lists agency B's rows"
            checked += 1
    assert checked >= 6


def test_the_ratings_page_filtered_by_another_agencys_ids_shows_nothing_of_it(app, client, two_agencies):
    a, b = two_agencies
    login(client, a.people["admin"])
    url = f"/a/{a.agency.slug}/feedback/ratings"
    own = client.get(url)
    assert own.status_code == 200
    for name in ("client_id", "staff_id"):
        theirs = str(b.ids[FILTER_PARAMS[name]])
        response = client.get(url, query_string={name: theirs})
        # (the language switch keeps the page's address, the id with it: no option offers it)
        assert response.status_code == 422 and f'value="{theirs}"' not in response.text
        # the filter is refused and left out: agency A's own ratings, as unfiltered
        rows = response.text.count('data-testid="rating-row"')
        assert rows == own.text.count('data-testid="rating-row"')
