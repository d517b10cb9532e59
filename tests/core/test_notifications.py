"""The notification centre: each care-loop reminder kind with time moved
(agency time zones, daylight saving), preferences (mandatory kinds stay on),
quiet hours across midnight, the daily digest, the unread badge and the list."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from saas import db
from saas.models import Agency, AuditEvent, MailMessage, Membership, Role
from saas.notifications import delivery, services
from saas.notifications.models import EmailState, Notification, NotificationSettings, Reminder
from saas.notifications.reminders import Due, quiet_until, recipients, send_due
from tenants.members import services as members
from tenants.scheduling import visit_reminders as sweeps
from tenants.scheduling.services import flag_late_and_missed
from tests.core.samples_notifications import Care
from tests.factories import login
from tests.sqlcount import count_statements

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def run(sweep) -> int:
    """The sweep's own function, in the test's transaction (what rq cron runs
    inside `saas.jobs.periodic`)."""
    return sweep.__wrapped__()


def notes(care: Care, membership=None, kind: str | None = None) -> list[Notification]:
    with db.tenant_scope(care.agency.id):
        stmt = select(Notification).order_by(Notification.created_at, Notification.id)
        if membership is not None:
            stmt = stmt.where(Notification.membership_id == membership.id)
        if kind is not None:
            stmt = stmt.where(Notification.kind == kind)
        return list(db.session.scalars(stmt))


def agency_settings(care: Care) -> dict:
    return db.session.scalar(select(Agency.settings).where(Agency.id == care.agency.id))


def mails_to(user) -> list[MailMessage]:
    return list(
        db.session.scalars(
            select(MailMessage).where(MailMessage.to_address == user.email).order_by(MailMessage.created_at)
        )
    )


# -- visit.tomorrow: the evening before, on the agency's clock -----------------------------------


def test_tomorrow_goes_at_each_agencys_evening(app_ctx, factory):
    london = Care(factory)
    shanghai = Care(factory, tz="Asia/Shanghai")
    l_user, l_member, l_staff = london.carer()
    s_user, s_member, s_staff = shanghai.carer()
    # Tuesday 24 Nov 2026: London 09:00 GMT (09:00 UTC), Shanghai 09:00 CST (01:00 UTC)
    london.visit(at(2026, 11, 24, 9, 0), l_staff)
    london.visit(at(2026, 11, 24, 14, 30), l_staff)
    shanghai.visit(at(2026, 11, 24, 1, 0), s_staff)

    with time_machine.travel(at(2026, 11, 23, 9, 59), tick=False):  # Shanghai 17:59
        run(sweeps.tomorrow_all)
    assert notes(shanghai, s_member) == [] and notes(london, l_member) == []

    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):  # Shanghai 18:00, London 10:00
        run(sweeps.tomorrow_all)
    [s_note] = notes(shanghai, s_member)
    assert s_note.kind == "visit.tomorrow" and "09:00" in s_note.title and "2026-11-24" in s_note.title
    assert notes(london, l_member) == []
    [s_mail] = mails_to(s_user)
    assert s_mail.subject == s_note.title and f"/a/{shanghai.agency.slug}/my/schedule" in s_mail.body

    with time_machine.travel(at(2026, 11, 23, 18, 0), tick=False):  # London 18:00
        run(sweeps.tomorrow_all)
        run(sweeps.tomorrow_all)  # a second run sends nothing more
    [l_note] = notes(london, l_member)
    assert "2 visits" in l_note.title and "09:00, 14:30" in l_note.body
    assert len(mails_to(l_user)) == 1 and len(mails_to(s_user)) == 1
    with db.tenant_scope(london.agency.id):
        reminder = db.session.scalar(select(Reminder))
    assert reminder.subject == f"{l_staff.id}:2026-11-24" and reminder.due_at == at(2026, 11, 23, 18, 0)


@pytest.mark.parametrize(
    ("day", "before", "evening_utc"),
    [
        # 29 March 2026: clocks go forward at 01:00 UTC; 18:00 BST is 17:00 UTC
        ((2026, 3, 29), at(2026, 3, 29, 16, 59), at(2026, 3, 29, 17, 0)),
        # 25 October 2026: clocks go back at 01:00 UTC; 18:00 GMT is 18:00 UTC
        ((2026, 10, 25), at(2026, 10, 25, 17, 59), at(2026, 10, 25, 18, 0)),
    ],
)
def test_tomorrow_evening_on_daylight_saving_days(app_ctx, factory, day, before, evening_utc):
    care = Care(factory)
    _user, member, staff = care.carer()
    tomorrow = datetime(*day, 10, 0, tzinfo=care.agency.zone) + timedelta(days=1)
    care.visit(tomorrow.astimezone(UTC), staff)
    with time_machine.travel(before, tick=False):
        run(sweeps.tomorrow_all)
    assert notes(care, member) == []
    with time_machine.travel(evening_utc, tick=False):
        run(sweeps.tomorrow_all)
    [note] = notes(care, member)
    assert "10:00" in note.title  # the wall-clock time of the visit, not UTC
    with db.tenant_scope(care.agency.id):
        assert db.session.scalar(select(Reminder.due_at)) == evening_utc


def test_a_missed_evening_is_caught_up_in_the_morning_once(app_ctx, factory):
    """The scheduler was down from 17:00 to 07:00: the evening's reminder goes
    in the morning, worded for today, listing the visits not started yet, and
    never a second time."""
    care = Care(factory)
    _user, member, staff = care.carer()
    care.visit(at(2026, 11, 24, 6, 30), staff)  # already started by the catch-up
    care.visit(at(2026, 11, 24, 9, 0), staff)
    care.visit(at(2026, 11, 24, 14, 30), staff)
    with time_machine.travel(at(2026, 11, 23, 17, 0), tick=False):
        run(sweeps.tomorrow_all)
    assert notes(care, member) == []
    with time_machine.travel(at(2026, 11, 24, 7, 0), tick=False):
        run(sweeps.tomorrow_all)
        run(sweeps.tomorrow_all)
    [note] = notes(care, member)
    assert note.title.startswith("Today, 2026-11-24: 2 visits") and "09:00, 14:30" in note.body
    with db.tenant_scope(care.agency.id):
        reminder = db.session.scalar(select(Reminder))
    assert reminder.due_at == at(2026, 11, 23, 18, 0), "the evening's occurrence, not a new one"
    other = Care(factory)
    _u, other_member, other_staff = other.carer()
    other.visit(at(2026, 11, 24, 9, 0), other_staff)
    with time_machine.travel(at(2026, 11, 23, 18, 5), tick=False):
        run(sweeps.tomorrow_all)
    with time_machine.travel(at(2026, 11, 24, 7, 0), tick=False):
        run(sweeps.tomorrow_all)
    [sent] = notes(other, other_member)
    assert sent.title.startswith("Tomorrow"), "sent in the evening: nothing more in the morning"


def test_evening_time_is_an_agency_setting(app_ctx, factory):
    care = Care(factory)
    care.settings(reminder_evening_time="20:30")
    _user, member, staff = care.carer()
    care.visit(at(2026, 11, 24, 9, 0), staff)
    with time_machine.travel(at(2026, 11, 23, 20, 29), tick=False):
        run(sweeps.tomorrow_all)
    assert notes(care, member) == []
    with time_machine.travel(at(2026, 11, 23, 20, 31), tick=False):
        run(sweeps.tomorrow_all)
    assert len(notes(care, member)) == 1


# -- visit.no_check_in, visit.late, visit.missed -------------------------------------------------


def test_no_check_in_then_late_then_missed(app_ctx, factory):
    care = Care(factory)
    carer_user, carer, staff = care.carer()
    visit = care.visit(at(2026, 11, 23, 9, 0), staff)
    checked = care.visit(
        at(2026, 11, 23, 9, 0), care.carer("Other")[2], checked_in_at=at(2026, 11, 23, 8, 40)
    )

    with time_machine.travel(at(2026, 11, 23, 8, 44), tick=False):
        run(sweeps.no_check_in_all)
    assert notes(care) == []
    with time_machine.travel(at(2026, 11, 23, 8, 46), tick=False):
        run(sweeps.no_check_in_all)
        run(sweeps.no_check_in_all)
    [note] = notes(care)
    assert note.membership_id == carer.id and note.kind == "visit.no_check_in" and "09:00" in note.title
    assert len(mails_to(carer_user)) == 1
    assert checked.id not in {n.link for n in notes(care)}

    with time_machine.travel(at(2026, 11, 23, 9, 20), tick=False):
        with db.tenant_scope(care.agency.id):
            flag_late_and_missed(care.agency)
            db.session.commit()
        run(sweeps.late_and_missed_all)
        run(sweeps.late_and_missed_all)
    late = notes(care, kind="visit.late")
    assert {n.membership_id for n in late} == {care.coordinator.id, care.admin.id}
    assert all(n.link == f"/a/{care.agency.slug}/visits/{visit.id}" for n in late)

    with time_machine.travel(at(2026, 11, 23, 10, 5), tick=False):
        with db.tenant_scope(care.agency.id):
            flag_late_and_missed(care.agency)
            db.session.commit()
        run(sweeps.late_and_missed_all)
    missed = notes(care, kind="visit.missed")
    assert {n.membership_id for n in missed} == {care.coordinator.id, care.admin.id}
    assert len(notes(care, kind="visit.late")) == 2  # not told again
    assert len(mails_to(care.coordinator_user)) == 2


def test_no_check_in_minutes_is_a_setting(app_ctx, factory):
    care = Care(factory)
    care.settings(no_check_in_minutes=45)
    _user, carer, staff = care.carer()
    care.visit(at(2026, 11, 23, 9, 0), staff)
    with time_machine.travel(at(2026, 11, 23, 8, 16), tick=False):
        run(sweeps.no_check_in_all)
    [note] = notes(care, carer)
    with db.tenant_scope(care.agency.id):
        assert db.session.scalar(select(Reminder.due_at)) == at(2026, 11, 23, 8, 15)


# -- visit.unassigned and record.needs_attention -------------------------------------------------


def test_unassigned_once_a_day_in_the_agencys_morning(app_ctx, factory):
    care = Care(factory, tz="Asia/Shanghai")
    for days in (1, 3, 6):
        care.visit(at(2026, 11, 23, 2, 0) + timedelta(days=days))
    care.visit(at(2026, 11, 23, 2, 0) + timedelta(days=9))  # beyond 7 days
    care.visit(at(2026, 11, 24, 2, 0), care.carer()[2])  # has a carer
    with time_machine.travel(at(2026, 11, 22, 23, 59), tick=False):  # 07:59 in Shanghai
        run(sweeps.unassigned_all)
    assert notes(care) == []
    with time_machine.travel(at(2026, 11, 23, 0, 0), tick=False):  # 08:00
        run(sweeps.unassigned_all)
    with time_machine.travel(at(2026, 11, 23, 6, 0), tick=False):  # the same local day
        run(sweeps.unassigned_all)
    got = notes(care)
    assert {n.membership_id for n in got} == {care.coordinator.id, care.admin.id}
    assert all("3 visits in the next 7 days" in n.title for n in got)
    with time_machine.travel(at(2026, 11, 24, 3, 0), tick=False):  # the next day: 2 left
        run(sweeps.unassigned_all)
    assert len(notes(care)) == 4 and "2 visits" in notes(care)[-1].title


def test_needs_attention_reminds_after_the_setting_hours(app_ctx, factory):
    from tenants.scheduling.models import Visit
    from tenants.scheduling.services import resolve_attention

    care = Care(factory)
    _user, _carer, staff = care.carer()
    # checked in an hour late and out at 10:00: the record asking attention is written then
    visit, _record = factory.complete_visit(
        care.agency,
        care.visit(at(2026, 11, 23, 9, 0), staff).id,
        staff.id,
        needs_attention=True,
        late_minutes=60,
    )
    resolved_visit, _record = factory.complete_visit(
        care.agency, care.visit(at(2026, 11, 23, 11, 0), staff).id, staff.id, needs_attention=True
    )
    with time_machine.travel(at(2026, 11, 23, 12, 0), tick=False), db.tenant_scope(care.agency.id):
        resolve_attention(db.session.get(Visit, (care.agency.id, resolved_visit.id)))
        db.session.commit()
    # the alert at check-out itself is `record.attention` (see below)
    with time_machine.travel(at(2026, 11, 24, 9, 59), tick=False):
        run(sweeps.needs_attention_all)
    assert notes(care, kind="record.needs_attention") == []
    with time_machine.travel(at(2026, 11, 24, 10, 1), tick=False):
        run(sweeps.needs_attention_all)
        run(sweeps.needs_attention_all)
    got = notes(care, kind="record.needs_attention")
    assert len(got) == 2 and all(n.link.endswith(str(visit.id)) for n in got)


# -- send_due itself -----------------------------------------------------------------------------


def test_send_due_claims_each_key_once_and_skips_those_who_left(app_ctx, factory):
    care = Care(factory)
    _u1, first, _s1 = care.carer("One")
    _u2, second, _s2 = care.carer("Two")
    due_at = at(2026, 11, 23, 8, 0)
    with db.tenant_scope(care.agency.id):
        carers = recipients(Role.CARER)
        assert set(carers) == {first.id, second.id}
        members.deactivate(db.session.get(Membership, (care.agency.id, second.id)), by=care.admin_user)
        db.session.commit()
        dues = [Due("visit.unassigned", "day", due_at, carers, {"count": "2", "days": "7", "first": "x"})] * 2
        assert send_due(dues) == 1
        assert send_due(dues) == 0
        # the same subject at another due moment is another occurrence
        later = Due(
            "visit.unassigned",
            "day",
            due_at + timedelta(days=1),
            carers,
            {"count": "1", "days": "7", "first": "x"},
        )
        assert send_due([later], batch_size=1) == 1
    assert [n.membership_id for n in notes(care)] == [first.id, first.id]


def test_a_kind_name_registers_once():
    from saas.notifications.kinds import KINDS, Kind, KindAlreadyRegistered, register

    assert KINDS["visit.missed"].mandatory and not KINDS["visit.tomorrow"].mandatory
    with pytest.raises(KindAlreadyRegistered):
        register(Kind("visit.missed", "again"))
    plain = Kind("test.plain", "Plain label")
    assert plain.title({}) == "Plain label" and plain.body({}) == ""


def test_send_due_refuses_naive_times_and_unknown_kinds(app_ctx, factory):
    care = Care(factory)
    with db.tenant_scope(care.agency.id):
        with pytest.raises(ValueError):
            send_due([Due("visit.missed", "x", datetime(2026, 1, 1), (care.admin.id,), {})])
        with pytest.raises(KeyError):
            send_due([Due("no.such.kind", "x", at(2026, 1, 1), (care.admin.id,), {})])
    with pytest.raises(db.TenantNotSet):
        send_due([])


# -- preferences, quiet hours, digest ------------------------------------------------------------


def _missed_and_unassigned(care: Care, when: datetime, to) -> None:
    params = {"start": "09:00", "date": "2026-11-23"}
    with care.factory.app.test_request_context(), db.tenant_scope(care.agency.id):
        send_due(
            [
                Due("visit.missed", f"v-{when.isoformat()}", when, to, params),
                Due(
                    "visit.unassigned",
                    when.date().isoformat(),
                    when,
                    to,
                    {"count": "1", "days": "7", "first": "x"},
                ),
            ]
        )


def test_preferences_page_saves_choices_and_mandatory_stays_on(client, factory):
    care = Care(factory)
    login(client, care.coordinator_user)
    page = client.get(f"/a/{care.agency.slug}/notifications/preferences")
    assert page.status_code == 200
    assert 'name="in_app-visit.missed"' in page.text and "Always on" in page.text
    # untick everything: mandatory kinds ignore it; visit.unassigned: in-app only
    response = client.post(
        f"/a/{care.agency.slug}/notifications/preferences",
        data={"in_app-visit.unassigned": "on", "quiet_start": "", "quiet_end": "", "timezone": ""},
    )
    assert response.status_code == 302
    with db.tenant_scope(care.agency.id):
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "notifications.preferences_changed")
        )
    assert event.subject == str(care.coordinator.id) and "visit.late" in event.details["off"]
    assert "visit.missed" not in event.details["off"]
    _missed_and_unassigned(care, at(2026, 11, 23, 12, 0), (care.coordinator.id,))
    got = {n.kind: n for n in notes(care, care.coordinator)}
    assert set(got) == {"visit.missed", "visit.unassigned"}
    assert got["visit.missed"].email == EmailState.SENT and got["visit.unassigned"].email == EmailState.NONE
    assert [m.subject for m in mails_to(care.coordinator_user)] == [got["visit.missed"].title]
    # a kind turned off on both channels: nothing at all
    with db.tenant_scope(care.agency.id):
        prefs = services.preferences(care.coordinator)
    by_kind = {c.kind.name: c for c in prefs.choices}
    assert (by_kind["visit.late"].in_app, by_kind["visit.late"].email) == (False, False)
    assert (by_kind["visit.missed"].in_app, by_kind["visit.missed"].email) == (True, True)
    with care.factory.app.test_request_context(), db.tenant_scope(care.agency.id):
        send_due(
            [
                Due(
                    "visit.late",
                    "v",
                    at(2026, 11, 23, 12, 0),
                    (care.coordinator.id,),
                    {"start": "x", "date": "y"},
                )
            ]
        )
    assert notes(care, care.coordinator, kind="visit.late") == []


def test_bad_quiet_hours_get_a_message_and_nothing_is_saved(client, factory):
    care = Care(factory)
    login(client, care.coordinator_user)
    url = f"/a/{care.agency.slug}/notifications/preferences"
    for data, message in (
        ({"quiet_start": "25:00", "quiet_end": "07:00"}, "Write a time as HH:MM"),
        ({"quiet_start": "22:00", "quiet_end": ""}, "or neither"),
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, "cannot start and end at the same time"),
        ({"quiet_start": "", "quiet_end": "", "timezone": "Mars/Olympus"}, "Choose a time zone"),
    ):
        response = client.post(url, data={"timezone": "", **data})
        assert response.status_code == 422 and message in response.text
        assert 'class="error"' in response.text
    with db.tenant_scope(care.agency.id):
        assert db.session.scalar(select(func.count()).select_from(NotificationSettings)) == 0


def test_quiet_hours_across_midnight_delay_the_email_never_drop_it(app_ctx, factory):
    care = Care(factory)  # the agency is in London; the coordinator works from Shanghai
    with db.tenant_scope(care.agency.id):
        services.save_preferences(
            care.coordinator,
            channels={},
            quiet_start="22:00",
            quiet_end="07:00",
            timezone="Asia/Shanghai",
            digest=False,
        )
        db.session.commit()
    # 15:30 UTC = 23:30 in Shanghai: quiet
    with time_machine.travel(at(2026, 11, 23, 15, 30), tick=False):
        _missed_and_unassigned(care, at(2026, 11, 23, 15, 0), (care.coordinator.id, care.admin.id))
    mine = notes(care, care.coordinator)
    assert len(mine) == 2 and all(n.in_app and n.read_at is None for n in mine)  # in-app at once
    assert all(n.email == EmailState.PENDING for n in mine)
    assert {n.deliver_after for n in mine} == {at(2026, 11, 23, 23, 0)}  # 07:00 in Shanghai
    assert mails_to(care.coordinator_user) == [] and len(mails_to(care.admin_user)) == 2
    with time_machine.travel(at(2026, 11, 23, 22, 59), tick=False):
        run(delivery.deliver_waiting)
    assert mails_to(care.coordinator_user) == []
    with time_machine.travel(at(2026, 11, 23, 23, 0), tick=False):
        assert run(delivery.deliver_waiting) == 2
        assert run(delivery.deliver_waiting) == 0
    assert len(mails_to(care.coordinator_user)) == 2
    assert {n.email for n in notes(care, care.coordinator)} == {EmailState.SENT}


def test_quiet_until_follows_the_wall_clock():
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    night = (time(22, 0), time(7, 0))
    # the night the clocks go back: 07:00 GMT is 07:00 UTC, 9 hours after 23:00 BST
    assert quiet_until(at(2026, 10, 24, 22, 0), london, *night) == at(2026, 10, 25, 7, 0)
    # after midnight, before the end: the end is the same day
    assert quiet_until(at(2026, 11, 23, 3, 0), london, *night) == at(2026, 11, 23, 7, 0)
    assert quiet_until(at(2026, 11, 23, 12, 0), london, *night) is None
    # a daytime window
    assert quiet_until(at(2026, 11, 23, 12, 0), london, time(12, 0), time(14, 0)) == at(2026, 11, 23, 14, 0)
    assert quiet_until(at(2026, 11, 23, 14, 0), london, time(12, 0), time(14, 0)) is None
    assert quiet_until(at(2026, 11, 23, 12, 0), london, None, None) is None


def test_daily_digest_collects_the_days_notifications(app_ctx, factory):
    care = Care(factory, tz="Asia/Shanghai")
    with db.tenant_scope(care.agency.id):
        services.save_preferences(
            care.coordinator, channels={}, quiet_start="", quiet_end="", timezone="", digest=True
        )
        db.session.commit()
    to = (care.coordinator.id,)
    with time_machine.travel(at(2026, 11, 23, 1, 0), tick=False):  # 09:00 in Shanghai
        _missed_and_unassigned(care, at(2026, 11, 23, 1, 0), to)
    with time_machine.travel(at(2026, 11, 23, 3, 0), tick=False):
        with db.tenant_scope(care.agency.id):
            send_due(
                [
                    Due(
                        "visit.late",
                        "v1",
                        at(2026, 11, 23, 3, 0),
                        to,
                        {"start": "10:30", "date": "2026-11-23"},
                    )
                ]
            )
    # the mandatory "missed" went at once; the others wait for the digest
    assert [m.subject for m in mails_to(care.coordinator_user)] == ["Missed visit: 2026-11-23 09:00"]
    with time_machine.travel(at(2026, 11, 23, 8, 59), tick=False):  # 16:59
        run(delivery.digest_all)
    assert len(mails_to(care.coordinator_user)) == 1
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):  # 17:00
        assert run(delivery.digest_all) == 1
        assert run(delivery.digest_all) == 0
    digest = mails_to(care.coordinator_user)[-1]
    assert digest.subject == "Your CareHub digest: 2 notifications"
    assert "1 visit in the next 7 days has no carer" in digest.body and "Late visit" in digest.body
    first_item = notes(care, care.coordinator, kind="visit.unassigned")[0]
    assert digest.dedupe_key == f"digest:{care.coordinator.id}:{first_item.id}"
    # a notification after today's digest waits for tomorrow's; turning the digest off releases it
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        with db.tenant_scope(care.agency.id):
            send_due(
                [
                    Due(
                        "visit.late",
                        "v2",
                        at(2026, 11, 23, 10, 0),
                        to,
                        {"start": "18:00", "date": "2026-11-23"},
                    )
                ]
            )
        run(delivery.digest_all)
        assert len(mails_to(care.coordinator_user)) == 2
        with db.tenant_scope(care.agency.id):
            services.save_preferences(
                care.coordinator, channels={}, quiet_start="", quiet_end="", timezone="", digest=False
            )
            db.session.commit()
        run(delivery.deliver_waiting)
    assert mails_to(care.coordinator_user)[-1].subject == "Late visit: no check-in for 2026-11-23 18:00"


def _late(care: Care, subject: str, when: datetime, to) -> None:
    with time_machine.travel(when, tick=False), db.tenant_scope(care.agency.id):
        send_due([Due("visit.late", subject, when, to, {"start": "10:30", "date": "2026-11-23"})])


def test_a_digest_time_inside_the_quiet_hours_goes_when_they_end(app_ctx, factory):
    """Digest at 17:00 (the default), quiet 16:00-08:00: the digest time always
    falls in the quiet hours, so it goes at 08:00 with what came before 17:00,
    every day, each notification in one digest."""
    care = Care(factory)  # London, GMT in November
    with db.tenant_scope(care.agency.id):
        services.save_preferences(
            care.coordinator, channels={}, quiet_start="16:00", quiet_end="08:00", timezone="", digest=True
        )
        db.session.commit()
    to = (care.coordinator.id,)
    _late(care, "v1", at(2026, 11, 23, 10, 0), to)
    _late(care, "v2", at(2026, 11, 23, 16, 59), to)
    for moment in (at(2026, 11, 23, 17, 0), at(2026, 11, 23, 23, 0), at(2026, 11, 24, 7, 59)):
        with time_machine.travel(moment, tick=False):
            assert run(delivery.digest_all) == 0
    with time_machine.travel(at(2026, 11, 24, 8, 0), tick=False):
        assert run(delivery.digest_all) == 1
        assert run(delivery.digest_all) == 0
    _late(care, "v3", at(2026, 11, 24, 9, 0), to)  # after yesterday's 17:00: tomorrow's digest
    with time_machine.travel(at(2026, 11, 24, 17, 30), tick=False):
        assert run(delivery.digest_all) == 0
    with time_machine.travel(at(2026, 11, 25, 8, 0), tick=False):
        assert run(delivery.digest_all) == 1
    digests = [m for m in mails_to(care.coordinator_user) if m.kind == "notification.digest"]
    assert [m.subject for m in digests] == [
        "Your CareHub digest: 2 notifications",
        "Your CareHub digest: 1 notification",
    ]
    assert "10:30" in digests[0].body and len({m.dedupe_key for m in digests}) == 2
    assert {n.email for n in notes(care, care.coordinator)} == {EmailState.SENT}


def test_an_occurrence_nobody_can_receive_is_not_claimed(app_ctx, factory):
    """No carer yet, or the only recipient left: the occurrence stays due and
    goes once someone can be told (never skipped)."""
    care = Care(factory)
    other_admin, _ = factory.member(care.agency, Role.ADMIN)
    due_at = at(2026, 11, 23, 8, 0)
    params = {"start": "09:00", "date": "2026-11-23"}
    with db.tenant_scope(care.agency.id):
        assert recipients(Role.CARER) == ()
        assert send_due([Due("visit.missed", "v", due_at, recipients(Role.CARER), params)]) == 0
        assert send_due([Due("visit.missed", "v", due_at, (care.coordinator.id,), params)]) == 1
        members.deactivate(db.session.get(Membership, (care.agency.id, care.admin.id)), by=other_admin)
        db.session.commit()
        assert send_due([Due("visit.late", "v", due_at, (care.admin.id,), params)]) == 0
        assert db.session.scalar(select(func.count()).select_from(Reminder)) == 1
    _user, carer, _staff = care.carer()
    with db.tenant_scope(care.agency.id):
        assert send_due([Due("visit.missed", "v2", due_at, recipients(Role.CARER), params)]) == 1
    assert [n.membership_id for n in notes(care, kind="visit.missed")] == [care.coordinator.id, carer.id]


def test_check_out_needing_attention_goes_through_the_centre(app_ctx, factory):
    """The alert at check-out is in the app and by email, to coordinators and
    admins, mandatory, once per visit, and delayed (never dropped) by quiet hours."""
    from tenants.scheduling import services as visits

    care = Care(factory)
    _user, _carer, staff = care.carer()
    with db.tenant_scope(care.agency.id):
        from saas.notifications.models import NotificationPreference

        db.session.add(
            NotificationPreference(
                membership_id=care.admin.id, kind="record.attention", in_app=False, email=False
            )
        )
        services.save_preferences(
            care.coordinator, channels={}, quiet_start="08:00", quiet_end="10:00", timezone="", digest=True
        )
        db.session.commit()
    visit = care.visit(at(2026, 11, 23, 8, 0), staff)
    with (
        time_machine.travel(at(2026, 11, 23, 9, 0), tick=False),
        care.factory.app.test_request_context(),
        db.tenant_scope(care.agency.id),
    ):
        row = db.session.get(type(visit), (care.agency.id, visit.id))
        visits.check_in(care.agency, row, staff_id=staff.id)
        record = visits.RecordData(
            [True], "Washed", "", "", "fell in the bathroom", True, "She fell: I called 999."
        )
        visits.check_out(care.agency, row, record, staff_id=staff.id, by=None)
        db.session.commit()
    got = notes(care, kind="record.attention")
    assert {n.membership_id for n in got} == {care.admin.id, care.coordinator.id}
    assert all(n.in_app and n.link.endswith(str(visit.id)) for n in got)
    assert all("fell" not in n.title + n.body for n in got), "no record content in the alert"
    assert [m.kind for m in mails_to(care.admin_user)] == ["visit.attention"]
    assert mails_to(care.coordinator_user) == []  # quiet until 10:00; mandatory: not in the digest
    [waiting] = notes(care, care.coordinator, kind="record.attention")
    assert waiting.email == EmailState.PENDING and waiting.deliver_after == at(2026, 11, 23, 10, 0)
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        assert run(delivery.deliver_waiting) == 1
    assert [m.kind for m in mails_to(care.coordinator_user)] == ["visit.attention"]


def test_reminder_is_written_in_the_recipients_language(app_ctx, factory):
    care = Care(factory, tz="Asia/Shanghai", locale="zh_CN")
    user, carer, _staff = care.carer()
    with db.tenant_scope(care.agency.id):
        send_due(
            [
                Due(
                    "visit.no_check_in",
                    "v",
                    at(2026, 11, 23, 1, 0),
                    (carer.id,),
                    {"start": "09:00", "date": "2026-11-23"},
                )
            ]
        )
    [note] = notes(care, carer)
    [mail] = mails_to(user)
    assert mail.subject == note.title and "09:00" in note.title


# -- pages: list, badge, read, isolation ---------------------------------------------------------


def _fill(care: Care, membership, count: int, start: int = 0) -> None:
    with care.factory.app.test_request_context(), db.tenant_scope(care.agency.id):
        send_due(
            Due(
                "visit.late",
                f"visit-{i}",
                at(2026, 11, 23, 8, 0) + timedelta(minutes=i),
                (membership.id,),
                {"start": "09:00", "date": "2026-11-23"},
                f"/a/{care.agency.slug}/visits",
            )
            for i in range(start, start + count)
        )


def test_list_badge_read_and_read_all(client, factory):
    care = Care(factory)
    _fill(care, care.coordinator, 3)
    _fill(care, care.admin, 1, start=100)
    login(client, care.coordinator_user)
    slug = care.agency.slug
    home = client.get(f"/a/{slug}/notifications")
    assert home.status_code == 200
    assert 'data-testid="unread-count"' in home.text and ">3</span>" in home.text
    assert home.text.count('data-testid="notification"') == 3
    first, second, _third = notes(care, care.coordinator)
    assert client.post(f"/a/{slug}/notifications/{first.id}/read").status_code == 302
    opened = client.post(f"/a/{slug}/notifications/{second.id}/open")
    assert opened.status_code == 302 and opened.location == f"/a/{slug}/visits"
    with db.tenant_scope(care.agency.id):
        assert services.unread_count(care.coordinator) == 1
    # someone else's notification, in the same agency, is not found
    [theirs] = notes(care, care.admin)
    assert client.post(f"/a/{slug}/notifications/{theirs.id}/read").status_code == 404
    assert client.post(f"/a/{slug}/notifications/read-all").status_code == 302
    page = client.get(f"/a/{slug}/notifications")
    assert 'data-testid="unread-count"' not in page.text
    assert [n.read_at is not None for n in notes(care, care.admin)] == [False]


def test_list_costs_the_same_at_any_size(client, factory):
    care = Care(factory)
    login(client, care.coordinator_user)
    url = f"/a/{care.agency.slug}/notifications"
    _fill(care, care.coordinator, 2)
    client.get(url)
    with count_statements() as small:
        assert client.get(url).status_code == 200
    _fill(care, care.coordinator, 60, start=10)
    with count_statements() as large:
        page = client.get(url)
    assert page.text.count('data-testid="notification"') == 30  # one page
    assert large.count == small.count
    assert client.get(url + "?page=3").text.count('data-testid="notification"') == 2


def test_agency_reminder_settings_are_validated(client, factory):
    care = Care(factory)
    login(client, care.admin_user)
    url = f"/a/{care.agency.slug}/notifications/settings"
    assert client.get(url).status_code == 200
    good = {
        "reminder_evening_time": "19:15",
        "reminder_morning_time": "07:30",
        "digest_time": "16:00",
        "no_check_in_minutes": "20",
        "unassigned_horizon_days": "5",
        "attention_reminder_hours": "12",
        "certificate_reminder_days": "30, 90，7",
        "plan_review_reminder_days": "10",
        "return_visit_due_day": "5",
        "region": "GB",
    }
    bad = client.post(url, data={**good, "reminder_evening_time": "7pm"})
    assert bad.status_code == 422 and "Write a time as HH:MM" in bad.text
    bad = client.post(url, data={**good, "no_check_in_minutes": "999"})
    assert bad.status_code == 422
    assert "reminder_evening_time" not in agency_settings(care)
    assert client.post(url, data=good).status_code == 302
    assert agency_settings(care)["reminder_evening_time"] == "19:15"
    assert agency_settings(care)["no_check_in_minutes"] == 20
    assert agency_settings(care)["region"] == "GB"
    assert client.post(url, data={**good, "region": "XX"}).status_code == 422
    for field, value in (
        ("certificate_reminder_days", "60, -1"),
        ("certificate_reminder_days", "1,2,3,4,5,6"),
        ("certificate_reminder_days", "400"),
        ("certificate_reminder_days", "30, ²"),  # isdigit() but not int(): was a 500
        ("return_visit_due_day", "31"),
    ):
        refused = client.post(url, data={**good, field: value})
        assert refused.status_code == 422, (field, value)
    assert (
        "up to five numbers of days" in client.post(url, data={**good, "certificate_reminder_days": "x"}).text
    )
    settings = agency_settings(care)
    assert settings["certificate_reminder_days"] == [90, 30, 7], "most distant first, either comma"
    assert (settings["plan_review_reminder_days"], settings["return_visit_due_day"]) == (10, 5)
    # carers may not change the agency's settings
    carer_user, _carer, _staff = care.carer()
    other = care.factory.app.test_client()
    login(other, carer_user)
    assert other.get(url).status_code == 403
