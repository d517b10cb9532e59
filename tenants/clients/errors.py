"""Why a clients rule refused a change: the error every rule raises."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.errors import DomainError, register_messages


class ClientError(DomainError):
    """A rule refused the change. `field` is the form field it belongs next to."""


# what each refusal says, next to its field or at the top of the page; the
# codes are the area's own (another area's "score_range" says something else)
register_messages(
    {
        "required": _l("This field is required."),
        "birth_in_future": _l("The date of birth cannot be in the future."),
        "position_incomplete": _l("Give both latitude and longitude, or neither."),
        "latitude_range": _l("Latitude is between -90 and 90."),
        "longitude_range": _l("Longitude is between -180 and 180."),
        "radius_range": _l("Choose a radius between 10 and 50,000 metres."),
        "consent_needed": _l("Services need the client's recorded consent."),
        "channel_unknown": _l("Choose how the client reached us."),
        "case_open": _l("This client already has an open case."),
        "client_anonymised": _l("This client's file was anonymised: open a new file for them."),
        "transition_not_allowed": _l("A case cannot move from this stage to that one."),
        "case_closed": _l("The case is closed."),
        "method_unknown": _l("Choose a method from the list."),
        "date_in_future": _l("The date cannot be in the future."),
        "review_in_past": _l("The review date cannot be in the past."),
        "level_range": _l("Give a level from 1 to 5."),
        "score_range": _l("Scores go from 1 to 5."),
        "no_hazards": _l("Describe at least one hazard."),
        "reason_required": _l("Say why the case is closed."),
        "before_opening": _l("A case cannot close before it was opened."),
        "before_closure": _l("A follow-up cannot be before the case was closed."),
        "portal_role": _l("Only active members with the client role can be linked."),
        # plans (one table, so a plan's error shown next to its field reads the same as flashed)
        "assess_first": _l("Record a needs assessment before planning."),
        "draft_exists": _l("This case already has a plan waiting to be approved."),
        "not_draft": _l("Only a draft can be changed. Start a new version instead."),
        "negative": _l("This cannot be negative."),
        "end_before_start": _l("The end cannot be before the start."),
        "review_before_start": _l("The review cannot be before the plan starts."),
        "item_unknown": _l("Choose an active service from the catalogue."),
        "weekdays_needed": _l("Choose at least one day."),
        "time_format": _l("Give the time as HH:MM."),
        "duration_range": _l("Between 5 minutes and 24 hours."),
        "goals_needed": _l("Write the plan's goals."),
        "items_needed": _l("A plan needs at least one service."),
        "start_needed": _l("Give the date the plan starts."),
        "not_submitted": _l("Only a submitted plan can be approved or returned."),
        "approver_role": _l("Your role cannot approve plans."),
        "approver_is_author": _l("A plan must be approved by someone other than its author."),
        "not_approved": _l("Only an approved plan can be made active."),
        "emergency_contact_needed": _l(
            "Add at least one emergency contact to the client's file before submitting the plan."
        ),
    },
    error=ClientError,
)
