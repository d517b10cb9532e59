from __future__ import annotations

from flask_babel import gettext, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from saas.fields import strip
from tenants.feedback.statistics import FIRST_DAY, LAST_DAY

SCORE_CHOICES = [
    ("5", _l("5 – Excellent")),
    ("4", _l("4 – Good")),
    ("3", _l("3 – Fair")),
    ("2", _l("2 – Poor")),
    ("1", _l("1 – Very poor")),
]


def _score(label: object) -> RadioField:
    return RadioField(
        label, choices=SCORE_CHOICES, validators=[InputRequired(message=_l("Choose a score."))], coerce=str
    )


class RatingForm(FlaskForm):
    score_attitude = _score(_l("The carer's attitude"))
    score_process = _score(_l("How the service was done"))
    score_effect = _score(_l("The result of the service"))
    score_environment = _score(_l("Cleanliness and tidiness"))
    score_timeliness = _score(_l("Arriving and leaving on time"))
    comment = TextAreaField(
        _l("Anything you would like to add"), validators=[Optional(), Length(max=4000)], filters=[strip]
    )


KIND_CHOICES = [
    ("opinion", _l("An opinion")),
    ("suggestion", _l("A suggestion")),
    ("complaint", _l("A complaint")),
    ("praise", _l("Praise")),
]
ABOUT_CHOICES = [
    ("agency", _l("The agency")),
    ("visit", _l("A visit")),
    ("carer", _l("A carer")),
    ("service_item", _l("A service")),
]
STAFF_CHANNEL_CHOICES = [
    ("phone", _l("By phone")),
    ("on_site", _l("On site")),
    ("opinion_box", _l("Opinion box")),
    ("third_party", _l("Through a third party")),
]


class FeedbackForm(FlaskForm):
    kind = RadioField(_l("What would you like to tell us?"), choices=KIND_CHOICES, default="opinion")
    about = SelectField(_l("It is about"), choices=ABOUT_CHOICES, default="agency")
    category = StringField(_l("Topic (optional)"), validators=[Optional(), Length(max=100)], filters=[strip])
    description = TextAreaField(
        _l("Tell us what happened"), validators=[DataRequired(), Length(max=10000)], filters=[strip]
    )
    contact_name = StringField(
        _l("Your name (optional)"), validators=[Optional(), Length(max=200)], filters=[strip]
    )
    contact = StringField(
        _l("Phone or email, if you would like an answer"),
        validators=[Optional(), Length(max=254)],
        filters=[strip],
    )
    confidential = BooleanField(_l("Keep my identity confidential (only the agency's managers see it)"))


class PortalFeedbackForm(FeedbackForm):
    """The portal's form: the member is known (no contact fields); the client,
    visit and carer are chosen among their own. The choices are checked by the
    rule (`submit_portal_feedback`), which says what is wrong next to the field."""

    client_id = SelectField(_l("Who is it about?"), choices=[], validate_choice=False)
    visit_id = SelectField(_l("Which visit"), choices=[], validate_choice=False)
    staff_file_id = SelectField(_l("Which carer"), choices=[], validate_choice=False)


class OnSiteFeedbackForm(FlaskForm):
    """What a client told their carer during a visit."""

    kind = RadioField(_l("What did the client tell you?"), choices=KIND_CHOICES, default="complaint")
    about = SelectField(_l("It is about"), choices=ABOUT_CHOICES, default="visit")
    description = TextAreaField(
        _l("What the client said"), validators=[DataRequired(), Length(max=10000)], filters=[strip]
    )
    confidential = BooleanField(_l("The client asked for their identity to be kept confidential"))


class PublicFeedbackForm(FeedbackForm):
    class Meta:
        csrf = False  # no session for the public; a signed timestamp and a honeypot instead

    started = HiddenField()
    website = StringField(_l("Leave this field empty"), filters=[strip])


class StaffFeedbackForm(FeedbackForm):
    channel = SelectField(lazy_pgettext("how feedback came in", "Received"), choices=STAFF_CHANNEL_CHOICES)
    # the opinion-box day a slip is entered from (the link from that day's log)
    box_log_id = HiddenField()


class TransitionForm(FlaskForm):
    to_status = SelectField(_l("Next step"), choices=[])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)], filters=[strip])
    response = TextAreaField(
        _l("Response given to the person"), validators=[Optional(), Length(max=10000)], filters=[strip]
    )


class RectificationForm(FlaskForm):
    source = SelectField(
        _l("Opened from"),
        choices=[
            ("inspection", _l("An inspection finding")),
            ("complaint", _l("A complaint")),
            ("low_rating", _l("A low rating")),
        ],
    )
    feedback_item_id = HiddenField()
    rating_id = HiddenField()
    finding = TextAreaField(
        _l("Inspection finding"), validators=[Optional(), Length(max=4000)], filters=[strip]
    )
    problem = TextAreaField(_l("Problem"), validators=[DataRequired(), Length(max=4000)], filters=[strip])
    measures = TextAreaField(_l("Measures"), validators=[DataRequired(), Length(max=4000)], filters=[strip])
    owner = SelectField(_l("Owner"), choices=[])
    deadline = DateField(_l("Deadline"), validators=[DataRequired()])


class InspectionForm(FlaskForm):
    outcome = RadioField(
        _l("Re-inspection result"),
        choices=[("pass", _l("Passed: close it")), ("fail", _l("Failed: keep it open"))],
        validators=[InputRequired()],
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)], filters=[strip])


class _DayField(DateField):
    """A date whose parse error speaks the user's language; left empty, it is
    for InputRequired to say so (once)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date as year-month-day, e.g. 2026-11-01.")) from None


def _day_within_bounds(form: FlaskForm, field: DateField) -> None:
    """A day the statistics can count from and to (far years would overflow)."""
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(
            gettext(
                "Enter a day between %(first)s and %(last)s.",
                first=FIRST_DAY.isoformat(),
                last=LAST_DAY.isoformat(),
            )
        )


class StatisticsRangeForm(FlaskForm):
    """The custom range of the statistics page: read from the query string (GET)."""

    class Meta:
        csrf = False  # a GET that changes nothing

    start = _DayField(
        _l("From"), validators=[InputRequired(message=_l("Enter the first day.")), _day_within_bounds]
    )
    end = _DayField(
        _l("To"), validators=[InputRequired(message=_l("Enter the last day.")), _day_within_bounds]
    )
