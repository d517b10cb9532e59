"""The personal survey link: no sign-in, the token is the key, answered once.
It shows the agency's name and the survey, nothing about the client."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from saas.errors import error_message
from saas.fields import LOCALE_CODES
from saas.i18n import agency_language
from saas.lifecycle import mark_refused
from saas.links import personal_link_page
from tenants.surveys import services
from tenants.surveys.services import SurveyError

bp = Blueprint("survey_link", __name__)


def _state_page(opened: services.Opened, state: str, locale: str) -> Any:
    with agency_language(locale, opened.agency):
        return render_template(
            "surveys/link_state.html", agency=opened.agency, campaign=opened.campaign, state=state
        ), 200 if state == "answered" else 410


@bp.route("/s/<token>", methods=["GET", "POST"])
@personal_link_page
def answer(token: str) -> Any:
    opened = services.open_link(token)
    if opened is None:
        return render_template("surveys/link_invalid.html"), 404
    chosen = request.values.get("lang")
    locale = chosen if chosen in LOCALE_CODES else opened.invitation.locale
    if opened.state != "open":
        return _state_page(opened, opened.state, locale)
    questions = services.questions_of(opened.campaign.template_id)
    errors: dict[Any, str] = {}
    status = 200
    if request.method == "POST":
        answers, codes = services.parse_answers(questions, request.form)
        if not codes:
            try:
                services.submit_answers(opened, answers)
            except SurveyError as exc:
                mark_refused()  # the page says why (answered once already: with 200)
                return _state_page(opened, exc.code.removeprefix("link_"), locale)
            with agency_language(locale, opened.agency):
                return render_template("surveys/thanks.html", agency=opened.agency)
        # nothing was written (and the 422 keeps nothing); no rollback, which would
        # expire the questions and reload them one by one while the page is drawn
        with agency_language(locale, opened.agency):
            errors = {qid: error_message(SurveyError(code)) for qid, code in codes.items()}
        status = 422
    with agency_language(locale, opened.agency):
        return render_template(
            "surveys/answer.html",
            agency=opened.agency,
            campaign=opened.campaign,
            questions=questions,
            locale=locale,
            errors=errors,
            values=request.form if request.method == "POST" else None,
            token=token,
        ), status
