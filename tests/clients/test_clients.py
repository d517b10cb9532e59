"""Clients and cases: intake to plan to closure and follow-ups."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from saas import db
from saas.models import Role
from tenants.clients import services
from tenants.clients.models import (
    Case,
    CaseTransition,
    Client,
    ClientFileAccess,
    EmergencyContact,
    FollowUp,
    ServicePlan,
    ServicePlanItem,
)
from tenants.clients.services import ClientError
from tests.factories import login

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)

DOMAINS = {
    d: {"level": 3, "notes": ""}
    for d in ("physical", "psychological", "social", "family_network", "quality_of_life")
}


def client_form(**overrides) -> dict:
    data = {
        "full_name": "Margaret Thornbury",
        "preferred_name": "Maggie",
        "date_of_birth": "1941-03-02",
        "gender": "female",
        "phone": "01234 567890",
        "email": "",
        "address": "12 Harbour Street",
        "latitude": "51.501",
        "longitude": "-0.141",
        "checkin_radius_m": "250",
        "languages": "English, Welsh",
        "family_status": "widowed",
        "economic_status": "low",
        "health_status": "chronic_illness",
        "psychological_state": "normal",
        "consent_services": "y",
        "consent_data": "y",
        "contacts-0-name": "Anne Thornbury",
        "contacts-0-relationship": "daughter",
        "contacts-0-phone": "07700 900123",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def agency_admin_coordinator(factory):
    """Unlike the common `admin`, nobody is signed in: the agency, its admin
    and a coordinator (plans need an author and a different approver)."""
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    return agency, admin, coordinator


def test_age_groups():
    today = date(2026, 11, 21)
    assert services.age_group(date(2020, 1, 1), today) == "child"
    assert services.age_group(date(2012, 1, 1), today) == "adolescent"
    assert services.age_group(date(1990, 1, 1), today) == "adult"
    assert services.age_group(date(1966, 11, 21), today) == "elderly"
    assert services.age_group(date(1966, 11, 22), today) == "adult", "60 tomorrow"
    assert services.age_group(date(1960, 1, 1), today, elderly_from=70) == "adult"
    assert services.age_group(None, today) is None


def test_create_client_with_contacts_and_file_access_log(client, agency_admin_coordinator):
    agency, admin, _ = agency_admin_coordinator
    login(client, admin)
    response = client.post(f"/a/{agency.slug}/clients/new", data=client_form())
    assert response.status_code == 302, response.text[:2000]
    with db.tenant_scope(agency.id):
        person = db.session.scalar(select(Client).where(Client.full_name == "Margaret Thornbury"))
        assert person.languages == ["English", "Welsh"] and person.consent_recorded_at is not None
        contacts = db.session.scalars(
            select(EmergencyContact).where(EmergencyContact.client_id == person.id)
        ).all()
        assert [(c.name, c.phone) for c in contacts] == [("Anne Thornbury", "07700 900123")]
    page = client.get(f"/a/{agency.slug}/clients/{person.id}")
    assert "Margaret Thornbury" in page.text and "Elderly" in page.text and "Widowed" in page.text
    with db.tenant_scope(agency.id):
        reads = db.session.scalars(
            select(ClientFileAccess).where(ClientFileAccess.client_id == person.id)
        ).all()
    assert [(r.user_id, r.section) for r in reads] == [(admin.id, "file")]
    log = client.get(f"/a/{agency.slug}/clients/{person.id}/access-log")
    assert admin.email in log.text


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"full_name": ""}, "This field is required."),
        ({"date_of_birth": "2999-01-01"}, "cannot be in the future"),
        ({"latitude": "51.5", "longitude": ""}, "both latitude and longitude"),
        ({"latitude": "abc"}, "Not a valid decimal value"),
        ({"latitude": "95"}, "between -90 and 90"),
        ({"checkin_radius_m": "-5"}, "between 10 and 50000"),
        ({"consent_services": None}, "recorded consent"),
        ({"contacts-0-phone": ""}, "both a name and a phone number"),
    ],
)
def test_client_bad_input_saves_nothing(client, agency_admin_coordinator, overrides, message):
    agency, admin, _ = agency_admin_coordinator
    login(client, admin)
    response = client.post(f"/a/{agency.slug}/clients/new", data=client_form(**overrides))
    assert response.status_code == 422
    assert message in response.text
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(Client)) == 0
        assert db.session.scalar(select(func.count()).select_from(EmergencyContact)) == 0


def test_carers_and_clients_cannot_read_client_files(client, factory):
    agency = factory.agency()
    carer, _ = factory.member(agency, Role.CARER)
    with db.tenant_scope(agency.id):
        person = services.save_client(
            agency, services.ClientData(full_name="Private Person", consent_services=True)
        )
        db.session.commit()
    login(client, carer)
    assert client.get(f"/a/{agency.slug}/clients").status_code == 403
    assert client.get(f"/a/{agency.slug}/clients/{person.id}").status_code == 404, "not theirs to know"


def make_case(agency, admin):
    with db.tenant_scope(agency.id):
        person = services.save_client(
            agency,
            services.ClientData(
                full_name="Case Person",
                consent_services=True,
                contacts=[services.ContactData("Kit Person", "son", "07700 900123")],
            ),
        )
        case = services.open_case(
            agency, person, channel="referral", referrer="GP", materials="letter", by=admin
        )
        db.session.commit()
        return person, case


def test_case_numbers_and_one_open_case(agency_admin_coordinator):
    agency, admin, _ = agency_admin_coordinator
    person, case = make_case(agency, admin)
    year = services.agency_today(agency).year
    assert case.number == f"{year}-0001" and case.status == "intake"
    with db.tenant_scope(agency.id), pytest.raises(ClientError) as err:
        services.open_case(agency, person, channel="phone", referrer="", materials="", by=admin)
    assert err.value.code == "case_open"
    with db.tenant_scope(agency.id):
        other = services.save_client(agency, services.ClientData(full_name="Second", consent_services=True))
        second = services.open_case(agency, other, channel="phone", referrer="", materials="", by=admin)
    assert second.number == f"{year}-0002"


def test_transitions_are_recorded_and_checked(agency_admin_coordinator):
    agency, admin, _ = agency_admin_coordinator
    _person, case = make_case(agency, admin)
    with db.tenant_scope(agency.id):
        with pytest.raises(ClientError):
            services.transition(case, "active", by=admin)
        today = services.agency_today(agency)
        services.record_assessment(
            case, method="interview", assessed_on=today, domains=DOMAINS, summary="ok", by=admin, today=today
        )
        assert case.status == "assessment"
        moves = db.session.scalars(select(CaseTransition.to_status).order_by(CaseTransition.at)).all()
        assert moves == ["intake", "assessment"]


def test_assessment_levels_and_history(agency_admin_coordinator):
    agency, admin, _ = agency_admin_coordinator
    _person, case = make_case(agency, admin)
    today = services.agency_today(agency)
    with db.tenant_scope(agency.id):
        bad = dict(DOMAINS, social={"level": 7})
        with pytest.raises(ClientError) as err:
            services.record_assessment(
                case, method="interview", assessed_on=today, domains=bad, summary="", by=admin, today=today
            )
        assert err.value.field == "social_level"
        with pytest.raises(ClientError):
            services.record_assessment(
                case,
                method="interview",
                assessed_on=today + timedelta(days=1),
                domains=DOMAINS,
                summary="",
                by=admin,
                today=today,
            )
        services.record_assessment(
            case,
            method="interview",
            assessed_on=today - timedelta(days=30),
            domains=DOMAINS,
            summary="first",
            by=admin,
            today=today,
        )
        services.record_assessment(
            case,
            method="observation",
            assessed_on=today,
            domains=dict(DOMAINS, physical={"level": 5, "notes": "fall"}),
            summary="again",
            by=admin,
            today=today,
        )
        from tenants.clients.models import NeedsAssessment

        history = db.session.scalars(
            select(NeedsAssessment.summary).order_by(NeedsAssessment.assessed_on)
        ).all()
        assert history == ["first", "again"], "re-assessment keeps history"


def test_risk_matrix_high_risks_first(agency_admin_coordinator):
    agency, admin, _ = agency_admin_coordinator
    _person, case = make_case(agency, admin)
    today = services.agency_today(agency)
    with db.tenant_scope(agency.id):
        risk = services.record_risks(
            case,
            assessed_on=today,
            by=admin,
            today=today,
            hazards=[
                {"hazard": "loose rug", "likelihood": 3, "impact": 3},
                {"hazard": "gas heater", "likelihood": 4, "impact": 5, "mitigation": "check"},
                {"hazard": "", "likelihood": None, "impact": None},
            ],
        )
        assert [h["hazard"] for h in risk.hazards] == ["gas heater", "loose rug"]
        assert [h["hazard"] for h in services.high_risks(agency, risk)] == ["gas heater"]
        with pytest.raises(ClientError) as err:
            services.record_risks(
                case,
                assessed_on=today,
                by=admin,
                today=today,
                hazards=[{"hazard": "x", "likelihood": 6, "impact": 1}],
            )
        assert err.value.code == "score_range"


@pytest.fixture
def service_item(factory, agency_admin_coordinator):
    from tenants.catalogue.models import ServiceItem

    agency, _admin, _ = agency_admin_coordinator
    item_id = factory.service_item(agency, "Housekeeping", category="Daily living")
    with db.tenant_scope(agency.id):
        return db.session.get(ServiceItem, (agency.id, item_id))


def planned_case(agency, admin):
    person, case = make_case(agency, admin)
    today = services.agency_today(agency)
    with db.tenant_scope(agency.id):
        services.record_assessment(
            case, method="interview", assessed_on=today, domains=DOMAINS, summary="", by=admin, today=today
        )
        db.session.commit()
    return person, case


def test_plan_needs_items_and_a_different_approver(agency_admin_coordinator, service_item):
    agency, admin, coordinator = agency_admin_coordinator
    _person, case = planned_case(agency, admin)
    today = services.agency_today(agency)
    with db.tenant_scope(agency.id):
        plan = services.new_plan(case, by=coordinator)
        assert case.status == "planning"
        services.update_plan(plan, services.PlanFields("Stay safely at home", None, "", None, today, None))
        with pytest.raises(ClientError) as err:
            services.submit_plan(plan, case, by=coordinator)
        assert err.value.code == "items_needed"
        services.add_plan_item(plan, services.PlanItemData(service_item.id, [1, 4], "09:30", 60))
        services.submit_plan(plan, case, by=coordinator)
        with pytest.raises(ClientError) as err:
            services.approve_plan(agency, plan, case, by=coordinator, role="coordinator")
        assert err.value.code == "approver_is_author"
        with pytest.raises(ClientError) as err:
            services.approve_plan(agency, plan, case, by=admin, role="carer")
        assert err.value.code == "approver_role"
        services.approve_plan(agency, plan, case, by=admin, role="admin")
        services.activate_plan(plan, case, by=admin)
        assert plan.status == "active" and case.status == "active"
        db.session.commit()


def test_change_after_approval_is_a_new_version(agency_admin_coordinator, service_item):
    agency, admin, coordinator = agency_admin_coordinator
    _person, case = planned_case(agency, admin)
    today = services.agency_today(agency)
    with db.tenant_scope(agency.id):
        v1 = services.new_plan(case, by=coordinator)
        services.update_plan(v1, services.PlanFields("Goal one", None, "", None, today, None))
        services.add_plan_item(v1, services.PlanItemData(service_item.id, [2], "10:00", 45))
        services.submit_plan(v1, case, by=coordinator)
        services.approve_plan(agency, v1, case, by=admin, role="admin")
        services.activate_plan(v1, case, by=admin)
        with pytest.raises(ClientError) as err:
            services.update_plan(v1, services.PlanFields("Changed", None, "", None, today, None))
        assert err.value.code == "not_draft"
        v2 = services.new_plan(case, by=coordinator)
        assert v2.version == 2 and v2.goals == "Goal one"
        assert (
            len(db.session.scalars(select(ServicePlanItem).where(ServicePlanItem.plan_id == v2.id)).all())
            == 1
        )
        services.update_plan(v2, services.PlanFields("Goal two", None, "", None, today, None))
        services.submit_plan(v2, case, by=coordinator)
        services.approve_plan(agency, v2, case, by=admin, role="admin")
        services.activate_plan(v2, case, by=admin)
        db.session.commit()
        statuses = dict(db.session.execute(select(ServicePlan.version, ServicePlan.status)).all())
        assert statuses == {1: "superseded", 2: "active"}
        assert db.session.scalar(select(ServicePlan.goals).where(ServicePlan.version == 1)) == "Goal one"


def test_plan_item_bad_input(agency_admin_coordinator, service_item):
    agency, admin, coordinator = agency_admin_coordinator
    _person, case = planned_case(agency, admin)
    with db.tenant_scope(agency.id):
        plan = services.new_plan(case, by=coordinator)
        for data, code in (
            (services.PlanItemData(service_item.id, [], "09:00", 30), "weekdays_needed"),
            (services.PlanItemData(service_item.id, [9], "09:00", 30), "weekdays_needed"),
            (services.PlanItemData(service_item.id, [1], "25:00", 30), "time_format"),
            (services.PlanItemData(service_item.id, [1], "09:00", 2), "duration_range"),
        ):
            with pytest.raises(ClientError) as err:
                services.add_plan_item(plan, data)
            assert err.value.code == code
        with pytest.raises(ClientError) as err:
            services.update_plan(
                plan, services.PlanFields("g", None, "", None, date(2027, 2, 1), date(2027, 1, 1))
            )
        assert err.value.code == "end_before_start"


def test_closing_schedules_follow_ups_and_reopening(agency_admin_coordinator):
    agency, admin, _ = agency_admin_coordinator
    _person, case = make_case(agency, admin)
    with db.tenant_scope(agency.id):
        with pytest.raises(ClientError) as err:
            services.close_case(agency, case, reason=" ", closed_on=case.opened_on, by=admin)
        assert err.value.code == "reason_required"
        closed_on = case.opened_on
        services.close_case(agency, case, reason="Moved to family", closed_on=closed_on, by=admin)
        db.session.commit()
        due = dict(db.session.execute(select(FollowUp.label, FollowUp.due_on)).all())
    from dateutil.relativedelta import relativedelta

    assert due == {
        "1w": closed_on + timedelta(days=7),
        "2w": closed_on + timedelta(days=14),
        "1m": closed_on + relativedelta(months=1),
        "2m": closed_on + relativedelta(months=2),
    }
    with db.tenant_scope(agency.id), time_machine.travel(db.utcnow() + timedelta(days=8)):
        item = db.session.scalar(select(FollowUp).where(FollowUp.label == "1w"))
        today = services.agency_today(agency)
        services.record_follow_up(
            item,
            case,
            done_on=today,
            method="phone",
            outcome="Needs help again",
            new_intervention=True,
            reopen=True,
            by=admin,
            today=today,
        )
        assert case.status == "assessment" and case.closed_on is None


def test_follow_up_schedule_is_per_agency(agency_admin_coordinator):
    agency, admin, _ = agency_admin_coordinator
    agency.settings = {"follow_up_schedule": ["3d", "1m"]}
    db.session.commit()
    _person, case = make_case(agency, admin)
    with db.tenant_scope(agency.id):
        services.close_case(agency, case, reason="done", closed_on=case.opened_on, by=admin)
        labels = sorted(db.session.scalars(select(FollowUp.label)))
    assert labels == ["1m", "3d"]


def test_intake_to_active_plan_through_the_pages(client, agency_admin_coordinator, service_item):
    agency, admin, coordinator = agency_admin_coordinator
    login(client, coordinator)
    client.post(f"/a/{agency.slug}/clients/new", data=client_form())
    with db.tenant_scope(agency.id):
        person = db.session.scalar(select(Client))
    r = client.post(
        f"/a/{agency.slug}/clients/{person.id}/cases", data={"intake_channel": "phone", "referrer": ""}
    )
    case_url = r.location
    case_id = case_url.rsplit("/", 1)[-1]
    levels = {f"{d}_level": "3" for d in DOMAINS}
    r = client.post(
        f"{case_url}/assessments/new", data={"method": "interview", "assessed_on": "2026-01-05", **levels}
    )
    assert r.status_code == 302, r.text[:1500]
    r = client.post(f"/a/{agency.slug}/cases/{case_id}/plans")
    plan_url = r.location
    r = client.post(plan_url, data={"plan-goals": "Independence", "plan-starts_on": "2026-02-01"})
    assert r.status_code == 302
    r = client.post(
        f"{plan_url}/items",
        data={
            "item-service_item_id": str(service_item.id),
            "item-weekdays": ["1", "3"],
            "item-start_time": "09:00",
            "item-duration_minutes": "60",
        },
    )
    assert r.status_code == 302, r.text[:1500]
    client.post(f"{plan_url}/submit")
    refused = client.post(f"{plan_url}/approve", follow_redirects=True)
    assert "someone other than its author" in refused.text
    client.post("/logout")
    login(client, admin)
    client.post(f"{plan_url}/approve")
    page = client.post(f"{plan_url}/activate", follow_redirects=True)
    assert "Plan is now active." in page.text
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(Case.status)) == "active"
    file_page = client.get(f"/a/{agency.slug}/clients/{person.id}")
    assert "Service plan v1" in file_page.text and "Needs assessment" in file_page.text


def test_client_file_costs_the_same_with_more_history(client, agency_admin_coordinator):
    from tests.sqlcount import count_statements

    agency, admin, _ = agency_admin_coordinator
    person, case = make_case(agency, admin)
    login(client, admin)
    with count_statements() as small:
        client.get(f"/a/{agency.slug}/clients/{person.id}")
    today = services.agency_today(agency)
    with db.tenant_scope(agency.id):
        for i in range(15):
            services.record_assessment(
                case,
                method="interview",
                assessed_on=today - timedelta(days=i),
                domains=DOMAINS,
                summary=str(i),
                by=admin,
                today=today,
            )
        db.session.commit()
    with count_statements() as large:
        assert client.get(f"/a/{agency.slug}/clients/{person.id}").status_code == 200
    assert large.count == small.count


def test_care_settings_are_validated_and_recorded(client, agency_admin_coordinator):
    from saas.models import Agency, AuditEvent

    agency, admin, coordinator = agency_admin_coordinator
    login(client, coordinator)
    assert client.get(f"/a/{agency.slug}/settings/care").status_code == 403
    client.post("/logout")
    login(client, admin)
    base = {
        "visit_window_days": "14",
        "travel_buffer_minutes": "20",
        "late_grace_minutes": "10",
        "phone_clock_tolerance_minutes": "15",
        "checkin_location": "y",
        "high_risk_score": "12",
        "elderly_from_age": "65",
        "follow_up_schedule": "1w, 1m",
        "plan_approver_roles": "admin",
    }
    bad = client.post(f"/a/{agency.slug}/settings/care", data=dict(base, follow_up_schedule="soon"))
    assert bad.status_code == 422 and "7d, 2w or 1m" in bad.text
    bad = client.post(f"/a/{agency.slug}/settings/care", data=dict(base, visit_window_days="-3"))
    assert bad.status_code == 422
    ok = client.post(f"/a/{agency.slug}/settings/care", data=base)
    assert ok.status_code == 302
    db.session.expire_all()
    settings = db.session.get(Agency, agency.id).settings
    assert settings["follow_up_schedule"] == ["1w", "1m"] and settings["checkin_location"] is True
    assert settings["plan_approver_roles"] == ["admin"]
    with db.tenant_scope(agency.id):
        changed = db.session.scalars(
            select(AuditEvent.subject).where(AuditEvent.action == "settings.changed")
        ).all()
        assert {"follow_up_schedule", "plan_approver_roles", "checkin_location"} <= set(changed)


def test_restricted_agency_cannot_add_clients_or_plans_but_care_goes_on(client, agency_admin_coordinator):
    agency, admin, coordinator = agency_admin_coordinator
    _person, case = planned_case(agency, admin)
    agency.billing_state = "restricted"
    db.session.commit()
    login(client, coordinator)
    refused = client.get(f"/a/{agency.slug}/clients/new")
    assert refused.status_code == 403 and "restricted" in refused.text
    assert client.post(f"/a/{agency.slug}/cases/{case.id}/plans").status_code == 403
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).select_from(ServicePlan)) == 0
    assert client.get(f"/a/{agency.slug}/cases/{case.id}").status_code == 200, "existing care stays readable"


def test_someone_who_changed_the_plan_cannot_approve_it(agency_admin_coordinator, service_item, factory):
    agency, admin, coordinator = agency_admin_coordinator
    other, _ = factory.member(agency, Role.COORDINATOR)
    _person, case = planned_case(agency, admin)
    today = services.agency_today(agency)
    with db.tenant_scope(agency.id):
        plan = services.new_plan(case, by=coordinator)
        services.update_plan(plan, services.PlanFields("Rewritten", None, "", None, today, None), by=other)
        services.add_plan_item(plan, services.PlanItemData(service_item.id, [2], "10:00", 30), by=other)
        services.submit_plan(plan, case, by=other)
        with pytest.raises(ClientError) as err:
            services.approve_plan(agency, plan, case, by=other, role="coordinator")
        assert err.value.code == "approver_is_author", "an editor is an author too"
        services.approve_plan(agency, plan, case, by=admin, role="admin")
        assert plan.status == "approved"
