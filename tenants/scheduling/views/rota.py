"""The rota board: a week (or a day) of carers and visits, assigning by drag
and drop or by keyboard (a visit, then a carer) with the visit sheet's
checks, and the bulk actions. The board's actions answer htmx with a part of
the page (the panel), and a browser without script with the whole page."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from babel.dates import format_skeleton
from flask import make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from saas import db
from saas.errors import DomainError, error_message
from saas.lifecycle import discard
from saas.permissions import can, require
from saas.tenancy import current_agency, current_membership, get_or_404
from tenants.clients.models import ServicePlan
from tenants.scheduling import MANAGE_VISITS, OVERRIDE_ASSIGNMENT, queries, services
from tenants.scheduling.forms import AssignForm, FillForm, MoveDayForm
from tenants.scheduling.labels import visit_status_label
from tenants.scheduling.models import Visit, VisitStatus
from tenants.scheduling.rota_board import (
    RotaFilters,
    board_carer_ids,
    lane_visits,
    rota_board,
    rota_visit,
)
from tenants.scheduling.services import AssignmentRefused
from tenants.scheduling.views.blueprint import bp
from tenants.staffing.errors import Invalid


@bp.app_template_global("rota_day")
def rota_day(day: date) -> str:
    """A column's day in the reader's language: "Mon 7 Dec", "12月7日周一"."""
    return format_skeleton("MMMEd", day, locale=get_locale() or "en")


@bp.app_template_global("rota_row_words")
def rota_row_words() -> dict[str, Any]:
    """What each carer's row says, translated once per page rather than once
    per row (a large agency's week has hundreds); the patterns are filled in
    the template."""
    return {
        "hours": _("%(booked)s of %(contracted)s h"),
        "hours_title": _("Hours booked this week against contracted hours"),
        "caseload": _("caseload %(n)d/%(limit)d"),
        "caseload_title": _("Clients on their caseload against the limit"),
        "time_off": _("Time off"),
        "not_available": _("Not available"),
        "status": {s: visit_status_label(s) for s in VisitStatus},
    }


# the board's changes tell the grid to reload itself (hx-trigger on the grid)
CHANGED = "rota-changed"


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _span() -> tuple[str, date, int]:
    """The view asked for ("week" or "day") and its first day and length;
    a date that cannot be read is today's week (or day)."""
    today = current_agency().today()
    view = "day" if request.values.get("view") == "day" else "week"
    asked = _day(request.values.get("day")) or _day(request.values.get("week")) or today
    if not services.EARLIEST_DAY <= asked <= services.latest_visit_day(current_agency()):
        asked = today
    if view == "day":
        return view, asked, 1
    return view, asked - timedelta(days=asked.weekday()), 7


def _filters() -> RotaFilters:
    area = (request.values.get("area") or "").strip()[:120]
    return RotaFilters(
        team=_uuid(request.values.get("team")),
        area=area,
        item=_uuid(request.values.get("item")),
        qualification=_uuid(request.values.get("qualification")),
    )


def _board_args(view: str, first: date, filters: RotaFilters) -> dict[str, str]:
    args = {"view": view, "day" if view == "day" else "week": first.isoformat()}
    args.update(filters.args())
    return args


def _panel(template: str, **context: Any) -> Any:
    """A part of the board for htmx, or the whole page around it."""
    status = context.pop("status_code", 200)
    context.setdefault("fragment", _htmx())
    response = make_response(render_template(template, **context), status)
    if context.get("changed"):
        response.headers["HX-Trigger"] = CHANGED
    return response


@bp.route("/rota")
@require(MANAGE_VISITS)
def rota() -> Any:
    agency = current_agency()
    view, first, days = _span()
    filters = _filters()
    board = rota_board(agency, first, days, filters, db.utcnow())
    args = _board_args(view, first, filters)
    step = timedelta(days=days)
    move_form = MoveDayForm(formdata=None)
    move_form.from_staff.choices = [(str(c.id), c.name) for c in board.carers]
    move_form.to_staff.choices = [(str(c.id), c.name) for c in board.carers]
    return render_template(
        "scheduling/rota.html",
        board=board,
        view=view,
        first=first,
        filters=filters,
        args=args,
        today=agency.today(),
        focus_day=agency.today() if first <= agency.today() < first + step else first,
        previous_args={**args, ("day" if view == "day" else "week"): (first - step).isoformat()},
        next_args={**args, ("day" if view == "day" else "week"): (first + step).isoformat()},
        move_form=move_form,
        fill_form=FillForm(formdata=None),
    )


def _visit_panel(visit: Visit, form: AssignForm | None = None, **extra: Any) -> Any:
    agency = current_agency()
    now = db.utcnow()
    shown = rota_visit(agency, visit, now)
    if form is None:
        form = AssignForm(formdata=None)
    form.staff_id.choices = queries.carer_choices()
    suggestions = services.suggest(agency, visit) if shown.open and extra.get("refusals") is None else []
    return _panel(
        "scheduling/rota_visit.html",
        visit=shown,
        form=form,
        suggestions=suggestions,
        may_override=can(OVERRIDE_ASSIGNMENT),
        back=request.values.get("back") or url_for("scheduling.rota"),
        **extra,
    )


@bp.route("/rota/visits/<uuid:visit_id>")
@require(MANAGE_VISITS)
def rota_visit_panel(visit_id: uuid.UUID) -> Any:
    return _visit_panel(get_or_404(Visit, visit_id))


@bp.route("/rota/visits/<uuid:visit_id>/assign", methods=["POST"])
@require(MANAGE_VISITS)
def rota_assign(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = AssignForm()
    form.staff_id.choices = queries.carer_choices()
    if not form.validate_on_submit():
        discard()
        if form.staff_id.errors:
            form.staff_id.errors = [_("Choose a carer from the list.")]
        return _visit_panel(visit, form, refusals=[], status_code=422)
    staff_id = uuid.UUID(form.staff_id.data)
    try:
        services.assign_and_tell(
            current_agency(),
            visit,
            staff_id,
            by=current_user,
            role=current_membership().role,
            override_reason=form.override_reason.data or "",
        )
    except AssignmentRefused as exc:
        discard()
        return _refused(visit, form, staff_id, exc)
    except Invalid as exc:  # the workforce package's caseload rule
        discard()
        form.staff_id.errors = [" ".join(p.message() for p in exc.problems)]
        return _visit_panel(visit, form, refusals=[], status_code=422)
    except DomainError as exc:
        discard()
        for problem in exc.by_field():
            target = form.override_reason if problem.field == "override_reason" else form.staff_id
            target.errors = [*target.errors, error_message(problem)]
        return _visit_panel(visit, form, refusals=[], status_code=422)
    if not _htmx():
        return redirect(request.values.get("back") or url_for("scheduling.rota"))
    return _visit_panel(visit, AssignForm(formdata=None), assigned=True, changed=True)


def _refused(visit: Visit, form: AssignForm, staff_id: uuid.UUID, exc: AssignmentRefused) -> Any:
    """Every reason, in the panel and in the carer's cell of the visit's day
    (htmx puts the cell's part in place), and the override field for those
    who may override."""
    carer = dict(queries.carer_choices()).get(str(staff_id), "")
    return _visit_panel(
        visit,
        form,
        refusals=exc.refusals,
        refusals_overridable=exc.overridable,
        refused_carer=carer,
        refused_cell=f"c-{staff_id.hex}-{visit.local_day.isoformat()}",
        status_code=200 if _htmx() else 422,
    )


@bp.route("/rota/visits/<uuid:visit_id>/unassign", methods=["POST"])
@require(MANAGE_VISITS)
def rota_unassign(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = AssignForm()
    try:
        services.unassign_and_tell(current_agency(), visit)
    except DomainError as exc:
        discard()
        form.staff_id.errors = [error_message(p) for p in exc.by_field()]
        return _visit_panel(visit, form, refusals=[], status_code=422)
    if not _htmx():
        return redirect(request.values.get("back") or url_for("scheduling.rota"))
    return _visit_panel(visit, AssignForm(formdata=None), unassigned=True, changed=True)


def _report(outcome: services.BulkOutcome, title: str) -> Any:
    return _panel(
        "scheduling/rota_report.html",
        outcome=outcome,
        title=title,
        tz=services.tz_of(current_agency()),
        changed=bool(outcome.placed),
        back=request.values.get("back") or url_for("scheduling.rota"),
    )


def _problem(message: str, title: str) -> Any:
    discard()
    return _panel(
        "scheduling/rota_report.html",
        outcome=None,
        problem=message,
        title=title,
        back=request.values.get("back") or url_for("scheduling.rota"),
        status_code=200 if _htmx() else 422,
    )


@bp.route("/rota/plans/<uuid:plan_id>/preferred", methods=["POST"])
@require(MANAGE_VISITS)
def rota_preferred(plan_id: uuid.UUID) -> Any:
    plan = get_or_404(ServicePlan, plan_id)
    title = _("The plan's visits to its preferred carers")
    if not FillForm().validate_on_submit():
        return _problem(_("The form has expired: open the board again."), title)
    try:
        outcome = services.preferred_for_plan(current_agency(), plan, by=current_user)
    except DomainError as exc:
        return _problem(" ".join(error_message(p) for p in exc.by_field()), title)
    return _report(outcome, title)


@bp.route("/rota/move-day", methods=["POST"])
@require(MANAGE_VISITS)
def rota_move_day() -> Any:
    title = _("A carer's day to another carer")
    form = MoveDayForm()
    choices = queries.carer_choices()
    form.from_staff.choices = choices
    form.to_staff.choices = choices
    if not form.validate_on_submit():
        return _problem(_("Choose whose day, the day and the carer to give it to."), title)
    try:
        outcome = services.move_day(
            current_agency(),
            uuid.UUID(form.from_staff.data),
            form.day.data,
            uuid.UUID(form.to_staff.data),
            by=current_user,
        )
    except DomainError as exc:
        return _problem(" ".join(error_message(p) for p in exc.by_field()), title)
    return _report(outcome, title)


@bp.route("/rota/fill")
@require(MANAGE_VISITS)
def rota_fill_proposal() -> Any:
    """What filling the lane would do, to confirm: each visit and the carer
    ranked first who passes every check, or why nobody does."""
    agency = current_agency()
    view, first, days = _span()
    filters = _filters()
    proposals = services.propose_fill(
        agency, lane_visits(agency, first, days, filters), board_carer_ids(first, days, filters)
    )
    return _panel(
        "scheduling/rota_fill.html",
        proposals=proposals,
        form=FillForm(formdata=None),
        back=url_for("scheduling.rota", **_board_args(view, first, filters)),
        tz=services.tz_of(agency),
    )


@bp.route("/rota/fill", methods=["POST"])
@require(MANAGE_VISITS)
def rota_fill() -> Any:
    title = _("Fill the unassigned visits")
    if not FillForm().validate_on_submit():
        return _problem(_("The form has expired: open the board again."), title)
    pairs = []
    for raw in request.form.getlist("pair")[: services.BULK_MAX]:
        visit_id, _sep, staff_id = raw.partition(":")
        v, s = _uuid(visit_id), _uuid(staff_id)
        if v and s:
            pairs.append((v, s))
    try:
        outcome = services.fill(current_agency(), pairs, by=current_user)
    except DomainError as exc:
        return _problem(" ".join(error_message(p) for p in exc.by_field()), title)
    return _report(outcome, title)
