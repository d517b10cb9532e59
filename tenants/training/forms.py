"""Training forms: parsing only; the rules are in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from saas.fields import strip
from tenants.staffing.labels import choices


class CourseForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    category = SelectField(_l("Category"), choices=lambda: choices("course_category"))
    form = SelectField(_l("Form"), choices=lambda: choices("course_form"))
    hours = DecimalField(_l("Hours"), places=2, validators=[InputRequired()])
    counts_as = SelectField(_l("Counts as"), choices=lambda: choices("counts_as"))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    grants_certificate_type_id = SelectField(_l("Certificate granted"), choices=[], validate_choice=False)
    certificate_validity_months = IntegerField(
        _l("Certificate valid for (months)"),
        validators=[Optional()],
        description=_l("Leave empty if the certificate never expires."),
    )
    active = BooleanField(_l("Offered (new sessions can be planned)"), default=True)


class SessionForm(FlaskForm):
    held_on = DateField(_l("Date"), validators=[DataRequired()])
    trainer = StringField(_l("Trainer"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    location = StringField(_l("Place or link"), validators=[Optional(), Length(max=300)], filters=[strip])
    capacity = IntegerField(_l("Places"), validators=[InputRequired()], default=20)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class EnrolForm(FlaskForm):
    who = StringField(
        _l("Email or staff number"), validators=[DataRequired(), Length(max=254)], filters=[strip]
    )


class AttendanceForm(FlaskForm):
    """CSRF only: the fields (status_<id>, hours_<id>) are one pair per trainee."""


class EvaluationForm(FlaskForm):
    satisfaction = IntegerField(_l("Satisfaction (1 to 5)"), validators=[Optional()])
    knowledge_score = DecimalField(_l("Knowledge test score (0 to 100)"), places=2, validators=[Optional()])
    practical_rating = IntegerField(_l("Practical ability (1 to 5)"), validators=[Optional()])
    teamwork_rating = IntegerField(_l("Teamwork and communication (1 to 5)"), validators=[Optional()])
    transfer_rating = IntegerField(
        _l("Transfer to work (1 to 5)"),
        validators=[Optional()],
        description=_l("Rated later by the supervisor, from what they see on the job."),
    )
    comment = TextAreaField(_l("Comments"), validators=[Optional(), Length(max=5000)])
