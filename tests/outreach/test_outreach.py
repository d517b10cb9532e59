"""The opinion box log and its missed-day reminder, stakeholder opinion
rounds per team, funders and their monthly return visits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from saas import db
from saas.models import Agency, AuditEvent, MailMessage, Membership, Role, User
from saas.settings import agency_setting
from tenants.outreach import services
from tenants.outreach.models import BoxLocation, BoxLog, Funder, FunderVisit, StakeholderRound
from tenants.outreach.services import BoxLogData, FunderData, OutreachError, RoundData, VisitData
from tenants.staffing import teams
from tests.factories import login
from tests.sqlcount import count_statements

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)


@dataclass
class Agencyset:
    agency: Agency
    admin: User
    coordinator: User
    coordinator_m: Membership
    carer: User
    carer_m: Membership
    factory: object


def make_agency(factory, tz: str = "Europe/London") -> Agencyset:
    agency = factory.agency(tz=tz)
    admin, _ = factory.member(agency, Role.ADMIN)
    coordinator, coordinator_m = factory.member(agency, Role.COORDINATOR, name="Cora Ordinator")
    carer, carer_m = factory.member(agency, Role.CARER, name="Carl Carer")
    return Agencyset(agency, admin, coordinator, coordinator_m, carer, carer_m, factory)


def add_location(world: Agencyset, name: str = "Front office", since: date | None = None) -> BoxLocation:
    """A box set up on `since` (the clock travels there), else today."""
    return world.factory.box_location(world.agency, name, since=since)


def log(world: Agencyset, location: BoxLocation, day: date, **kw) -> BoxLog:
    data = BoxLogData(
        location_id=location.id,
        day=day,
        opened=kw.pop("opened", True),
        slips=kw.pop("slips", 1),
        opened_by_membership_id=kw.pop("by", world.coordinator_m.id),
        **kw,
    )
    return services.log_box(world.agency, data, by=world.coordinator)


def codes(exc: pytest.ExceptionInfo) -> set[tuple[str, str]]:
    return set(exc.value.problems)


def rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def set_settings(world: Agencyset, **values) -> None:
    """Through `update_settings`, as the settings page changes them."""
    from saas.settings import update_settings

    with db.tenant_scope(world.agency.id):
        agency = db.session.get(Agency, world.agency.id, populate_existing=True)
        update_settings(agency, values)
        db.session.commit()
    world.agency = agency


# -- the opinion box --------------------------------------------------------------------------


def test_box_log_rules_future_backfill_and_refusals(app, factory, dbconn):
    world = make_agency(factory)
    location = add_location(world, since=date(2026, 3, 1))
    with time_machine.travel(datetime(2026, 3, 10, 12, 0, tzinfo=UTC), tick=False):
        with app.test_request_context(), db.tenant_scope(world.agency.id):
            today = log(world, location, date(2026, 3, 10), slips=3)
            assert (today.backfilled, today.slips, today.recorded_by_user_id) == (
                False,
                3,
                world.coordinator.id,
            )
            earlier = log(world, location, date(2026, 3, 8), slips=0)
            assert earlier.backfilled is True
            assert earlier.recorded_at == datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
            db.session.commit()
            before = rows(BoxLog)
            with pytest.raises(OutreachError) as exc:
                log(world, location, date(2026, 3, 11))
            assert codes(exc) == {("day", "future")}
            with pytest.raises(OutreachError) as exc:
                log(world, location, date(2026, 3, 10))
            assert codes(exc) == {("day", "already_logged")}
            with pytest.raises(OutreachError) as exc:
                log(world, location, date(2026, 3, 9), slips=-1, by=world.admin.id)
            assert codes(exc) == {("slips", "negative"), ("opened_by", "staff_unknown")}
            with pytest.raises(OutreachError) as exc:
                log(world, location, date(2026, 3, 9), opened=False, slips=2)
            assert codes(exc) == {("not_opened_reason", "reason_required"), ("slips", "slips_unopened")}
            closed = log(
                world, location, date(2026, 3, 9), opened=False, slips=0, not_opened_reason="Key lost"
            )
            assert (closed.opened, closed.slips, closed.not_opened_reason) == (False, 0, "Key lost")
            db.session.commit()
            assert rows(BoxLog) == before + 1, "nothing half-saved by the refusals"
            actions = list(
                db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("opinion_box.%")))
            )
            assert actions.count("opinion_box.logged") == 3 and "opinion_box.location_added" in actions


def test_today_is_the_agency_own_day(app, factory, dbconn):
    shanghai = make_agency(factory, "Asia/Shanghai")
    london = make_agency(factory, "Europe/London")
    sh_box = add_location(shanghai, since=date(2026, 3, 1))
    lo_box = add_location(london, since=date(2026, 3, 1))
    # 23:30 in London on the 9th is 07:30 on the 10th in Shanghai
    with (
        time_machine.travel(datetime(2026, 3, 9, 23, 30, tzinfo=UTC), tick=False),
        app.test_request_context(),
    ):
        with db.tenant_scope(shanghai.agency.id):
            assert log(shanghai, sh_box, date(2026, 3, 10)).backfilled is False
        with db.tenant_scope(london.agency.id), pytest.raises(OutreachError) as exc:
            log(london, lo_box, date(2026, 3, 10))
        assert codes(exc) == {("day", "future")}


def test_missed_days_for_a_range(app, factory, dbconn):
    world = make_agency(factory)
    front = add_location(world, "Front office", since=date(2026, 3, 1))
    hall = add_location(world, "Community hall", since=date(2026, 3, 4))
    with time_machine.travel(datetime(2026, 3, 6, 12, 0, tzinfo=UTC), tick=False):
        with app.test_request_context(), db.tenant_scope(world.agency.id):
            for day in (1, 2, 4):
                log(world, front, date(2026, 3, day))
            log(world, hall, date(2026, 3, 5))
            db.session.commit()
            missed = services.missed_days(date(2026, 2, 1), date(2026, 3, 31))
            assert [(m.location_name, m.day.day) for m in missed] == [
                ("Front office", 3),
                ("Community hall", 4),
                ("Front office", 5),
            ], "from each box's first day, up to yesterday only"
            assert services.missed_days(date(2026, 3, 4), date(2026, 3, 4), world.agency)[0].day == date(
                2026, 3, 4
            )
            set_settings(world, opinion_box_enabled=False)
            assert services.missed_days(date(2026, 3, 1), date(2026, 3, 31)) == []


def _logged_until(world: Agencyset, location: BoxLocation, last_day: int) -> None:
    """The box logged on each day of March 2026 up to `last_day`, each on its day."""
    for day in range(1, last_day + 1):
        world.factory.box_log(world.agency, location.id, date(2026, 3, day), by=world.coordinator_m)


def _reminders(world: Agencyset) -> list[tuple[str, str]]:
    """The missed-box emails (through the notification centre)."""
    return sorted(
        db.session.execute(
            select(MailMessage.to_address, MailMessage.subject).where(
                MailMessage.agency_id == world.agency.id,
                MailMessage.kind == "notification",
                MailMessage.subject.contains("not logged"),
            )
        ).all()
    )


def _sweep() -> int:
    """The reminder centre's outreach sweep, without the worker's app wrapper;
    counts new occurrences (one per box and day, to every manager)."""
    from tenants.outreach.reminders import outreach_sweep
    from tests.factories import our_reminders

    before = our_reminders()
    outreach_sweep.__wrapped__()
    return our_reminders() - before


def test_missed_day_reminder_in_each_agency_morning_and_only_once(app, factory, dbconn):
    shanghai = make_agency(factory, "Asia/Shanghai")
    london = make_agency(factory, "Europe/London")
    for world in (shanghai, london):
        set_settings(world, opinion_box_reminder_hour=7)
        _logged_until(world, add_location(world, "Front office", since=date(2026, 3, 1)), 8)
    # 07:30 on the 10th in Shanghai (its yesterday, the 9th, is missing); 23:30 on the 9th in
    # London, whose yesterday (the 8th) was logged
    with app.test_request_context():
        with time_machine.travel(datetime(2026, 3, 9, 23, 30, tzinfo=UTC), tick=False):
            sent = _sweep()
            assert _sweep() == 0, "the second run of the sweep sends nothing"
        assert sent == 1, "one occurrence (the 9th in Shanghai), told to both managers"
        assert [to for to, _ in _reminders(shanghai)] == sorted(
            [shanghai.admin.email, shanghai.coordinator.email]
        )
        assert all("Front office" in subject for _, subject in _reminders(shanghai))
        assert _reminders(london) == []
        # 06:30 in London on the 10th: before its reminder hour
        with time_machine.travel(datetime(2026, 3, 10, 6, 30, tzinfo=UTC), tick=False):
            assert _sweep() == 0
        with time_machine.travel(datetime(2026, 3, 10, 7, 5, tzinfo=UTC), tick=False):
            assert _sweep() == 1
            assert _sweep() == 0
        assert len(_reminders(london)) == 2 and len(_reminders(shanghai)) == 2
        body = db.session.scalar(select(MailMessage.body).where(MailMessage.to_address == london.admin.email))
        assert "/outreach/opinion-box" in body


def test_agency_without_a_box_gets_no_reminder(app, factory, dbconn):
    world = make_agency(factory)
    add_location(world, since=date(2026, 3, 1))
    set_settings(world, opinion_box_enabled=False)
    with (
        app.test_request_context(),
        time_machine.travel(datetime(2026, 3, 10, 12, 0, tzinfo=UTC), tick=False),
    ):
        assert _sweep() == 0
    assert _reminders(world) == []


def test_box_pages_calendar_log_and_correct(client, factory, dbconn):
    world = make_agency(factory)
    location = add_location(world, since=date(2026, 3, 1))
    slug = world.agency.slug
    with time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=UTC), tick=False):
        login(client, world.coordinator)
        page = client.get(f"/a/{slug}/outreach/opinion-box")
        assert page.status_code == 200
        assert page.text.count('data-state="missed"') == 3 and 'data-state="due"' in page.text
        form = {
            "location": str(location.id),
            "day": "2026-03-04",
            "opened": "yes",
            "slips": "-2",
            "opened_by": str(world.coordinator_m.id),
        }
        refused = client.post(f"/a/{slug}/outreach/opinion-box/log", data=form)
        assert refused.status_code == 422 and "This cannot be negative." in refused.text
        assert 'id="slips-error"' in refused.text
        future = client.post(
            f"/a/{slug}/outreach/opinion-box/log", data={**form, "day": "2026-03-05", "slips": "1"}
        )
        assert future.status_code == 422 and 'id="day-error"' in future.text
        with db.tenant_scope(world.agency.id):
            assert rows(BoxLog) == 0
        saved = client.post(
            f"/a/{slug}/outreach/opinion-box/log", data={**form, "slips": "4", "notes": "<b>hi</b>"}
        )
        assert saved.status_code == 302
        with db.tenant_scope(world.agency.id):
            row = db.session.scalar(select(BoxLog))
            assert (row.slips, row.day, row.backfilled) == (4, date(2026, 3, 4), False)
        entry = client.get(saved.location)
        assert "&lt;b&gt;hi&lt;/b&gt;" in entry.text and "opinion_box" in entry.text, (
            "links to feedback entry"
        )
        changed = client.post(
            f"/a/{slug}/outreach/opinion-box/logs/{row.id}",
            data={"opened": "yes", "slips": "5", "opened_by": str(world.coordinator_m.id), "notes": ""},
        )
        assert changed.status_code == 302
        with db.tenant_scope(world.agency.id):
            details = db.session.scalar(
                select(AuditEvent.details).where(AuditEvent.action == "opinion_box.log_changed")
            )
            assert details["slips"] == "5"
        again = client.get(f"/a/{slug}/outreach/opinion-box")
        assert again.text.count('data-state="missed"') == 3 and again.text.count('data-state="opened"') == 1


def test_odd_values_are_messages_never_a_500(client, factory, dbconn):
    """Huge counts (past PostgreSQL's integer), a NUL in a note and months at
    the ends of the calendar: a message next to the field or the current
    month, nothing saved, never a 500."""
    world = make_agency(factory)
    location = add_location(world, since=date(2026, 3, 1))
    team = make_team(world, "North")
    slug = world.agency.slug
    with time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=UTC), tick=False):
        login(client, world.coordinator)
        for month in ("9999-12", "0001-01", "2026-13", "x"):
            page = client.get(f"/a/{slug}/outreach/opinion-box?month={month}")
            assert page.status_code == 200, month
            assert 'data-testid="box-month">March 2026<' in page.text, month
        form = {
            "location": str(location.id),
            "day": "2026-03-04",
            "opened": "yes",
            "slips": "99999999999",
            "opened_by": str(world.coordinator_m.id),
        }
        huge = client.post(f"/a/{slug}/outreach/opinion-box/log", data=form)
        assert huge.status_code == 422 and 'id="slips-error"' in huge.text
        assert "Enter a number from 0 to 1000000." in huge.text
        round_form = {
            "team": str(team.id),
            "stakeholder_group": "clients",
            "held_on": "2026-03-01",
            "method": "meeting",
            "participants": "3000000000",
            "opinions": "1000001",
            "summary": "Fine",
            "led_by": str(world.coordinator_m.id),
        }
        refused = client.post(f"/a/{slug}/outreach/rounds/new", data=round_form)
        assert refused.status_code == 422
        assert 'id="participants-error"' in refused.text and 'id="opinions-error"' in refused.text
        with db.tenant_scope(world.agency.id):
            assert rows(BoxLog) == 0 and rows(StakeholderRound) == 0
        nul = client.post(
            f"/a/{slug}/outreach/opinion-box/log", data={**form, "slips": "2", "notes": "Sli\x00ps 意见"}
        )
        assert nul.status_code == 400, "a NUL character is refused before any form sees it"
        with db.tenant_scope(world.agency.id):
            assert rows(BoxLog) == 0


def test_an_entry_naming_someone_who_left_can_still_be_corrected(client, factory, dbconn):
    """The person an entry names stays a valid choice on that entry (and is
    offered), so correcting a number does not rewrite who did it."""
    world = make_agency(factory)
    location = add_location(world, since=date(2026, 3, 1))
    slug = world.agency.slug
    with time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=UTC), tick=False):
        with client.application.test_request_context(), db.tenant_scope(world.agency.id):
            row = log(world, location, date(2026, 3, 3), slips=1, by=world.carer_m.id)
            db.session.get(Membership, (world.agency.id, world.carer_m.id)).active = False
            db.session.commit()
        login(client, world.coordinator)
        page = client.get(f"/a/{slug}/outreach/opinion-box/logs/{row.id}")
        assert f'<option selected value="{world.carer_m.id}">Carl Carer</option>' in page.text
        form = {"opened": "yes", "slips": "2", "opened_by": str(world.carer_m.id)}
        assert client.post(f"/a/{slug}/outreach/opinion-box/logs/{row.id}", data=form).status_code == 302
        new = client.post(
            f"/a/{slug}/outreach/opinion-box/log",
            data={**form, "location": str(location.id), "day": "2026-03-02"},
        )
        assert new.status_code == 422 and 'id="opened_by-error"' in new.text, "not for a new entry"
        with db.tenant_scope(world.agency.id):
            assert db.session.scalar(select(BoxLog.slips).where(BoxLog.id == row.id)) == 2


def test_carers_log_the_box_only_when_the_agency_allows(client, factory, dbconn):
    world = make_agency(factory)
    add_location(world)
    login(client, world.carer)
    slug = world.agency.slug
    assert client.get(f"/a/{slug}/outreach/opinion-box").status_code == 403
    assert client.get(f"/a/{slug}/outreach/rounds").status_code == 403
    set_settings(world, opinion_box_carers_may_log=True)
    page = client.get(f"/a/{slug}/outreach/opinion-box/log")
    assert page.status_code == 200 and "Log the opinion box" in page.text
    assert client.get(f"/a/{slug}/outreach/funders").status_code == 403


def test_admin_settings_and_locations(app, client, factory, dbconn):
    world = make_agency(factory)
    login(client, world.admin)
    slug = world.agency.slug
    bad = client.post(
        f"/a/{slug}/outreach/settings",
        data={
            "opinion_box_reminder_hour": "30",
            "stakeholder_round_months": "2",
            "funder_visits_per_month": "1",
        },
    )
    assert bad.status_code == 422
    ok = client.post(
        f"/a/{slug}/outreach/settings",
        data={
            "opinion_box_enabled": "y",
            "opinion_box_reminder_hour": "9",
            "stakeholder_round_months": "3",
            "funder_visits_per_month": "2",
        },
    )
    assert ok.status_code == 302
    world.agency = db.session.get(Agency, world.agency.id)
    assert agency_setting(world.agency, "stakeholder_round_months") == 3
    assert agency_setting(world.agency, "opinion_box_carers_may_log") is False
    assert client.post(f"/a/{slug}/outreach/settings/locations", data={"name": "Lobby"}).status_code == 302
    dup = client.post(f"/a/{slug}/outreach/settings/locations", data={"name": "lobby"})
    assert dup.status_code == 422 and "already a box" in dup.text
    coordinator = app.test_client()
    login(coordinator, world.coordinator)
    assert coordinator.get(f"/a/{slug}/outreach/settings").status_code == 403


# -- stakeholder opinion rounds ---------------------------------------------------------------


def make_team(world: Agencyset, name: str):
    with db.tenant_scope(world.agency.id):
        team = teams.create_team(teams.TeamInput(name=name))
        db.session.commit()
        return team


def round_data(world: Agencyset, team_id, **kw) -> RoundData:
    values = {
        "team_id": team_id,
        "stakeholder_group": "clients",
        "held_on": date(2026, 1, 10),
        "method": "meeting",
        "participants": 9,
        "opinions": 4,
        "summary": "Earlier visits wanted",
        "led_by_membership_id": world.coordinator_m.id,
        **kw,
    }
    return RoundData(**values)


def test_rounds_due_every_two_months_and_teams_without_one_are_overdue(app, factory, dbconn):
    world = make_agency(factory)
    north = make_team(world, "North")
    south = make_team(world, "South")
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        with time_machine.travel(datetime(2026, 1, 10, 12, 0, tzinfo=UTC), tick=False):
            services.record_round(world.agency, round_data(world, north.id), by=world.coordinator)
            services.record_round(
                world.agency, round_data(world, north.id, held_on=date(2025, 12, 1)), by=world.coordinator
            )
            db.session.commit()
        on_time = services.overdue_rounds(date(2026, 3, 10))
        assert ("North", "clients") not in {(c.team_name, c.stakeholder_group) for c in on_time}
        assert {(c.team_name, c.stakeholder_group) for c in on_time} == {
            ("North", "funders"),
            ("North", "partners"),
            ("South", "clients"),
            ("South", "funders"),
            ("South", "partners"),
        }
        assert all(c.due is None for c in on_time), "never held: due now"
        late = services.overdue_rounds(date(2026, 3, 11))
        north_clients = next(c for c in late if (c.team_name, c.stakeholder_group) == ("North", "clients"))
        assert north_clients.due == date(2026, 3, 10) and north_clients.last_held == date(2026, 1, 10)
        set_settings(world, stakeholder_round_months=3)
        assert ("North", "clients") not in {
            (c.team_name, c.stakeholder_group)
            for c in services.overdue_rounds(date(2026, 3, 11), world.agency)
        }
        teams.update_team(south, teams.TeamInput(name="South", active=False))
        db.session.commit()
        assert {c.team_name for c in services.overdue_rounds(date(2026, 3, 11))} == {"North"}


def test_round_refusals_name_the_field(app, factory, dbconn):
    world = make_agency(factory)
    team = make_team(world, "North")
    other = make_agency(factory)
    foreign_team = make_team(other, "Elsewhere")
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        with time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False):
            with pytest.raises(OutreachError) as exc:
                services.record_round(
                    world.agency,
                    round_data(
                        world,
                        foreign_team.id,
                        held_on=date(2026, 3, 2),
                        summary="  ",
                        opinions=-1,
                        stakeholder_group="neighbours",
                    ),
                    by=None,
                )
        assert codes(exc) == {
            ("team", "team_unknown"),
            ("held_on", "future"),
            ("summary", "required"),
            ("opinions", "negative"),
            ("stakeholder_group", "bad_choice"),
        }
        assert rows(StakeholderRound) == 0
        row = services.record_round(world.agency, round_data(world, team.id), by=None)
        services.update_round(world.agency, row, round_data(world, team.id, opinions=7), by=None)
        db.session.commit()
        details = db.session.scalar(
            select(AuditEvent.details).where(AuditEvent.action == "stakeholder_round.changed")
        )
        assert details == {"opinions": "7"}


def test_round_pages(client, factory, dbconn):
    world = make_agency(factory)
    team = make_team(world, "North")
    login(client, world.coordinator)
    slug = world.agency.slug
    grid = client.get(f"/a/{slug}/outreach/rounds")
    assert grid.status_code == 200 and grid.text.count('data-overdue="yes"') == 3
    form = {
        "team": str(team.id),
        "stakeholder_group": "funders",
        "held_on": "2020-05-01",
        "method": "survey",
        "participants": "3",
        "opinions": "2",
        "summary": "",
        "led_by": str(world.coordinator_m.id),
    }
    refused = client.post(f"/a/{slug}/outreach/rounds/new", data={**form, "team": "not-a-team"})
    assert (
        refused.status_code == 422
        and 'id="team-error"' in refused.text
        and 'id="summary-error"' in refused.text
    )
    saved = client.post(f"/a/{slug}/outreach/rounds/new", data={**form, "summary": "Reports on time"})
    assert saved.status_code == 302
    with db.tenant_scope(world.agency.id):
        row = db.session.scalar(select(StakeholderRound))
    assert client.get(f"/a/{slug}/outreach/rounds/{row.id}").status_code == 200
    grid = client.get(f"/a/{slug}/outreach/rounds")
    assert grid.text.count('data-overdue="yes"') == 3, "a round of 2020 is long overdue"
    today = world.agency.today().isoformat()
    client.post(f"/a/{slug}/outreach/rounds/{row.id}", data={**form, "summary": "x", "held_on": today})
    grid = client.get(f"/a/{slug}/outreach/rounds")
    assert grid.text.count('data-overdue="yes"') == 2


# -- funders and their return visits ----------------------------------------------------------


def make_funder(world: Agencyset, name: str, since: datetime = datetime(2025, 1, 1, tzinfo=UTC)) -> Funder:
    with db.tenant_scope(world.agency.id):
        row = services.create_funder(
            FunderData(name=name, contact_person="Ms Wang", email="wang@example.net")
        )
        row.created_at = since
        db.session.commit()
        return row


def visit(world: Agencyset, funder: Funder, day: date) -> FunderVisit:
    return services.record_visit(
        world.agency,
        VisitData(
            funder_id=funder.id, visited_on=day, visited_by_membership_id=world.coordinator_m.id, topics="Q1"
        ),
        by=world.coordinator,
    )


def test_funders_visited_monthly_current_month_due_until_its_end(app, factory, dbconn):
    world = make_agency(factory)
    bureau = make_funder(world, "Civil affairs bureau")
    fund = make_funder(world, "Charity fund", since=datetime(2026, 2, 10, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 3, 15, 12, 0, tzinfo=UTC), tick=False):
        with app.test_request_context(), db.tenant_scope(world.agency.id):
            visit(world, bureau, date(2026, 1, 20))
            visit(world, bureau, date(2026, 3, 2))
            visit(world, fund, date(2026, 2, 11))
            db.session.commit()
            overview = dict(services.funder_overview(world.agency))
            months = {c.month: c for c in overview[bureau]}
            assert (months[date(2026, 1, 1)].state, months[date(2026, 2, 1)].state) == ("ok", "missed")
            assert months[date(2026, 3, 1)].state == "ok" and len(overview[bureau]) == 12
            fund_months = {c.month: c.state for c in overview[fund]}
            assert fund_months[date(2026, 1, 1)] == "before" and fund_months[date(2026, 2, 1)] == "ok"
            assert fund_months[date(2026, 3, 1)] == "due", "the current month is due until its end"
            assert [f.name for f in services.funders_without_visit(date(2026, 2, 1))] == [
                "Civil affairs bureau"
            ]
            assert [f.name for f in services.funders_without_visit(date(2026, 1, 1))] == []
            set_settings(world, funder_visits_per_month=2)
            assert {f.name for f in services.funders_without_visit(date(2026, 3, 1))} == {
                "Civil affairs bureau",
                "Charity fund",
            }
            with pytest.raises(OutreachError) as exc:
                services.record_visit(
                    world.agency,
                    VisitData(funder_id=None, visited_on=date(2026, 3, 16), visited_by_membership_id=None),
                    by=None,
                )
            assert codes(exc) == {
                ("funder", "funder_unknown"),
                ("visited_on", "future"),
                ("visited_by", "staff_unknown"),
                ("topics", "required"),
            }
            with pytest.raises(OutreachError) as exc:
                services.create_funder(FunderData(name="civil affairs BUREAU", email="nope"))
            assert codes(exc) == {("name", "funder_taken"), ("email", "bad_email")}


def test_funder_pages(client, factory, dbconn):
    world = make_agency(factory)
    login(client, world.coordinator)
    slug = world.agency.slug
    empty = client.post(f"/a/{slug}/outreach/funders/new", data={"name": "", "active": "y"})
    assert empty.status_code == 422 and 'id="name-error"' in empty.text
    assert (
        client.post(f"/a/{slug}/outreach/funders/new", data={"name": "Bureau", "active": "y"}).status_code
        == 302
    )
    with db.tenant_scope(world.agency.id):
        funder = db.session.scalar(select(Funder))
    page = client.get(f"/a/{slug}/outreach/funders")
    assert page.status_code == 200 and 'data-state="due"' in page.text
    form = {
        "funder": str(funder.id),
        "visited_on": "2026-13-01",
        "visited_by": str(world.coordinator_m.id),
        "topics": "Service report",
    }
    bad_date = client.post(f"/a/{slug}/outreach/funder-visits/new", data=form)
    assert bad_date.status_code == 422 and "year-month-day" in bad_date.text
    today = world.agency.today().isoformat()
    assert (
        client.post(f"/a/{slug}/outreach/funder-visits/new", data={**form, "visited_on": today}).status_code
        == 302
    )
    page = client.get(f"/a/{slug}/outreach/funders")
    assert 'data-state="due"' not in page.text and "Service report" in page.text
    changed = client.post(f"/a/{slug}/outreach/funders/{funder.id}", data={"name": "Bureau", "phone": "123"})
    assert changed.status_code == 302
    with db.tenant_scope(world.agency.id):
        details = db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "funder.changed"))
    assert details["fields"] == ["phone", "active"] and "123" not in str(details)
    assert "No active funder yet." in client.get(f"/a/{slug}/outreach/funders").text


def test_another_agency_objects_are_404(client, factory, dbconn):
    world = make_agency(factory)
    other = make_agency(factory)
    funder = make_funder(other, "Theirs")
    login(client, world.coordinator)
    assert client.get(f"/a/{world.agency.slug}/outreach/funders/{funder.id}").status_code == 404
    assert client.get(f"/a/{other.agency.slug}/outreach/funders").status_code == 404


# -- statement counts -------------------------------------------------------------------------


def _grow(world: Agencyset, n: int) -> None:
    for i in range(n):
        location = add_location(world, f"Box {n}-{i}", since=date(2025, 1, 1))
        for d in range(1, 4):
            world.factory.box_log(
                world.agency, location.id, date(2025, 1, d), by=world.coordinator_m, slips=d
            )
        with db.tenant_scope(world.agency.id):
            team = teams.create_team(teams.TeamInput(name=f"Team {n}-{i}"))
            funder = services.create_funder(FunderData(name=f"Funder {n}-{i}"))
            services.record_round(world.agency, round_data(world, team.id, held_on=date(2025, 1, 5)), by=None)
            visit(world, funder, date(2025, 1, 6))
            db.session.commit()


def test_list_pages_cost_the_same_whatever_the_data(client, factory, dbconn):
    world = make_agency(factory)
    login(client, world.coordinator)
    slug = world.agency.slug
    pages = ("/outreach/opinion-box?month=2025-01", "/outreach/rounds", "/outreach/funders")

    def counts() -> list[int]:
        result = []
        for path in pages:
            with count_statements() as counter:
                assert client.get(f"/a/{slug}{path}").status_code == 200
            result.append(counter.count)
        return result

    _grow(world, 1)
    small = counts()
    _grow(world, 6)
    assert counts() == small
