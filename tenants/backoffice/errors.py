"""The back office's refusals, worded next to their fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.errors import DomainError, FieldOrStateError, register_messages


class BackOfficeError(FieldOrStateError):
    """A rule of invoices or timesheets refused the change. `many()` carries
    several refusals at once (one per line of a credit note), each shown
    next to its own field; the first is the error's own."""

    others: tuple[BackOfficeError, ...] = ()

    @classmethod
    def status_for(cls, code: str, field: str | None) -> int:
        # understood, but more than the invoice allows: the API's 422
        if code in ("over_credit", "over_invoice", "line_fully_credited", "line_not_creditable"):
            return 422
        return super().status_for(code, field)

    @classmethod
    def many(cls, errors: list[BackOfficeError]) -> BackOfficeError:
        first = errors[0]
        first.others = tuple(errors[1:])
        return first

    def by_field(self) -> list[DomainError]:
        return [self, *self.others]


register_messages(
    {
        "required": _l("This field is required."),
        "payer_unknown": _l("Choose a funder or a client of the agency."),
        "funder_unknown": _l("Choose one of the agency's funders."),
        "plan_unknown": _l("This service plan was not found."),
        "percent_range": _l("Enter a share between 1 and 100 per cent."),
        "percent_without_funder": _l("Choose the funder who pays this share."),
        "period_order": _l("The period must end on or after its first day."),
        "period_too_long": _l("Choose a period of at most %(days)d days."),
        "period_future": _l("The period cannot end after today."),
        "period_overlaps_issued": _l(
            "This period overlaps invoice %(number)s already issued to this payer (%(start)s – %(end)s); "
            "credit it first to invoice it again."
        ),
        "period_overlaps_draft": _l(
            "A draft invoice to this payer already covers part of this period: open it or delete it first."
        ),
        "nothing_to_invoice": _l("No delivered visit or late cancellation to invoice in this period."),
        "not_draft": _l("This invoice is issued: it can no longer change. Correct it with a credit note."),
        "amount_invalid": _l("Enter an amount such as 12.50 or -12.50, not zero."),
        "reason_required": _l("Say why."),
        "not_issued": _l("Only an issued invoice can be credited."),
        "already_credited": _l("This invoice has already been credited."),
        "not_an_invoice": _l("A credit note cannot itself be credited."),
        "line_unknown": _l("Choose a line of this invoice, once."),
        "line_not_creditable": _l("A reduction cannot be credited: credit the lines it reduces instead."),
        "line_fully_credited": _l("This line has been credited in full already."),
        "credit_amount_invalid": _l("Enter an amount above zero such as 12.50, or leave it empty."),
        "over_credit": _l("At most %(remaining)s of this line remains to credit."),
        "over_invoice": _l("At most %(remaining)s of this invoice remains to credit."),
        "nothing_to_credit": _l("Nothing remains to credit on this invoice."),
        "lines_required": _l("Enter the amount to credit on at least one line."),
        "timesheet_overlap": _l("This carer already has a timesheet overlapping this period."),
        "nothing_worked": _l("No visit worked or time off in this period."),
        "staff_unknown": _l("Choose a member of staff."),
        "not_approvable": _l("This timesheet is already approved."),
        "not_approved": _l("Approve the timesheet before exporting it."),
    },
    error=BackOfficeError,
)
