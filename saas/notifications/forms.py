from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

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


class ReminderSettingsForm(FlaskForm):
    reminder_evening_time = StringField(
        _l("Send carers tomorrow's visits at (HH:MM)"), filters=[strip], validators=[Length(max=5)]
    )
    reminder_morning_time = StringField(
        _l("Send coordinators the visits without a carer at (HH:MM)"),
        filters=[strip],
        validators=[Length(max=5)],
    )
    digest_time = StringField(
        _l("Send daily digests at (HH:MM)"), filters=[strip], validators=[Length(max=5)]
    )
    no_check_in_minutes = IntegerField(
        _l("Remind a carer who has not checked in this many minutes before the visit"),
        validators=[InputRequired(), NumberRange(0, 240)],
    )
    unassigned_horizon_days = IntegerField(
        _l("Count visits without a carer over the next (days)"),
        validators=[InputRequired(), NumberRange(1, 60)],
    )
    attention_reminder_hours = IntegerField(
        _l("Remind about a service record still needing attention after (hours)"),
        validators=[InputRequired(), NumberRange(0, 720)],
    )
    certificate_reminder_days = StringField(
        _l("Remind about an expiring certificate this many days before"),
        filters=[strip],
        validators=[Length(max=40)],
        description=_l("Up to five numbers separated by commas, for example 60, 30, 7."),
    )
    plan_review_reminder_days = IntegerField(
        _l("Remind about a plan review this many days before"),
        validators=[InputRequired(), NumberRange(0, 365)],
    )
    return_visit_due_day = IntegerField(
        _l("A month's return visits are due by this day of the next month"),
        validators=[InputRequired(), NumberRange(1, 28)],
    )
