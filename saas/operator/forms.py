from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

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
    # the wizard's billing and catalogue steps (billing.onboarding fills the choices)
    plan = SelectField(_l("Plan"), default="")
    trial_days = IntegerField(
        _l("Trial days"), validators=[Optional(), NumberRange(min=0, max=365)], default=14
    )
    catalogue_preset = SelectField(_l("Starting service catalogue"), default="")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()
        from billing.onboarding import catalogue_choices, plan_choices

        self.plan.choices = plan_choices()
        self.catalogue_preset.choices = catalogue_choices()
        if not self.is_submitted():
            from billing.lifecycle import trial_days

            self.trial_days.data = trial_days()


class InviteAdminForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(), Email(), Length(max=254)], filters=[lowercase]
    )


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)], filters=[strip])
