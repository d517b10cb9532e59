"""The messages of the training rules' refusals (raised as
`tenants.staffing.errors.Invalid`, as every workforce rule's)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.errors import register_messages
from tenants.staffing.errors import Invalid, Problem, raise_if, too_long

__all__ = ["MESSAGES", "Invalid", "Problem", "raise_if", "too_long"]

MESSAGES = {
    # training
    "course_hours_range": _l("Enter hours greater than 0 and at most 1000."),
    "validity_needs_certificate": _l("A validity only makes sense with a certificate to grant."),
    "course_taken": _l("There is already a course with this title."),
    "capacity_range": _l("Enter a capacity from 1 to 300."),
    "session_full": _l("The session is full (%(capacity)d places)."),
    "already_enrolled": _l("This person is already enrolled."),
    "capacity_below_enrolled": _l("%(count)d people are already enrolled; the capacity cannot be lower."),
    "attended_hours_range": _l("Hours attended go from 0 to %(max)s."),
    "absent_with_hours": _l("Someone absent attended 0 hours."),
    "completed_needs_hours": _l("Give the hours attended."),
    "attendance_before_session": _l("Attendance can be recorded once the session has taken place."),
    "course_not_offered": _l("This course is no longer offered: no new sessions can be planned."),
    "date_fixed_by_attendance": _l(
        "Attendance has been recorded for this session: its date can no longer change."
    ),
    "attendance_recorded": _l("Attendance has been recorded: this training record is kept."),
    "knowledge_range": _l("Enter a test score from 0 to 100."),
    "rating_range": _l("Ratings go from 1 to 5."),
    # the API names a course and trainees by id
    "course_unknown": _l("Choose one of the agency's courses."),
    "enrolment_unknown": _l("This is not an enrolment of this session."),
}

register_messages(MESSAGES, error=Invalid)
