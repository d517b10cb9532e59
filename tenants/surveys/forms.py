from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from saas.fields import strip

PURPOSE_CHOICES = [
    ("satisfaction", _l("Satisfaction survey")),
    ("outcome", _l("Outcome survey")),
    ("other", _l("Other survey")),
]
KIND_CHOICES = [
    ("scale5", _l("A score from 1 to 5")),
    ("single", _l("One choice")),
    ("multiple", _l("Several choices")),
    ("text", _l("Free text")),
]


class TemplateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    purpose = SelectField(_l("Purpose"), choices=PURPOSE_CHOICES, default="satisfaction")


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Kind of answer"), choices=KIND_CHOICES, default="scale5")
    text_en = TextAreaField(
        _l("Question in English"), validators=[Optional(), Length(max=1000)], filters=[strip]
    )
    text_zh_CN = TextAreaField(
        _l("Question in Chinese"), validators=[Optional(), Length(max=1000)], filters=[strip]
    )
    choices_en = TextAreaField(
        _l("Choices in English"),
        validators=[Optional(), Length(max=5000)],
        filters=[strip],
        description=_l("One per line, for one choice or several choices."),
    )
    choices_zh_CN = TextAreaField(
        _l("Choices in Chinese"),
        validators=[Optional(), Length(max=5000)],
        filters=[strip],
        description=_l("One per line, in the same order as in English."),
    )
    required = BooleanField(_l("An answer is required"), default=True)


class CampaignForm(FlaskForm):
    template = SelectField(_l("Survey"), choices=[])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)], filters=[strip])
    audience = RadioField(
        _l("Send to"),
        choices=[
            ("sample", _l("A random sample of clients")),
            ("all", _l("All clients currently served")),
        ],
        default="sample",
        validators=[InputRequired()],
    )
    sample_size = IntegerField(_l("Sample size"), validators=[Optional(), NumberRange(min=1, max=100000)])
