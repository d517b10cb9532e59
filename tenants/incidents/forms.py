from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from saas.fields import strip

TYPE_CHOICES = [
    ("", _l("Choose…")),
    ("fall", _l("Fall")),
    ("injury", _l("Injury")),
    ("medication_error", _l("Medication error")),
    ("abuse_neglect", _l("Abuse or neglect")),
    ("fire", _l("Fire")),
    ("outage", _l("Power or water outage")),
    ("missing_person", _l("Missing person")),
    ("property_damage", _l("Property damage")),
    ("other", _l("Something else")),
]
SEVERITY_CHOICES = [
    ("", _l("Choose…")),
    ("minor", _l("Minor")),
    ("moderate", _l("Moderate")),
    ("serious", _l("Serious")),
    ("critical", _l("Critical")),
]


class _MomentField(DateTimeLocalField):
    """A local date and time whose parse error speaks the user's language;
    left empty, the service says it is required (next to the field)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date and a time, e.g. 2026-11-01 14:30.")) from None


class _DayField(DateField):
    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date as year-month-day, e.g. 2026-11-01.")) from None


class ReportForm(FlaskForm):
    type = SelectField(_l("What happened"), choices=TYPE_CHOICES, default="")
    severity = SelectField(_l("How serious"), choices=SEVERITY_CHOICES, default="")
    occurred_at = _MomentField(_l("When it happened"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    place = StringField(_l("Where it happened"), validators=[Length(max=300)], filters=[strip])
    description = TextAreaField(_l("Describe what happened"), validators=[Length(max=10000)], filters=[strip])
    people_involved = TextAreaField(
        _l("People involved (optional)"), validators=[Optional(), Length(max=4000)], filters=[strip]
    )
    client_id = SelectField(_l("Client (optional)"), choices=[], default="")
    staff_file_ids = SelectMultipleField(_l("Staff involved (optional)"), choices=[], default=[])
    visit_id = HiddenField()
    immediate_response = TextAreaField(
        _l("What was done at once (optional)"),
        validators=[Optional(), Length(max=10000)],
        filters=[strip],
    )


class RespondForm(FlaskForm):
    immediate_response = TextAreaField(
        _l("What was done at once"), validators=[Length(max=10000)], filters=[strip]
    )


class InvestigateForm(FlaskForm):
    investigator = SelectField(_l("Investigator"), choices=[])
    deadline = _DayField(_l("Findings due by"))


class FindingsForm(FlaskForm):
    findings = TextAreaField(_l("Findings"), validators=[Length(max=10000)], filters=[strip])
    root_cause = TextAreaField(_l("Root cause"), validators=[Length(max=10000)], filters=[strip])


class ActionForm(FlaskForm):
    description = TextAreaField(_l("What will be done"), validators=[Length(max=4000)], filters=[strip])
    owner = SelectField(_l("Owner"), choices=[])
    due_on = _DayField(_l("Due by"))
    rectification = BooleanField(_l("Also open a rectification (closed by a re-inspection)"))


class CloseForm(FlaskForm):
    closing_note = TextAreaField(
        _l("Closing note"), validators=[Optional(), Length(max=10000)], filters=[strip]
    )
