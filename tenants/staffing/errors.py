"""Refusals of the workforce rules (staffing, training, catalogue, imports).

Services validate everything before writing and raise `Invalid` with every
problem found; each problem has a code, the field it belongs next to, and the
values its message needs. `Invalid` is a `DomainError`: a view hands it to
`saas.lifecycle.refuse`, which keeps nothing and puts each problem's message
next to its field; imports list them per row. The messages are registered for
`Invalid` (training registers its own in `tenants.training.errors`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from saas.errors import DomainError, error_message, register_messages

MESSAGES = {
    "required": _l("This is required."),
    "too_long": _l("Use at most %(max)d characters."),
    "bad_date": _l("Enter a date as YYYY-MM-DD."),
    "bad_number": _l("Enter a number."),
    "bad_whole_number": _l("Enter a whole number."),
    "bad_email": _l("Enter a valid email address."),
    "bad_choice": _l("Choose one of: %(choices)s."),
    "range": _l("Enter a number from %(min)s to %(max)s."),
    "negative": _l("This cannot be negative."),
    # staff
    "role_unknown": _l("Choose a staff role from the list."),
    "member_is_client": _l("This person is a client of the agency and cannot have a staff file."),
    "staff_exists": _l("This person already has a staff file."),
    "staff_number_taken": _l("Another staff file already has this staff number."),
    "employment_dates": _l("The end of employment cannot be before its start."),
    "availability_format": _l(
        "Write time ranges like 08:00-12:00, separated by commas, each ending after it starts."
    ),
    "dates_ordered": _l("The end date cannot be before the start date."),
    "staff_unknown": _l("No staff file matches %(who)s."),
    "duplicate_in_file": _l("%(value)s appears twice in this file."),
    # teams
    "team_taken": _l("There is already a team with this name."),
    "team_choose": _l("Choose an active team from the list."),
    "supervisor_choose": _l("Choose the supervisor among the agency's admins and coordinators."),
    # certificates and documents
    "expiry_before_issue": _l("The expiry date cannot be before the issue date."),
    "issued_in_future": _l("The issue date cannot be in the future."),
    "type_unknown": _l("The agency has no certificate type called %(name)s."),
    "type_choose": _l("Choose a certificate type from the agency's list."),
    "type_taken": _l("There is already a certificate type with this name."),
    "number_taken": _l("Another certificate of this type already has the number %(number)s."),
    "file_type": _l("Upload a PDF, PNG or JPEG file."),
    "file_too_large": _l("The file is larger than %(mb)d MB."),
    "file_empty": _l("The file is empty."),
    # recruitment, reviews, rewards
    "decision_date_required": _l("Give the date of the decision."),
    "hire_needs_passes": _l("Hiring needs the screening, the interview and the practical test passed."),
    "review_exists": _l("A review of this kind already starts on this date."),
    "score_range": _l("Scores go from 1 to 5."),
    "self_rating_only": _l("You can only add your own self-assessment."),
    # caseload and overrides
    "caseload_full": _l(
        "This would take the caseload to %(load)d, over the limit of %(limit)d. "
        "An admin can assign anyway with a written reason."
    ),
    "reason_required": _l("Write the reason."),
    "not_overridable": _l(
        "An override cannot make someone assignable who is not employed or whose account is deactivated."
    ),
    "expires_in_past": _l("The expiry date cannot be in the past."),
    "ended_before_start": _l("It cannot end before it starts."),
    # catalogue
    "category_taken": _l("There is already a category with this name."),
    "category_unknown": _l("Choose a category from the list."),
    "category_not_empty": _l("Move or retire its items first: the category is not empty."),
    "item_taken": _l("There is already an item called %(name)s."),
    "price_negative": _l("The price cannot be negative."),
    "duration_range": _l("Enter a duration from 1 to 1440 minutes."),
    "unit_unknown": _l("Choose per visit or per hour."),
    "effective_past": _l("Changes take effect today or later, never in the past."),
    "terms_in_effect": _l(
        "Terms from %(day)s are already in effect and cannot be changed; choose a later date."
    ),
    "terms_in_use": _l("These terms are already in effect and cannot be deleted."),
    "checklist_too_long": _l("Use at most 30 points of at most 300 characters each."),
    "catalogue_not_empty": _l("A preset can only be loaded into an empty catalogue."),
    "preset_unknown": _l("Choose a preset from the list."),
    # settings
    "setting_range": _l("Enter a whole number from %(min)d to %(max)d."),
    # spreadsheets
    "file_unreadable": _l("This file cannot be read. Upload a CSV file or an Excel (.xlsx) workbook."),
    "encoding": _l("The file is not UTF-8 or GBK text. Save it as CSV (UTF-8) and try again."),
    "no_rows": _l("The file has a header row but no data rows."),
    "no_header": _l("The file is empty."),
    "too_many_rows": _l("The file has more than %(max)d rows; split it into smaller files."),
    "columns_missing": _l("Columns missing: %(columns)s."),
    "columns_unknown": _l("Columns not recognised: %(columns)s."),
    "columns_duplicate": _l("Columns named twice: %(columns)s."),
    "cell": _l("%(column)s: %(message)s"),
    "import_changed": _l("Some rows are no longer valid; check the errors below."),
}


@dataclass(frozen=True)
class Problem:
    code: str
    field: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def message(self) -> str:
        return error_message(Invalid([self]))

    def shown_params(self) -> dict[str, Any]:
        """The message's values: a cell's problem quotes its inner problem's message."""
        inner = self.params.get("inner")
        return {**self.params, "message": inner.message()} if isinstance(inner, Problem) else self.params


class Invalid(DomainError):
    """A change refused by the rules; nothing was written. Carries every
    problem found; as a `DomainError` it is its first problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else Problem("invalid")
        super().__init__(first.code, first.field, **first.shown_params())
        self.args = (", ".join(p.code for p in self.problems),)

    @classmethod
    def one(cls, code: str, field: str | None = None, **params: Any) -> Invalid:
        return cls([Problem(code, field, params)])

    def by_field(self) -> list[DomainError]:
        return [Invalid([p]) for p in self.problems]

    def on_field(self, name: str) -> Invalid:
        """The same problems, all shown next to another field (a form asks
        for a staff file by email, the rule names the file)."""
        return Invalid(dataclasses.replace(p, field=name) for p in self.problems)

    def messages(self) -> list[str]:
        return [p.message() for p in self.problems]


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise Invalid(problems)


def too_long(problems: list[Problem], field_name: str, value: str | None, limit: int) -> None:
    """Note a text longer than its column allows."""
    if value and len(value) > limit:
        problems.append(Problem("too_long", field_name, {"max": limit}))


register_messages(MESSAGES, error=Invalid)
