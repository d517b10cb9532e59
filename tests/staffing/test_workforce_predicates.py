"""The workforce predicates on the models (employed on a day, a caseload
entry running, a certificate valid, an override active): each is written once
and works on a loaded row and in SQL; both forms agree on the days around
every edge, open-ended rows included."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from saas import db
from tenants.staffing import services as staffing
from tenants.staffing.models import AssignabilityOverride, CaseloadAssignment, Certificate, StaffFile
from tenants.staffing.settings import local_today
from tests.staffing import workforce_helpers as wf

START = date(2021, 3, 10)
END = date(2021, 9, 20)


def around(*edges: date) -> list[date]:
    return sorted({edge + timedelta(days=d) for edge in edges for d in (-1, 0, 1)})


def agree(model, row, predicate: str, days: list[date]) -> list[bool]:
    """The predicate on the loaded row, after checking SQL says the same on each day."""
    in_python = [getattr(row, predicate)(day) for day in days]
    in_sql = [
        db.session.scalar(select(getattr(model, predicate)(day)).where(model.id == row.id)) for day in days
    ]
    assert in_python == in_sql, (predicate, days)
    return in_python


def test_employed_on_and_leaves_after(app, factory, agency):
    _u, _m, bounded = wf.staff(factory, agency, start=START, end=END, name="Bo Bounded")
    _u, _m, open_ended = wf.staff(factory, agency, start=START, name="Oona Open")
    days = around(START, END)
    with wf.in_agency(app, agency):
        staff = wf.staff_file(bounded)
        # the end date is the first day not employed
        assert dict(zip(days, agree(StaffFile, staff, "employed_on", days), strict=True)) == {
            day: START <= day < END for day in days
        }
        assert agree(StaffFile, staff, "leaves_after", days) == [day < END for day in days]
        assert agree(StaffFile, staff, "started_by", days) == [day >= START for day in days]
        forever = wf.staff_file(open_ended)
        assert agree(StaffFile, forever, "employed_on", days) == [day >= START for day in days]
        assert agree(StaffFile, forever, "leaves_after", days) == [True] * len(days)


def test_caseload_running_on_and_ends_after(app, factory, agency):
    _u, _m, staff_id = wf.staff(factory, agency)
    days = around(START, END)
    with wf.in_agency(app, agency):
        staff = wf.staff_file(staff_id)
        data = staffing.CaseloadInput
        bounded = staffing.assign_caseload(
            staff, data("individual", "A", starts_on=START, ends_on=END), by=None
        )
        open_ended = staffing.assign_caseload(staff, data("individual", "B", starts_on=START), by=None)
        assert agree(CaseloadAssignment, bounded, "running_on", days) == [START <= d < END for d in days]
        assert agree(CaseloadAssignment, bounded, "ends_after", days) == [d < END for d in days]
        assert agree(CaseloadAssignment, open_ended, "running_on", days) == [d >= START for d in days]
        assert agree(CaseloadAssignment, open_ended, "ends_after", days) == [True] * len(days)


def test_certificate_valid_on(app, factory, agency):
    type_id = wf.cert_type(app, agency)
    _u, _m, staff_id = wf.staff(factory, agency)
    bounded = wf.certificate(app, agency, staff_id, type_id, issued=START, expires=END)
    open_ended = wf.certificate(app, agency, staff_id, type_id, issued=START)
    days = around(START, END)
    with wf.in_agency(app, agency):
        cert = db.session.get(Certificate, (agency.id, bounded))
        # the expiry date is the last day it counts
        assert agree(Certificate, cert, "valid_on", days) == [START <= d <= END for d in days]
        cert = db.session.get(Certificate, (agency.id, open_ended))
        assert agree(Certificate, cert, "valid_on", days) == [d >= START for d in days]


def test_override_active_on(app, factory, agency):
    _u, _m, staff_id = wf.staff(factory, agency)
    with wf.in_agency(app, agency):
        expires = local_today() + timedelta(days=30)
        days = around(local_today(), expires)
        staff = wf.staff_file(staff_id)
        bounded = staffing.grant_override(staff, "Shadowing a senior", expires, by=None)
        assert agree(AssignabilityOverride, bounded, "active_on", days) == [d <= expires for d in days]
        open_ended = staffing.grant_override(staff, "Signed off", None, by=None)
        # the new override revoked the first
        assert agree(AssignabilityOverride, bounded, "active_on", days) == [False] * len(days)
        assert agree(AssignabilityOverride, open_ended, "active_on", days) == [True] * len(days)
