from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from saas.fields import strip
from tenants.webhooks.services import URL_MAX, event_labels


def event_choices() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in event_labels().items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EndpointForm(FlaskForm):
    url = StringField(
        _l("URL"),
        validators=[DataRequired(), Length(max=URL_MAX)],
        filters=[strip],
        description=_l("Where the events are sent, as signed POST requests (https:// recommended)"),
    )
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)], filters=[strip])
    events = MultiCheckboxField(_l("Events"), choices=event_choices, validate_choice=True)
    active = BooleanField(_l("Active"), default=True)
