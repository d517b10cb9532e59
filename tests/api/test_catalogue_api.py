"""The service catalogue over the API: adding an item with its first terms,
reading one and changing it, with the catalogue pages' rules and
permissions, the token's scopes, If-Match, a repeated Idempotency-Key
answered once and problem documents naming the field."""

from __future__ import annotations

from sqlalchemy import func, select

from saas import db
from saas.models import Role
from tenants.catalogue.models import ItemTerms, ServiceItem
from tests.staffing import workforce_helpers as wf


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def items(agency) -> int:
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(func.count()).select_from(ServiceItem))


def new_item(category_id, **changes) -> dict:
    return {
        "category_id": str(category_id),
        "name": "Medication reminder",
        "description": "Remind and check.",
        "price": 18.5,
        "unit": "per_visit",
        "duration_minutes": 20,
        "checklist": ["Medication taken", "Box refilled"],
        **changes,
    }


def test_an_admin_adds_an_item_once_reads_and_changes_it(client, factory):
    agency = factory.agency()
    _u, admin = factory.member(agency, Role.ADMIN)
    token = factory.api_token(admin)
    daily = wf.category(factory.app, agency, "Daily living")
    health = wf.category(factory.app, agency, "Health")
    kind = wf.cert_type(factory.app, agency, "Medication training")
    body = new_item(daily, required_certificate_type_id=str(kind))
    key = {"Idempotency-Key": "med-reminder"}
    made = client.post("/api/v1/catalogue/items", json=body, headers=bearer(token, **key))
    assert made.status_code == 201, made.json
    assert made.json["name"] == "Medication reminder" and made.json["active"] is True
    terms = made.json["terms"]
    assert terms["price"] == "18.50" and terms["unit"] == "per_visit" and terms["duration_minutes"] == 20
    assert terms["checklist"] == ["Medication taken", "Box refilled"]
    assert terms["required_certificate_type_id"] == str(kind)
    again = client.post("/api/v1/catalogue/items", json=body, headers=bearer(token, **key))
    assert again.status_code == 201 and again.json == made.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert items(agency) == 1

    url = f"/api/v1/catalogue/items/{made.json['id']}"
    read = client.get(url, headers=bearer(token))
    assert read.status_code == 200 and read.json == made.json
    before = client.get(url, query_string={"on": "2000-01-01"}, headers=bearer(token))
    assert before.status_code == 200 and before.json["terms"] is None  # none in effect then
    etag = read.headers["ETag"]
    changed = client.patch(
        url,
        json={"name": "Medication check", "category_id": str(health)},
        headers=bearer(token, **{"If-Match": etag}),
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "Medication check" and changed.json["category_id"] == str(health)
    assert changed.json["description"] == "Remind and check." and changed.json["terms"] == terms
    stale = client.patch(url, json={"name": "Other"}, headers=bearer(token, **{"If-Match": etag}))
    assert stale.status_code == 412 and stale.json["field"] == "If-Match"
    assert client.get(url, headers=bearer(token)).json["name"] == "Medication check"


def test_bad_item_input_names_the_field_and_keeps_nothing(client, factory):
    agency, other = factory.agency(), factory.agency()
    _u, admin = factory.member(agency, Role.ADMIN)
    token = factory.api_token(admin)
    daily = wf.category(factory.app, agency)
    theirs = wf.category(factory.app, other)
    existing = wf.item(factory.app, agency, daily, "Housekeeping")
    cases = [
        (new_item(daily, name=""), "name"),
        (new_item(daily, name="housekeeping"), "name"),  # taken, whatever the case
        (new_item(theirs), "category_id"),  # another agency's category
        (new_item(daily, price=-1), "price"),
        (new_item(daily, price="cheap"), "price"),
        (new_item(daily, price=99999999.999), "price"),  # a cent past the most a price can be
        (new_item(daily, unit="per_year"), "unit"),
        (new_item(daily, duration_minutes=0), "duration_minutes"),
        (new_item(daily, checklist=[f"Point {n}" for n in range(31)]), "checklist"),
        (new_item(daily, checklist="Tidy"), "checklist"),
        (new_item(daily, required_certificate_type_id="nonsense"), "required_certificate_type_id"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/catalogue/items", json=body, headers=bearer(token))
        assert response.status_code == 422, (field, response.json)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json["field"] == field and response.json["detail"], (field, response.json)
    assert items(agency) == 1 and items(other) == 0
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(ItemTerms)) == 1

    url = f"/api/v1/catalogue/items/{existing}"
    for body, field in [
        ({"price": 10}, "price"),  # terms change from a date, on their own page
        ({"name": ""}, "name"),
        ({"category_id": str(theirs)}, "category_id"),
        ({"description": None}, "description"),
    ]:
        response = client.patch(url, json=body, headers=bearer(token))
        assert response.status_code == 422 and response.json["field"] == field, (field, response.json)
    assert client.get(url, headers=bearer(token)).json["name"] == "Housekeeping"


def test_roles_scopes_and_other_agencies(client, factory):
    agency, other = factory.agency(), factory.agency()
    daily = wf.category(factory.app, agency)
    item_id = wf.item(factory.app, agency, daily, "Housekeeping")
    their_item = wf.item(factory.app, other, wf.category(factory.app, other), "Their housekeeping")
    _c, coordinator = factory.member(agency, Role.COORDINATOR)
    coordinating = factory.api_token(coordinator)
    url = f"/api/v1/catalogue/items/{item_id}"
    # coordinators see the catalogue; only admins change it
    assert client.get(url, headers=bearer(coordinating)).status_code == 200
    refused = client.post("/api/v1/catalogue/items", json=new_item(daily), headers=bearer(coordinating))
    assert refused.status_code == 403 and refused.json["error"]["status"] == 403
    assert client.patch(url, json={"name": "X"}, headers=bearer(coordinating)).status_code == 404
    carer = factory.api_token(factory.member(agency, Role.CARER)[1])
    assert client.get(url, headers=bearer(carer)).status_code == 404
    assert (
        client.post("/api/v1/catalogue/items", json=new_item(daily), headers=bearer(carer)).status_code == 403
    )

    _a, admin = factory.member(agency, Role.ADMIN)
    read_only = factory.api_token(admin, ["read", "catalogue"])
    refused = client.post("/api/v1/catalogue/items", json=new_item(daily), headers=bearer(read_only))
    assert (
        refused.status_code == 403 and refused.json["field"] == "scope" and "write" in refused.json["detail"]
    )
    clients_only = factory.api_token(admin, ["read", "write", "clients"])
    refused = client.patch(url, json={"name": "X"}, headers=bearer(clients_only))
    assert refused.status_code == 403 and "catalogue" in refused.json["detail"]
    assert items(agency) == 1

    token = factory.api_token(admin)
    assert client.get(f"/api/v1/catalogue/items/{their_item}", headers=bearer(token)).status_code == 404
    foreign = client.patch(
        f"/api/v1/catalogue/items/{their_item}", json={"name": "Mine"}, headers=bearer(token)
    )
    assert foreign.status_code == 404 and str(their_item) not in foreign.text
    with db.tenant_scope(other.id):
        assert db.session.scalar(select(ServiceItem.name)) == "Their housekeeping"
    assert client.get(url, headers=bearer(token)).json["name"] == "Housekeeping"
