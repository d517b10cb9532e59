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

CURRENCY_MESSAGE = _l("Use a three-letter currency code, for example GBP.")


def pricing_choices() -> list[tuple[str, str]]:
    from flask_babel import gettext as _

    return [("per_carer", _("Per active carer, per month")), ("flat", _("Flat, per month"))]


def method_choices() -> list[tuple[str, str]]:
    from flask_babel import gettext as _

    return [
        ("bank_transfer", _("Bank transfer")),
        ("card", _("Card")),
        ("cash", _("Cash")),
        ("cheque", _("Cheque")),
        ("other", _("Other")),
    ]


def features_filter(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class PlanForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)], filters=[strip])
    pricing = SelectField(_l("Pricing"), choices=pricing_choices, default="per_carer")
    # no NumberRange: a negative price reaches the service, which explains the refusal
    price = DecimalField(_l("Price"), places=2, validators=[InputRequired(message=_l("Enter a price."))])
    currency = StringField(
        _l("Currency"),
        default="GBP",
        validators=[DataRequired(), Length(min=3, max=3, message=CURRENCY_MESSAGE)],
        filters=[lambda v: v.strip().upper() if isinstance(v, str) else v],
        description=_l("Three-letter code, for example GBP, EUR or CNY."),
    )
    max_carers = IntegerField(
        _l("Carers included"),
        validators=[Optional()],
        description=_l("Leave empty for no limit."),
    )
    max_clients = IntegerField(
        _l("Clients included"), validators=[Optional()], description=_l("Leave empty for no limit.")
    )
    features = TextAreaField(
        _l("Features"),
        validators=[Length(max=2000)],
        filters=[features_filter],
        description=_l("One per line."),
    )
    trial_days = IntegerField(
        _l("Trial days"), default=14, validators=[InputRequired(message=_l("Enter a number of days."))]
    )
    stripe_price_id = StringField(
        _l("Stripe price id"),
        validators=[Optional(), Length(max=255)],
        filters=[strip],
        description=_l("For example price_1Pxyz…; needed to subscribe through Stripe."),
    )
    active = BooleanField(_l("Offered to agencies"), default=True)


class CheckoutForm(FlaskForm):
    plan = SelectField(_l("Plan"), validators=[DataRequired()])


class ChangePlanForm(FlaskForm):
    plan = SelectField(_l("Plan"), validators=[DataRequired()])


class InvoiceForm(FlaskForm):
    description = StringField(
        _l("Description"), validators=[DataRequired(), Length(max=300)], filters=[strip]
    )
    amount = DecimalField(_l("Amount"), places=2, validators=[InputRequired(message=_l("Enter an amount."))])
    currency = StringField(
        _l("Currency"),
        default="GBP",
        validators=[DataRequired(), Length(min=3, max=3, message=CURRENCY_MESSAGE)],
        filters=[lambda v: v.strip().upper() if isinstance(v, str) else v],
    )
    period_start = DateField(_l("Period from"), validators=[Optional()])
    period_end = DateField(_l("Period to"), validators=[Optional()])
    due_on = DateField(_l("Due on"), validators=[DataRequired(message=_l("Enter the due date."))])


class PaymentForm(FlaskForm):
    amount = DecimalField(
        _l("Amount received"), places=2, validators=[InputRequired(message=_l("Enter an amount."))]
    )
    method = SelectField(_l("Method"), choices=method_choices, default="bank_transfer")
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=200)], filters=[strip])
    paid_on = DateField(_l("Received on"), validators=[Optional()])


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Write down why.")),
            Length(min=10, max=1000, message=_l("Write at least 10 characters, at most 1000.")),
        ],
        filters=[strip],
    )


class PlatformSettingsForm(FlaskForm):
    # a number as typed: the service checks it and says why next to the field
    export_window_days = StringField(_l("Export window of a closed agency (days)"), filters=[strip])
