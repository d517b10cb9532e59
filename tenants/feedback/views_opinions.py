"""Opinions and complaints: the public page (no sign-in, a signed timestamp and
a honeypot), the portal and staff forms, the inbox, an item and its steps.
Routes of the feedback blueprint (`tenants.feedback.views.bp`)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from saas import db
from saas.extensions import csrf, limiter
from saas.fields import uuid_or_none
from saas.lifecycle import attempt, form_status
from saas.links import UrlPattern
from saas.permissions import USE_PORTAL, can, require
from saas.settings import agency_setting
from saas.tenancy import current_agency, current_membership, get_or_404, public_agency_page
from tenants.clients.services import portal_client_ids
from tenants.feedback import HANDLE_COMPLAINTS, READ_CONFIDENTIAL_FEEDBACK, labels, people, queries, services
from tenants.feedback.forms import (
    FeedbackForm,
    OnSiteFeedbackForm,
    PortalFeedbackForm,
    PublicFeedbackForm,
    StaffFeedbackForm,
    TransitionForm,
)
from tenants.feedback.models import FeedbackItem, FeedbackKind, FeedbackStatus
from tenants.feedback.views import bp
from tenants.scheduling import RECORD_VISITS
from tenants.scheduling.models import Visit
from tenants.staffing.services import staff_of_membership

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
        client_id=_picked(form, "client_id"),
        visit_id=_picked(form, "visit_id"),
        staff_file_id=_picked(form, "staff_file_id"),
        box_log_id=_picked(form, "box_log_id"),
    )


def _picked(form: FeedbackForm, name: str) -> uuid.UUID | None:
    """The id chosen in a field the form may have (the portal's and the
    office's forms have more than the public one)."""
    field = getattr(form, name, None)
    return uuid_or_none(field.data) if field is not None else None


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
    agency = current_agency()
    membership = current_membership()
    form = PortalFeedbackForm()
    client_ids = portal_client_ids(membership)
    recent = people.recent_visits(
        client_ids, db.utcnow(), int(agency_setting(agency, "portal_feedback_visit_days"))
    )
    _portal_choices(form, people.client_names(client_ids), recent)
    if request.method == "GET" and request.args.get("visit") in {str(v.id) for v in recent}:
        # "tell us about this visit" from the portal's list of visits
        form.visit_id.data = request.args["visit"]
        form.about.data = "visit"
    if form.validate_on_submit() and attempt(
        form, lambda: services.submit_portal_feedback(agency, _data(form), membership)
    ):
        flash(_("Thank you. The agency will answer you."), "success")
        return redirect(url_for("feedback.portal_feedback"))
    return render_template(
        "feedback/portal_feedback.html",
        form=form,
        many_clients=len(client_ids) > 1,
        mine=queries.portal_items(membership.id),
        kind_labels={k.value: labels.kind_label(k) for k in FeedbackKind},
        status_labels={s.value: labels.status_label(s) for s in FeedbackStatus},
    ), form_status()


def _portal_choices(
    form: PortalFeedbackForm, clients: dict[uuid.UUID, str], recent: list[people.RecentVisit]
) -> None:
    """The member's clients, their visits of the last days (day, time, carer's
    first name) and those visits' carers, each once."""
    agency = current_agency()
    many = len(clients) > 1
    form.client_id.choices = [(str(i), n) for i, n in clients.items()]
    form.visit_id.choices = [("", _("Not about one visit"))] + [
        (str(v.id), _visit_label(v, agency.zone, many)) for v in recent
    ]
    carers: dict[uuid.UUID, str] = {}
    for v in recent:
        if v.staff_file_id is not None and v.carer:
            carers.setdefault(v.staff_file_id, v.carer)
    form.staff_file_id.choices = [("", _("Not about one carer"))] + [
        (str(i), n) for i, n in sorted(carers.items(), key=lambda pair: pair[1])
    ]


def _visit_label(visit: people.RecentVisit, zone: Any, with_client: bool) -> str:
    starts = visit.starts_at.astimezone(zone)
    label = f"{format_date(starts.date(), 'medium')} {starts:%H:%M}"
    if visit.carer:
        label = _("%(when)s with %(carer)s", when=label, carer=visit.carer)
    return f"{label} · {visit.client}" if with_client else label


@bp.route("/visits/<uuid:visit_id>/client-feedback", methods=["GET", "POST"])
@require(RECORD_VISITS)
def on_site_feedback(visit_id: uuid.UUID) -> Any:
    """The carer logs what the client told them on their visit; the page shows
    nothing of the agency's other feedback."""
    visit = get_or_404(Visit, visit_id)
    staff = staff_of_membership(current_membership().id)
    staff_id = staff.id if staff is not None else None
    office = can(HANDLE_COMPLAINTS)
    if visit.staff_file_id is None or not (office or visit.staff_file_id == staff_id):
        abort(404)
    form = OnSiteFeedbackForm()
    if form.validate_on_submit() and attempt(
        form,
        lambda: services.submit_on_site_feedback(
            current_agency(),
            visit,
            services.FeedbackData(
                kind=form.kind.data,
                description=form.description.data or "",
                about=form.about.data,
                confidential=bool(form.confidential.data),
            ),
            staff_id=staff_id,
            by=current_user,
            office=office,
        ),
    ):
        flash(_("Logged. The office will follow it up."), "success")
        return redirect(url_for("scheduling.visit", visit_id=visit.id))
    return render_template(
        "feedback/on_site.html", form=form, visit=visit, client=queries.client_name(visit.client_id)
    ), form_status()


@bp.route("/feedback/new", methods=["GET", "POST"])
@require(HANDLE_COMPLAINTS)
def staff_feedback() -> Any:
    form = StaffFeedbackForm()
    if request.method == "GET":
        # links from the opinion-box log and stakeholder rounds say how it came in
        offered = {value for value, _label in form.channel.choices}
        if request.args.get("channel") in offered:
            form.channel.data = request.args["channel"]
        if form.channel.data == "opinion_box" and uuid_or_none(request.args.get("box_log")):
            form.box_log_id.data = request.args["box_log"]
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
        named=queries.named_people(row),
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
                agency=current_agency(),
            ),
        ):
            return _item_page(get_or_404(FeedbackItem, feedback_id), form, 422)
        flash(_("Saved."), "success")
        return redirect(url_for("feedback.item", feedback_id=row.id))
    return _item_page(row, form, 422)
