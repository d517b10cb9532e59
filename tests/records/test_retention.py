"""Retention and archives: the 3- and 5-year retention from the last closing,
the monthly appraisal list, the decisions (keep, anonymise, destroy) and what
each leaves behind, archived clients apart."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from saas import db
from saas.models import AuditEvent, Membership, Role
from tenants.clients.models import Case, Client, EmergencyContact
from tenants.records import services
from tenants.records.models import RetentionReview
from tests.factories import login
from tests.scheduling.test_scheduling import World, assign, first_visit

pytestmark = pytest.mark.dates


def noon(agency, day) -> datetime:
    """Noon of the agency's `day` on its own clock: what the clock travels to."""
    return datetime.combine(day, time(12), agency.zone)


def closed_client(factory, agency, name, *, by, special=False):
    client = factory.client(agency, name)
    case = factory.case(agency, client, by=by, special_programme=special)
    factory.close_case(agency, case, by=by)
    return client


def reviews(agency) -> list[RetentionReview]:
    with db.tenant_scope(agency.id):
        return list(
            db.session.scalars(
                select(RetentionReview)
                .order_by(RetentionReview.due_on)
                .execution_options(populate_existing=True)
            )
        )


def sweep_on(agency, day) -> int:
    with time_machine.travel(noon(agency, day), tick=False), db.tenant_scope(agency.id):
        listed = services.sweep(agency)
        db.session.commit()
        return listed


def test_a_file_is_appraised_three_years_after_its_last_closing_five_for_a_special_programme(factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    ordinary = closed_client(factory, agency, "Ada Ordinary", by=admin)
    special = closed_client(factory, agency, "Sol Special", by=admin, special=True)
    closed_on = agency.today()
    three, five = closed_on + relativedelta(years=3), closed_on + relativedelta(years=5)

    assert sweep_on(agency, three - relativedelta(months=2)) == 0, "retention still running"
    assert sweep_on(agency, three) == 1
    (listed,) = reviews(agency)
    assert listed.client_id == ordinary.id and listed.due_on == three and listed.decision is None
    assert sweep_on(agency, three) == 0 and sweep_on(agency, three + timedelta(days=40)) == 0, "idempotent"
    assert sweep_on(agency, five - relativedelta(months=2)) == 0
    assert sweep_on(agency, five) == 1
    assert [(r.client_id, r.due_on) for r in reviews(agency)] == [(ordinary.id, three), (special.id, five)]


def test_the_agency_sets_its_retention_and_a_special_programme_never_keeps_less(factory):
    from saas.settings import update_settings

    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    with db.tenant_scope(agency.id):
        update_settings(agency, {"retention_years": "6"})
        db.session.commit()
    closed_client(factory, agency, "Sol Special", by=admin, special=True)
    six = agency.today() + relativedelta(years=6)
    assert sweep_on(agency, six - relativedelta(months=2)) == 0, "5 would be less than the agency's 6"
    assert sweep_on(agency, six) == 1


def test_the_sweep_lists_only_archived_files_of_its_own_agency(factory):
    agency, other = factory.agency(), factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    other_admin, _ = factory.member(other, Role.ADMIN)
    closed_client(factory, agency, "Ada Ordinary", by=admin)
    closed_client(factory, other, "Otto Other", by=other_admin)
    still_served = factory.client(agency, "Stan Served")
    factory.case(agency, still_served, by=admin)
    three = agency.today() + relativedelta(years=3, months=1)
    assert sweep_on(agency, three) == 1
    assert reviews(other) == [], "another agency's files are its own sweep's"
    assert len(reviews(agency)) == 1


def test_the_periodic_sweep_is_idempotent(app, factory):
    from tenants.records import jobs

    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    closed_client(factory, agency, "Ada Ordinary", by=admin)
    later = noon(agency, agency.today() + relativedelta(years=3, months=1))
    with time_machine.travel(later, tick=False):
        jobs.retention_sweep()
        jobs.retention_sweep()
    assert len(reviews(agency)) == 1


def test_archived_clients_are_shown_apart(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    closed = closed_client(factory, agency, "Ada Archived", by=admin)
    factory.case(agency, factory.client(agency, "Stan Served"), by=admin)
    with db.tenant_scope(agency.id):
        assert db.session.get(Client, (agency.id, closed.id), populate_existing=True).archived_at is not None
    login(client, admin)
    current = client.get(f"/a/{agency.slug}/clients")
    assert "Stan Served" in current.text and "Ada Archived" not in current.text
    archived = client.get(f"/a/{agency.slug}/clients?status=archived")
    assert "Ada Archived" in archived.text and "Stan Served" not in archived.text
    # a new case takes the client out of the archive
    with db.tenant_scope(agency.id):
        case = db.session.scalar(select(Case).where(Case.client_id == closed.id))
    from tenants.clients import services as clients

    with db.tenant_scope(agency.id):
        case = db.session.get(Case, (agency.id, case.id))
        clients.transition(case, "assessment", by=admin, note="back")
        db.session.commit()
        assert db.session.get(Client, (agency.id, closed.id), populate_existing=True).archived_at is None


def served_and_closed(factory):
    """A client with a completed visit (its record's notes), a rating with a
    comment, an emergency contact; their case closed today."""
    world = World(factory)
    world.activate()
    _carer_user, carer = world.carer()
    visit = first_visit(world)
    assign(world, visit, carer)
    factory.complete_visit(world.agency, visit.id, carer.id, what_was_done="Bathed Edith", notes="Knee sore")
    factory.rating(world.agency, visit.id, comment="Lovely, thank you Cara", attitude=5)
    from tenants.clients import services as clients
    from tenants.clients.models import ASSESSMENT_DOMAINS

    with db.tenant_scope(world.agency.id):
        db.session.add(EmergencyContact(client_id=world.client.id, name="Kit Carver", phone="07700 900123"))
        case = db.session.get(Case, (world.agency.id, world.case.id))
        today = world.agency.today()
        clients.record_risks(
            case,
            assessed_on=today,
            hazards=[{"hazard": "Edith's loose rug", "likelihood": 4, "impact": 3, "mitigation": "Ask Kit"}],
            by=world.admin,
            today=today,
        )
        clients.record_assessment(
            case,
            method="interview",
            assessed_on=today,
            by=world.admin,
            today=today,
            summary="Edith lives alone",
            domains={d: {"level": 3, "notes": "Edith says"} for d in ASSESSMENT_DOMAINS},
        )
        db.session.commit()
    factory.close_case(world.agency, world.case, by=world.admin)
    return world


def counts(agency, client_id) -> dict[str, int]:
    from tenants.feedback.models import VisitRating
    from tenants.scheduling.models import ServiceRecord, Visit

    with db.tenant_scope(agency.id):
        return {
            "visits": db.session.scalar(select(func.count()).where(Visit.client_id == client_id)),
            "records": db.session.scalar(
                select(func.count())
                .select_from(ServiceRecord)
                .join(
                    Visit, (Visit.tenant_id == ServiceRecord.tenant_id) & (Visit.id == ServiceRecord.visit_id)
                )
                .where(Visit.client_id == client_id)
            ),
            "ratings": db.session.scalar(select(func.count()).where(VisitRating.client_id == client_id)),
            "cases": db.session.scalar(select(func.count()).where(Case.client_id == client_id)),
            "clients": db.session.scalar(select(func.count()).where(Client.id == client_id)),
        }


def listed_review(world) -> tuple[RetentionReview, datetime]:
    later = noon(world.agency, world.agency.today() + relativedelta(years=3, months=1))
    sweep_on(world.agency, later.date())
    (review,) = reviews(world.agency)
    return review, later


def decide(world, review, moment, **data):
    with time_machine.travel(moment, tick=False), db.tenant_scope(world.agency.id):
        review = db.session.get(RetentionReview, (world.agency.id, review.id))
        decision = services.decide(world.agency, review, services.DecisionData(**data), by=world.admin)
        db.session.commit()
        return decision


def audit_of(agency, action: str) -> list[AuditEvent]:
    with db.tenant_scope(agency.id):
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_anonymising_keeps_the_counts_and_removes_what_identifies(factory):
    from tenants.feedback.models import VisitRating
    from tenants.incidents import services as incidents
    from tenants.incidents.models import Incident
    from tenants.scheduling.models import ServiceRecord

    world = served_and_closed(factory)
    with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
        incidents.report(
            world.agency,
            incidents.ReportData(
                type="fall",
                severity="minor",
                place="Hallway",
                occurred_at=db.utcnow() - timedelta(hours=2),
                description="Edith slipped on the rug",
                client_id=world.client.id,
                immediate_response="Called Kit Carver",
            ),
            by=db.session.scalar(select(Membership).where(Membership.user_id == world.admin.id)),
        )
        db.session.commit()
    before = counts(world.agency, world.client.id)
    assert before["visits"] >= 1 and before["records"] == 1 and before["ratings"] == 1
    review, later = listed_review(world)
    decide(world, review, later, decision="anonymise", reason="Retention over, statistics kept")

    assert counts(world.agency, world.client.id) == before, "visits, records, ratings, cases all stay"
    with db.tenant_scope(world.agency.id):
        person = db.session.get(Client, (world.agency.id, world.client.id), populate_existing=True)
        assert person.anonymised_at is not None and "Edith" not in person.full_name
        assert (person.phone, person.email, person.address, person.latitude) == ("", "", "", None)
        assert db.session.scalar(select(func.count()).where(EmergencyContact.client_id == person.id)) == 0
        rating = db.session.scalar(select(VisitRating).where(VisitRating.client_id == person.id))
        assert rating.attitude == 5 and "Cara" not in rating.comment, "the scores stay, the words go"
        record = db.session.scalar(select(ServiceRecord))
        assert "Edith" not in record.what_was_done and "Knee" not in record.notes
        case = db.session.scalar(select(Case).where(Case.client_id == person.id))
        assert case.closed_on is not None and case.closure_reason != "Goals met"
        from tenants.clients.models import NeedsAssessment, RiskAssessment

        risks = db.session.scalars(select(RiskAssessment).where(RiskAssessment.case_id == case.id)).all()
        (hazard,) = [h for r in risks for h in r.hazards if h["likelihood"] == 4]
        assert (hazard["impact"], "Edith" in hazard["hazard"], "Kit" in hazard["mitigation"]) == (
            3,
            False,
            False,
        )
        needs = db.session.scalars(select(NeedsAssessment).where(NeedsAssessment.case_id == case.id)).all()
        assert all(d["level"] in (2, 3) and "notes" not in d for n in needs for d in n.domains.values())
        assert all("Edith" not in n.summary for n in needs)
    with db.tenant_scope(world.agency.id):
        (incident,) = db.session.scalars(select(Incident).where(Incident.client_id == person.id)).all()
        assert incident.type == "fall" and incident.severity == "minor", "its kind stays"
        assert "Edith" not in incident.description and "Kit" not in incident.immediate_response
    (entry,) = audit_of(world.agency, "retention.decided")
    assert entry.actor_id == world.admin.id and entry.details["decision"] == "anonymise"
    assert entry.details["reason"] == "Retention over, statistics kept"
    assert audit_of(world.agency, "client.anonymised")
    (kept,) = reviews(world.agency)
    assert kept.decision == "anonymise" and kept.decided_by_user_id == world.admin.id
    # an anonymised file holds nothing personal: it is not listed again
    assert sweep_on(world.agency, later.date() + relativedelta(years=5)) == 0


def test_destroying_removes_every_care_record_in_one_go_and_the_audit_keeps_the_fact(factory):
    world = served_and_closed(factory)
    other = factory.client(world.agency, "Olive Other")
    review, later = listed_review(world)
    decide(world, review, later, decision="destroy", reason="Retention over, no reason to keep")

    assert counts(world.agency, world.client.id) == dict.fromkeys(
        ("visits", "records", "ratings", "cases", "clients"), 0
    )
    assert reviews(world.agency) == []
    with db.tenant_scope(world.agency.id):
        assert db.session.get(Client, (world.agency.id, other.id)) is not None, "other clients stay"
    (destroyed,) = audit_of(world.agency, "client.destroyed")
    assert destroyed.subject == str(world.client.id) and destroyed.details["removed"]["clients"] == 1
    assert "Edith" not in str(destroyed.details) and "Carver" not in str(destroyed.details)
    (decided,) = audit_of(world.agency, "retention.decided")
    assert decided.details["decision"] == "destroy" and decided.actor_id == world.admin.id


def test_a_kept_file_comes_back_at_its_review_date(factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    closed_client(factory, agency, "Ada Ordinary", by=admin)
    later = noon(agency, agency.today() + relativedelta(years=3, months=1))
    sweep_on(agency, later.date())
    (review,) = reviews(agency)
    review_on = later.date() + relativedelta(years=1)

    class W:  # what `decide` needs of a world
        pass

    world = W()
    world.agency, world.admin = agency, admin
    decide(world, review, later, decision="keep", reason="Court case pending", review_on=review_on)
    assert sweep_on(agency, review_on - relativedelta(months=2)) == 0
    assert sweep_on(agency, review_on) == 1
    assert [(r.decision, r.due_on) for r in reviews(agency)] == [("keep", review.due_on), (None, review_on)]


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"decision": "destroy", "reason": "  "}, "reason_required", "reason"),
        ({"decision": "", "reason": "Why not"}, "decision_unknown", "decision"),
        ({"decision": "keep", "reason": "Pending", "review_on": None}, "review_on_required", "review_on"),
    ],
)
def test_a_decision_is_refused_before_anything_changes(factory, data, code, field):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    person = closed_client(factory, agency, "Ada Ordinary", by=admin)
    later = noon(agency, agency.today() + relativedelta(years=3, months=1))
    sweep_on(agency, later.date())
    (review,) = reviews(agency)
    with time_machine.travel(later, tick=False), db.tenant_scope(agency.id):
        review = db.session.get(RetentionReview, (agency.id, review.id))
        with pytest.raises(services.RetentionError) as refused:
            services.decide(agency, review, services.DecisionData(**data), by=admin)
        db.session.rollback()
    assert (refused.value.code, refused.value.field) == (code, field)
    assert reviews(agency)[0].decision is None and audit_of(agency, "retention.decided") == []
    with db.tenant_scope(agency.id):
        assert (
            db.session.get(Client, (agency.id, person.id), populate_existing=True).full_name == "Ada Ordinary"
        )


def test_nothing_ends_before_its_retention_is_over(factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    # closed on a 15th: listed on the 1st of the month its retention ends in, two weeks early
    fifteenth = (agency.today() + relativedelta(months=1)).replace(day=15)
    with time_machine.travel(noon(agency, fifteenth), tick=False):
        closed_client(factory, agency, "Ada Ordinary", by=admin)
    due = fifteenth + relativedelta(years=3)
    early = noon(agency, due.replace(day=1))
    sweep_on(agency, early.date())
    (review,) = reviews(agency)
    assert review.due_on == due
    with time_machine.travel(early, tick=False), db.tenant_scope(agency.id):
        review = db.session.get(RetentionReview, (agency.id, review.id))
        with pytest.raises(services.RetentionError) as refused:
            services.decide(agency, review, services.DecisionData("destroy", "Old"), by=admin)
        db.session.rollback()
    assert (refused.value.code, refused.value.field) == ("retention_not_over", "decision")
    # keeping it is possible at once
    world = type("W", (), {"agency": agency, "admin": admin})
    assert (
        decide(world, review, early, decision="keep", reason="Not yet", review_on=due + timedelta(days=1))
        == "keep"
    )


def test_the_appraisal_page_shows_the_reason_missing_next_to_its_field(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    closed_client(factory, agency, "Ada Ordinary", by=admin)
    later = noon(agency, agency.today() + relativedelta(years=3, months=1))
    sweep_on(agency, later.date())
    (review,) = reviews(agency)
    with time_machine.travel(later, tick=True):
        login(client, coordinator)
        assert client.get(f"/a/{agency.slug}/records/appraisal").status_code == 403
        login(client, admin)
        page = client.get(f"/a/{agency.slug}/records/appraisal")
        assert page.status_code == 200 and "Ada Ordinary" in page.text
        url = f"/a/{agency.slug}/records/appraisal/{review.id}"
        refused = client.post(url, data={"decision": "destroy", "reason": ""})
        assert refused.status_code == 422
        assert 'id="reason-error"' in refused.text and "Write down why" in refused.text
        assert reviews(agency)[0].decision is None
        kept = client.post(
            url,
            data={
                "decision": "keep",
                "reason": "Family asked",
                "review_on": str(later.date() + timedelta(days=90)),
            },
        )
        assert kept.status_code == 302
    assert reviews(agency)[0].decision == "keep"


def test_the_retention_settings_refuse_less_than_the_rules(client, factory):
    from saas.settings import agency_setting

    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    url = f"/a/{agency.slug}/settings/records"
    assert client.get(url).status_code == 200
    refused = client.post(url, data={"retention_years": "2", "special_programme_retention_years": "5"})
    assert refused.status_code == 422 and 'class="error"' in refused.text
    assert (
        client.post(url, data={"retention_years": "4", "special_programme_retention_years": "7"}).status_code
        == 302
    )
    with db.tenant_scope(agency.id):
        stored = db.session.get(type(agency), agency.id, populate_existing=True)
        assert (
            agency_setting(stored, "retention_years"),
            agency_setting(stored, "special_programme_retention_years"),
        ) == (4, 7)


def test_a_case_is_marked_special_on_its_page_and_its_file_kept_longer(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    person = factory.client(agency, "Ada Ordinary")
    case = factory.case(agency, person, by=admin)
    login(client, admin)
    url = f"/a/{agency.slug}/cases/{case.id}"
    assert "Mark as a special programme" in client.get(url).text
    assert client.post(f"{url}/special-programme", data={"special": "1"}).status_code == 302
    assert "Not a special programme" in client.get(url).text
    (marked,) = audit_of(agency, "case.special_programme")
    assert marked.actor_id == admin.id and marked.details["special"] is True
    factory.close_case(agency, case, by=admin)
    three = agency.today() + relativedelta(years=3)
    assert sweep_on(agency, three) == 0, "kept five years"
    assert sweep_on(agency, agency.today() + relativedelta(years=5)) == 1
