"""The appraisal form of one file."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, TextAreaField
from wtforms.validators import Length, Optional

from saas.fields import strip


def decision_choices() -> list[tuple[str, str]]:
    return [
        ("keep", _l("Keep the file until a new review")),
        (
            "anonymise",
            _l("Anonymise: names, contacts, addresses and notes go; visits, ratings and counts stay"),
        ),
        ("destroy", _l("Destroy every care record of the client")),
    ]


class DecisionForm(FlaskForm):
    # the service refuses a missing choice or reason, with its message next to the field
    decision = RadioField(_l("Decision"), choices=decision_choices, validate_choice=False)
    reason = TextAreaField(
        _l("Reason"),
        validators=[Optional(), Length(max=2000)],
        filters=[strip],
        # the audit log is append-only: what is written here stays after the file is gone
        description=_l(
            "Kept in the audit log, also after the file is destroyed: say why, without personal details."
        ),
    )
    review_on = DateField(
        _l("Next review on"),
        validators=[Optional()],
        description=_l("For a kept file: when to appraise it again."),
    )
