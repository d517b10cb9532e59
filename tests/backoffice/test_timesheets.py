"""Timesheets: hours worked from check-in to check-out, travel between
consecutive visits up to the agency's travel time, weekdays of time off,
differences listed, approval, the payroll export's layout."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from saas import db
from tenants.backoffice import timesheets
from tenants.backoffice.errors import BackOfficeError
from tenants.backoffice.models import Timesheet, TimesheetEntry
from tests.backoffice.helpers import Month
from tests.factories import login
from tests.sqlcount import count_statements

PERIOD = (date(2026, 3, 2), date(2026, 3, 15))


@pytest.fixture
def month(factory, dbconn):
    from tenants.staffing import services as staffing

    m = Month(factory)
    visits = m.plan_visits()
    m.work(visits[0], "09:02", "10:01")  # Mon 2 March: 59 of 60 minutes
    m.work(visits[1], "09:00", "09:40")  # Thu 5 March: 40 of 60, a difference to review
    extra = m.one_off(date(2026, 3, 9), "10:20")  # Mon 9 March, after the plan's 09:00
    m.work(visits[2], "08:58", "10:05")  # 67 of 60
    m.work(extra, "10:22", "11:50")  # 88 of 90; 17 minutes after the last check-out
    # visits[3] (Thu 12 March) was not delivered; Fri 13 to Tue 17 off (Fri 13 in the period)
    with db.tenant_scope(m.agency.id):
        staff = db.session.merge(m.carer)
        staffing.add_time_off(staff, date(2026, 3, 13), date(2026, 3, 17), "Leave")
        db.session.commit()
    m.idle_user, m.idle = m.staff("Ivy Idle")
    return m


def sheet_of(m: Month) -> Timesheet:
    with db.tenant_scope(m.agency.id):
        return db.session.scalar(
            select(Timesheet)
            .where(Timesheet.staff_file_id == m.carer.id)
            .execution_options(populate_existing=True)
        )


def test_hours_travel_and_time_off(month):
    m = month
    with db.tenant_scope(m.agency.id):
        assert timesheets.build(m.agency, *PERIOD, None, by=m.coordinator) == (1, 0)  # nobody else worked
        db.session.commit()
    sheet = sheet_of(m)
    assert (sheet.visit_minutes, sheet.booked_minutes) == (59 + 40 + 67 + 88, 60 * 3 + 90)
    assert sheet.travel_minutes == 15  # 17 minutes between them, the agency's travel time is 15
    assert sheet.time_off_minutes == 30 * 60 // 5  # one weekday at a fifth of 30 hours
    with db.tenant_scope(m.agency.id):
        kinds = db.session.execute(
            select(TimesheetEntry.kind, func.count(), func.sum(TimesheetEntry.minutes))
            .where(TimesheetEntry.timesheet_id == sheet.id)
            .group_by(TimesheetEntry.kind)
        ).all()
    assert sorted(kinds) == [("time_off", 1, 360), ("travel", 1, 15), ("visit", 4, 254)]


def test_travel_is_the_gap_when_shorter_than_the_travel_time(month):
    m = month
    m.settings(travel_buffer_minutes=30)
    with db.tenant_scope(m.agency.id):
        timesheets.build(m.agency, *PERIOD, m.carer.id, by=None)
        db.session.commit()
    assert sheet_of(m).travel_minutes == 17


def test_rebuild_approve_and_overlaps(month):
    m = month
    with db.tenant_scope(m.agency.id):
        timesheets.build(m.agency, *PERIOD, None, by=None)
        db.session.commit()
        first = sheet_of(m).id
        # the same period again: the draft is built anew
        assert timesheets.build(m.agency, *PERIOD, None, by=None) == (1, 0)
        db.session.commit()
        sheet = sheet_of(m)
        assert sheet.id != first
        assert db.session.scalar(select(func.count()).select_from(Timesheet)) == 1
        timesheets.approve(sheet, by=m.coordinator)
        db.session.commit()
        with pytest.raises(BackOfficeError, match="not_approvable"):
            timesheets.approve(sheet, by=m.coordinator)
        # approved, it is left alone; named, the carer's overlapping period is refused
        assert timesheets.build(m.agency, *PERIOD, None, by=None) == (0, 1)
        with pytest.raises(BackOfficeError) as refused:
            timesheets.build(m.agency, date(2026, 3, 9), date(2026, 3, 22), m.carer.id, by=None)
        assert (refused.value.code, refused.value.field) == ("timesheet_overlap", "period_start")
        with pytest.raises(BackOfficeError) as refused:
            timesheets.build(m.agency, *PERIOD, m.idle.id, by=None)
        assert (refused.value.code, refused.value.field) == ("nothing_worked", "period_start")
        with pytest.raises(BackOfficeError) as refused:
            timesheets.build(m.agency, date(2026, 3, 1), date(2026, 4, 30), None, by=None)
        assert refused.value.field == "period_end"
    assert sheet_of(m).approved_by_user_id == m.coordinator.id


def test_review_approve_and_export_for_payroll(month, client):
    m = month
    slug = m.agency.slug
    login(client, m.coordinator)
    answer = client.post(
        f"/a/{slug}/timesheets/",
        data={"staff_id": "", "period_start": "2026-03-02", "period_end": "2026-03-15"},
    )
    assert answer.status_code == 302
    sheet = sheet_of(m)
    page = client.get(f"/a/{slug}/timesheets/{sheet.id}").get_data(as_text=True)
    assert page.count('data-testid="difference-row"') == 1 and "-20 min" in page
    # not approved: no export yet
    assert client.get(f"/a/{slug}/timesheets/{sheet.id}/export.csv").status_code == 302
    assert client.post(f"/a/{slug}/timesheets/{sheet.id}/approve").status_code == 302
    answer = client.get(f"/a/{slug}/timesheets/{sheet.id}/export.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [
        ["employee_number", "employee_name", "period_start", "period_end", "work_date", "pay_code", "hours"],
        ["P-0042", "Pat Carer", "2026-03-02", "2026-03-15", "2026-03-02", "VISIT", "0.98"],
        ["P-0042", "Pat Carer", "2026-03-02", "2026-03-15", "2026-03-05", "VISIT", "0.67"],
        ["P-0042", "Pat Carer", "2026-03-02", "2026-03-15", "2026-03-09", "VISIT", "2.58"],
        ["P-0042", "Pat Carer", "2026-03-02", "2026-03-15", "2026-03-09", "TRAVEL", "0.25"],
        ["P-0042", "Pat Carer", "2026-03-02", "2026-03-15", "2026-03-13", "TIMEOFF", "6.00"],
    ]
    answer = client.get(f"/a/{slug}/timesheets/export.xlsx?start=2026-03-02&end=2026-03-15")
    sheet_rows = list(load_workbook(io.BytesIO(answer.data)).active.iter_rows(values_only=True))
    assert [
        [*map(str, r[:-1]), r[-1] if i == 0 else f"{r[-1]:.2f}"] for i, r in enumerate(sheet_rows)
    ] == rows
    assert client.get(f"/a/{slug}/timesheets/export.csv?start=nonsense&end=").status_code == 404


def test_bad_period_is_refused_next_to_its_field(month, client):
    m = month
    login(client, m.coordinator)
    for form, field in (
        ({"period_start": "", "period_end": "2026-03-15"}, "period_start"),
        ({"period_start": "2026-03-15", "period_end": "2026-03-01"}, "period_end"),
        ({"period_start": "15/03/2026", "period_end": "2026-03-20"}, "period_start"),
        ({"period_start": "2026-03-02", "period_end": "2026-03-15", "staff_id": "zzz"}, "staff_id"),
    ):
        answer = client.post(f"/a/{m.agency.slug}/timesheets/", data={"staff_id": "", **form})
        assert answer.status_code == 422, form
        assert f'id="{field}-error"' in answer.get_data(as_text=True), form
    with db.tenant_scope(m.agency.id):
        assert db.session.scalar(select(func.count()).select_from(Timesheet)) == 0


def test_pages_read_a_fixed_number_of_statements(month, client):
    m = month
    login(client, m.coordinator)
    slug = m.agency.slug
    with db.tenant_scope(m.agency.id):
        timesheets.build(m.agency, date(2026, 3, 2), date(2026, 3, 8), None, by=None)
        db.session.commit()
    small = sheet_of(m)
    with count_statements() as few:
        assert client.get(f"/a/{slug}/timesheets/{small.id}").status_code == 200
        assert client.get(f"/a/{slug}/timesheets/").status_code == 200
    with db.tenant_scope(m.agency.id):
        timesheets.build(m.agency, date(2026, 3, 9), date(2026, 3, 22), None, by=None)
        db.session.commit()
        big = db.session.scalar(select(Timesheet.id).where(Timesheet.period_start == date(2026, 3, 9)))
    with count_statements() as more:
        assert client.get(f"/a/{slug}/timesheets/{big}").status_code == 200
        assert client.get(f"/a/{slug}/timesheets/").status_code == 200
    assert more.count == few.count
