"""The service catalogue: items, dated terms that never change under booked
visits, presets in the agency's language, the list at any size."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from saas import db
from saas.models import Role
from tenants.catalogue import services as catalogue
from tenants.catalogue.models import ItemTerms, ServiceCategory, ServiceItem
from tenants.catalogue.presets import PRESETS
from tenants.staffing.errors import Invalid
from tests.factories import login
from tests.sqlcount import count_statements
from tests.staffing import workforce_helpers as wf

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)

TODAY = date(2026, 6, 15)


def item_form(category_id, **overrides: object) -> dict[str, object]:
    data = {
        "category_id": str(category_id),
        "name": "Housekeeping",
        "description": "Light cleaning",
        "scope_included": "Dusting, mopping",
        "scope_excluded": "Windows outside",
        "price": "24.50",
        "unit": "per_hour",
        "duration_minutes": "60",
        "checklist": "- Agreed rooms cleaned\n\n• Floor dry (no slip risk)\nClient asked if satisfied\n",
        "required_certificate_type_id": "",
    }
    data.update(overrides)
    return data


def count(agency, model) -> int:
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_add_an_item_and_its_bad_input(client, app, factory, agency, admin):
    category_id = wf.category(app, agency)
    type_id = wf.cert_type(app, agency)
    foreign_type = wf.cert_type(app, factory.agency(), "Foreign")
    url = f"/a/{agency.slug}/catalogue/items/new"
    cases = [
        (item_form(category_id, price="-1"), "price cannot be negative"),
        (item_form(category_id, duration_minutes="0"), "duration from 1 to 1440"),
        (item_form(category_id, duration_minutes="2000"), "duration from 1 to 1440"),
        (item_form(category_id, unit="per_year"), "Not a valid choice"),
        (item_form(category_id, required_certificate_type_id=str(foreign_type)), "Choose a certificate type"),
        (item_form("00000000-0000-0000-0000-000000000001"), "Choose a category from the list"),
        (item_form(category_id, checklist="\n".join(f"Point {i}" for i in range(31))), "at most 30 points"),
        (item_form(category_id, price="abc"), "Not a valid decimal value"),
    ]
    for data, message in cases:
        response = client.post(url, data=data)
        assert response.status_code == 422 and message in response.text, message
    assert count(agency, ServiceItem) == 0 and count(agency, ItemTerms) == 0

    ok = client.post(url, data=item_form(category_id, required_certificate_type_id=str(type_id)))
    assert ok.status_code == 302
    with db.tenant_scope(agency.id):
        terms = db.session.scalar(select(ItemTerms))
    assert terms.checklist == [
        "Agreed rooms cleaned",
        "Floor dry (no slip risk)",
        "Client asked if satisfied",
    ]
    assert (terms.price, terms.unit, terms.duration_minutes) == (Decimal("24.50"), "per_hour", 60)
    assert terms.required_certificate_type_id == type_id
    page = client.get(ok.location)
    assert "Floor dry (no slip risk)" in page.text and "Windows outside" in page.text and "24.50" in page.text
    dup = client.post(url, data=item_form(category_id, name="HOUSEKEEPING"))
    assert dup.status_code == 422 and "already an item called HOUSEKEEPING" in dup.text


def test_terms_change_from_a_date_and_never_rewrite_booked_terms(client, app, agency, admin):
    category_id = wf.category(app, agency)
    with time_machine.travel(TODAY, tick=False):
        login(client, admin)  # a session cookie signed later than "now" is refused
        item_id = wf.item(app, agency, category_id, "Meals", price="8.50")
        with wf.in_agency(app, agency):
            booked = catalogue.terms_on(item_id, TODAY)[item_id]  # what a visit booked today keeps
        url = f"/a/{agency.slug}/catalogue/items/{item_id}/terms"
        form = {"price": "9.00", "unit": "per_visit", "duration_minutes": "30", "checklist": "Warm\nOn time"}
        past = client.post(url, data={**form, "effective_from": "2026-06-14"})
        assert past.status_code == 422 and "today or later, never in the past" in past.text
        same_day = client.post(url, data={**form, "effective_from": "2026-06-15"})
        assert same_day.status_code == 422 and "already in effect and cannot be changed" in same_day.text
        negative = client.post(url, data={**form, "price": "-9", "effective_from": "2026-07-01"})
        assert negative.status_code == 422 and "cannot be negative" in negative.text
        assert client.post(url, data={**form, "effective_from": "2026-07-01"}).status_code == 302
        # a planned row can still be replaced
        assert (
            client.post(url, data={**form, "price": "9.50", "effective_from": "2026-07-01"}).status_code
            == 302
        )
        with wf.in_agency(app, agency):
            assert catalogue.terms_on(item_id)[item_id].id == booked.id
            july = catalogue.terms_on([item_id], date(2026, 7, 1))[item_id]
            assert (july.price, july.duration_minutes, july.checklist) == (
                Decimal("9.50"),
                30,
                ["Warm", "On time"],
            )
            assert catalogue.terms_on(item_id, TODAY - timedelta(days=1)) == {}
        assert count(agency, ItemTerms) == 2
        with db.tenant_scope(agency.id):
            unchanged = db.session.scalar(select(ItemTerms).where(ItemTerms.id == booked.id))
        assert (unchanged.price, unchanged.duration_minutes) == (Decimal("8.50"), 60)
        # today's terms cannot be deleted, planned ones can
        assert (
            "cannot be deleted"
            in client.post(f"/a/{agency.slug}/catalogue/terms/{booked.id}/delete", follow_redirects=True).text
        )
        assert client.post(f"/a/{agency.slug}/catalogue/terms/{july.id}/delete").status_code == 302
        assert count(agency, ItemTerms) == 1
    with time_machine.travel(TODAY + timedelta(days=30), tick=False):
        with wf.in_agency(app, agency):
            assert catalogue.terms_on(item_id)[item_id].id == booked.id


def test_terms_on_many_items_is_one_query(app, agency):
    category_id = wf.category(app, agency)
    ids = [wf.item(app, agency, category_id) for _ in range(4)]
    with wf.in_agency(app, agency):
        with count_statements() as counter:
            found = catalogue.terms_on(ids, date.today())
    assert set(found) == set(ids) and counter.count == 1


def test_retire_and_reactivate(client, app, agency, admin):
    item_id = wf.item(app, agency, wf.category(app, agency), "Old service")
    client.post(f"/a/{agency.slug}/catalogue/items/{item_id}/retire")
    assert "Old service" not in client.get(f"/a/{agency.slug}/catalogue").text
    assert "Old service" in client.get(f"/a/{agency.slug}/catalogue?status=retired").text
    client.post(f"/a/{agency.slug}/catalogue/items/{item_id}/reactivate")
    assert "Old service" in client.get(f"/a/{agency.slug}/catalogue").text


def test_edit_an_item_and_categories(client, app, agency, admin):
    first = wf.category(app, agency, "Daily living")
    item_id = wf.item(app, agency, first, "Shopping")
    response = client.post(f"/a/{agency.slug}/catalogue/categories", data={"name": "Health"})
    assert response.status_code == 302
    dup = client.post(f"/a/{agency.slug}/catalogue/categories", data={"name": "health"})
    assert dup.status_code == 422 and "already a category with this name" in dup.text
    with db.tenant_scope(agency.id):
        health = db.session.scalar(select(ServiceCategory.id).where(ServiceCategory.name == "Health"))
    edit = client.post(
        f"/a/{agency.slug}/catalogue/items/{item_id}/edit",
        data={"category_id": str(health), "name": "Shopping delivery", "scope_excluded": "Alcohol"},
    )
    assert edit.status_code == 302
    with db.tenant_scope(agency.id):
        row = db.session.scalar(select(ServiceItem))
    assert (row.category_id, row.name, row.scope_excluded) == (health, "Shopping delivery", "Alcohol")
    refused = client.post(f"/a/{agency.slug}/catalogue/categories/{health}/delete", follow_redirects=True)
    assert "the category is not empty" in refused.text
    client.post(f"/a/{agency.slug}/catalogue/categories/{first}/rename", data={"name": "Home help"})
    client.post(f"/a/{agency.slug}/catalogue/categories/{first}/delete")
    with db.tenant_scope(agency.id):
        assert db.session.scalars(select(ServiceCategory.name)).all() == ["Health"]


@pytest.mark.parametrize(("locale", "expected"), [("en", "Housekeeping"), ("zh_CN", "居家保洁")])
def test_preset_in_the_agencys_language(client, factory, locale, expected):
    agency = factory.agency(locale=locale)
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    page = client.get(f"/a/{agency.slug}/catalogue/presets")
    assert page.status_code == 200
    response = client.post(f"/a/{agency.slug}/catalogue/presets", data={"preset": "home_care"})
    assert response.status_code == 302
    assert count(agency, ServiceItem) == PRESETS["home_care"].item_count
    listing = client.get(f"/a/{agency.slug}/catalogue").text
    assert expected in listing
    again = client.post(f"/a/{agency.slug}/catalogue/presets", data={"preset": "social_work"})
    assert again.status_code == 422 and count(agency, ServiceItem) == PRESETS["home_care"].item_count
    unknown = client.post(f"/a/{agency.slug}/catalogue/presets", data={"preset": "nope"})
    assert unknown.status_code == 422


def test_load_preset_outside_a_request(app, factory):
    """The onboarding wizard and the CLI call it with no request and no agency in scope."""
    agency = factory.agency(locale="zh_CN", tz="Asia/Shanghai")
    with app.app_context():
        created = catalogue.load_preset(agency, "community_service")
        db.session.commit()
    assert created == PRESETS["community_service"].item_count
    with db.tenant_scope(agency.id):
        names = set(db.session.scalars(select(ServiceCategory.name)))
        terms = db.session.scalars(select(ItemTerms)).all()
    assert "社区活动" in names and all(t.checklist for t in terms)
    with app.app_context(), pytest.raises(Invalid):
        catalogue.load_preset(agency, "home_care")


def test_every_preset_is_complete_in_both_languages():
    for preset in PRESETS.values():
        for category in preset.categories:
            assert category.name["en"] and category.name["zh"]
            for item in category.items:
                for text in (item.name, item.description, item.included, item.excluded):
                    assert text["en"] and text["zh"], item.name
                assert item.checklist["en"] and len(item.checklist["en"]) == len(item.checklist["zh"]), (
                    item.name
                )
                assert item.unit in ("per_visit", "per_hour") and 0 < item.duration_minutes <= 1440


def test_catalogue_roles(app, factory, agency):
    item_id = wf.item(app, agency, wf.category(app, agency))
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    coord = app.test_client()
    login(coord, coordinator)
    assert coord.get(f"/a/{agency.slug}/catalogue").status_code == 200
    assert coord.get(f"/a/{agency.slug}/catalogue/items/{item_id}").status_code == 200
    assert coord.get(f"/a/{agency.slug}/catalogue/items/new").status_code == 403
    assert coord.post(f"/a/{agency.slug}/catalogue/items/{item_id}/retire").status_code in (403, 404)
    carer, _ = factory.member(agency, Role.CARER)
    own = app.test_client()
    login(own, carer)
    assert own.get(f"/a/{agency.slug}/catalogue").status_code == 403


def test_catalogue_filters(client, app, agency, admin):
    daily = wf.category(app, agency, "Daily living")
    health = wf.category(app, agency, "Health")
    wf.item(app, agency, daily, "Housekeeping")
    wf.item(app, agency, health, "Medication reminders")
    base = f"/a/{agency.slug}/catalogue"
    assert "Medication reminders" not in client.get(f"{base}?category={daily}").text
    assert "Housekeeping" in client.get(f"{base}?category={daily}").text
    found = client.get(f"{base}?q=medic").text
    assert "Medication reminders" in found and "Housekeeping" not in found
    assert client.get(f"{base}?category=not-a-uuid").status_code == 200


def test_catalogue_list_costs_the_same_at_any_size(client, app, agency, admin):
    type_id = wf.cert_type(app, agency)
    categories = [wf.category(app, agency, f"Category {i}") for i in range(3)]
    for i in range(5):
        wf.item(app, agency, categories[i % 3], f"Small {i}")
    with count_statements() as small:
        assert client.get(f"/a/{agency.slug}/catalogue").status_code == 200
    with wf.in_agency(app, agency):
        for i in range(45):
            catalogue.create_item(
                catalogue.ItemInput(category_id=categories[i % 3], name=f"Large {i}"),
                catalogue.TermsInput(
                    price=Decimal(i),
                    unit="per_visit",
                    duration_minutes=30,
                    required_certificate_type_id=type_id,
                ),
                by=None,
            )
    with count_statements() as large:
        page = client.get(f"/a/{agency.slug}/catalogue")
    assert page.text.count("data-item=") == 50
    assert large.count == small.count, large.statements
