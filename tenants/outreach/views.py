"""Pages of the opinion box log, the stakeholder opinion rounds and the
funder return visits. Admins and coordinators record and see everything;
carers may log the opinion box when the agency allows it (a setting)."""

from __future__ import annotations

import uuid
from datetime import MAXYEAR, MINYEAR, date
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas.fields import uuid_or_none
from saas.lifecycle import attempt, form_status
from saas.permissions import MANAGE_SETTINGS, can, require
from saas.settings import agency_setting
from saas.settings_pages import settings_page as generated_settings_page
from saas.tenancy import current_agency, current_membership, get_or_404
from tenants.feedback import HANDLE_COMPLAINTS
from tenants.feedback.queries import slips_entered
from tenants.outreach import LOG_OPINION_BOX, MANAGE_OUTREACH, labels, queries, services
from tenants.outreach.forms import (
    BoxLogForm,
    FunderForm,
    FunderVisitForm,
    LocationForm,
    RoundForm,
)
from tenants.outreach.models import BoxLocation, BoxLog, Funder, FunderVisit, StakeholderRound

bp = Blueprint("outreach", __name__, url_prefix="/a/<slug>")
bp.app_template_global("outreach_group_label")(labels.group_label)
bp.app_template_global("outreach_method_label")(labels.method_label)


def _int(value: int | None) -> int | None:
    return value if isinstance(value, int) else None


def _staff_choices(keep: uuid.UUID | None = None) -> list[tuple[str, str]]:
    return [("", _("Choose…"))] + [(str(i), n) for i, n in services.staff_choices(keep)]


# -- the opinion box --------------------------------------------------------------------------


def _box_allowed(object_page: bool = False) -> None:
    agency = current_agency()
    if not agency_setting(agency, "opinion_box_enabled"):
        abort(404)
    if not services.may_log_box(agency, current_membership().role):
        abort(404 if object_page else 403)


def _month_arg(today: date) -> date:
    try:
        year, month = (int(x) for x in (request.args.get("month") or "").split("-"))
        # the page links to the month before and after: both must exist too
        if not MINYEAR < year < MAXYEAR:
            raise ValueError(year)
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


@bp.route("/outreach/opinion-box")
@require(LOG_OPINION_BOX)
def box() -> Any:
    _box_allowed()
    agency = current_agency()
    month = services.box_month(agency, _month_arg(agency.today()))
    return render_template(
        "outreach/box.html",
        m=month,
        previous=(month.month - relativedelta(months=1)).strftime("%Y-%m"),
        following=(month.month + relativedelta(months=1)).strftime("%Y-%m"),
        missed=len(month.missed),
        supervisor=can(HANDLE_COMPLAINTS),
    )


def _log_data(form: BoxLogForm, location_id: uuid.UUID | None, day: date | None) -> services.BoxLogData:
    opened = {"yes": True, "no": False}.get(form.opened.data or "")
    return services.BoxLogData(
        location_id=location_id,
        day=day,
        opened=opened,
        slips=_int(form.slips.data),
        opened_by_membership_id=uuid_or_none(form.opened_by.data),
        not_opened_reason=form.not_opened_reason.data or "",
        notes=form.notes.data or "",
    )


@bp.route("/outreach/opinion-box/log", methods=["GET", "POST"])
@require(LOG_OPINION_BOX)
def box_log_new() -> Any:
    _box_allowed()
    agency = current_agency()
    form = BoxLogForm()
    form.location.choices = [(str(loc.id), loc.name) for loc in services.locations(active_only=True)]
    form.opened_by.choices = _staff_choices()
    if request.method == "GET":
        form.location.data = request.args.get("location") or (
            form.location.choices[0][0] if form.location.choices else ""
        )
        try:
            form.day.data = date.fromisoformat(request.args.get("day") or "")
        except ValueError:
            form.day.data = agency.today()
        form.opened.data = "yes"
        form.slips.data = 0
        form.opened_by.data = str(current_membership().id)
        existing = (
            uuid_or_none(form.location.data)
            and form.day.data
            and services.find_log(uuid_or_none(form.location.data), form.day.data)
        )
        if existing:
            return redirect(url_for("outreach.box_log", box_log_id=existing.id))
    if form.validate_on_submit():
        logged: list[BoxLog] = []
        if attempt(
            form,
            lambda: logged.append(
                services.log_box(
                    agency, _log_data(form, uuid_or_none(form.location.data), form.day.data), by=current_user
                )
            ),
        ):
            flash(_("Opinion box logged."), "success")
            return redirect(url_for("outreach.box_log", box_log_id=logged[0].id))
    return render_template("outreach/box_log.html", form=form, row=None), form_status()


@bp.route("/outreach/opinion-box/logs/<uuid:box_log_id>", methods=["GET", "POST"])
@require(LOG_OPINION_BOX)
def box_log(box_log_id: uuid.UUID) -> Any:
    _box_allowed(object_page=True)
    row = get_or_404(BoxLog, box_log_id)
    location = get_or_404(BoxLocation, row.location_id)
    form = BoxLogForm(obj=None)
    del form.location, form.day  # fixed once logged
    form.opened_by.choices = _staff_choices(row.opened_by_membership_id)
    if request.method == "GET":
        form.opened.data = "yes" if row.opened else "no"
        form.slips.data = row.slips
        form.not_opened_reason.data = row.not_opened_reason
        form.opened_by.data = str(row.opened_by_membership_id)
        form.notes.data = row.notes
    if form.validate_on_submit() and attempt(
        form,
        lambda: services.update_box_log(
            current_agency(), row, _log_data(form, row.location_id, row.day), by=current_user
        ),
    ):
        flash(_("Saved."), "success")
        return redirect(url_for("outreach.box", month=row.day.strftime("%Y-%m")))
    return render_template(
        "outreach/box_log.html",
        form=form,
        row=row,
        location=location,
        recorded_by=queries.user_name(row.recorded_by_user_id),
        supervisor=can(HANDLE_COMPLAINTS),
        entered=slips_entered(row.id) if row.opened and row.slips else 0,
    ), form_status()


# -- settings and box locations (admins) -------------------------------------------------------


@bp.route("/outreach/settings", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def settings_page() -> Any:
    return _settings_page(LocationForm(formdata=None))


def _settings_page(location_form: LocationForm, status: int | None = None) -> Any:
    """The generated page of the area's settings, with the opinion boxes below."""
    return generated_settings_page(
        "outreach",
        title=_("Outreach settings"),
        endpoint="outreach.settings_page",
        template="outreach/settings.html",
        status=status,
        location_form=location_form,
        locations=services.locations(),
    )


@bp.route("/outreach/settings/locations", methods=["POST"])
@require(MANAGE_SETTINGS)
def add_location() -> Any:
    location_form = LocationForm()
    if location_form.validate_on_submit() and attempt(
        location_form, lambda: services.add_location(current_agency(), location_form.name.data or "")
    ):
        flash(_("Opinion box added."), "success")
        return redirect(url_for("outreach.settings_page"))
    return _settings_page(location_form, 422)


@bp.route("/outreach/settings/locations/<uuid:box_location_id>/toggle", methods=["POST"])
@require(MANAGE_SETTINGS)
def toggle_location(box_location_id: uuid.UUID) -> Any:
    row = get_or_404(BoxLocation, box_location_id)
    services.set_location_active(current_agency(), row, not row.active)
    flash(_("Saved."), "success")
    return redirect(url_for("outreach.settings_page"))


# -- stakeholder opinion rounds ---------------------------------------------------------------


@bp.route("/outreach/rounds")
@require(MANAGE_OUTREACH)
def rounds() -> Any:
    agency = current_agency()
    return render_template(
        "outreach/rounds.html",
        grid=services.round_grid(agency),
        groups=services.GROUPS,
        recent=queries.recent_rounds(),
        months=agency_setting(agency, "stakeholder_round_months"),
    )


def _round_form(row: StakeholderRound | None) -> RoundForm:
    form = RoundForm()
    teams = queries.team_options()
    form.team.choices = [("", _("Choose…"))] + [
        (str(i), n) for i, n, active in teams if active or (row is not None and row.team_id == i)
    ]
    form.stakeholder_group.choices = [(g, labels.group_label(g)) for g in services.GROUPS]
    form.method.choices = [(m, labels.method_label(m)) for m in services.METHODS]
    form.led_by.choices = _staff_choices(row.led_by_membership_id if row else None)
    return form


def _round_data(form: RoundForm) -> services.RoundData:
    return services.RoundData(
        team_id=uuid_or_none(form.team.data),
        stakeholder_group=form.stakeholder_group.data,
        held_on=form.held_on.data,
        method=form.method.data,
        participants=_int(form.participants.data),
        opinions=_int(form.opinions.data),
        summary=form.summary.data or "",
        led_by_membership_id=uuid_or_none(form.led_by.data),
    )


@bp.route("/outreach/rounds/new", methods=["GET", "POST"])
@require(MANAGE_OUTREACH)
def round_new() -> Any:
    form = _round_form(None)
    if request.method == "GET":
        form.team.data = request.args.get("team", "")
        form.stakeholder_group.data = request.args.get("group", "clients")
        form.held_on.data = current_agency().today()
        form.method.data = "meeting"
        form.led_by.data = str(current_membership().id)
    if form.validate_on_submit() and attempt(
        form, lambda: services.record_round(current_agency(), _round_data(form), by=current_user)
    ):
        flash(_("Opinion round recorded."), "success")
        return redirect(url_for("outreach.rounds"))
    return render_template("outreach/round_form.html", form=form, row=None), form_status()


@bp.route("/outreach/rounds/<uuid:round_id>", methods=["GET", "POST"])
@require(MANAGE_OUTREACH)
def round_edit(round_id: uuid.UUID) -> Any:
    row = get_or_404(StakeholderRound, round_id)
    form = _round_form(row)
    if request.method == "GET":
        form.team.data = str(row.team_id)
        form.stakeholder_group.data = row.stakeholder_group
        form.held_on.data = row.held_on
        form.method.data = row.method
        form.participants.data = row.participants
        form.opinions.data = row.opinions
        form.summary.data = row.summary
        form.led_by.data = str(row.led_by_membership_id)
    if form.validate_on_submit() and attempt(
        form, lambda: services.update_round(current_agency(), row, _round_data(form), by=current_user)
    ):
        flash(_("Saved."), "success")
        return redirect(url_for("outreach.rounds"))
    return render_template("outreach/round_form.html", form=form, row=row), form_status()


# -- funders and return visits ----------------------------------------------------------------


@bp.route("/outreach/funders")
@require(MANAGE_OUTREACH)
def funders() -> Any:
    agency = current_agency()
    overview = services.funder_overview(agency)
    return render_template(
        "outreach/funders.html",
        overview=overview,
        months=[c.month for c in overview[0][1]] if overview else [],
        recent=queries.recent_funder_visits(),
        inactive=queries.inactive_funders(),
        required=agency_setting(agency, "funder_visits_per_month"),
    )


def _funder_data(form: FunderForm) -> services.FunderData:
    return services.FunderData(
        name=form.name.data or "",
        contact_person=form.contact_person.data or "",
        phone=form.phone.data or "",
        email=form.email.data or "",
        active=bool(form.active.data),
    )


@bp.route("/outreach/funders/new", methods=["GET", "POST"])
@require(MANAGE_OUTREACH)
def funder_new() -> Any:
    form = FunderForm()
    if form.validate_on_submit() and attempt(form, lambda: services.create_funder(_funder_data(form))):
        flash(_("Funder added."), "success")
        return redirect(url_for("outreach.funders"))
    return render_template("outreach/funder_form.html", form=form, row=None, visits=[]), form_status()


@bp.route("/outreach/funders/<uuid:funder_id>", methods=["GET", "POST"])
@require(MANAGE_OUTREACH)
def funder_edit(funder_id: uuid.UUID) -> Any:
    row = get_or_404(Funder, funder_id)
    form = FunderForm(obj=row if request.method == "GET" else None)
    if form.validate_on_submit():
        if attempt(form, lambda: services.update_funder(row, _funder_data(form))):
            flash(_("Saved."), "success")
            return redirect(url_for("outreach.funders"))
        row = get_or_404(Funder, funder_id)
    return render_template(
        "outreach/funder_form.html", form=form, row=row, visits=queries.visits_of_funder(row.id)
    ), form_status()


def _visit_form(row: FunderVisit | None) -> FunderVisitForm:
    form = FunderVisitForm()
    choices = queries.funder_options()
    form.funder.choices = [("", _("Choose…"))] + [
        (str(i), n) for i, n, active in choices if active or (row is not None and row.funder_id == i)
    ]
    form.visited_by.choices = _staff_choices(row.visited_by_membership_id if row else None)
    return form


def _visit_data(form: FunderVisitForm) -> services.VisitData:
    return services.VisitData(
        funder_id=uuid_or_none(form.funder.data),
        visited_on=form.visited_on.data,
        visited_by_membership_id=uuid_or_none(form.visited_by.data),
        attendees=form.attendees.data or "",
        topics=form.topics.data or "",
        findings=form.findings.data or "",
        follow_up=form.follow_up.data or "",
    )


@bp.route("/outreach/funder-visits/new", methods=["GET", "POST"])
@require(MANAGE_OUTREACH)
def visit_new() -> Any:
    form = _visit_form(None)
    if request.method == "GET":
        form.funder.data = request.args.get("funder", "")
        form.visited_on.data = current_agency().today()
        form.visited_by.data = str(current_membership().id)
    if form.validate_on_submit() and attempt(
        form, lambda: services.record_visit(current_agency(), _visit_data(form), by=current_user)
    ):
        flash(_("Funder visit recorded."), "success")
        return redirect(url_for("outreach.funders"))
    return render_template("outreach/visit_form.html", form=form, row=None), form_status()


@bp.route("/outreach/funder-visits/<uuid:funder_visit_id>", methods=["GET", "POST"])
@require(MANAGE_OUTREACH)
def visit_edit(funder_visit_id: uuid.UUID) -> Any:
    row = get_or_404(FunderVisit, funder_visit_id)
    form = _visit_form(row)
    if request.method == "GET":
        form.funder.data = str(row.funder_id)
        form.visited_on.data = row.visited_on
        form.visited_by.data = str(row.visited_by_membership_id)
        for name in ("attendees", "topics", "findings", "follow_up"):
            getattr(form, name).data = getattr(row, name)
    if form.validate_on_submit() and attempt(
        form, lambda: services.update_visit(current_agency(), row, _visit_data(form), by=current_user)
    ):
        flash(_("Saved."), "success")
        return redirect(url_for("outreach.funders"))
    return render_template("outreach/visit_form.html", form=form, row=row), form_status()
