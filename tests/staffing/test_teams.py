"""Teams and what hangs on them: the supervisor who follows up a carer's low
ratings, rectifications listed per team; and the rating link emailed to the
client when a visit is checked out."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from saas import db
from saas.models import AuditEvent, MailMessage, Membership, Role
from saas.settings import agency_setting
from tenants.clients import services as clients
from tenants.clients.models import Client
from tenants.feedback import services as feedback
from tenants.feedback.models import FollowUpTask, RatingLink, RectificationStatus
from tenants.feedback.services import RectificationData, Scores
from tenants.scheduling import services as scheduling
from tenants.scheduling.models import Visit
from tenants.staffing import teams
from tenants.staffing.models import StaffFile, Team
from tests.factories import login
from tests.feedback.test_feedback import completed_world
from tests.scheduling.test_scheduling import World
from tests.sqlcount import count_statements

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)


def _membership(user, agency):
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


def _fresh(model, row_id):
    return db.session.scalar(
        select(model).where(model.id == row_id).execution_options(populate_existing=True)
    )


# -- the teams pages ---------------------------------------------------------------------------


def test_admin_adds_a_team_with_a_supervisor_and_places_staff_in_it(client, factory, dbconn):
    world = World(factory)
    carer_user, staff = world.carer(name="Nia Jones")
    coordinator = _membership(world.coordinator, world.agency)
    slug = world.agency.slug
    login(client, world.admin)
    created = client.post(
        f"/a/{slug}/teams",
        data={"name": "  North  ", "supervisor_membership_id": str(coordinator.id), "active": "y"},
    )
    assert created.status_code == 302
    with db.tenant_scope(world.agency.id):
        team = db.session.scalar(select(Team))
        assert (team.name, team.supervisor_membership_id, team.active) == ("North", coordinator.id, True)
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.subject == str(team.id))) == (
            "team.created"
        )

    duplicate = client.post(f"/a/{slug}/teams", data={"name": "north", "active": "y"})
    assert duplicate.status_code == 422 and "already a team with this name" in duplicate.text
    carer_as_supervisor = client.post(
        f"/a/{slug}/teams",
        data={"name": "South", "supervisor_membership_id": str(_membership(carer_user, world.agency).id)},
    )
    assert carer_as_supervisor.status_code == 422 and "admins and coordinators" in carer_as_supervisor.text
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(Team)) == 1, "nothing half-saved"

    edit_page = client.get(f"/a/{slug}/staff/{staff.id}/edit")
    assert edit_page.status_code == 200 and "North" in edit_page.text
    form = {
        "staff_role": "carer",
        "employment_start": "2020-01-01",
        "contracted_hours": "20",
        "team_id": str(team.id),
    }
    assert client.post(f"/a/{slug}/staff/{staff.id}/edit", data=form).status_code == 302
    with db.tenant_scope(world.agency.id):
        assert _fresh(StaffFile, staff.id).team_id == team.id
    assert 'data-testid="staff-team">North<' in client.get(f"/a/{slug}/staff/{staff.id}").text
    listing = client.get(f"/a/{slug}/teams")
    assert 'data-team="North"' in listing.text and world.coordinator.name in listing.text

    bogus = client.post(f"/a/{slug}/staff/{staff.id}/edit", data={**form, "team_id": str(staff.id)})
    assert bogus.status_code == 422 and "Choose an active team" in bogus.text


def test_team_edit_renames_and_deactivates_and_coordinators_only_read(client, factory, dbconn):
    world = World(factory)
    slug = world.agency.slug
    team = factory.team(world.agency, "East")
    login(client, world.admin)
    saved = client.post(f"/a/{slug}/teams/{team.id}/edit", data={"name": "East side"})
    assert saved.status_code == 302
    with db.tenant_scope(world.agency.id):
        row = _fresh(Team, team.id)
        assert (row.name, row.active) == ("East side", False), "an unticked box deactivates"
    assert client.post(f"/a/{slug}/teams/{team.id}/edit", data={"name": " "}).status_code == 422

    coordinator = factory.app.test_client()
    login(coordinator, world.coordinator)
    assert coordinator.get(f"/a/{slug}/teams").status_code == 200
    assert coordinator.post(f"/a/{slug}/teams", data={"name": "West"}).status_code == 403
    assert coordinator.get(f"/a/{slug}/teams/{team.id}/edit").status_code in (403, 404)


def test_odd_choices_are_refused_next_to_the_field_never_read_as_none(client, factory, dbconn):
    """A supervisor or team that is not even a UUID is a refusal, not "no
    supervisor" / "no team"; a NUL in a name is dropped, not a 500."""
    world = World(factory)
    _carer_user, staff = world.carer(name="Nia Jones")
    coordinator = _membership(world.coordinator, world.agency)
    slug = world.agency.slug
    team = factory.team(world.agency, "North", supervisor=coordinator, staff_ids=(staff.id,))
    login(client, world.admin)

    added = client.post(f"/a/{slug}/teams", data={"name": "South", "supervisor_membership_id": "nobody"})
    assert added.status_code == 422 and "admins and coordinators" in added.text
    edited = client.post(
        f"/a/{slug}/teams/{team.id}/edit",
        data={"name": "North", "supervisor_membership_id": "nobody", "active": "y"},
    )
    assert edited.status_code == 422 and "admins and coordinators" in edited.text
    form = {"staff_role": "carer", "employment_start": "2020-01-01", "contracted_hours": "20"}
    moved = client.post(f"/a/{slug}/staff/{staff.id}/edit", data={**form, "team_id": "nowhere"})
    assert moved.status_code == 422 and "Choose an active team" in moved.text
    with db.tenant_scope(world.agency.id):
        assert _fresh(Team, team.id).supervisor_membership_id == coordinator.id
        assert _fresh(StaffFile, staff.id).team_id == team.id
        assert db.session.scalar(select(func.count()).select_from(Team)) == 1

    assert client.post(f"/a/{slug}/teams", data={"name": "We\x00st 西区"}).status_code == 400
    assert client.post(f"/a/{slug}/teams", data={"name": "West 西区"}).status_code == 302
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(Team.name).where(Team.id != team.id)) == "West 西区"


def test_a_worker_stays_in_a_team_deactivated_since(client, factory, dbconn):
    world = World(factory)
    _carer_user, staff = world.carer(name="Nia Jones")
    slug = world.agency.slug
    with db.tenant_scope(world.agency.id):
        team = teams.create_team(teams.TeamInput(name="North"))
        teams.place_in_team(db.session.get(StaffFile, (world.agency.id, staff.id)), team.id)
        teams.update_team(team, teams.TeamInput(name="North", active=False))
        db.session.commit()
    login(client, world.admin)
    page = client.get(f"/a/{slug}/staff/{staff.id}/edit")
    assert f'<option selected value="{team.id}">North (inactive)</option>' in page.text
    form = {"staff_role": "carer", "employment_start": "2020-01-01", "contracted_hours": "21"}
    saved = client.post(f"/a/{slug}/staff/{staff.id}/edit", data={**form, "team_id": str(team.id)})
    assert saved.status_code == 302
    with db.tenant_scope(world.agency.id):
        assert _fresh(StaffFile, staff.id).team_id == team.id, "saving the file kept the worker's team"
    other = client.get(f"/a/{slug}/staff/{world.carer(name='Ola New')[1].id}/edit")
    assert "North" not in other.text, "an inactive team is offered only to its own members"


# -- the supervisor follows up low ratings ------------------------------------------------------


def test_a_low_rating_goes_to_the_carers_team_supervisor(client, factory, dbconn):
    world = completed_world(factory, carer_name="Cara Carer")
    supervisor_user, supervisor = factory.member(world.agency, Role.COORDINATOR, name="Sue Pervisor")
    factory.team(world.agency, "North", supervisor=supervisor, staff_ids=(world.staff.id,))
    visit = world.visit
    low = Scores(attitude=1, process=4, effect=4, environment=4, timeliness=4)
    with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
        feedback.rate_visit(world.agency, visit, low, channel="portal")
        db.session.commit()
        task = db.session.scalar(select(FollowUpTask))
        assert task.assignee_membership_id == supervisor.id
    mails = db.session.scalars(
        select(MailMessage.to_address).where(
            MailMessage.kind == "rating.low", MailMessage.agency_id == world.agency.id
        )
    ).all()
    assert mails == [supervisor_user.email], "the supervisor, not every coordinator"

    login(client, supervisor_user)
    mine = client.get(f"/a/{world.agency.slug}/feedback/tasks?mine=1")
    assert "For you, as the carer's team supervisor" in mine.text
    other = factory.app.test_client()
    login(other, world.coordinator)
    theirs = other.get(f"/a/{world.agency.slug}/feedback/tasks")
    assert "For Sue Pervisor, the carer's team supervisor" in theirs.text
    assert 'data-testid="task"' not in other.get(f"/a/{world.agency.slug}/feedback/tasks?mine=1").text


def test_without_a_team_supervisor_the_coordinators_follow_up(factory, app_ctx):
    world = completed_world(factory)
    visit = world.visit
    with db.tenant_scope(world.agency.id):
        feedback.rate_visit(
            world.agency,
            visit,
            Scores(attitude=2, process=2, effect=2, environment=2, timeliness=2),
            channel="portal",
        )
        db.session.commit()
        assert db.session.scalar(select(FollowUpTask.assignee_membership_id)) is None
    assert db.session.scalars(
        select(MailMessage.to_address).where(
            MailMessage.kind == "rating.low", MailMessage.agency_id == world.agency.id
        )
    ).all() == [world.coordinator.email]


# -- rectifications per team --------------------------------------------------------------------


def test_rectifications_are_listed_per_team_with_open_and_overdue_counts(client, factory, dbconn):
    world = World(factory)
    owner_user, owner_staff = world.carer(name="Owen Owner")
    owner = _membership(owner_user, world.agency)
    loner = _membership(world.coordinator, world.agency)
    today = clients.agency_today(world.agency)
    with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
        team = teams.create_team(teams.TeamInput(name="North"))
        teams.place_in_team(db.session.get(StaffFile, (world.agency.id, owner_staff.id)), team.id)
        for who, problem, deadline in (
            (owner, "Hoist unchecked", today - timedelta(days=2)),
            (owner, "Notes missing", today + timedelta(days=5)),
            (loner, "Rota gap", today + timedelta(days=5)),
        ):
            feedback.open_rectification(
                world.agency,
                RectificationData(
                    source="inspection",
                    finding="Found on inspection",
                    problem=problem,
                    measures="Fix it",
                    owner_membership_id=who.id,
                    deadline=deadline,
                ),
                by=world.admin,
            )
        db.session.commit()
    login(client, world.admin)
    page = client.get(f"/a/{world.agency.slug}/rectifications").text
    north, rest = page.split("Owners in no team")
    assert "North" in north and "2 open" in north and "1 overdue" in north
    assert "Hoist unchecked" in north and "Notes missing" in north and "Rota gap" not in north
    assert "Rota gap" in rest and "1 open" in rest
    with db.tenant_scope(world.agency.id):
        assert RectificationStatus.OPEN == "open"


# -- the rating link is emailed after check-out -------------------------------------------------


def _check_out(world, staff, *, email="edith@example.org"):
    """The client's email recorded on their file, the plan's first visit
    assigned to `staff`, who checks in and out of it at its time."""
    with world.factory.app.test_request_context(), db.tenant_scope(world.agency.id):
        row = _fresh(Client, world.client.id)
        clients.save_client(
            world.agency,
            clients.ClientData(
                full_name=row.full_name,
                email=email,
                address=row.address,
                latitude=row.latitude,
                longitude=row.longitude,
                checkin_radius_m=row.checkin_radius_m,
                consent_services=row.consent_services,
            ),
            row,
        )
        visit = db.session.scalar(select(Visit).order_by(Visit.starts_at).limit(1))
        scheduling.assign(world.agency, visit, staff.id, by=world.coordinator, role="coordinator")
        db.session.commit()
    visit, _record = world.factory.complete_visit(
        world.agency, visit.id, staff.id, what_was_done="Bathed", late_minutes=2
    )
    return visit


def test_check_out_emails_the_client_a_rating_link_once(app, client, factory, dbconn):
    world = World(factory)
    world.activate()
    _u, staff = world.carer()
    visit = _check_out(world, staff)
    mails = db.session.scalars(
        select(MailMessage).where(MailMessage.kind == "rating.link", MailMessage.agency_id == world.agency.id)
    ).all()
    assert [m.to_address for m in mails] == ["edith@example.org"]
    with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(RatingLink)) == 1
        again = feedback.email_rating_link(world.agency, _fresh(Visit, visit.id))
        assert again is False, "once per visit"
        assert db.session.scalar(select(func.count()).select_from(RatingLink)) == 1
    body = mails[0].body
    path = body[body.index("/r/") :].split()[0]
    page = client.get(path)
    assert page.status_code == 200 and "Cara" in page.text


def test_no_rating_link_email_without_an_address_or_when_the_agency_turns_it_off(factory, app_ctx):
    world = World(factory)
    world.activate()
    _u, staff = world.carer()
    _check_out(world, staff, email="")
    other = World(factory)
    other.agency.settings = {**other.agency.settings, "rating_link_email": False}
    db.session.commit()
    other.activate()
    _u, other_staff = other.carer()
    _check_out(other, other_staff)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(MailMessage)
            .where(
                MailMessage.kind == "rating.link",
                MailMessage.agency_id.in_([world.agency.id, other.agency.id]),
            )
        )
        == 0
    )


# -- feedback lists cost the same at any size -----------------------------------------------------


def test_feedback_lists_run_a_fixed_number_of_statements(client, factory, dbconn):
    world = World(factory)
    world.activate()
    carer_user, staff = world.carer()
    owner = _membership(world.coordinator, world.agency)
    login(client, world.admin)
    slug = world.agency.slug
    pages = ("/feedback/inbox", "/feedback/tasks", "/rectifications")

    def add(n: int, offset: int) -> None:
        with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
            team = teams.create_team(teams.TeamInput(name=f"Team {offset}"))
            teams.place_in_team(db.session.get(StaffFile, (world.agency.id, staff.id)), team.id)
            visits = db.session.scalars(select(Visit).order_by(Visit.starts_at).offset(offset).limit(n)).all()
            for visit in visits:
                visit.staff_file_id = staff.id
                visit.status = "completed"
                visit.checked_in_at = visit.starts_at
                visit.checked_out_at = visit.ends_at
                feedback.rate_visit(
                    world.agency,
                    visit,
                    Scores(attitude=1, process=3, effect=3, environment=3, timeliness=3),
                    channel="portal",
                )
                feedback.submit_feedback(
                    world.agency,
                    feedback.FeedbackData(kind="complaint", description=f"Late {visit.id}"),
                    channel="phone",
                )
                feedback.open_rectification(
                    world.agency,
                    RectificationData(
                        source="inspection",
                        finding="x",
                        problem=f"Problem {visit.id}",
                        measures="y",
                        owner_membership_id=owner.id,
                        deadline=date(2030, 1, 1),
                    ),
                    by=world.admin,
                )
            db.session.commit()

    add(1, 0)
    with count_statements() as small:
        for path in pages:
            assert client.get(f"/a/{slug}{path}").status_code == 200
    add(6, 1)
    with count_statements() as large:
        for path in pages:
            assert client.get(f"/a/{slug}{path}").status_code == 200
    assert large.count == small.count, large.statements


def test_staff_feedback_form_takes_the_channel_from_the_link(client, factory, dbconn):
    world = World(factory)
    login(client, world.coordinator)
    page = client.get(f"/a/{world.agency.slug}/feedback/new?channel=opinion_box").text
    assert '<option selected value="opinion_box">' in page
    ignored = client.get(f"/a/{world.agency.slug}/feedback/new?channel=<script>").text
    assert "selected" not in ignored.split('name="channel"')[1].split("</select>")[0]


def _agency(world):
    from saas.models import Agency

    return db.session.scalar(
        select(Agency).where(Agency.id == world.agency.id).execution_options(populate_existing=True)
    )


def test_feedback_settings_are_validated_saved_and_recorded(client, factory, dbconn):
    world = World(factory)
    slug = world.agency.slug
    login(client, world.admin)
    page = client.get(f"/a/{slug}/settings/feedback")
    assert page.status_code == 200 and 'value="2"' in page.text
    good = {
        "low_rating_threshold": "3",
        "feedback_response_days": "2",
        "complaint_response_days": "1",
        "statistics_max_range_months": "12",
        "statistics_min_correlation_n": "50",
        "portal_feedback_visit_days": "30",
    }
    for field, bad in (
        ("low_rating_threshold", "9"),
        ("complaint_response_days", "-1"),
        ("feedback_response_days", "x"),
        # with 2 ratings r is always -1 or 1
        ("statistics_min_correlation_n", "2"),
    ):
        refused = client.post(f"/a/{slug}/settings/feedback", data={**good, field: bad})
        assert refused.status_code == 422
    assert agency_setting(_agency(world), "low_rating_threshold") == 2, "nothing saved from a refused form"
    assert client.post(f"/a/{slug}/settings/feedback", data=good).status_code == 302
    agency = _agency(world)
    assert agency_setting(agency, "complaint_response_days") == 1
    assert agency_setting(agency, "statistics_min_correlation_n") == 50
    assert agency_setting(agency, "rating_link_email") is False, "an unticked box turns it off"
    with factory.app.test_request_context(), db.tenant_scope(world.agency.id):
        item = feedback.submit_feedback(
            agency, feedback.FeedbackData(kind="complaint", description="Cold meal"), channel="phone"
        )
        assert item.due_at - item.received_at == timedelta(days=1)
        changes = db.session.execute(
            select(AuditEvent.subject, AuditEvent.details).where(AuditEvent.action == "settings.changed")
        ).all()
        assert ("complaint_response_days", {"old": 3, "new": 1}) in [tuple(c) for c in changes]
    coordinator = factory.app.test_client()
    login(coordinator, world.coordinator)
    assert coordinator.get(f"/a/{slug}/settings/feedback").status_code == 403


def test_a_team_name_taken_meanwhile_is_a_message_not_a_500(factory, app_ctx, monkeypatch):
    import pytest

    from tenants.staffing.errors import Invalid

    world = World(factory)
    with db.tenant_scope(world.agency.id):
        teams.create_team(teams.TeamInput(name="North"))
        # the other admin's check ran before this one was saved
        monkeypatch.setattr(teams, "_problems", lambda data, exclude=None: [])
        with pytest.raises(Invalid) as refused:
            teams.create_team(teams.TeamInput(name="North"))
        assert refused.value.problems[0].code == "team_taken"
        assert db.session.scalar(select(func.count()).select_from(Team)) == 1
        team = db.session.scalar(select(Team))
        teams.update_team(team, teams.TeamInput(name="North", active=True))
        assert not db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "team.updated")), (
            "nothing changed, nothing recorded"
        )
