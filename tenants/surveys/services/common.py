"""What every survey rule shares: the agency's numbers, the limits, the refusal and
the text in the reader's language."""

from __future__ import annotations

from typing import Any

from saas.fields import LOCALE_CODES
from saas.models import Agency

# setting key -> default (domain.md): every number is the agency's to change
SETTINGS: dict[str, int] = {
    "survey_sample_min": 15,  # an outcome sample has at least this many clients
    "survey_outcome_months": 6,  # an outcome survey at least this often (0: not tracked)
    "survey_link_days": 30,  # a personal link works this long after sending
    "survey_reminder_days": 5,  # non-respondents are reminded once after this many days
}
MAX_CHOICES = 20
MAX_QUESTIONS = 60
MAX_TEXT = 1000
MAX_ANSWER = 4000


class SurveyError(ValueError):
    """A rule refused the change; `field` names the form field it belongs to."""

    def __init__(self, code: str, field: str | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params


def setting(agency: Agency, key: str) -> int:
    try:
        return int(agency.setting(key, SETTINGS[key]))
    except (TypeError, ValueError):
        return SETTINGS[key]


def localized(values: dict[str, str] | None, locale: str) -> str:
    """The text in `locale`, else in the other language."""
    values = values or {}
    if values.get(locale):
        return values[locale]
    for code in LOCALE_CODES:
        if values.get(code):
            return values[code]
    return ""
