"""Why a scheduling rule refused a change: the error every rule raises."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.errors import FieldOrStateError, register_messages


class VisitError(FieldOrStateError):
    """A scheduling rule refused the change (the API has always answered 400
    for a value next to a field, 409 for a visit in the wrong state)."""


# what each refusal says, next to its field or at the top of the page (and in
# the API's error document); the codes are the area's own
register_messages(
    {
        "not_open": _l("This visit can no longer be changed."),
        "reason_required": _l("Give a reason."),
        "time_format": _l("Give the time as HH:MM."),
        "in_past": _l("A visit cannot be booked in the past."),
        "too_far_ahead": _l("Book a visit within two years from today (until %(latest)s)."),
        "in_future": _l("The date cannot be in the future."),
        "item_unknown": _l("Choose an active service from the catalogue."),
        "duration_range": _l("Between 5 minutes and 24 hours."),
        "not_yours": _l("This visit is assigned to another carer."),
        "not_checked_in": _l("This visit was never checked in: check in before checking out."),
        "already_checked_out": _l("This visit is already checked out."),
        "too_early": _l("It is too early to check in to this visit."),
        "position_invalid": _l("The position is not a valid latitude and longitude."),
        "required": _l("This field is required."),
        "checklist_mismatch": _l("The checklist does not match this visit."),
        "cancelled_meanwhile": _l("The office cancelled this visit: what you recorded for it was not saved."),
        "already_checked_in": _l(
            "This visit was already checked in at %(time)s (from another phone or by the office): "
            "this check-in was not saved."
        ),
        "reassigned": _l(
            "This visit was given to another carer: what you recorded was not saved. Call the office."
        ),
        "phone_time_invalid": _l("The phone's time is not a valid date and time with its time zone."),
        "code_unknown": _l(
            "This is not a client's CareHub code. Scan the code on the sheet in the client's home."
        ),
        "code_other_client": _l("This code belongs to another client's home."),
        "code_revoked": _l("This code was replaced and no longer counts. Ask the office for the new sheet."),
        "presence_mode_unknown": _l("Choose position, the code, or either."),
        "not_flagged": _l("This visit has no late or missed flag."),
        "override_not_allowed": _l(
            "Only someone allowed to override assignments (an admin) may assign despite these checks."
        ),
        "override_too_long": _l("At most %(max)d characters."),
        "no_preferred_carer": _l("This plan names no preferred carer."),
        "same_carer": _l("Choose another carer than the one whose day it is."),
        "unknown_carer": _l("Choose a carer from the list."),
        "nothing_to_fill": _l("There is nothing to fill: no visit was proposed."),
    },
    error=VisitError,
)
