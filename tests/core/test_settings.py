"""Typed agency settings (saas.settings): declared by the areas, read through
one accessor that never fails on a bad stored value, written through one
writer that checks everything first and audits each change; the settings
pages generated from the declarations."""

from __future__ import annotations

import logging
import uuid
from datetime import time
from decimal import Decimal

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from saas import areas, db
from saas.models import Agency, AuditEvent, Role
from saas.settings import (
    CORE,
    Kind,
    Setting,
    SettingsError,
    agency_setting,
    build,
    declared,
    default_of,
    page_settings,
    settings_of,
    update_settings,
)
from tests.factories import login


def _store(agency: Agency, values: dict) -> Agency:
    """Settings written as any old row may hold them, bypassing the writer."""
    db.session.execute(update(Agency).where(Agency.id == agency.id).values(settings=values))
    db.session.commit()
    return db.session.get(Agency, agency.id, populate_existing=True)


def _stored(agency: Agency) -> dict:
    return db.session.scalar(select(Agency.settings).where(Agency.id == agency.id)) or {}


# -- the declarations -----------------------------------------------------------------------------


def test_every_area_declares_its_settings_once():
    known = declared()
    for area in areas.discover():
        for setting in area.settings:
            assert known[setting.key] is setting, setting.key
    assert {s.key for s in CORE} <= set(known)
    # what each settings page shows comes from the declarations
    for page in ("care", "reminders", "feedback", "outreach", "surveys", "workforce"):
        assert page_settings(page), page
    assert [s.key for s in page_settings("surveys")] == [
        "survey_sample_min",
        "survey_outcome_months",
        "survey_link_days",
        "survey_reminder_days",
    ]


def test_a_key_declared_twice_or_a_bad_default_is_refused():
    one = Setting("x_days", Kind.INT, 3, _l("Days"), min=1, max=9)
    with pytest.raises(ValueError, match="declared twice"):
        build([(one,), (one,)])
    with pytest.raises(ValueError, match="default"):
        build([(Setting("y_days", Kind.INT, 30, _l("Days"), min=1, max=9),)])
    with pytest.raises(ValueError, match="default"):
        build([(Setting("y_time", Kind.TIME, "8am", _l("At")),)])
    with pytest.raises(ValueError, match="shape"):
        build([(Setting("y_map", Kind.MAPPING, {}, _l("Map")),)])


# -- reading ----------------------------------------------------------------------------------------


def test_defaults_when_nothing_is_stored(factory):
    agency = factory.agency()
    values = settings_of(agency)
    for key, setting in declared().items():
        assert values.get(key) == setting.default, key
    assert agency_setting(agency, "low_rating_threshold") == 2
    assert agency_setting(agency, "digest_time") == time(17, 0)
    assert agency_setting(agency, "certificate_reminder_days") == (60, 30, 7)
    assert default_of("elderly_from_age") == 60


def test_stored_values_are_typed(factory):
    agency = _store(
        factory.agency(),
        {
            "low_rating_threshold": 3,
            "survey_link_days": "45",  # as typed, from an older page
            "rating_link_email": False,
            "digest_time": "06:05",
            "certificate_reminder_days": [7, 90],
            "follow_up_schedule": ["3D", "1m"],
            "plan_approver_roles": ["coordinator", "admin"],
        },
    )
    got = settings_of(agency)
    assert got.get("low_rating_threshold") == 3
    assert got.get("survey_link_days") == 45
    assert got.get("rating_link_email") is False
    assert got.get("digest_time") == time(6, 5)
    assert got.get("certificate_reminder_days") == (90, 7), "most distant first"
    assert got.get("follow_up_schedule") == ("3d", "1m")
    assert got.get("plan_approver_roles") == ("admin", "coordinator"), "in the declared order"


def test_structured_values_are_typed_and_read_only(factory):
    type_id = uuid.uuid4()
    agency = _store(
        factory.agency(),
        {"quality_targets": {"response_time": 30}, "required_certificate_types": {"carer": [str(type_id)]}},
    )
    got = settings_of(agency)
    targets = got.get("quality_targets")
    assert targets["response_time"] == 30 and targets["coverage"] == 100, "a KPI not stored: its default"
    required = got.get("required_certificate_types")
    assert required == {"carer": (type_id,), "social_worker": (), "coordinator": ()}
    with pytest.raises(TypeError):
        targets["coverage"] = 0  # the default is no caller's to change
    assert agency_setting(factory.agency(), "quality_targets")["coverage"] == 100


@pytest.mark.parametrize(
    ("key", "stored"),
    [
        ("low_rating_threshold", 9),  # out of range
        ("low_rating_threshold", "two"),  # not a number
        ("low_rating_threshold", True),  # a bool is no number
        ("low_rating_threshold", 2.5),
        ("low_rating_threshold", None),
        ("rating_link_email", "perhaps"),
        ("rating_link_email", {"on": True}),
        ("digest_time", "25:00"),
        ("digest_time", 1700),
        ("certificate_reminder_days", [60, 0]),
        ("certificate_reminder_days", "sixty"),
        ("certificate_reminder_days", [1, 2, 3, 4, 5, 6]),
        ("follow_up_schedule", ["soon"]),
        ("follow_up_schedule", []),
        ("plan_approver_roles", ["carer"]),
        ("plan_approver_roles", []),
        ("quality_targets", {"coverage": 120}),
        ("quality_targets", {"no_such_kpi": 1}),
        ("quality_targets", [95]),
        ("quality_weights", {"coverage": -1}),
        ("required_certificate_types", {"carer": ["not-an-id"]}),
        ("required_certificate_types", {"carer": "00000000-0000-0000-0000-000000000001"}),
        ("required_certificate_types", {"cook": []}),
    ],
)
def test_a_bad_stored_value_gives_the_default_and_is_reported(factory, caplog, key, stored):
    agency = _store(factory.agency(), {key: stored})
    with caplog.at_level(logging.WARNING, logger="saas.settings"):
        assert agency_setting(agency, key) == declared()[key].default
    assert any(key in r.getMessage() and str(agency.id) in r.getMessage() for r in caplog.records)


def test_bad_stored_values_never_break_a_page(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    _store(agency, {"low_rating_threshold": "x", "digest_time": [], "session_idle_minutes": -4})
    login(client, admin)
    page = client.get(f"/a/{agency.slug}/settings/feedback")
    assert page.status_code == 200 and 'value="2"' in page.text, "the default is shown"
    assert client.get(f"/a/{agency.slug}/notifications/settings").status_code == 200


def test_an_unknown_key_is_a_key_error(factory):
    agency = factory.agency()
    with pytest.raises(KeyError):
        agency_setting(agency, "low_rating_treshold")
    with pytest.raises(KeyError):
        update_settings(agency, {"no_such_setting": 1})


def test_decimal_and_choice_kinds():
    amount = Setting("rate", Kind.DECIMAL, Decimal("1.5"), _l("Rate"), min=Decimal(0), max=Decimal(10))
    assert amount.clean("2.25") == Decimal("2.25") and amount.dump(Decimal("2.25")) == "2.25"
    for bad in ("x", "NaN", "11", 0.1):
        with pytest.raises(ValueError):
            amount.clean(bad)
    mode = Setting("mode", Kind.CHOICE, "a", _l("Mode"), choices=(("a", _l("A")), ("b", _l("B"))))
    assert mode.clean("b") == "b"
    with pytest.raises(ValueError):
        mode.clean("c")
    build([(amount, mode)])


# -- writing ----------------------------------------------------------------------------------------


def test_the_writer_stores_typed_values_and_audits_each_change(factory):
    agency = factory.agency()
    with db.tenant_scope(agency.id):
        changed = update_settings(
            agency,
            {
                "low_rating_threshold": "3",
                "digest_time": "07:45",
                "certificate_reminder_days": "30, 90，7",
                "rating_link_email": True,  # the default: not a change
            },
        )
        db.session.commit()
        assert set(changed) == {"low_rating_threshold", "digest_time", "certificate_reminder_days"}
        entries = db.session.execute(
            select(AuditEvent.subject, AuditEvent.details)
            .where(AuditEvent.action == "settings.changed")
            .order_by(AuditEvent.seq)
        ).all()
    assert [tuple(e) for e in entries] == [
        ("low_rating_threshold", {"old": 2, "new": 3}),
        ("digest_time", {"old": "17:00", "new": "07:45"}),
        ("certificate_reminder_days", {"old": [60, 30, 7], "new": [90, 30, 7]}),
    ]
    stored = _stored(agency)
    assert stored["low_rating_threshold"] == 3 and stored["digest_time"] == "07:45"
    assert stored["certificate_reminder_days"] == [90, 30, 7]
    assert "rating_link_email" not in stored
    assert agency_setting(agency, "digest_time") == time(7, 45), "the object is up to date"
    with db.tenant_scope(agency.id):
        assert update_settings(agency, {"low_rating_threshold": 3}) == {}, "unchanged: nothing recorded"


def test_the_writer_keeps_other_keys(factory):
    agency = _store(factory.agency(), {"quality_targets": {"coverage": 90}})
    # another transaction wrote a key meanwhile: the merge keeps it
    db.session.execute(
        update(Agency)
        .where(Agency.id == agency.id)
        .values(settings={"quality_targets": {"coverage": 90}, "session_idle_minutes": 15})
    )
    with db.tenant_scope(agency.id):
        update_settings(agency, {"survey_link_days": 10})
    stored = _stored(agency)
    assert stored == {"quality_targets": {"coverage": 90}, "session_idle_minutes": 15, "survey_link_days": 10}


def test_a_refused_value_saves_nothing_and_names_its_field_in_both_languages(app, factory):
    agency = _store(factory.agency(), {"low_rating_threshold": 3})
    with db.tenant_scope(agency.id):
        with pytest.raises(SettingsError) as refused:
            update_settings(
                agency,
                {"feedback_response_days": "5", "low_rating_threshold": "9", "digest_time": "5pm"},
            )
        assert set(refused.value.problems) == {"low_rating_threshold", "digest_time"}
        with app.test_request_context(), force_locale("en"):
            messages = refused.value.messages()
        assert messages["low_rating_threshold"] == "Enter a number from 1 to 4."
        assert "HH:MM" in messages["digest_time"]
        with app.test_request_context(), force_locale("zh_CN"):
            chinese = refused.value.messages()
        assert "1" in chinese["low_rating_threshold"] and "4" in chinese["low_rating_threshold"]
        assert chinese["low_rating_threshold"] != messages["low_rating_threshold"]
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in chinese.values()), chinese
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "settings.changed")) is None
    assert _stored(agency) == {"low_rating_threshold": 3}, "nothing half-saved"


def test_a_structured_value_is_checked_by_parts_written_and_audited_by_the_one_writer(app, factory):
    agency = factory.agency()
    with db.tenant_scope(agency.id):
        with pytest.raises(SettingsError) as refused:
            update_settings(
                agency,
                {
                    "quality_targets": {"coverage": "120", "satisfaction": "x", "training": "90"},
                    # a well-formed id, but of no certificate type in use
                    "required_certificate_types": {"carer": [str(uuid.uuid4())]},
                    "low_rating_threshold": "3",
                },
            )
    assert _stored(agency) == {}, "nothing half-saved"
    with app.test_request_context(), force_locale("en"):
        assert refused.value.messages() == {
            "target_coverage": "Enter a percentage from 0 to 100.",
            "target_satisfaction": "Enter a number.",
            "required_carer": "Choose a certificate type from the agency's list.",
        }, "each refused part, next to its own field"
        assert [(e.field, e.message()) for e in refused.value.by_field()][0] == (
            "target_coverage",
            "Enter a percentage from 0 to 100.",
        )
    with db.tenant_scope(agency.id):
        changed = update_settings(agency, {"quality_targets": {"response_time": "30"}})
        assert changed["quality_targets"][1]["response_time"] == 30
        db.session.commit()
        entry = db.session.execute(
            select(AuditEvent.subject, AuditEvent.details).where(AuditEvent.action == "settings.changed")
        ).one()
    assert entry.subject == "quality_targets"
    assert (entry.details["old"]["response_time"], entry.details["new"]["response_time"]) == (120, 30)
    assert _stored(agency)["quality_targets"]["response_time"] == 30


# -- the generated pages ----------------------------------------------------------------------------


def test_a_generated_page_shows_fields_ranges_and_messages_next_to_them(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    url = f"/a/{agency.slug}/surveys/settings"
    page = client.get(url)
    assert page.status_code == 200
    assert "Smallest sample (clients)" in page.text and "From 1 to 10000." in page.text
    good = {
        "survey_sample_min": "20",
        "survey_outcome_months": "0",
        "survey_link_days": "21",
        "survey_reminder_days": "3",
    }
    refused = client.post(url, data={**good, "survey_link_days": "400", "survey_reminder_days": "x"})
    assert refused.status_code == 422
    assert 'id="survey_link_days-error"' in refused.text and "Enter a number from 1 to 365." in refused.text
    assert 'id="survey_reminder_days-error"' in refused.text and "Enter a whole number." in refused.text
    assert 'value="400"' in refused.text, "what was typed is kept"
    assert "survey_sample_min" not in _stored(agency), "nothing saved"
    assert client.post(url, data=good).status_code == 302
    agency = db.session.get(Agency, agency.id, populate_existing=True)
    assert agency_setting(agency, "survey_outcome_months") == 0
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    other = factory.app.test_client()
    login(other, coordinator)
    assert other.get(url).status_code == 403


def test_a_generated_page_in_chinese(client, factory):
    agency = factory.agency(locale="zh_CN")
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    url = f"/a/{agency.slug}/settings/feedback"
    refused = client.post(
        url,
        data={
            "low_rating_threshold": "0",
            "feedback_response_days": "3",
            "complaint_response_days": "3",
            "statistics_max_range_months": "24",
        },
    )
    assert refused.status_code == 422
    assert 'id="low_rating_threshold-error"' in refused.text
    assert "请输入 1 到 4 之间的数字。" in refused.text and "Enter a number" not in refused.text
    assert "范围：1 至 4。" in refused.text, "the range, in Chinese, next to the field"


def test_the_care_page_takes_lists_and_choices(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    url = f"/a/{agency.slug}/settings/care"
    page = client.get(url)
    assert 'value="1w, 2w, 1m, 2m"' in page.text and "Who may approve service plans" in page.text
    base = {
        "visit_window_days": "14",
        "travel_buffer_minutes": "20",
        "late_grace_minutes": "10",
        "phone_clock_tolerance_minutes": "15",
        "high_risk_score": "12",
        "elderly_from_age": "65",
        "follow_up_schedule": "1w, 1m",
        "plan_approver_roles": ["admin"],
    }
    nobody = client.post(url, data={**base, "plan_approver_roles": []})
    assert nobody.status_code == 422 and 'id="plan_approver_roles-error"' in nobody.text
    assert client.post(url, data=base).status_code == 302
    stored = _stored(agency)
    assert stored["follow_up_schedule"] == ["1w", "1m"] and stored["plan_approver_roles"] == ["admin"]
    assert "checkin_location" not in stored, "unchanged: not written"
