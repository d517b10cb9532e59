"""The certificates a preset suggests each role holds: required by default
when an agency starts from the preset (the onboarding wizard loads it), a
choice on the preset page, changed afterwards on the workforce settings."""

from __future__ import annotations

from sqlalchemy import select

from saas import db
from saas.models import Agency, Role
from saas.settings import agency_setting
from tenants.catalogue import services as catalogue
from tenants.catalogue.presets import PRESETS
from tenants.staffing.models import CertificateType
from tests.factories import login


def required_names(agency) -> dict[str, set[str]]:
    with db.tenant_scope(agency.id):
        names = dict(db.session.execute(select(CertificateType.id, CertificateType.name)).all())
        fresh = db.session.get(Agency, agency.id, populate_existing=True)
        required = agency_setting(fresh, "required_certificate_types")
    return {role: {names[i] for i in ids} for role, ids in required.items() if ids}


def test_starting_from_a_preset_requires_its_certificates_in_the_agencys_language(app, factory):
    """As the operator's onboarding wizard loads it: no request, no agency in scope."""
    agency = factory.agency(locale="zh_CN", tz="Asia/Shanghai")
    with app.app_context():
        catalogue.load_preset(agency, "home_care")
        db.session.commit()
    assert required_names(agency) == {
        "carer": {"养老护理员职业技能等级证书", "健康证", "急救证"},
        "social_worker": {"急救证"},
        "coordinator": {"急救证"},
    }


def test_the_preset_page_offers_the_choice(client, factory):
    agency = factory.agency(locale="en")
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    page = client.get(f"/a/{agency.slug}/catalogue/presets")
    assert page.status_code == 200
    assert 'name="require_certificates"' in page.text and "checked" in page.text
    assert "Social worker qualification" in page.text
    declined = client.post(f"/a/{agency.slug}/catalogue/presets", data={"preset": "social_work"})
    assert declined.status_code == 302
    assert required_names(agency) == {}

    other = factory.agency(locale="en")
    boss, _ = factory.member(other, Role.ADMIN)
    login(client, boss)
    with db.tenant_scope(other.id):
        # a type of the same name already there is reused, not duplicated
        db.session.add(CertificateType(name="first aid", active=False))
        db.session.commit()
    taken = client.post(
        f"/a/{other.slug}/catalogue/presets", data={"preset": "social_work", "require_certificates": "y"}
    )
    assert taken.status_code == 302
    assert required_names(other) == {
        "social_worker": {"Social worker qualification", "first aid"},
        "coordinator": {"Social worker qualification", "first aid"},
        "carer": {"first aid"},
    }
    with db.tenant_scope(other.id):
        types = db.session.scalars(select(CertificateType)).all()
    assert len(types) == 2 and all(t.active for t in types)


def test_every_preset_suggests_certificates_in_both_languages():
    for preset in PRESETS.values():
        assert preset.certificates, preset.key
        for suggestion in preset.certificates:
            assert suggestion.name["en"] and suggestion.name["zh"]
            assert set(suggestion.roles) <= {"carer", "social_worker", "coordinator"}
