from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from saas.fields import LOCALES, lowercase, strip, timezone_choices, valid_slug


class CreateAgencyForm(FlaskForm):
    name = StringField(_l("Agency name"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    slug = StringField(
        _l("Web address"),
        validators=[DataRequired(), Length(max=40), valid_slug],
        filters=[lowercase],
        description=_l("Used in the agency's links, for example /a/sunrise/"),
    )
    timezone = SelectField(_l("Time zone"), default="Europe/London")
    locale = SelectField(_l("Language"), choices=list(LOCALES), default="en")
    admin_email = EmailField(
        _l("First admin's email"),
        validators=[Optional(), Email(), Length(max=254)],
        filters=[lowercase],
    )
    # the wizard's billing and catalogue steps are billing's (billing/operator_console.py)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class InviteAdminForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(), Email(), Length(max=254)], filters=[lowercase]
    )


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)], filters=[strip])
