"""Catalogue forms: parsing only; the rules are in the services."""

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


class ItemForm(FlaskForm):
    category_id = SelectField(_l("Category"), choices=[], validate_choice=False)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    scope_included = TextAreaField(_l("Included"), validators=[Optional(), Length(max=5000)])
    scope_excluded = TextAreaField(_l("Not included"), validators=[Optional(), Length(max=5000)])


class TermsFields(FlaskForm):
    price = DecimalField(_l("Price"), places=2, validators=[InputRequired()])
    unit = SelectField(_l("Unit"), choices=lambda: choices("unit"))
    duration_minutes = IntegerField(_l("Default duration (minutes)"), validators=[InputRequired()])
    checklist = TextAreaField(
        _l("Quality standard"),
        validators=[Optional()],
        description=_l("One checkable point per line; the carer ticks each on every visit."),
    )
    required_certificate_type_id = SelectField(
        _l("Qualification required"), choices=[], validate_choice=False
    )


class NewItemForm(ItemForm, TermsFields):
    pass


class TermsForm(TermsFields):
    effective_from = DateField(
        _l("Takes effect on"),
        validators=[DataRequired()],
        description=_l("Today or later. Visits already booked keep the terms they were booked under."),
    )


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)], filters=[strip])


class PresetForm(FlaskForm):
    preset = SelectField(_l("Preset"), choices=[], validate_choice=False)
    require_certificates = BooleanField(
        _l("Require the certificates the preset suggests of each role"),
        default=True,
        description=_l("Change them at any time on the workforce settings page."),
    )
