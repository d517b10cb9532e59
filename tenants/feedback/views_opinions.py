"""Opinions and complaints: the public page (no sign-in, a signed timestamp and
a honeypot), the portal and staff forms, the inbox, an item and its steps.
Routes of the feedback blueprint (`tenants.feedback.views.bp`)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from saas.extensions import csrf, limiter
from saas.lifecycle import attempt, form_status
from saas.links import UrlPattern
from saas.permissions import USE_PORTAL, can, require
from saas.tenancy import current_agency, current_membership, get_or_404, public_agency_page
from tenants.feedback import HANDLE_COMPLAINTS, READ_CONFIDENTIAL_FEEDBACK, labels, queries, services
from tenants.feedback.forms import FeedbackForm, PublicFeedbackForm, StaffFeedbackForm, TransitionForm
from tenants.feedback.models import FeedbackItem, FeedbackKind, FeedbackStatus
from tenants.feedback.views import bp

MIN_FILL_SECONDS = 3
FORM_MAX_AGE = 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="feedback-form")


def _data(form: FeedbackForm) -> services.FeedbackData:
    return services.FeedbackData(
        kind=form.kind.data,
        description=form.description.data or "",
        category=form.category.data or "",
        about=form.about.data,
        contact_name=form.contact_name.data or "",
        contact=form.contact.data or "",
        confidential=bool(form.confidential.data),
    )


@bp.route("/feedback", methods=["GET", "POST"])
@public_agency_page
@limiter.limit("5 per hour", methods=["POST"])
@csrf.exempt  # no session for the public: a signed timestamp and a honeypot instead
def public_feedback() -> Any:
    agency = current_agency()
    form = PublicFeedbackForm()
    if request.method == "POST":
        if form.website.data:
            # a robot filled the hidden field: thank it and keep nothing
            return render_template("feedback/thanks.html"), 200
        try:
            started = _serializer().loads(form.started.data or "", max_age=FORM_MAX_AGE)
        except BadSignature:
            started = None
        if not isinstance(started, (int, float)) or time.time() - started < MIN_FILL_SECONDS:
            flash(_("Please take a moment to fill in the form, then send it again."), "error")
        elif form.validate() and attempt(
            form, lambda: services.submit_feedback(agency, _data(form), channel="public")
        ):
            return render_template("feedback/thanks.html"), 201
        form.started.data = _serializer().dumps(time.time())
        return render_template("feedback/public.html", form=form, agency=agency), 422
    form.started.data = _serializer().dumps(time.time())
    return render_template("feedback/public.html", form=form, agency=agency)


@bp.route("/portal/feedback", methods=["GET", "POST"])
@require(USE_PORTAL)
def portal_feedback() -> Any:
    form = FeedbackForm()
    if form.validate_on_submit() and attempt(
        form,
        lambda: services.submit_feedback(
            current_agency(), _data(form), channel="portal", membership_id=current_membership().id
        ),
    ):
        flash(_("Thank you. The agency will answer you."), "success")
        return redirect(url_for("scheduling.portal"))
    return render_template("feedback/portal_feedback.html", form=form), form_status()


@bp.route("/feedback/new", methods=["GET", "POST"])
@require(HANDLE_COMPLAINTS)
def staff_feedback() -> Any:
    form = StaffFeedbackForm()
    if request.method == "GET":
        # links from the opinion-box log and stakeholder rounds say how it came in
        offered = {value for value, _label in form.channel.choices}
        if request.args.get("channel") in offered:
            form.channel.data = request.args["channel"]
    if form.validate_on_submit():
        created: list[FeedbackItem] = []
        if attempt(
            form,
            lambda: created.append(
                services.submit_feedback(
                    current_agency(), _data(form), channel=form.channel.data, by=current_user
                )
            ),
        ):
            flash(_("Recorded."), "success")
            return redirect(url_for("feedback.item", feedback_id=created[0].id))
    return render_template("feedback/staff_feedback.html", form=form), form_status()


def shows_identity(item: FeedbackItem) -> bool:
    return not item.confidential or can(READ_CONFIDENTIAL_FEEDBACK)


@bp.route("/feedback/inbox")
@require(HANDLE_COMPLAINTS)
def inbox() -> Any:
    show_closed = request.args.get("closed") == "1"
    page = queries.inbox(with_closed=show_closed, start=request.args.get("after"))
    return render_template(
        "feedback/inbox.html",
        page=page,
        show_closed=show_closed,
        sees_confidential=can(READ_CONFIDENTIAL_FEEDBACK),
        # per page, not per row: the row links and the labels
        item_url=UrlPattern("feedback.item", "feedback_id"),
        kind_labels={k.value: labels.kind_label(k) for k in FeedbackKind},
        status_labels={s.value: labels.status_label(s) for s in FeedbackStatus},
        deadline_labels={d: labels.deadline_label(d) for d in ("answered", "overdue", "due_soon", "on_time")},
    )


@bp.route("/feedback/items/<uuid:feedback_id>")
@require(HANDLE_COMPLAINTS)
def item(feedback_id: uuid.UUID) -> Any:
    row = get_or_404(FeedbackItem, feedback_id)
    return _item_page(row, TransitionForm(formdata=None))


def _next_choices(row: FeedbackItem) -> list[tuple[str, str]]:
    later = services.STATUS_ORDER[services.STATUS_ORDER.index(row.status) + 1 :]
    return [(s, labels.status_label(s)) for s in later]


def _item_page(row: FeedbackItem, form: TransitionForm, status: int = 200) -> Any:
    form.to_status.choices = _next_choices(row)
    return render_template(
        "feedback/item.html",
        item=row,
        form=form,
        history=queries.item_history(row.id),
        state=services.deadline_state(row),
        identity=shows_identity(row),
    ), status


@bp.route("/feedback/items/<uuid:feedback_id>/transition", methods=["POST"])
@require(HANDLE_COMPLAINTS)
def item_transition(feedback_id: uuid.UUID) -> Any:
    row = get_or_404(FeedbackItem, feedback_id)
    form = TransitionForm()
    form.to_status.choices = _next_choices(row)
    if form.validate_on_submit():
        if not attempt(
            form,
            lambda: services.transition(
                row,
                form.to_status.data,
                by=current_user,
                note=form.note.data or "",
                response=form.response.data or "",
            ),
        ):
            return _item_page(get_or_404(FeedbackItem, feedback_id), form, 422)
        flash(_("Saved."), "success")
        return redirect(url_for("feedback.item", feedback_id=row.id))
    return _item_page(row, form, 422)
