"""Ratings (portal, phone), opinions and complaints (public page, portal,
staff), the follow-up tasks, rectifications and satisfaction statistics."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from saas import db
from saas.extensions import csrf, limiter
from saas.links import UrlPattern
from saas.models import Membership, Role, User
from saas.permissions import MANAGE_SETTINGS, USE_PORTAL, can, require
from saas.tenancy import current_agency, current_membership, get_or_404, public_agency_page
from tenants.clients.models import Client, PortalLink
from tenants.clients.services import agency_today
from tenants.feedback import (
    HANDLE_COMPLAINTS,
    HANDLE_RATINGS,
    MANAGE_RECTIFICATIONS,
    READ_CONFIDENTIAL_FEEDBACK,
    VIEW_SATISFACTION,
    labels,
    queries,
    services,
)
from tenants.feedback.forms import (
    FeedbackForm,
    InspectionForm,
    PublicFeedbackForm,
    RatingForm,
    RectificationForm,
    StaffFeedbackForm,
    TransitionForm,
)
from tenants.feedback.models import (
    DIMENSIONS,
    FeedbackItem,
    FeedbackKind,
    FeedbackStatus,
    FeedbackTransition,
    FollowUpTask,
    RatingChannel,
    Rectification,
    RectificationStatus,
    ReInspection,
    VisitRating,
)
from tenants.feedback.services import FeedbackError
from tenants.scheduling.models import Visit
from tenants.staffing.models import StaffFile, Team

bp = Blueprint("feedback", __name__, url_prefix="/a/<slug>")
bp.app_template_global("feedback_status_label")(labels.status_label)
bp.app_template_global("feedback_kind_label")(labels.kind_label)
bp.app_template_global("feedback_dimension_label")(labels.dimension_label)
bp.app_template_global("feedback_deadline_label")(labels.deadline_label)

MIN_FILL_SECONDS = 3
FORM_MAX_AGE = 24 * 3600


def error_message(exc: FeedbackError) -> str:
    messages = {
        "not_completed": lambda: _("Only a completed visit can be rated."),
        "score_range": lambda: _("Choose a score from 1 to 5."),
        "already_rated": lambda: _("This visit has already been rated."),
        "amend_closed": lambda: _("A rating can only be changed within 7 days."),
        "link_used": lambda: _("This link has already been used."),
        "recorded_by_required": lambda: _("Say who took the rating."),
        "required": lambda: _("This field is required."),
        "bad_choice": lambda: _("Choose one of the options."),
        "not_forward": lambda: _("Choose a later step."),
        "response_required": lambda: _("Record the response given to the person first."),
        "owner_unknown": lambda: _("Choose an active staff member."),
        "source_unknown": lambda: _("The complaint or low rating was not found."),
        "not_supervisor": lambda: _("Only an admin or a coordinator can re-inspect."),
        "owner_cannot_inspect": lambda: _("The owner cannot re-inspect their own rectification."),
        "already_closed": lambda: _("This rectification is already closed."),
    }
    return messages.get(exc.code, lambda: _("This change is not allowed."))()


def _scores(form: RatingForm) -> services.Scores:
    return services.Scores(
        **{d: int(getattr(form, f"score_{d}").data) for d in DIMENSIONS}, comment=form.comment.data or ""
    )


def _prefill(form: RatingForm, rating: VisitRating | None) -> None:
    if rating is not None and request.method == "GET":
        for d in DIMENSIONS:
            getattr(form, f"score_{d}").data = str(getattr(rating, d))
        form.comment.data = rating.comment


def carer_first_name(visit: Visit) -> str:
    if visit.staff_file_id is None:
        return ""
    name = db.session.scalar(
        select(User.name)
        .join(Membership, Membership.user_id == User.id)
        .join(StaffFile, StaffFile.membership_id == Membership.id)
        .where(StaffFile.id == visit.staff_file_id)
    )
    return (name or "").split(" ")[0]


def _rate_page(form: RatingForm, visit: Visit, rating: VisitRating | None, status: int, **extra: Any) -> Any:
    """The rating page of a member (portal) or of staff taking it by phone."""
    return render_template(
        "feedback/rate.html",
        form=form,
        day=visit.local_day,
        carer=carer_first_name(visit),
        rating=rating,
        can_amend=rating is None or services.can_amend(rating),
        completed=visit.status == "completed",
        **extra,
    ), status


# -- ratings in the portal --------------------------------------------------------------------


@bp.route("/portal/visits/<uuid:visit_id>/rate", methods=["GET", "POST"])
@require(USE_PORTAL)
def portal_rate(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    membership = current_membership()
    linked = db.session.scalar(
        select(PortalLink.id).where(
            PortalLink.membership_id == membership.id, PortalLink.client_id == visit.client_id
        )
    )
    if linked is None:
        abort(404)
    rating = services.rating_of(visit.id)
    form = RatingForm()
    _prefill(form, rating)
    status = 200
    if form.validate_on_submit():
        try:
            services.rate_visit(
                current_agency(),
                visit,
                _scores(form),
                channel=RatingChannel.PORTAL,
                membership_id=membership.id,
            )
        except FeedbackError as exc:
            db.session.rollback()
            flash(error_message(exc), "error")
            status = 422
        else:
            db.session.commit()
            flash(_("Thank you for your rating."), "success")
            return redirect(url_for("scheduling.portal"))
    elif request.method == "POST":
        status = 422
    return _rate_page(form, visit, rating, status)


# -- ratings taken by staff -------------------------------------------------------------------


@bp.route("/visits/<uuid:visit_id>/rating", methods=["GET", "POST"])
@require(HANDLE_RATINGS)
def phone_rate(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    rating = services.rating_of(visit.id)
    form = RatingForm()
    _prefill(form, rating)
    status = 200
    if form.validate_on_submit():
        try:
            services.rate_visit(
                current_agency(), visit, _scores(form), channel=RatingChannel.PHONE, by=current_user
            )
        except FeedbackError as exc:
            db.session.rollback()
            flash(error_message(exc), "error")
            status = 422
        else:
            db.session.commit()
            flash(_("Rating recorded."), "success")
            return redirect(url_for("scheduling.visit", visit_id=visit.id))
    elif request.method == "POST":
        status = 422
    return _rate_page(form, visit, rating, status, by_phone=True)


@bp.route("/visits/<uuid:visit_id>/rating-link", methods=["POST"])
@require(HANDLE_RATINGS)
def issue_link(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    try:
        token = services.issue_rating_link(current_agency(), visit)
    except FeedbackError as exc:
        db.session.rollback()
        flash(error_message(exc), "error")
        return redirect(url_for("scheduling.visit", visit_id=visit.id))
    db.session.commit()
    return render_template(
        "feedback/link_issued.html", url=url_for("rating_link.rate", token=token, _external=True)
    )


@bp.route("/feedback/tasks")
@require(HANDLE_RATINGS)
def tasks() -> Any:
    """Open follow-ups, each with whom it is for (the carer's team supervisor,
    or any coordinator); `?mine=1` keeps the ones assigned to me."""
    me = current_membership()
    assignee_user = aliased(User)
    assignee = aliased(Membership)
    query = (
        select(FollowUpTask, VisitRating, Visit.local_day, Client.full_name, assignee_user.name)
        .join(VisitRating, VisitRating.id == FollowUpTask.rating_id)
        .join(Visit, Visit.id == VisitRating.visit_id)
        .join(Client, Client.id == VisitRating.client_id)
        .outerjoin(assignee, assignee.id == FollowUpTask.assignee_membership_id)
        .outerjoin(assignee_user, assignee_user.id == assignee.user_id)
        .where(FollowUpTask.done_at.is_(None))
        .order_by(FollowUpTask.created_at)
        .limit(200)
    )
    mine = request.args.get("mine") == "1"
    if mine:
        query = query.where(
            or_(FollowUpTask.assignee_membership_id == me.id, FollowUpTask.assignee_membership_id.is_(None))
        )
    rows = db.session.execute(query).all()
    return render_template("feedback/tasks.html", rows=rows, dimensions=DIMENSIONS, mine=mine, me=me.id)


@bp.route("/feedback/tasks/<uuid:task_id>/done", methods=["POST"])
@require(HANDLE_RATINGS)
def task_done(task_id: uuid.UUID) -> Any:
    task = get_or_404(FollowUpTask, task_id)
    services.complete_task(task, by=current_user)
    db.session.commit()
    flash(_("Follow-up done."), "success")
    return redirect(url_for("feedback.tasks"))


# -- opinions and complaints ------------------------------------------------------------------


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


def _field_error(form: FeedbackForm, exc: FeedbackError) -> None:
    field = getattr(form, exc.field or "", None)
    if field is not None:
        field.errors = [*field.errors, error_message(exc)]
    else:
        flash(error_message(exc), "error")


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
        elif form.validate():
            try:
                services.submit_feedback(agency, _data(form), channel="public")
            except FeedbackError as exc:
                db.session.rollback()
                _field_error(form, exc)
            else:
                db.session.commit()
                return render_template("feedback/thanks.html"), 201
        form.started.data = _serializer().dumps(time.time())
        return render_template("feedback/public.html", form=form, agency=agency), 422
    form.started.data = _serializer().dumps(time.time())
    return render_template("feedback/public.html", form=form, agency=agency)


@bp.route("/portal/feedback", methods=["GET", "POST"])
@require(USE_PORTAL)
def portal_feedback() -> Any:
    form = FeedbackForm()
    if form.validate_on_submit():
        try:
            services.submit_feedback(
                current_agency(), _data(form), channel="portal", membership_id=current_membership().id
            )
        except FeedbackError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("Thank you. The agency will answer you."), "success")
            return redirect(url_for("scheduling.portal"))
    return render_template(
        "feedback/portal_feedback.html", form=form
    ), 422 if request.method == "POST" else 200


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
        try:
            item = services.submit_feedback(
                current_agency(), _data(form), channel=form.channel.data, by=current_user
            )
        except FeedbackError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("Recorded."), "success")
            return redirect(url_for("feedback.item", feedback_id=item.id))
    return render_template(
        "feedback/staff_feedback.html", form=form
    ), 422 if request.method == "POST" else 200


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
    history = db.session.execute(
        select(FeedbackTransition, User.name)
        .outerjoin(User, User.id == FeedbackTransition.by_user_id)
        .where(FeedbackTransition.item_id == row.id)
        .order_by(FeedbackTransition.at)
    ).all()
    return render_template(
        "feedback/item.html",
        item=row,
        form=form,
        history=history,
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
        try:
            services.transition(
                row,
                form.to_status.data,
                by=current_user,
                note=form.note.data or "",
                response=form.response.data or "",
            )
        except FeedbackError as exc:
            db.session.rollback()
            row = get_or_404(FeedbackItem, feedback_id)
            form.response.errors = [error_message(exc)]
            return _item_page(row, form, 422)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("feedback.item", feedback_id=row.id))
    return _item_page(row, form, 422)


# -- rectifications ---------------------------------------------------------------------------


def _owner_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Membership.id, User.name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True), Membership.role != Role.CLIENT)
        .order_by(User.name)
        .limit(2000)
    ).all()
    return [(str(i), n) for i, n in rows]


@bp.route("/rectifications")
@require(MANAGE_RECTIFICATIONS)
def rectifications() -> Any:
    """Open rectifications, by the team of their owner (open ones count
    against the team), with open and overdue counts per team."""
    today = agency_today(current_agency())
    rows = db.session.execute(
        select(Rectification, User.name, Team.id, Team.name)
        .join(Membership, Membership.id == Rectification.owner_membership_id)
        .join(User, User.id == Membership.user_id)
        .outerjoin(StaffFile, StaffFile.membership_id == Membership.id)
        .outerjoin(Team, Team.id == StaffFile.team_id)
        .where(Rectification.status == RectificationStatus.OPEN)
        .order_by(Team.name.nulls_last(), Rectification.deadline)
        .limit(500)
    ).all()
    teams: dict[uuid.UUID | None, dict[str, Any]] = {}
    for rect, owner, team_id, team_name in rows:
        group = teams.setdefault(team_id, {"name": team_name, "rows": [], "overdue": 0})
        overdue = services.is_overdue(rect, today)
        group["rows"].append((rect, owner, overdue))
        group["overdue"] += overdue
    return render_template("feedback/rectifications.html", teams=list(teams.values()))


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@bp.route("/rectifications/new", methods=["GET", "POST"])
@require(MANAGE_RECTIFICATIONS)
def new_rectification() -> Any:
    form = RectificationForm()
    form.owner.choices = _owner_choices()
    if request.method == "GET":
        form.feedback_item_id.data = request.args.get("feedback_id", "")
        form.rating_id.data = request.args.get("rating_id", "")
        if form.feedback_item_id.data:
            form.source.data = "complaint"
        elif form.rating_id.data:
            form.source.data = "low_rating"
        form.deadline.data = agency_today(current_agency()) + timedelta(days=14)
    if form.validate_on_submit():
        try:
            row = services.open_rectification(
                current_agency(),
                services.RectificationData(
                    source=form.source.data,
                    problem=form.problem.data or "",
                    measures=form.measures.data or "",
                    owner_membership_id=_uuid_or_none(form.owner.data),
                    deadline=form.deadline.data,
                    feedback_item_id=_uuid_or_none(form.feedback_item_id.data),
                    rating_id=_uuid_or_none(form.rating_id.data),
                    finding=form.finding.data or "",
                ),
                by=current_user,
            )
        except FeedbackError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("Rectification opened."), "success")
            return redirect(url_for("feedback.rectification", rectification_id=row.id))
    return render_template(
        "feedback/rectification_new.html", form=form
    ), 422 if request.method == "POST" else 200


@bp.route("/rectifications/<uuid:rectification_id>")
@require(MANAGE_RECTIFICATIONS)
def rectification(rectification_id: uuid.UUID) -> Any:
    row = get_or_404(Rectification, rectification_id)
    return _rectification_page(row, InspectionForm(formdata=None))


def _rectification_page(row: Rectification, form: InspectionForm, status: int = 200) -> Any:
    owner = db.session.scalar(
        select(User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.id == row.owner_membership_id)
    )
    inspections = db.session.execute(
        select(ReInspection, User.name)
        .join(Membership, Membership.id == ReInspection.inspector_membership_id)
        .join(User, User.id == Membership.user_id)
        .where(ReInspection.rectification_id == row.id)
        .order_by(ReInspection.at)
    ).all()
    return render_template(
        "feedback/rectification.html",
        rect=row,
        owner=owner,
        inspections=inspections,
        form=form,
        overdue=services.is_overdue(row, agency_today(current_agency())),
    ), status


@bp.route("/rectifications/<uuid:rectification_id>/inspect", methods=["POST"])
@require(MANAGE_RECTIFICATIONS)
def inspect(rectification_id: uuid.UUID) -> Any:
    row = get_or_404(Rectification, rectification_id)
    form = InspectionForm()
    if form.validate_on_submit():
        try:
            services.reinspect(
                row, current_membership(), passed=form.outcome.data == "pass", notes=form.notes.data or ""
            )
        except FeedbackError as exc:
            db.session.rollback()
            row = get_or_404(Rectification, rectification_id)
            form.outcome.errors = [error_message(exc)]
            return _rectification_page(row, form, 422)
        db.session.commit()
        flash(_("Re-inspection recorded."), "success")
        return redirect(url_for("feedback.rectification", rectification_id=row.id))
    return _rectification_page(row, form, 422)


# -- statistics -------------------------------------------------------------------------------


@bp.route("/feedback/statistics")
@require(VIEW_SATISFACTION)
def statistics() -> Any:
    """Satisfaction and complaint handling for a preset or a custom date range (GET)."""
    from saas.charts import line_chart
    from tenants.feedback import statistics as stats
    from tenants.feedback.forms import StatisticsRangeForm

    agency = current_agency()
    custom = bool(request.args.keys() & {"start", "end"})
    form = StatisticsRangeForm(formdata=request.args if custom else None)
    selected = stats.preset_range(request.args.get("range", ""), agency_today(agency))
    status = 200
    if custom and form.validate():
        problem = stats.range_problem(form.start.data, form.end.data, agency)
        if problem is None:
            selected = stats.DateRange(form.start.data, form.end.data)
        else:
            form.end.errors = [_statistics_range_message(problem, stats.max_range_months(agency))]
    if form.errors:
        status = 422  # the message is next to the field; the page shows the default range meanwhile
    elif not custom:
        form.start.data, form.end.data = selected.start, selected.end
    figures = stats.page(agency, selected)
    months = figures.trend_range.months()
    chart = line_chart(
        [_month_label(m, "yM") for m in months],
        stats.trend_series(figures.trend, months, {m: _measure_label(m) for m in stats.MEASURES}),
        y_min=1,
        y_max=5,
        width=720,
        height=340,
        title=_("Mean score per month, last 12 months"),
        no_data_text=_("No ratings in these months."),
        chart_id="trend",
    )
    page = render_template(
        "feedback/statistics.html",
        form=form,
        figures=figures,
        months=figures.range.months(),
        trend_months=months,
        presets=stats.PRESETS,
        dimensions=DIMENSIONS,
        measures=stats.MEASURES,
        chart=chart,
        month_label=_month_label,
        measure_label=_measure_label,
    )
    return page, status


def _month_label(month: date, skeleton: str = "yMMM") -> str:
    from saas.i18n import format_month

    return format_month(month, skeleton)


def _measure_label(measure: str) -> str:
    return _("Overall") if measure == "overall" else labels.dimension_label(measure)


def _statistics_range_message(problem: str, max_months: int) -> str:
    if problem == "end_before_start":
        return _("The last day must be on or after the first day.")
    if problem == "out_of_bounds":  # the form refuses such days first; kept for any other caller
        from tenants.feedback.statistics import FIRST_DAY, LAST_DAY

        return _(
            "Enter a day between %(first)s and %(last)s.",
            first=FIRST_DAY.isoformat(),
            last=LAST_DAY.isoformat(),
        )
    return _("Choose a range of at most %(months)d months.", months=max_months)


# -- settings ---------------------------------------------------------------------------------

SETTING_DEFAULTS: dict[str, Any] = {
    "low_rating_threshold": 2,
    "feedback_response_days": 3,
    "complaint_response_days": 3,
    "rating_link_email": True,
    "statistics_max_range_months": 24,
}


@bp.route("/settings/feedback", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def settings_page() -> Any:
    """The agency's own numbers for ratings, answer deadlines and statistics;
    changes are recorded. New deadlines apply to feedback received from now on."""
    from saas import audit
    from tenants.feedback.forms import FeedbackSettingsForm

    agency = current_agency()
    form = FeedbackSettingsForm()
    if request.method == "GET":
        for key, default in SETTING_DEFAULTS.items():
            getattr(form, key).data = agency.setting(key, default)
    if form.validate_on_submit():
        values = {key: getattr(form, key).data for key in SETTING_DEFAULTS}
        values["rating_link_email"] = bool(values["rating_link_email"])
        changed = {k: v for k, v in values.items() if agency.setting(k, SETTING_DEFAULTS[k]) != v}
        agency.settings = {**(agency.settings or {}), **values}
        if changed:
            audit.record("settings.feedback_changed", agency.slug, **{k: str(v) for k, v in changed.items()})
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("feedback.settings_page"))
    return render_template("feedback/settings.html", form=form), 200 if request.method == "GET" else 422
