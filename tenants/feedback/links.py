"""The personal rating link: no sign-in, the token is the key, single use."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from saas.errors import error_message
from saas.lifecycle import mark_refused
from saas.links import personal_link_page
from tenants.feedback import queries, services
from tenants.feedback.forms import RatingForm
from tenants.feedback.services import FeedbackError
from tenants.feedback.views import scores_of

bp = Blueprint("rating_link", __name__)


@bp.route("/r/<token>", methods=["GET", "POST"])
@personal_link_page
def rate(token: str) -> Any:
    opened = services.open_rating_link(token)
    if opened is None:
        return render_template("feedback/link_invalid.html"), 404
    agency, link, visit = opened
    form = RatingForm(meta={"csrf": False})
    status = 200
    error = None
    if form.validate_on_submit():
        try:
            services.rate_by_link(agency, link, visit, scores_of(form))
        except FeedbackError as exc:
            mark_refused()  # shown with 422: nothing is kept
            error = error_message(exc)
            status = 422
        else:
            return render_template("feedback/thanks.html", message=_("Thank you for your rating."))
    elif request.method == "POST":
        status = 422
    if visit.status != "completed":
        abort(404)
    return render_template(
        "feedback/rate.html",
        form=form,
        day=visit.local_day,
        carer=queries.carer_first_name(visit.staff_file_id),
        rating=None,
        can_amend=True,
        completed=True,
        error=error,
        public=True,
    ), status
