"""What every survey rule shares: the limits, the refusal and the text in the
reader's language. The agency's numbers are its settings (declared in the
area, read with `saas.settings.agency_setting`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.errors import DomainError, register_messages
from saas.fields import LOCALE_CODES

MAX_CHOICES = 20
MAX_QUESTIONS = 60
MAX_TEXT = 1000
MAX_ANSWER = 4000


class SurveyError(DomainError):
    """A rule of surveys refused the change (or an answer: `parse_answers`'s codes)."""


register_messages(
    {
        "required": _l("This field is required."),
        "too_long": _l("This text is too long."),
        "bad_choice": _l("Choose one of the options."),
        "bad_number": _l("Enter a smaller number."),
        "text_required": _l("Write the question in at least one language."),
        "choices_required": _l("Write the choices, one per line."),
        "choices_mismatch": _l("Give the same number of choices in each language."),
        "choices_distinct": _l("Give at least two different choices."),
        "choices_too_many": _l("Give at most 20 choices."),
        "too_many_questions": _l("A survey has at most 60 questions."),
        "template_locked": _l(
            "This survey has been sent, so its questions can no longer change. Copy it to make a new version."
        ),
        "template_empty": _l("Add at least one question to this survey first."),
        "sample_too_small": _l("The sample must have at least %(minimum)d clients (the agency's setting)."),
        "already_sent": _l("This campaign has already been sent."),
        "already_closed": _l("This campaign is already closed."),
        "not_sent": _l("This campaign has not been sent, so there is nothing to close."),
        "campaign_closed": _l("This campaign is closed or its links have expired."),
        "already_answered": _l("This client has already answered."),
        "no_clients": _l("No client is currently served (an active case is needed)."),
        # the answers on the personal link
        "answer_required": _l("Please answer this question."),
        "scale_range": _l("Choose a score from 1 to 5."),
        "choice_unknown": _l("Choose one of the options shown."),
        "answer_too_long": _l("Your answer is too long (at most 4000 characters)."),
    },
    error=SurveyError,
)


def localized(values: dict[str, str] | None, locale: str) -> str:
    """The text in `locale`, else in the other language."""
    values = values or {}
    if values.get(locale):
        return values[locale]
    for code in LOCALE_CODES:
        if values.get(code):
            return values[code]
    return ""
