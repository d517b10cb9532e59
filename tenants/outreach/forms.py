"""Forms of the outreach pages. Fields stay lenient: the services check the
rules and their messages go next to the fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from saas.fields import strip


class _DayField(DateField):
    """A date whose parse error speaks the user's language."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date as year-month-day, e.g. 2026-11-01.")) from None


YES_NO = [("yes", _l("Yes, it was opened")), ("no", _l("No, it could not be opened"))]


def _select(label: object) -> SelectField:
    return SelectField(label, choices=[], validate_choice=False)


def _text(label: object, max_length: int = 4000) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=max_length)], filters=[strip])


def _count(label: object) -> IntegerField:
    return IntegerField(label, validators=[Optional()])


class BoxLogForm(FlaskForm):
    location = _select(_l("Opinion box"))
    day = _DayField(_l("Day"), validators=[Optional()])
    opened = RadioField(_l("Was the box opened?"), choices=YES_NO, validate_choice=False)
    slips = _count(_l("Number of slips found"))
    not_opened_reason = _text(_l("Why it could not be opened"))
    opened_by = _select(_l("Opened by"))
    notes = _text(_l("Notes"))


class RoundForm(FlaskForm):
    team = _select(_l("Team"))
    stakeholder_group = _select(_l("Stakeholder group"))
    held_on = _DayField(_l("Date held"), validators=[Optional()])
    method = _select(_l("Method"))
    participants = _count(_l("Participants"))
    opinions = _count(_l("Opinions collected"))
    summary = _text(_l("Summary of the opinions"), 10000)
    led_by = _select(_l("Led by"))


class FunderForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)], filters=[strip])
    contact_person = StringField(
        _l("Contact person"), validators=[Optional(), Length(max=200)], filters=[strip]
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], filters=[strip])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)], filters=[strip])
    active = BooleanField(_l("Active (visited every month)"), default=True)


class FunderVisitForm(FlaskForm):
    funder = _select(_l("Funder"))
    visited_on = _DayField(_l("Date of the visit"), validators=[Optional()])
    visited_by = _select(_l("Visited by"))
    attendees = _text(_l("Who attended"))
    topics = _text(_l("Topics discussed"))
    findings = _text(_l("Findings and requests"))
    follow_up = _text(_l("Follow-up actions"))


class LocationForm(FlaskForm):
    name = StringField(_l("Where the box is"), validators=[Optional(), Length(max=120)], filters=[strip])
