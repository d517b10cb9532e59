"""The rules of surveys, by topic: templates and their questions
(`templates`), campaigns, the reproducible sample, reminders and the
outcome-survey cadence (`campaigns`), the personal link and its answers
(`answers`). Read models (tracking, results) are in `tenants.surveys.queries`.

Eligible clients: not archived, with at least one case in the `active` status
(a running service plan): the people currently served, who can judge the
service and its outcome. Numbers are per-agency settings (declared in the area)."""

from __future__ import annotations

from tenants.surveys.services.answers import Opened, open_link, parse_answers, submit_answers
from tenants.surveys.services.campaigns import (
    client_locale,
    close_campaign,
    create_campaign,
    draw_sample,
    eligible_client_ids,
    expired,
    issue_printed_link,
    last_day,
    last_outcome_sent,
    link_url,
    links_expiry,
    next_outcome_due,
    outcome_survey_due,
    send_campaign,
    send_reminders,
)
from tenants.surveys.services.common import (
    MAX_ANSWER,
    MAX_CHOICES,
    MAX_QUESTIONS,
    MAX_TEXT,
    SurveyError,
    localized,
)
from tenants.surveys.services.templates import (
    QuestionData,
    add_question,
    copy_template,
    create_template,
    is_locked,
    move_question,
    questions_of,
    remove_question,
    rename_template,
)

__all__ = [
    "MAX_ANSWER",
    "MAX_CHOICES",
    "MAX_QUESTIONS",
    "MAX_TEXT",
    "Opened",
    "QuestionData",
    "SurveyError",
    "add_question",
    "client_locale",
    "close_campaign",
    "copy_template",
    "create_campaign",
    "create_template",
    "draw_sample",
    "eligible_client_ids",
    "expired",
    "is_locked",
    "issue_printed_link",
    "last_day",
    "last_outcome_sent",
    "link_url",
    "links_expiry",
    "localized",
    "move_question",
    "next_outcome_due",
    "open_link",
    "outcome_survey_due",
    "parse_answers",
    "questions_of",
    "remove_question",
    "rename_template",
    "send_campaign",
    "send_reminders",
    "submit_answers",
]
