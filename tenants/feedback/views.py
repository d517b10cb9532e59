"""The feedback blueprint and its rating pages (portal, phone, the follow-up
tasks) and settings. Its other pages add their routes to `bp` from
`views_opinions`, `views_rectifications` and `views_statistics` (the area's
`routes`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas.lifecycle import attempt
from saas.permissions import MANAGE_SETTINGS, USE_PORTAL, require
from saas.settings_pages import settings_page as generated_settings_page
from saas.tenancy import current_agency, current_membership, get_or_404
from tenants.clients.services import portal_client_ids
from tenants.feedback import (
    HANDLE_RATINGS,
    labels,
    queries,
    services,
)
from tenants.feedback.forms import (
    RatingForm,
)
from tenants.feedback.models import (
    DIMENSIONS,
    FollowUpTask,
    RatingChannel,
    VisitRating,
)
from tenants.scheduling.models import Visit

bp = Blueprint("feedback", __name__, url_prefix="/a/<slug>")
bp.app_template_global("feedback_status_label")(labels.status_label)
bp.app_template_global("feedback_kind_label")(labels.kind_label)
bp.app_template_global("feedback_dimension_label")(labels.dimension_label)
bp.app_template_global("feedback_deadline_label")(labels.deadline_label)


def scores_of(form: RatingForm) -> services.Scores:
    return services.Scores(
        **{d: int(getattr(form, f"score_{d}").data) for d in DIMENSIONS}, comment=form.comment.data or ""
    )


def _prefill(form: RatingForm, rating: VisitRating | None) -> None:
    if rating is not None and request.method == "GET":
        for d in DIMENSIONS:
            getattr(form, f"score_{d}").data = str(getattr(rating, d))
        form.comment.data = rating.comment


def _rate_page(form: RatingForm, visit: Visit, rating: VisitRating | None, status: int, **extra: Any) -> Any:
    """The rating page of a member (portal) or of staff taking it by phone."""
    return render_template(
        "feedback/rate.html",
        form=form,
        day=visit.local_day,
        carer=queries.carer_first_name(visit.staff_file_id),
        rating=rating,
        can_amend=rating is None or services.can_amend(rating),
        completed=visit.status == "completed",
        **extra,
    ), status


def _rating_form(
    visit: Visit, rate: Callable[[services.Scores], object], done: str, then: str, **extra: Any
) -> Any:
    """A visit's rating form, shown with its rating: a valid answer is given to
    `rate`; once it went through, `done` is said and the page goes on to `then`."""
    rating = services.rating_of(visit.id)
    form = RatingForm()
    _prefill(form, rating)
    status = 200
    if form.validate_on_submit():
        if attempt(None, lambda: rate(scores_of(form))):
            flash(done, "success")
            return redirect(then)
        status = 422
    elif request.method == "POST":
        status = 422
    return _rate_page(form, visit, rating, status, **extra)


# -- ratings in the portal --------------------------------------------------------------------


@bp.route("/portal/visits/<uuid:visit_id>/rate", methods=["GET", "POST"])
@require(USE_PORTAL)
def portal_rate(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    membership = current_membership()
    if visit.client_id not in portal_client_ids(membership):
        abort(404)
    return _rating_form(
        visit,
        lambda scores: services.rate_visit(
            current_agency(), visit, scores, channel=RatingChannel.PORTAL, membership_id=membership.id
        ),
        _("Thank you for your rating."),
        url_for("scheduling.portal"),
    )


# -- ratings taken by staff -------------------------------------------------------------------


@bp.route("/visits/<uuid:visit_id>/rating", methods=["GET", "POST"])
@require(HANDLE_RATINGS)
def phone_rate(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    return _rating_form(
        visit,
        lambda scores: services.rate_visit(
            current_agency(), visit, scores, channel=RatingChannel.PHONE, by=current_user
        ),
        _("Rating recorded."),
        url_for("scheduling.visit", visit_id=visit.id),
        by_phone=True,
    )


@bp.route("/visits/<uuid:visit_id>/rating-link", methods=["POST"])
@require(HANDLE_RATINGS)
def issue_link(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    issued: list[str] = []
    if not attempt(None, lambda: issued.append(services.issue_rating_link(current_agency(), visit))):
        return redirect(url_for("scheduling.visit", visit_id=visit.id))
    return render_template(
        "feedback/link_issued.html", url=url_for("rating_link.rate", token=issued[0], _external=True)
    )


@bp.route("/feedback/tasks")
@require(HANDLE_RATINGS)
def tasks() -> Any:
    """Open follow-ups, each with whom it is for (the carer's team supervisor,
    or any coordinator); `?mine=1` keeps the ones assigned to me."""
    me = current_membership()
    mine = request.args.get("mine") == "1"
    rows = queries.open_tasks(mine=me.id if mine else None)
    return render_template("feedback/tasks.html", rows=rows, dimensions=DIMENSIONS, mine=mine, me=me.id)


@bp.route("/feedback/tasks/<uuid:task_id>/done", methods=["POST"])
@require(HANDLE_RATINGS)
def task_done(task_id: uuid.UUID) -> Any:
    task = get_or_404(FollowUpTask, task_id)
    services.complete_task(task, by=current_user)
    flash(_("Follow-up done."), "success")
    return redirect(url_for("feedback.tasks"))


# -- settings ---------------------------------------------------------------------------------


@bp.route("/settings/feedback", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def settings_page() -> Any:
    """The agency's own numbers for ratings, answer deadlines and statistics
    (declared in the area's settings); changes are recorded. New deadlines apply
    to feedback received from now on."""
    return generated_settings_page(
        "feedback",
        title=_("Feedback settings"),
        endpoint="feedback.settings_page",
        intro=_("New answer deadlines apply to opinions and complaints received from now on."),
        saved=_("Saved."),
    )
