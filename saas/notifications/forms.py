from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length

from saas.fields import strip


class PreferencesForm(FlaskForm):
    """Quiet hours, time zone and digest; the per-kind checkboxes are read
    from the request by name (`in_app-<kind>`, `email-<kind>`)."""

    quiet_start = StringField(
        _l("Quiet hours from"),
        filters=[strip],
        validators=[Length(max=5)],
        description=_l("HH:MM, on your clock; leave both empty for none."),
        render_kw={"placeholder": "22:00", "inputmode": "numeric", "autocomplete": "off"},
    )
    quiet_end = StringField(
        _l("Quiet hours until"),
        filters=[strip],
        validators=[Length(max=5)],
        description=_l("Emails due in your quiet hours are sent when they end."),
        render_kw={"placeholder": "07:00", "inputmode": "numeric", "autocomplete": "off"},
    )
    timezone = SelectField(_l("Your time zone"), choices=[], validate_choice=False)
    digest = BooleanField(_l("One daily digest email instead of one email per notification"))
