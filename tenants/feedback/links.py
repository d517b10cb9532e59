"""The personal rating link: no sign-in, the token is the key, single use."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from saas import db
from saas.extensions import csrf, limiter
from tenants.feedback import services
from tenants.feedback.forms import RatingForm
from tenants.feedback.services import FeedbackError
from tenants.feedback.views import _scores, carer_first_name, error_message

bp = Blueprint("rating_link", __name__)


@bp.route("/r/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@csrf.exempt  # the secret in the link is the credential; a lost session cookie must not lose the answers
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
            services.rate_by_link(agency, link, visit, _scores(form))
        except FeedbackError as exc:
            db.session.rollback()
            error = error_message(exc)
            status = 422
        else:
            db.session.commit()
            return render_template("feedback/thanks.html", message=_("Thank you for your rating."))
    elif request.method == "POST":
        status = 422
    if visit.status != "completed":
        abort(404)
    return render_template(
        "feedback/rate.html",
        form=form,
        day=visit.local_day,
        carer=carer_first_name(visit),
        rating=None,
        can_amend=True,
        completed=True,
        error=error,
        public=True,
    ), status
