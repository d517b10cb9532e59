"""Refusals of the workforce rules (staffing, training, catalogue, imports).

Services validate everything before writing and raise `Invalid` with every
problem found; each problem has a code, the field it belongs next to, and the
values its message needs. Views put the messages next to the fields; imports
list them per row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

MESSAGES: dict[str, Callable[..., str]] = {
    "required": lambda **p: _("This is required."),
    "too_long": lambda **p: _("Use at most %(max)d characters.", max=p["max"]),
    "bad_date": lambda **p: _("Enter a date as YYYY-MM-DD."),
    "bad_number": lambda **p: _("Enter a number."),
    "bad_whole_number": lambda **p: _("Enter a whole number."),
    "bad_email": lambda **p: _("Enter a valid email address."),
    "bad_choice": lambda **p: _("Choose one of: %(choices)s.", choices=p["choices"]),
    "range": lambda **p: _("Enter a number from %(min)s to %(max)s.", min=p["min"], max=p["max"]),
    "negative": lambda **p: _("This cannot be negative."),
    # staff
    "role_unknown": lambda **p: _("Choose a staff role from the list."),
    "member_is_client": lambda **p: _("This person is a client of the agency and cannot have a staff file."),
    "staff_exists": lambda **p: _("This person already has a staff file."),
    "staff_number_taken": lambda **p: _("Another staff file already has this staff number."),
    "employment_dates": lambda **p: _("The end of employment cannot be before its start."),
    "availability_format": lambda **p: _(
        "Write time ranges like 08:00-12:00, separated by commas, each ending after it starts."
    ),
    "dates_ordered": lambda **p: _("The end date cannot be before the start date."),
    "staff_unknown": lambda **p: _("No staff file matches %(who)s.", who=p["who"]),
    "duplicate_in_file": lambda **p: _("%(value)s appears twice in this file.", value=p["value"]),
    # teams
    "team_taken": lambda **p: _("There is already a team with this name."),
    "team_choose": lambda **p: _("Choose an active team from the list."),
    "supervisor_choose": lambda **p: _("Choose the supervisor among the agency's admins and coordinators."),
    # certificates and documents
    "expiry_before_issue": lambda **p: _("The expiry date cannot be before the issue date."),
    "issued_in_future": lambda **p: _("The issue date cannot be in the future."),
    "type_unknown": lambda **p: _("The agency has no certificate type called %(name)s.", name=p["name"]),
    "type_choose": lambda **p: _("Choose a certificate type from the agency's list."),
    "type_taken": lambda **p: _("There is already a certificate type with this name."),
    "number_taken": lambda **p: _(
        "Another certificate of this type already has the number %(number)s.", number=p["number"]
    ),
    "file_type": lambda **p: _("Upload a PDF, PNG or JPEG file."),
    "file_too_large": lambda **p: _("The file is larger than %(mb)d MB.", mb=p["mb"]),
    "file_empty": lambda **p: _("The file is empty."),
    # recruitment, reviews, rewards
    "decision_date_required": lambda **p: _("Give the date of the decision."),
    "hire_needs_passes": lambda **p: _(
        "Hiring needs the screening, the interview and the practical test passed."
    ),
    "review_exists": lambda **p: _("A review of this kind already starts on this date."),
    "score_range": lambda **p: _("Scores go from 1 to 5."),
    "self_rating_only": lambda **p: _("You can only add your own self-assessment."),
    # caseload and overrides
    "caseload_full": lambda **p: _(
        "This would take the caseload to %(load)d, over the limit of %(limit)d. "
        "An admin can assign anyway with a written reason.",
        load=p["load"],
        limit=p["limit"],
    ),
    "reason_required": lambda **p: _("Write the reason."),
    "not_overridable": lambda **p: _(
        "An override cannot make someone assignable who is not employed or whose account is deactivated."
    ),
    "expires_in_past": lambda **p: _("The expiry date cannot be in the past."),
    "ended_before_start": lambda **p: _("It cannot end before it starts."),
    # training
    "course_hours_range": lambda **p: _("Enter hours greater than 0 and at most 1000."),
    "validity_needs_certificate": lambda **p: _("A validity only makes sense with a certificate to grant."),
    "course_taken": lambda **p: _("There is already a course with this title."),
    "capacity_range": lambda **p: _("Enter a capacity from 1 to 300."),
    "session_full": lambda **p: _("The session is full (%(capacity)d places).", capacity=p["capacity"]),
    "already_enrolled": lambda **p: _("This person is already enrolled."),
    "capacity_below_enrolled": lambda **p: _(
        "%(count)d people are already enrolled; the capacity cannot be lower.", count=p["count"]
    ),
    "attended_hours_range": lambda **p: _("Hours attended go from 0 to %(max)s.", max=p["max"]),
    "absent_with_hours": lambda **p: _("Someone absent attended 0 hours."),
    "completed_needs_hours": lambda **p: _("Give the hours attended."),
    "attendance_before_session": lambda **p: _(
        "Attendance can be recorded once the session has taken place."
    ),
    "course_not_offered": lambda **p: _("This course is no longer offered: no new sessions can be planned."),
    "date_fixed_by_attendance": lambda **p: _(
        "Attendance has been recorded for this session: its date can no longer change."
    ),
    "attendance_recorded": lambda **p: _("Attendance has been recorded: this training record is kept."),
    "knowledge_range": lambda **p: _("Enter a test score from 0 to 100."),
    "rating_range": lambda **p: _("Ratings go from 1 to 5."),
    # catalogue
    "category_taken": lambda **p: _("There is already a category with this name."),
    "category_unknown": lambda **p: _("Choose a category from the list."),
    "category_not_empty": lambda **p: _("Move or retire its items first: the category is not empty."),
    "item_taken": lambda **p: _("There is already an item called %(name)s.", name=p["name"]),
    "price_negative": lambda **p: _("The price cannot be negative."),
    "duration_range": lambda **p: _("Enter a duration from 1 to 1440 minutes."),
    "unit_unknown": lambda **p: _("Choose per visit or per hour."),
    "effective_past": lambda **p: _("Changes take effect today or later, never in the past."),
    "terms_in_effect": lambda **p: _(
        "Terms from %(day)s are already in effect and cannot be changed; choose a later date.", day=p["day"]
    ),
    "terms_in_use": lambda **p: _("These terms are already in effect and cannot be deleted."),
    "checklist_too_long": lambda **p: _("Use at most 30 points of at most 300 characters each."),
    "catalogue_not_empty": lambda **p: _("A preset can only be loaded into an empty catalogue."),
    "preset_unknown": lambda **p: _("Choose a preset from the list."),
    # settings
    "setting_range": lambda **p: _(
        "Enter a whole number from %(min)d to %(max)d.", min=p["min"], max=p["max"]
    ),
    # spreadsheets
    "file_unreadable": lambda **p: _(
        "This file cannot be read. Upload a CSV file or an Excel (.xlsx) workbook."
    ),
    "encoding": lambda **p: _("The file is not UTF-8 or GBK text. Save it as CSV (UTF-8) and try again."),
    "no_rows": lambda **p: _("The file has a header row but no data rows."),
    "no_header": lambda **p: _("The file is empty."),
    "too_many_rows": lambda **p: _(
        "The file has more than %(max)d rows; split it into smaller files.", max=p["max"]
    ),
    "columns_missing": lambda **p: _("Columns missing: %(columns)s.", columns=p["columns"]),
    "columns_unknown": lambda **p: _("Columns not recognised: %(columns)s.", columns=p["columns"]),
    "columns_duplicate": lambda **p: _("Columns named twice: %(columns)s.", columns=p["columns"]),
    "cell": lambda **p: _("%(column)s: %(message)s", column=p["column"], message=p["inner"].message()),
    "import_changed": lambda **p: _("Some rows are no longer valid; check the errors below."),
}


@dataclass(frozen=True)
class Problem:
    code: str
    field: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def message(self) -> str:
        render = MESSAGES.get(self.code)
        return render(**self.params) if render else self.code


class Invalid(ValueError):
    """A change refused by the rules; nothing was written."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(", ".join(p.code for p in self.problems))

    @classmethod
    def one(cls, code: str, field: str | None = None, **params: Any) -> Invalid:
        return cls([Problem(code, field, params)])

    def messages(self) -> list[str]:
        return [p.message() for p in self.problems]


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise Invalid(problems)


def too_long(problems: list[Problem], field_name: str, value: str | None, limit: int) -> None:
    """Note a text longer than its column allows."""
    if value and len(value) > limit:
        problems.append(Problem("too_long", field_name, {"max": limit}))


def show_on_form(form: Any, exc: Invalid) -> list[str]:
    """Put each problem's message next to its field; returns the ones that
    belong to no field (to show above the form)."""
    general = []
    for problem in exc.problems:
        target = getattr(form, problem.field, None) if problem.field else None
        if target is not None and hasattr(target, "errors"):
            if not isinstance(target.errors, list):
                target.errors = list(target.errors)
            target.errors.append(problem.message())
        else:
            general.append(problem.message())
    return general
