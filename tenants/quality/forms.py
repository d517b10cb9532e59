"""The quality pages' forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PublishForm(FlaskForm):
    # choices: the summary's KPIs, set by the view; the service checks the choice
    kpis = MultiCheckboxField(_l("Indicators to publish"), choices=[], validate_choice=False)
