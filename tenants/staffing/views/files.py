"""The staff list, adding and editing a staff file, the file itself, time
off and the recruitment record."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from billing.lifecycle import require_can_grow
from saas.lifecycle import attempt, form_status
from saas.pagination import paginate
from saas.permissions import require
from saas.tenancy import current_membership, get_or_404
from tenants.scheduling.queries import overrides_of
from tenants.spreadsheets import split_list
from tenants.staffing import MANAGE_STAFF, OPEN_STAFF_FILES, VIEW_STAFF, queries, services, teams
from tenants.staffing.forms import (
    CaseloadForm,
    EndCaseloadForm,
    NewStaffForm,
    OverrideForm,
    RecruitmentForm,
    ReviewForm,
    RewardForm,
    StaffForm,
    TimeOffForm,
)
from tenants.staffing.labels import choices
from tenants.staffing.models import (
    WEEKDAYS,
    StaffFile,
    StaffTimeOff,
)
from tenants.staffing.pages import is_admin as _is_admin
from tenants.staffing.pages import is_viewer as _is_viewer
from tenants.staffing.pages import staff_or_404 as _staff_or_404
from tenants.staffing.settings import local_today, workforce_settings
from tenants.staffing.views.blueprint import bp, chosen_id


def _list_args() -> dict[str, str]:
    args = {k: (request.args.get(k) or "").strip()[:100] for k in ("q", "role", "area", "skill", "language")}
    args["status"] = request.args.get("status") or "active"
    return args


@bp.route("/staff")
@require(VIEW_STAFF)
def index() -> Any:
    args = _list_args()
    today = local_today()
    page = paginate(
        queries.staff_list_query(
            args["q"], args["role"], args["status"], args["area"], args["skill"], args["language"], today
        ),
        scalars=False,
    )
    ids = [row[0].id for row in page.items]
    fit = services.assignability(ids, today)
    loads = services.current_loads(ids, today)
    return render_template(
        "staffing/index.html",
        page=page,
        args=args,
        fit=fit,
        loads=loads,
        settings=workforce_settings(),
        roles=choices("staff_role"),
        today=today,
    )


# -- adding and editing a staff file --------------------------------------------------------


def _staff_input(form: StaffForm) -> services.StaffInput:
    return services.StaffInput(
        staff_role=form.staff_role.data,
        employment_start=form.employment_start.data,
        employment_end=form.employment_end.data,
        staff_number=form.staff_number.data or None,
        contracted_hours=form.contracted_hours.data,
        home_area=form.home_area.data or "",
        skills=split_list(form.skills.data or ""),
        languages=split_list(form.languages.data or ""),
        availability={day: getattr(form, f"availability_{day}").data or "" for day in WEEKDAYS},
        caseload_limit=form.caseload_limit.data,
        community_limit=form.community_limit.data,
        notes=form.notes.data or "",
    )


def _team_choices(form: StaffForm, current: uuid.UUID | None = None) -> None:
    """The active teams, and the file's own team even when no longer active
    (else saving the file would silently take the worker out of it)."""
    form.team_id.choices = [("", _("No team"))] + [
        (str(t.id), t.name if t.active else f"{t.name} ({_('inactive')})")
        for t in teams.teams()
        if t.active or t.id == current
    ]


def _save_staff(form: StaffForm, staff: StaffFile | None, created: list[StaffFile]) -> None:
    """Add or update the file and its team in one transaction."""
    if staff is None:
        staff = services.add_staff(form.email.data, form.name.data or "", _staff_input(form), by=current_user)
        created.append(staff)
    else:
        services.update_staff(staff, _staff_input(form))
    teams.place_in_team(staff, chosen_id(form.team_id.data))


@bp.route("/staff/new", methods=["GET", "POST"])
@require(MANAGE_STAFF)
@require_can_grow
def new() -> Any:
    form = NewStaffForm()
    _team_choices(form)
    if request.method == "GET":
        form.employment_start.data = local_today()
    created: list[StaffFile] = []
    if form.validate_on_submit() and attempt(form, lambda: _save_staff(form, None, created)):
        flash(_("Staff file opened."), "success")
        return redirect(url_for("staffing.file", staff_id=created[0].id))
    return render_template("staffing/edit.html", form=form, staff=None), form_status()


@bp.route("/staff/<uuid:staff_id>/edit", methods=["GET", "POST"])
@require(MANAGE_STAFF)
def edit(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = StaffForm(obj=staff)
    _team_choices(form, staff.team_id)
    if request.method == "GET":
        form.team_id.data = str(staff.team_id) if staff.team_id else ""
        form.skills.data = ", ".join(staff.skills or [])
        form.languages.data = ", ".join(staff.languages or [])
        for day, text in services.availability_texts(staff.availability).items():
            getattr(form, f"availability_{day}").data = text
    if form.validate_on_submit() and attempt(form, lambda: _save_staff(form, staff, [])):
        flash(_("Staff file saved."), "success")
        return redirect(url_for("staffing.file", staff_id=staff.id))
    person = services.staff_person(staff_id)
    return render_template("staffing/edit.html", form=form, staff=staff, person=person), (form_status())


# -- the staff file -------------------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>")
@require(OPEN_STAFF_FILES)
def file(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id, own_ok=True)
    return render_file(staff)


def render_file(staff: StaffFile, forms: dict[str, Any] | None = None, status: int = 200) -> Any:
    today = local_today()
    page = queries.staff_file_page(staff.id, today)
    forms = forms or {}
    if _is_admin():
        forms.setdefault("time_off", TimeOffForm(formdata=None))
        forms.setdefault("caseload", CaseloadForm(formdata=None, starts_on=today))
        forms.setdefault("review", ReviewForm(formdata=None))
        forms.setdefault("reward", RewardForm(formdata=None, on_date=today))
        forms.setdefault("override", OverrideForm(formdata=None))
        forms.setdefault("end", EndCaseloadForm(formdata=None))
    return render_template(
        "staffing/file.html",
        staff=page.staff,
        team=page.team,
        membership_of_staff=page.membership,
        person=page.person,
        fit=page.fit,
        certificates=page.certificates,
        assignments=page.assignments,
        load=page.load,
        limits=page.limits,
        time_off=page.time_off,
        recruitment=page.recruitment,
        reviews=page.reviews,
        summaries=page.summaries,
        rewards=page.rewards,
        overrides=page.overrides,
        visit_overrides=overrides_of(staff_id=page.staff.id) if _is_viewer() else [],
        names=page.names,
        forms=forms,
        transcript=page.transcript,
        availability=page.availability,
        weekdays=WEEKDAYS,
        employed=page.employed,
        today=today,
        own=page.staff.membership_id == current_membership().id,
        is_admin=_is_admin(),
        is_viewer=_is_viewer(),
    ), status


@bp.route("/my/staff-file")
@require(OPEN_STAFF_FILES)
def my_file() -> Any:
    staff = services.staff_of_membership(current_membership().id)
    if staff is None:
        return render_template("staffing/no_file.html")
    return redirect(url_for("staffing.file", staff_id=staff.id))


# -- time off ---------------------------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>/time-off", methods=["POST"])
@require(MANAGE_STAFF)
def add_time_off(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = TimeOffForm()
    if form.validate_on_submit() and attempt(
        form,
        lambda: services.add_time_off(staff, form.starts_on.data, form.ends_on.data, form.reason.data or ""),
    ):
        flash(_("Time off recorded."), "success")
        return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="time-off"))
    return render_file(staff, {"time_off": form}, 422)


@bp.route("/staff/<uuid:staff_id>/time-off/<uuid:time_off_id>/delete", methods=["POST"])
@require(MANAGE_STAFF)
def remove_time_off(staff_id: uuid.UUID, time_off_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    entry = get_or_404(StaffTimeOff, time_off_id)
    if entry.staff_file_id != staff.id:
        abort(404)
    services.remove_time_off(entry)
    flash(_("Time off removed."), "success")
    return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="time-off"))


# -- recruitment ---------------------------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>/recruitment", methods=["GET", "POST"])
@require(MANAGE_STAFF)
def recruitment(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    record = services.recruitment_of(staff)
    form = RecruitmentForm(obj=record)
    if form.validate_on_submit():
        data = services.RecruitmentInput(
            **{name: getattr(form, name).data for name in services.RecruitmentInput.__dataclass_fields__}
        )
        data.notes = data.notes or ""
        if attempt(form, lambda: services.update_recruitment(record, data, by=current_user)):
            flash(_("Recruitment record saved."), "success")
            return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="recruitment"))
    person = services.staff_person(staff.id)
    decided_by = (
        services.user_names([record.decided_by_id]).get(record.decided_by_id) if record.decided_by_id else ""
    )
    return render_template(
        "staffing/recruitment.html", form=form, staff=staff, person=person, decided_by=decided_by
    ), form_status()
