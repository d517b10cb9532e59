"""Incidents: the flow from report to closure, its refusals, who sees an
abuse or neglect report, the head told at once and the escalations (once
each, the clock moved), the pages (CSRF on), the phone API, the client's file
and the quality summary's section."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from saas import db
from saas.models import AuditEvent, MailMessage, Membership, Role, User
from saas.notifications.models import Notification, Reminder
from tenants.feedback.models import Rectification
from tenants.incidents import queries, reminders, services
from tenants.incidents.models import Incident, IncidentAction, IncidentStaff
from tenants.incidents.services import IncidentError, ReportData
from tenants.quality import services as quality
from tenants.quality.models import BuildState, QualitySummary
from tenants.quality.signals import sections_for
from tests.factories import login
from tests.feedback.test_feedback import completed_world
from tests.sqlcount import count_statements

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)


def member(user, agency) -> Membership:
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


def fresh(model, row_id):
    return db.session.scalar(
        select(model).where(model.id == row_id).execution_options(populate_existing=True)
    )


def world_of(factory):
    """A completed visit of a carer (completed_world), a second coordinator,
    and everyone's membership."""
    world = completed_world(factory)
    world.other_coordinator, _ = factory.member(world.agency, Role.COORDINATOR, name="Otto Other")
    for name in ("admin", "coordinator", "carer_user", "other_coordinator"):
        setattr(world, f"m_{name}", member(getattr(world, name), world.agency))
    return world


def fall(world, **kw) -> ReportData:
    values = {
        "type": "fall",
        "severity": "moderate",
        "place": "Bathroom",
        "occurred_at": db.utcnow() - timedelta(hours=1),
        "description": "Slipped getting out of the bath",
        "visit_id": world.visit.id,
        **kw,
    }
    return ReportData(**values)


def refused(call) -> IncidentError:
    with pytest.raises(IncidentError) as err:
        call()
    return err.value


def kinds_sent(agency_id, kind: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Reminder)
        .where(Reminder.tenant_id == agency_id, Reminder.kind == kind)
    )


# -- the services -----------------------------------------------------------------------------


def test_the_whole_flow_from_the_carers_report_to_closure_by_another(factory, app_ctx):
    world = world_of(factory)
    agency = world.agency
    with db.tenant_scope(agency.id):
        incident = services.report(
            agency, fall(world, staff_file_ids=[world.staff.id]), by=world.m_carer_user
        )
        assert incident.client_id == world.visit.client_id, "the visit's client comes with it"
        assert db.session.scalars(select(IncidentStaff.staff_file_id)).all() == [world.staff.id]
        assert incident.status == "reported" and incident.acknowledge_by is None, (
            "moderate: no acknowledgement"
        )
        told = db.session.scalars(
            select(Notification.membership_id).where(Notification.kind == "incident.reported")
        ).all()
        assert told == [world.m_admin.id], "the agency head, at once"

        services.respond(incident, "Helped her up, cold compress", by=world.m_carer_user)
        assert incident.status == "responded" and incident.responded_at is not None
        deadline = agency.today() + timedelta(days=7)
        services.investigate(
            agency,
            incident,
            investigator_id=world.m_coordinator.id,
            deadline=deadline,
            by=world.m_coordinator,
        )
        assert incident.status == "investigating"
        services.record_findings(
            incident,
            findings="Wet floor, no mat",
            root_cause="No bath mat in the plan",
            by=world.m_coordinator,
        )
        assert incident.status == "investigated"
        action = services.add_action(
            agency,
            incident,
            description="Buy a non-slip mat",
            owner_id=world.m_carer_user.id,
            due_on=agency.today() + timedelta(days=3),
            rectification=True,
            by=world.m_coordinator,
            user=world.coordinator,
        )
        rect = db.session.scalar(select(Rectification).where(Rectification.id == action.rectification_id))
        assert rect.source == "inspection" and rect.measures == "Buy a non-slip mat"
        assert refused(lambda: services.close(incident, note="", by=world.m_admin)).code == "actions_open"
        services.complete_action(incident, action, by=world.m_carer_user)
        services.close(incident, note="Mat fitted", by=world.m_admin)
        assert incident.status == "closed" and incident.closed_by_membership_id == world.m_admin.id
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject == str(incident.id)).order_by(AuditEvent.at)
        ).all()
        assert actions == [
            "incident.reported",
            "incident.responded",
            "incident.investigation_assigned",
            "incident.investigated",
            "incident.action_added",
            "incident.action_done",
            "incident.closed",
        ]


def test_refusals_name_their_field(factory, app_ctx):
    world = world_of(factory)
    agency = world.agency
    with db.tenant_scope(agency.id):
        err = refused(lambda: services.report(agency, fall(world, type=""), by=world.m_carer_user))
        assert (err.code, err.field) == ("choose_type", "type")
        err = refused(lambda: services.report(agency, fall(world, severity="awful"), by=world.m_carer_user))
        assert (err.code, err.field) == ("choose_severity", "severity")
        err = refused(
            lambda: services.report(
                agency, fall(world, occurred_at=db.utcnow() + timedelta(hours=2)), by=world.m_carer_user
            )
        )
        assert (err.code, err.field) == ("occurred_future", "occurred_at")
        err = refused(
            lambda: services.report(
                agency, fall(world, staff_file_ids=[world.visit.id]), by=world.m_carer_user
            )
        )
        assert (err.code, err.field) == ("staff_unknown", "staff_file_ids")
        other_carer, _ = factory.member(agency, Role.CARER)
        err = refused(lambda: services.report(agency, fall(world), by=member(other_carer, agency)))
        assert (err.code, err.field) == ("visit_unknown", "visit_id"), "only one's own visit"
        assert db.session.scalar(select(func.count()).select_from(Incident)) == 0, "nothing half-saved"

        incident = services.report(agency, fall(world), by=world.m_carer_user)
        occurred = incident.occurred_at.astimezone(agency.zone).date()
        err = refused(
            lambda: services.investigate(
                agency, incident, investigator_id=world.m_coordinator.id, deadline=occurred, by=world.m_admin
            )
        )
        assert err.code == "respond_first"
        services.respond(incident, "Called the nurse", by=world.m_coordinator)
        err = refused(
            lambda: services.investigate(
                agency,
                incident,
                investigator_id=world.m_coordinator.id,
                deadline=occurred - timedelta(days=1),
                by=world.m_admin,
            )
        )
        assert (err.code, err.field) == ("deadline_before_occurrence", "deadline")
        err = refused(
            lambda: services.investigate(
                agency, incident, investigator_id=world.m_carer_user.id, deadline=occurred, by=world.m_admin
            )
        )
        assert (err.code, err.field) == ("investigator_unknown", "investigator")
        err = refused(
            lambda: services.investigate(
                agency,
                incident,
                investigator_id=world.m_coordinator.id,
                deadline=occurred,
                by=world.m_carer_user,
            )
        )
        assert err.code == "not_allowed"
        services.investigate(
            agency, incident, investigator_id=world.m_coordinator.id, deadline=occurred, by=world.m_admin
        )
        services.record_findings(incident, findings="Wet floor", root_cause="No mat", by=world.m_coordinator)
        err = refused(lambda: services.close(incident, note="", by=world.m_coordinator))
        assert (err.code, err.field) == ("closer_is_investigator", "closing_note")
        services.close(incident, note="", by=world.m_other_coordinator)


def test_a_serious_incident_waits_for_the_heads_acknowledgement(factory, app_ctx):
    world = world_of(factory)
    agency = world.agency
    with db.tenant_scope(agency.id):
        incident = services.report(agency, fall(world, severity="serious"), by=world.m_carer_user)
        assert incident.acknowledge_by == incident.reported_at + timedelta(hours=24), "the agency's default"
        assert refused(lambda: services.acknowledge(incident, by=world.m_coordinator)).code == "not_allowed"
        services.respond(incident, "Ambulance called", by=world.m_carer_user)
        services.investigate(
            agency,
            incident,
            investigator_id=world.m_coordinator.id,
            deadline=agency.today(),
            by=world.m_coordinator,
        )
        services.record_findings(incident, findings="x", root_cause="y", by=world.m_coordinator)
        assert (
            refused(lambda: services.close(incident, note="", by=world.m_admin)).code == "acknowledge_first"
        )
        services.acknowledge(incident, by=world.m_admin)
        services.close(incident, note="", by=world.m_admin)


def test_an_abuse_report_is_seen_only_by_the_admins_and_the_people_named(factory, app_ctx):
    world = world_of(factory)
    agency = world.agency
    bystander, _ = factory.member(agency, Role.CARER)
    with db.tenant_scope(agency.id):
        report = services.report(
            agency,
            fall(world, type="abuse_neglect", description="Bruises on both arms"),
            by=world.m_carer_user,
        )
        plain = services.report(agency, fall(world), by=world.m_carer_user)

        def seen(m):
            return {r[0].id for r in queries.incident_list(m)}

        assert seen(world.m_admin) == {report.id, plain.id}
        assert seen(world.m_carer_user) == {report.id, plain.id}, "the reporter"
        assert seen(world.m_coordinator) == {plain.id}, "a coordinator not named on it"
        assert seen(member(bystander, agency)) == set()
        assert queries.visible_incident(report.id, world.m_coordinator) is None
        services.respond(report, "Separated them; called the safeguarding lead", by=world.m_admin)
        services.investigate(
            agency, report, investigator_id=world.m_coordinator.id, deadline=agency.today(), by=world.m_admin
        )
        assert seen(world.m_coordinator) == {report.id, plain.id}, "once named its investigator"
        services.add_action(
            agency,
            report,
            description="Review the family's support",
            owner_id=world.m_other_coordinator.id,
            due_on=agency.today(),
            by=world.m_coordinator,
        )
        assert report.id in seen(world.m_other_coordinator), "an action's owner"


def test_reminders_go_once_and_overdue_steps_escalate_with_the_clock_moved(factory, app_ctx):
    world = world_of(factory)
    agency = world.agency
    with db.tenant_scope(agency.id):
        serious = services.report(agency, fall(world, severity="critical"), by=world.m_carer_user)
        services.respond(serious, "Ambulance called", by=world.m_carer_user)
        services.investigate(
            agency,
            serious,
            investigator_id=world.m_coordinator.id,
            deadline=agency.today() + timedelta(days=2),
            by=world.m_admin,
        )
        services.add_action(
            agency,
            serious,
            description="Check the hoist",
            owner_id=world.m_carer_user.id,
            due_on=agency.today() + timedelta(days=2),
            by=world.m_admin,
        )
        db.session.commit()
        assert kinds_sent(agency.id, "incident.reported") == 1
        now = db.utcnow()
        assert reminders.escalate(agency, now) == 0, "nothing overdue yet"
        assert reminders.escalate(agency, now + timedelta(hours=25)) == 1, "not acknowledged in 24 hours"
        assert reminders.escalate(agency, now + timedelta(hours=26)) == 0, "once"
        assert kinds_sent(agency.id, "incident.unacknowledged") == 1
        later = datetime.combine(
            agency.today() + timedelta(days=3, hours=1), datetime.min.time(), agency.zone
        )
        later = later.astimezone(UTC) + timedelta(hours=1)
        assert reminders.escalate(agency, later) == 2, "the investigation and the action, past their day"
        assert reminders.escalate(agency, later + timedelta(days=1)) == 0, "each once"
        overdue = db.session.scalars(
            select(Notification.membership_id).where(Notification.kind == "incident.action_overdue")
        ).all()
        assert set(overdue) == {world.m_admin.id, world.m_carer_user.id}, "the head and the owner"
        investigation = db.session.scalars(
            select(Notification.membership_id).where(Notification.kind == "incident.investigation_overdue")
        ).all()
        assert set(investigation) == {world.m_admin.id, world.m_coordinator.id}
        mails = db.session.scalar(
            select(func.count())
            .select_from(MailMessage)
            .where(MailMessage.agency_id == agency.id, MailMessage.to_address == world.admin.email)
            .where(MailMessage.subject.startswith("Not acknowledged"))
        )
        assert mails == 1


def test_the_sweep_finds_the_agencies_and_sends_once(app, factory, dbconn):
    world = world_of(factory)
    agency = world.agency
    with app.test_request_context(), db.tenant_scope(agency.id):
        services.report(agency, fall(world, type="missing_person"), by=world.m_carer_user)
        db.session.commit()
    start = db.utcnow()
    for hours, sent in ((23, 0), (25, 1), (30, 1)):
        with time_machine.travel(start + timedelta(hours=hours), tick=False), app.app_context():
            reminders.escalation_sweep.__wrapped__()
            reminders.escalation_sweep.__wrapped__()
        with db.tenant_scope(agency.id):
            assert kinds_sent(agency.id, "incident.unacknowledged") == sent, f"after {hours} hours"


def test_the_quality_section_counts_by_type_and_severity_with_the_mean_response(factory, app_ctx):
    world = world_of(factory)
    agency = world.agency
    with db.tenant_scope(agency.id):
        first = services.report(agency, fall(world, immediate_response="Helped up"), by=world.m_carer_user)
        second = services.report(agency, fall(world, type="fire", severity="serious"), by=world.m_carer_user)
        second.reported_at = first.reported_at
        services.respond(second, "Evacuated", by=world.m_admin)
        second.responded_at = second.reported_at + timedelta(minutes=90)
        db.session.flush()
        month = first.reported_at.astimezone(agency.zone).date().replace(day=1)
        # built at the end of the month, as the summary is (the figures are stored with it)
        figures = quality.compute_figures(agency, month, as_of=db.utcnow() + timedelta(days=40))
        stored = figures["sections"]["incidents"]
        assert stored["reported"] == 2 and stored["by_type"]["fall"] == 1 and stored["by_type"]["fire"] == 1
        assert stored["by_severity"] == {"minor": 0, "moderate": 1, "serious": 1, "critical": 0}
        assert stored["mean_response_minutes"] == 45.0 and stored["target_minutes"] == 60
        # beside the other areas' sections (the back office's invoiced against delivered)
        (section,) = [
            s for s in sections_for(QualitySummary(month=month, figures=figures)) if s.key == "incidents"
        ]
        rows = dict(section.rows)
        assert rows["Incidents reported"] == "2" and rows["Fire"] == "1"
        assert rows["Mean time from report to first response (target ≤ 60 min)"] == "45 min"
        before = quality.compute_figures(agency, month, as_of=first.reported_at - timedelta(minutes=1))
        assert before["sections"]["incidents"]["mean_response_minutes"] is None, "only responses by the build"


# -- the pages --------------------------------------------------------------------------------


def test_a_carer_reports_from_the_visit_page_and_bad_input_keeps_nothing(client, factory, dbconn):
    world = world_of(factory)
    slug, visit_id = world.agency.slug, world.visit.id
    login(client, world.carer_user)
    page = client.get(f"/a/{slug}/visits/{visit_id}")
    assert f"/a/{slug}/incidents/new?visit_id={visit_id}" in page.text
    form = client.get(f"/a/{slug}/incidents/new?visit_id={visit_id}")
    assert form.status_code == 200 and "From the visit to" in form.text
    data = {
        "type": "",
        "severity": "moderate",
        "occurred_at": (datetime.now(world.agency.zone) - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
        "place": "Kitchen",
        "description": "Cut her finger opening a tin",
        "client_id": str(world.visit.client_id),
        "visit_id": str(visit_id),
        "immediate_response": "",
    }
    bad = client.post(f"/a/{slug}/incidents/new", data=data)
    assert bad.status_code == 422 and "Choose what kind of incident it was." in bad.text
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(Incident)) == 0
    assert (
        client.post(
            f"/a/{slug}/incidents/new", data={**data, "type": "injury", "csrf_token": None}
        ).status_code
        == 400
    )
    done = client.post(
        f"/a/{slug}/incidents/new", data={**data, "type": "injury", "staff_file_ids": [str(world.staff.id)]}
    )
    assert done.status_code == 302
    with db.tenant_scope(world.agency.id):
        incident = db.session.scalar(select(Incident))
        assert incident.visit_id == visit_id and incident.reporter_membership_id == world.m_carer_user.id
    stranger, _ = factory.member(world.agency, Role.CARER)
    other = factory.app.test_client()
    login(other, stranger)
    assert "From the visit to" not in other.get(f"/a/{slug}/incidents/new?visit_id={visit_id}").text
    theirs = other.post(f"/a/{slug}/incidents/new", data={**data, "type": "injury", "client_id": ""})
    assert theirs.status_code == 422 and "This visit was not found among yours." in theirs.text
    shown = client.get(done.location)
    assert shown.status_code == 200 and "Cut her finger opening a tin" in shown.text
    assert "Staff involved" in shown.text and "Joan Smith" in shown.text
    # the carer records what was done at once; the investigation is not theirs
    assert client.post(f"{done.location}/respond", data={"immediate_response": "Plaster"}).status_code == 302
    assert client.post(f"{done.location}/investigate", data={}).status_code == 404


def test_a_coordinator_investigates_and_cannot_close_what_they_investigated(client, factory, dbconn):
    world = world_of(factory)
    agency = world.agency
    with factory.app.test_request_context(), db.tenant_scope(agency.id):
        incident = services.report(agency, fall(world, immediate_response="Helped up"), by=world.m_carer_user)
        occurred = incident.occurred_at.astimezone(agency.zone).date()
        db.session.commit()
        incident_id = incident.id
    url = f"/a/{agency.slug}/incidents/{incident_id}"
    login(client, world.coordinator)
    early = client.post(
        f"{url}/investigate",
        data={
            "investigator": str(world.m_coordinator.id),
            "deadline": (occurred - timedelta(days=1)).isoformat(),
        },
    )
    assert early.status_code == 422 and "The deadline cannot be before the day it happened." in early.text
    ok = client.post(
        f"{url}/investigate",
        data={
            "investigator": str(world.m_coordinator.id),
            "deadline": (occurred + timedelta(days=7)).isoformat(),
        },
    )
    assert ok.status_code == 302
    assert (
        client.post(f"{url}/findings", data={"findings": "Wet floor", "root_cause": "No mat"}).status_code
        == 302
    )
    closing = client.post(f"{url}/close", data={"closing_note": "Done"})
    assert closing.status_code == 422
    assert "The investigator cannot close the incident: someone else must." in closing.text
    with db.tenant_scope(agency.id):
        assert fresh(Incident, incident_id).status == "investigated", "nothing kept"
    admin = factory.app.test_client()
    login(admin, world.admin)
    assert admin.post(f"{url}/close", data={"closing_note": "Done"}).status_code == 302
    assert 'data-testid="closure"' in admin.get(url).text


def test_the_page_speaks_chinese(client, factory, dbconn):
    world = world_of(factory)
    db.session.execute(User.__table__.update().where(User.id == world.carer_user.id).values(locale="zh_CN"))
    db.session.commit()
    login(client, world.carer_user)
    bad = client.post(f"/a/{world.agency.slug}/incidents/new", data={"type": "", "severity": ""})
    assert bad.status_code == 422 and "请选择事件类型" in bad.text


def test_abuse_reports_stay_out_of_others_lists_pages_and_the_client_file(client, factory, dbconn):
    world = world_of(factory)
    agency = world.agency
    with factory.app.test_request_context(), db.tenant_scope(agency.id):
        report = services.report(
            agency, fall(world, type="abuse_neglect", description="Bruises"), by=world.m_carer_user
        )
        services.report(agency, fall(world, description="Tripped"), by=world.m_carer_user)
        db.session.commit()
        report_id, client_id = report.id, report.client_id
    login(client, world.coordinator)
    assert client.get(f"/a/{agency.slug}/incidents/{report_id}").status_code == 404
    assert "Abuse or neglect" not in client.get(f"/a/{agency.slug}/incidents/").text
    file = client.get(f"/a/{agency.slug}/clients/{client_id}")
    assert "Incident: Fall (Moderate)" in file.text and "Abuse or neglect" not in file.text
    admin = factory.app.test_client()
    login(admin, world.admin)
    assert admin.get(f"/a/{agency.slug}/incidents/{report_id}").status_code == 200
    assert "Incident: Abuse or neglect (Moderate)" in admin.get(f"/a/{agency.slug}/clients/{client_id}").text


def test_the_quality_summary_page_shows_the_incidents_section(client, factory, dbconn):
    world = world_of(factory)
    agency = world.agency
    with factory.app.test_request_context(), db.tenant_scope(agency.id):
        incident = services.report(agency, fall(world, immediate_response="Helped up"), by=world.m_carer_user)
        month = incident.reported_at.astimezone(agency.zone).date().replace(day=1)
        figures = quality.compute_figures(agency, month, as_of=db.utcnow() + timedelta(days=40))
        summary = QualitySummary(
            month=month,
            state=BuildState.DONE,
            figures=figures,
            locale="en",
            requested_at=db.utcnow(),
            built_at=db.utcnow(),
        )
        db.session.add(summary)
        db.session.commit()
        summary_id = summary.id
    login(client, world.admin)
    page = client.get(f"/a/{agency.slug}/quality/{summary_id}")
    assert 'data-testid="quality-section-incidents"' in page.text and "Incidents reported" in page.text
    pdf = client.get(f"/a/{agency.slug}/quality/{summary_id}/summary.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


# -- the API and another agency -----------------------------------------------------------------


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_carer_reports_through_the_phone_api(client, factory, dbconn):
    world = world_of(factory)
    token = factory.api_token(world.m_carer_user)
    body = {
        "type": "medication_error",
        "severity": "moderate",
        "occurred_at": (datetime.now(world.agency.zone) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"),
        "place": "Living room",
        "description": "Evening tablets given twice",
        "visit_id": str(world.visit.id),
        "staff_ids": [str(world.staff.id)],
    }
    made = client.post("/api/v1/incidents", json=body, headers=bearer(token))
    assert made.status_code == 200, made.text
    assert made.json["client_id"] == str(world.visit.client_id) and made.json["status"] == "reported"
    bad_ids = client.post("/api/v1/incidents", json={**body, "staff_ids": ["nope"]}, headers=bearer(token))
    assert bad_ids.status_code == 422
    missing = client.post("/api/v1/incidents", json={**body, "type": ""}, headers=bearer(token))
    assert missing.status_code == 400 and "Choose what kind" in missing.json["error"]["message"]
    mine = client.get("/api/v1/incidents", headers=bearer(token))
    assert [i["id"] for i in mine.json["incidents"]] == [made.json["id"]]
    one = client.get(f"/api/v1/incidents/{made.json['id']}", headers=bearer(token))
    assert one.status_code == 200
    spec = client.get("/api/v1/openapi.json").json
    assert "post" in spec["paths"]["/api/v1/incidents"]


def test_another_agencys_incident_is_404(client, factory, dbconn):
    world = world_of(factory)
    other = world_of(factory)
    with factory.app.test_request_context(), db.tenant_scope(other.agency.id):
        theirs = services.report(other.agency, fall(other), by=other.m_carer_user)
        db.session.commit()
        theirs_id = theirs.id
    login(client, world.admin)
    assert client.get(f"/a/{world.agency.slug}/incidents/{theirs_id}").status_code == 404
    assert client.get(f"/a/{other.agency.slug}/incidents/{theirs_id}").status_code == 404
    token = factory.api_token(world.m_admin)
    assert client.get(f"/api/v1/incidents/{theirs_id}", headers=bearer(token)).status_code == 404
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(IncidentAction)) == 0


def test_the_pages_cost_the_same_whatever_the_number_of_incidents_and_actions(client, factory, dbconn):
    world = world_of(factory)
    agency = world.agency
    login(client, world.coordinator)

    def add(actions: int):
        with factory.app.test_request_context(), db.tenant_scope(agency.id):
            incident = services.report(
                agency, fall(world, immediate_response="Helped up"), by=world.m_carer_user
            )
            services.investigate(
                agency,
                incident,
                investigator_id=world.m_coordinator.id,
                deadline=agency.today(),
                by=world.m_admin,
            )
            for n in range(actions):
                services.add_action(
                    agency,
                    incident,
                    description=f"Action {n}",
                    owner_id=world.m_carer_user.id,
                    due_on=agency.today(),
                    by=world.m_admin,
                )
            db.session.commit()
            return incident.id

    costs = []
    for actions in (1, 4):
        incident_id = add(actions)
        with count_statements() as show:
            assert client.get(f"/a/{agency.slug}/incidents/{incident_id}").status_code == 200
        with count_statements() as listing:
            assert client.get(f"/a/{agency.slug}/incidents/").status_code == 200
        costs.append((show.count, listing.count))
    assert costs[0] == costs[1]


def test_the_settings_page_checks_its_values(client, factory, dbconn):
    world = world_of(factory)
    login(client, world.admin)
    url = f"/a/{world.agency.slug}/incidents/settings"
    assert "The agency head acknowledges a serious incident within (hours)" in client.get(url).text
    values = {
        "incident_acknowledge_hours": "0",
        "incident_investigation_days": "7",
        "incident_response_target_minutes": "60",
    }
    refused = client.post(url, data=values)
    assert refused.status_code == 422 and 'id="incident_acknowledge_hours-error"' in refused.text
    assert client.post(url, data={**values, "incident_acknowledge_hours": "12"}).status_code == 302
    with db.tenant_scope(world.agency.id):
        from saas.settings import agency_setting

        assert agency_setting(fresh_agency(world.agency.id), "incident_acknowledge_hours") == 12
    carer = factory.app.test_client()
    login(carer, world.carer_user)
    assert carer.get(url).status_code == 403


def fresh_agency(agency_id):
    from saas.models import Agency

    return db.session.scalar(
        select(Agency).where(Agency.id == agency_id).execution_options(populate_existing=True)
    )


def test_destroying_a_clients_file_leaves_the_incident_without_them(factory, app_ctx):
    """The records area's destruction (retention) clears what points at the
    client's file, whatever the area: the incident stays, counted, nameless."""
    from tenants.clients.models import Client
    from tenants.clients.services.retention import destroy_client

    world = world_of(factory)
    agency = world.agency
    with db.tenant_scope(agency.id):
        incident = services.report(agency, fall(world), by=world.m_carer_user)
        db.session.flush()
        client = db.session.scalar(select(Client).where(Client.id == incident.client_id))
        destroy_client(client)
        db.session.flush()
        kept = fresh(Incident, incident.id)
        assert kept is not None and kept.client_id is None and kept.visit_id is None
