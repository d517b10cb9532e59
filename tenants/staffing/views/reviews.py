"""Reviews and their ratings, rewards and penalties, and assignability
overrides."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas.lifecycle import attempt
from saas.permissions import require
from saas.tenancy import current_membership, get_or_404
from tenants.staffing import MANAGE_STAFF, OVERRIDE_ASSIGNABILITY, TAKE_PART_IN_REVIEWS, queries, services
from tenants.staffing.forms import (
    OverrideForm,
    RatingForm,
    ReviewForm,
    RewardForm,
)
from tenants.staffing.labels import workforce_label
from tenants.staffing.models import (
    REVIEW_DIMENSIONS,
    AssignabilityOverride,
    PerformanceReview,
)
from tenants.staffing.pages import is_admin as _is_admin
from tenants.staffing.pages import staff_or_404 as _staff_or_404
from tenants.staffing.views.blueprint import bp
from tenants.staffing.views.files import render_file

# -- reviews, rewards and penalties -----------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>/reviews", methods=["POST"])
@require(MANAGE_STAFF)
def new_review(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = ReviewForm()
    created: list[PerformanceReview] = []
    if form.validate_on_submit() and attempt(
        form,
        lambda: created.append(
            services.create_review(
                staff,
                form.kind.data,
                form.period_start.data,
                form.period_end.data,
                form.summary.data or "",
                by=current_user,
            )
        ),
    ):
        flash(_("Review opened. Add the ratings."), "success")
        return redirect(url_for("staffing.review", review_id=created[0].id))
    return render_file(staff, {"review": form}, 422)


def _render_review(review: PerformanceReview, form: RatingForm | None = None, status: int = 200) -> Any:
    staff = _staff_or_404(review.staff_file_id, own_ok=True)
    person = services.staff_person(staff.id)
    ratings = queries.review_ratings(review.id)
    own = staff.membership_id == current_membership().id
    if form is None and (_is_admin() or own):
        form = RatingForm(formdata=None)
    if form is not None and not _is_admin():
        form.source.choices = [("self", workforce_label("rating_source", "self"))]
    return render_template(
        "staffing/review.html",
        review=review,
        staff=staff,
        person=person,
        ratings=ratings,
        summary=services.review_summary(review, list(ratings)),
        complaints=services.complaints_in_review(review),
        raters=services.user_names(r.rater_id for r in ratings),
        dimensions=REVIEW_DIMENSIONS,
        form=form,
        is_admin=_is_admin(),
    ), status


@bp.route("/reviews/<uuid:review_id>")
@require(TAKE_PART_IN_REVIEWS)
def review(review_id: uuid.UUID) -> Any:
    return _render_review(get_or_404(PerformanceReview, review_id))


@bp.route("/reviews/<uuid:review_id>/ratings", methods=["POST"])
@require(TAKE_PART_IN_REVIEWS)
def add_rating(review_id: uuid.UUID) -> Any:
    review_row = get_or_404(PerformanceReview, review_id)
    staff = _staff_or_404(review_row.staff_file_id, own_ok=True)
    own = staff.membership_id == current_membership().id
    if not _is_admin() and not own:
        abort(403)
    form = RatingForm()
    if form.validate_on_submit():
        if not _is_admin() and form.source.data != "self":
            form.source.errors.append(_("You can only add your own self-assessment."))
        else:
            scores = {d: getattr(form, d).data for d in REVIEW_DIMENSIONS}
            if attempt(
                form,
                lambda: services.add_rating(
                    review_row, form.source.data, scores, form.comment.data or "", by=current_user
                ),
            ):
                flash(_("Rating added."), "success")
                return redirect(url_for("staffing.review", review_id=review_row.id))
    return _render_review(review_row, form, 422)


@bp.route("/staff/<uuid:staff_id>/rewards", methods=["POST"])
@require(MANAGE_STAFF)
def add_reward(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = RewardForm()
    if form.validate_on_submit() and attempt(
        form,
        lambda: services.add_reward_penalty(
            staff, form.kind.data, form.on_date.data, form.reason.data or "", by=current_user
        ),
    ):
        flash(_("Recorded on the file."), "success")
        return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="rewards"))
    return render_file(staff, {"reward": form}, 422)


# -- assignability override ----------------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>/override", methods=["POST"])
@require(OVERRIDE_ASSIGNABILITY)
def override(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = OverrideForm()
    if form.validate_on_submit() and attempt(
        form,
        lambda: services.grant_override(staff, form.reason.data or "", form.expires_on.data, by=current_user),
    ):
        flash(_("Override recorded."), "success")
        return redirect(url_for("staffing.file", staff_id=staff.id))
    return render_file(staff, {"override": form}, 422)


@bp.route("/overrides/<uuid:override_id>/revoke", methods=["POST"])
@require(OVERRIDE_ASSIGNABILITY)
def revoke_override(override_id: uuid.UUID) -> Any:
    row = get_or_404(AssignabilityOverride, override_id)
    services.revoke_override(row, by=current_user)
    flash(_("Override withdrawn."), "success")
    return redirect(url_for("staffing.file", staff_id=row.staff_file_id))
