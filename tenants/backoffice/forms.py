from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length

from saas.fields import strip


class DayField(DateField):
    """A date whose parse error speaks the user's language; left empty, the
    service says it is required (next to the field)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date as year-month-day, e.g. 2026-11-01.")) from None


class BuildInvoiceForm(FlaskForm):
    payer = SelectField(_l("Payer"), choices=[], default="", validate_choice=False)
    period_start = DayField(_l("First day"))
    period_end = DayField(_l("Last day"))


class AdjustForm(FlaskForm):
    amount = StringField(
        _l("Amount (negative for a reduction)"), filters=[strip], validators=[Length(max=20)]
    )
    reason = TextAreaField(_l("Why"), filters=[strip], validators=[Length(max=2000)])


class CreditForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is this invoice credited?"), filters=[strip], validators=[Length(max=2000)]
    )


class CreditLineForm(Form):
    """One line of the invoice in a partial credit note: left empty, not credited."""

    line_id = HiddenField()
    amount = StringField(_l("Amount to credit"), filters=[strip], validators=[Length(max=20)])


class PartialCreditForm(FlaskForm):
    # its own id: the page also holds the full credit note's form, whose field is "reason"
    reason = TextAreaField(
        _l("Why are these lines credited?"),
        filters=[strip],
        validators=[Length(max=2000)],
        id="partial_reason",
    )
    lines = FieldList(FormField(CreditLineForm), max_entries=5000)


class PaymentRuleForm(FlaskForm):
    funder_id = SelectField(_l("Funder"), choices=[], default="", validate_choice=False)
    funder_percent = StringField(_l("Funder's share (%)"), filters=[strip], validators=[Length(max=10)])


class BuildTimesheetsForm(FlaskForm):
    staff_id = SelectField(_l("Carer"), choices=[], default="", validate_choice=False)
    period_start = DayField(_l("First day"))
    period_end = DayField(_l("Last day"))
