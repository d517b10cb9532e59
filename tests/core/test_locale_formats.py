"""Dates and numbers are written as the agency's region writes them (en_GB for
a UK agency, zh_CN for a mainland one), or as the reader chose; the pages
outside an agency (the account) speak as the agency last opened; emails
follow the agency's formats too."""

from __future__ import annotations

from datetime import date

from saas import db
from saas.i18n import full_locale, timezone_region
from saas.models import Role, User
from saas.settings import update_settings
from tests.factories import login

BIRTH = date(1941, 11, 1)


def _file_of(factory, agency):
    person = factory.client(agency, "Edith Carver", date_of_birth=BIRTH)
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    return person, coordinator


def test_the_region_of_a_locale():
    assert timezone_region("Europe/London") == "GB"
    assert timezone_region("Asia/Shanghai") == "CN"
    assert full_locale("en", "GB") == "en_GB"
    assert full_locale("zh_CN", "CN") == "zh_Hans_CN"
    # English as a mainland agency writes it: no US month-first order
    assert full_locale("en", "CN") == "en_001"
    assert full_locale("zh_CN", "GB") == "zh_Hans_CN"


def test_a_uk_agency_writes_days_as_the_uk_does(client, factory):
    agency = factory.agency(tz="Europe/London")
    person, coordinator = _file_of(factory, agency)
    login(client, coordinator)
    page = client.get(f"/a/{agency.slug}/clients/{person.id}").text
    assert "1 Nov 1941" in page
    assert "Nov 1, 1941" not in page


def test_a_chinese_agency_writes_days_as_the_mainland_does(client, factory):
    agency = factory.agency(tz="Asia/Shanghai", locale="zh_CN")
    person, coordinator = _file_of(factory, agency)
    login(client, coordinator)
    page = client.get(f"/a/{agency.slug}/clients/{person.id}").text
    assert "1941年11月1日" in page


def test_the_agency_setting_and_the_readers_own_region_win(client, factory):
    agency = factory.agency(tz="Europe/London")
    person, coordinator = _file_of(factory, agency)
    with db.tenant_scope(agency.id):
        update_settings(agency, {"region": "US"})
        db.session.commit()
    login(client, coordinator)
    url = f"/a/{agency.slug}/clients/{person.id}"
    assert "Nov 1, 1941" in client.get(url).text
    # a reader's own choice, from their account page, comes before the agency's
    page = client.get("/account")
    assert page.status_code == 200
    saved = client.post("/account", data={"name": "Test Person", "locale": "", "region": "IE"})
    assert saved.status_code == 302
    assert db.session.get(User, coordinator.id, populate_existing=True).region == "IE"
    assert "1 Nov 1941" in client.get(url).text
    refused = client.post("/account", data={"name": "Test Person", "locale": "", "region": "XX"})
    assert refused.status_code == 200 and "Not a valid choice" in refused.text


def test_the_account_page_speaks_as_the_agency_last_opened(client, factory):
    agency = factory.agency(tz="Asia/Shanghai", locale="zh_CN")
    person, coordinator = _file_of(factory, agency)
    login(client, coordinator)
    client.get(f"/a/{agency.slug}/")
    page = client.get("/account").text
    assert "我的账户" in page and "My account" not in page


def test_an_email_month_is_written_as_the_page_writes_it(app, factory):
    from saas import mail
    from saas.models import MailMessage

    agency = factory.agency(tz="Asia/Shanghai", locale="zh_CN")
    with app.test_request_context():
        message_id = mail.send(
            "admin@example.net",
            "quality_published",
            locale="zh_CN",
            kind="quality.published",
            agency_id=agency.id,
            agency_name="康宁",
            month=date(2026, 11, 1),
            link="https://example.net/x",
        )
        body = db.session.get(MailMessage, message_id).body
    assert "2026年11月" in body and "十一月" not in body
