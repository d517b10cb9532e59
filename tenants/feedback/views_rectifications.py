"""Rectifications: the open ones by the owner's team, opening one, and the
re-inspection that closes it. Routes of the feedback blueprint
(`tenants.feedback.views.bp`)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas.fields import uuid_or_none
from saas.lifecycle import attempt, form_status
from saas.permissions import require
from saas.tenancy import current_agency, current_membership, get_or_404
from tenants.clients.services import agency_today
from tenants.feedback import MANAGE_RECTIFICATIONS, queries, services
from tenants.feedback.forms import InspectionForm, RectificationForm
from tenants.feedback.models import Rectification
from tenants.feedback.views import bp


@bp.route("/rectifications")
@require(MANAGE_RECTIFICATIONS)
def rectifications() -> Any:
    """Open rectifications, by the team of their owner (open ones count
    against the team), with open and overdue counts per team."""
    teams = queries.open_rectifications_by_team(agency_today(current_agency()))
    return render_template("feedback/rectifications.html", teams=teams)


@bp.route("/rectifications/new", methods=["GET", "POST"])
@require(MANAGE_RECTIFICATIONS)
def new_rectification() -> Any:
    form = RectificationForm()
    form.owner.choices = queries.owner_choices()
    if request.method == "GET":
        form.feedback_item_id.data = request.args.get("feedback_id", "")
        form.rating_id.data = request.args.get("rating_id", "")
        if form.feedback_item_id.data:
            form.source.data = "complaint"
        elif form.rating_id.data:
            form.source.data = "low_rating"
        form.deadline.data = agency_today(current_agency()) + timedelta(days=14)
    if form.validate_on_submit():
        opened: list[Rectification] = []
        if attempt(
            form,
            lambda: opened.append(
                services.open_rectification(
                    current_agency(),
                    services.RectificationData(
                        source=form.source.data,
                        problem=form.problem.data or "",
                        measures=form.measures.data or "",
                        owner_membership_id=uuid_or_none(form.owner.data),
                        deadline=form.deadline.data,
                        feedback_item_id=uuid_or_none(form.feedback_item_id.data),
                        rating_id=uuid_or_none(form.rating_id.data),
                        finding=form.finding.data or "",
                    ),
                    by=current_user,
                )
            ),
        ):
            flash(_("Rectification opened."), "success")
            return redirect(url_for("feedback.rectification", rectification_id=opened[0].id))
    return render_template("feedback/rectification_new.html", form=form), form_status()


@bp.route("/rectifications/<uuid:rectification_id>")
@require(MANAGE_RECTIFICATIONS)
def rectification(rectification_id: uuid.UUID) -> Any:
    row = get_or_404(Rectification, rectification_id)
    return _rectification_page(row, InspectionForm(formdata=None))


def _rectification_page(row: Rectification, form: InspectionForm, status: int = 200) -> Any:
    return render_template(
        "feedback/rectification.html",
        rect=row,
        owner=queries.member_name(row.owner_membership_id),
        inspections=queries.reinspections(row.id),
        form=form,
        overdue=services.is_overdue(row, agency_today(current_agency())),
    ), status


@bp.route("/rectifications/<uuid:rectification_id>/inspect", methods=["POST"])
@require(MANAGE_RECTIFICATIONS)
def inspect(rectification_id: uuid.UUID) -> Any:
    row = get_or_404(Rectification, rectification_id)
    form = InspectionForm()
    if form.validate_on_submit():
        if not attempt(
            form,
            lambda: services.reinspect(
                row, current_membership(), passed=form.outcome.data == "pass", notes=form.notes.data or ""
            ),
        ):
            return _rectification_page(get_or_404(Rectification, rectification_id), form, 422)
        flash(_("Re-inspection recorded."), "success")
        return redirect(url_for("feedback.rectification", rectification_id=row.id))
    return _rectification_page(row, form, 422)
