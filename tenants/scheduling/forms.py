from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from saas.fields import strip


class AssignForm(FlaskForm):
    staff_id = SelectField(_l("Carer"), choices=[])
    override_reason = TextAreaField(
        _l("Override reason"),
        validators=[Optional(), Length(max=1000)],
        filters=[strip],
        description=_l("Only to assign despite the reasons listed; it is recorded."),
    )


class RescheduleForm(FlaskForm):
    day = DateField(_l("New date"), validators=[DataRequired()])
    start_time = StringField(
        _l("New start time"),
        validators=[DataRequired(), Length(max=5)],
        filters=[strip],
        render_kw={"type": "time"},
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)], filters=[strip])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)], filters=[strip])


class CheckInForm(FlaskForm):
    latitude = HiddenField()
    longitude = HiddenField()
    # the text of the home's QR code, read on the phone (tenants.scheduling.services.phone)
    presence_code = HiddenField()


class OneOffVisitForm(FlaskForm):
    service_item_id = SelectField(_l("Service"), choices=[])
    day = DateField(_l("Date"), validators=[DataRequired()])
    start_time = StringField(
        _l("Start time"),
        validators=[DataRequired(), Length(max=5)],
        filters=[strip],
        render_kw={"type": "time"},
    )
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), validators=[DataRequired(), NumberRange(5, 1440)]
    )


class CheckOutForm(FlaskForm):
    what_was_done = TextAreaField(
        _l("What was done"), validators=[DataRequired(), Length(max=4000)], filters=[strip]
    )
    tools_used = StringField(_l("Tools used"), validators=[Optional(), Length(max=500)], filters=[strip])
    outcome = TextAreaField(_l("Outcome"), validators=[Optional(), Length(max=2000)], filters=[strip])
    notes = TextAreaField(
        _l("Notes for the next visit"), validators=[Optional(), Length(max=2000)], filters=[strip]
    )
    needs_attention = BooleanField(_l("Needs attention: alert the coordinator"))
    # the text of the home's QR code, read on the phone as the carer leaves
    presence_code = HiddenField()


class ReturnVisitForm(FlaskForm):
    staff_id = SelectField(_l("Worker"), choices=[])
    client_id = SelectField(_l("Client"), choices=[])
    visited_on = DateField(_l("Date of the return visit"), validators=[DataRequired()])
    notes = StringField(_l("Notes"), validators=[Optional(), Length(max=1000)], filters=[strip])


class BulkAssignForm(FlaskForm):
    staff_id = SelectField(_l("Carer"), choices=[])


class MoveDayForm(FlaskForm):
    """The rota board: one carer's day to another carer."""

    from_staff = SelectField(_l("Whose day"), choices=[])
    day = DateField(_l("Day"), validators=[DataRequired()])
    to_staff = SelectField(_l("To"), choices=[])


class FillForm(FlaskForm):
    """The rota board's confirmed fill: its (visit, carer) pairs are the
    request's `pair` values, "<visit id>:<staff file id>"."""


class PresenceForm(FlaskForm):
    presence_mode = RadioField(
        _l("How carers show they are at the home"),
        choices=[
            ("position", _l("The phone's position (compared with the address)")),
            ("qr", _l("The code printed for the home (works without signal or GPS)")),
            ("either", _l("Either of them")),
        ],
        default="position",
    )
