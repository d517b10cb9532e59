"""Training pages: courses, sessions with enrolment, attendance and
evaluations, transcripts, the compliance list and "My training"."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas.fields import uuid_or_none
from saas.lifecycle import attempt, discard, form_status, refuse
from saas.pagination import paginate
from saas.permissions import can, require
from saas.tenancy import current_membership, get_or_404
from tenants.spreadsheets import csv_response
from tenants.staffing import queries as staffing_queries
from tenants.staffing import services as staffing
from tenants.staffing.labels import choices, workforce_label
from tenants.staffing.models import StaffFile
from tenants.staffing.pages import staff_or_404 as _staff_or_404
from tenants.staffing.settings import local_today, workforce_settings
from tenants.training import MANAGE_COURSES, RUN_TRAINING, VIEW_TRAINING_RECORDS, queries, services
from tenants.training.errors import Invalid, Problem
from tenants.training.forms import AttendanceForm, CourseForm, EnrolForm, EvaluationForm, SessionForm
from tenants.training.models import Course, Enrolment, TrainingSession
from tenants.training.transcripts import transcript as transcript_of

bp = Blueprint("training", __name__, url_prefix="/a/<slug>")


# -- courses -------------------------------------------------------------------------------


@bp.route("/training")
@require(RUN_TRAINING)
def index() -> Any:
    category = request.args.get("category") or ""
    page = paginate(queries.course_list(category))
    upcoming, recent = queries.sessions_around(local_today())
    return render_template(
        "training/index.html",
        page=page,
        upcoming=upcoming,
        recent=recent,
        category=category,
        categories=choices("course_category"),
        is_admin=can(MANAGE_COURSES),
    )


def _course_form_choices(form: CourseForm) -> None:
    form.grants_certificate_type_id.choices = [("", _("None"))] + [
        (str(t.id), t.name) for t in staffing.certificate_types(active_only=True)
    ]


def _course_input(form: CourseForm) -> services.CourseInput:
    return services.CourseInput(
        title=form.title.data or "",
        category=form.category.data,
        form=form.form.data,
        hours=form.hours.data,
        counts_as=form.counts_as.data,
        description=form.description.data or "",
        grants_certificate_type_id=uuid_or_none(form.grants_certificate_type_id.data),
        certificate_validity_months=form.certificate_validity_months.data,
        active=bool(form.active.data),
    )


@bp.route("/training/courses/new", methods=["GET", "POST"])
@require(MANAGE_COURSES)
def new_course() -> Any:
    form = CourseForm()
    _course_form_choices(form)
    created: list[Course] = []
    if form.validate_on_submit() and attempt(
        form, lambda: created.append(services.create_course(_course_input(form)))
    ):
        flash(_("Course added."), "success")
        return redirect(url_for("training.course", course_id=created[0].id))
    return render_template("training/course_form.html", form=form, course=None), (form_status())


@bp.route("/training/courses/<uuid:course_id>/edit", methods=["GET", "POST"])
@require(MANAGE_COURSES)
def edit_course(course_id: uuid.UUID) -> Any:
    course = get_or_404(Course, course_id)
    form = CourseForm(obj=course)
    _course_form_choices(form)
    if request.method == "GET":
        form.grants_certificate_type_id.data = str(course.grants_certificate_type_id or "")
    if form.validate_on_submit() and attempt(
        form, lambda: services.update_course(course, _course_input(form))
    ):
        flash(_("Course saved."), "success")
        return redirect(url_for("training.course", course_id=course.id))
    return render_template("training/course_form.html", form=form, course=course), (form_status())


def _render_course(course: Course, session_form: SessionForm | None = None, status: int = 200) -> Any:
    sessions = queries.course_sessions(course.id)
    grants = None
    if course.grants_certificate_type_id:
        grants = next(
            (t.name for t in staffing.certificate_types() if t.id == course.grants_certificate_type_id), None
        )
    if session_form is None and can(MANAGE_COURSES):
        session_form = SessionForm(formdata=None)
    return render_template(
        "training/course.html",
        course=course,
        sessions=sessions,
        grants=grants,
        form=session_form,
        is_admin=can(MANAGE_COURSES),
    ), status


@bp.route("/training/courses/<uuid:course_id>")
@require(RUN_TRAINING)
def course(course_id: uuid.UUID) -> Any:
    return _render_course(get_or_404(Course, course_id))


def _session_input(form: SessionForm) -> services.SessionInput:
    return services.SessionInput(
        held_on=form.held_on.data,
        trainer=form.trainer.data or "",
        location=form.location.data or "",
        capacity=form.capacity.data,
        notes=form.notes.data or "",
    )


@bp.route("/training/courses/<uuid:course_id>/sessions", methods=["POST"])
@require(MANAGE_COURSES)
def new_session(course_id: uuid.UUID) -> Any:
    course_row = get_or_404(Course, course_id)
    form = SessionForm()
    created: list[TrainingSession] = []
    if form.validate_on_submit() and attempt(
        form, lambda: created.append(services.create_session(course_row, _session_input(form)))
    ):
        flash(_("Session planned."), "success")
        return redirect(url_for("training.session", session_id=created[0].id))
    return _render_course(course_row, form, 422)


# -- sessions ------------------------------------------------------------------------------------


def _render_session(
    session_row: TrainingSession,
    *,
    enrol_form: EnrolForm | None = None,
    problems: dict[str, list[str]] | None = None,
    submitted: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    course_row = queries.course_of(session_row)
    rows = queries.session_trainees(session_row.id)
    return render_template(
        "training/session.html",
        session_row=session_row,
        course=course_row,
        rows=rows,
        averages=services.session_averages(session_row.id),
        enrol_form=enrol_form or EnrolForm(formdata=None),
        attendance_form=AttendanceForm(formdata=None),
        problems=problems or {},
        submitted=submitted or {},
        statuses=choices("attendance"),
        held=session_row.held_on <= local_today(),
        is_admin=can(MANAGE_COURSES),
    ), status


@bp.route("/training/sessions/<uuid:session_id>")
@require(RUN_TRAINING)
def session(session_id: uuid.UUID) -> Any:
    return _render_session(get_or_404(TrainingSession, session_id))


@bp.route("/training/sessions/<uuid:session_id>/edit", methods=["GET", "POST"])
@require(MANAGE_COURSES)
def edit_session(session_id: uuid.UUID) -> Any:
    session_row = get_or_404(TrainingSession, session_id)
    course_row = queries.course_of(session_row)
    form = SessionForm(obj=session_row)
    if form.validate_on_submit() and attempt(
        form, lambda: services.update_session(session_row, _session_input(form))
    ):
        flash(_("Session saved."), "success")
        return redirect(url_for("training.session", session_id=session_row.id))
    return render_template(
        "training/session_form.html", form=form, session_row=session_row, course=course_row
    ), form_status()


@bp.route("/training/sessions/<uuid:session_id>/enrol", methods=["POST"])
@require(RUN_TRAINING)
def enrol(session_id: uuid.UUID) -> Any:
    session_row = get_or_404(TrainingSession, session_id)
    form = EnrolForm()
    if form.validate_on_submit():
        staff = staffing_queries.staff_by_email_or_number(form.who.data)
        if staff is None:
            form.who.errors.append(_("No staff file matches %(who)s.", who=form.who.data))
        else:
            try:
                services.enrol(session_row, staff)
            except Invalid as exc:
                refuse(form, exc.on_field("who"))
            else:
                flash(_("Enrolled."), "success")
                return redirect(url_for("training.session", session_id=session_row.id))
    return _render_session(get_or_404(TrainingSession, session_id), enrol_form=form, status=422)


@bp.route("/training/enrolments/<uuid:enrolment_id>/remove", methods=["POST"])
@require(RUN_TRAINING)
def unenrol(enrolment_id: uuid.UUID) -> Any:
    enrolment = get_or_404(Enrolment, enrolment_id)
    session_id = enrolment.session_id
    if attempt(None, lambda: services.unenrol(enrolment)):
        flash(_("Removed from the session."), "success")
    return redirect(url_for("training.session", session_id=session_id))


@bp.route("/training/sessions/<uuid:session_id>/attendance", methods=["POST"])
@require(RUN_TRAINING)
def attendance(session_id: uuid.UUID) -> Any:
    session_row = get_or_404(TrainingSession, session_id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        abort(400)
    enrolment_ids = queries.enrolment_ids(session_row.id)
    entries: dict[uuid.UUID, services.AttendanceInput] = {}
    parse_problems: list[Problem] = []
    for enrolment_id in enrolment_ids:
        status = request.form.get(f"status_{enrolment_id}")
        if status is None:
            continue
        raw = (request.form.get(f"hours_{enrolment_id}") or "").strip()
        hours = None
        if raw:
            try:
                hours = Decimal(raw)
                if not hours.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                parse_problems.append(Problem("bad_number", f"hours_{enrolment_id}"))
                continue
        entries[enrolment_id] = services.AttendanceInput(status=status, hours=hours)
    problems: dict[str, list[str]] = {}
    try:
        if parse_problems:
            raise Invalid(parse_problems)
        granted = services.record_attendance(session_row, entries, by=current_user)
    except Invalid as exc:
        # keep nothing; each message goes next to its trainee's row
        discard()
        for problem in exc.problems:
            problems.setdefault(problem.field or "", []).append(problem.message())
        flash(_("Nothing was saved: check the highlighted rows."), "error")
        return _render_session(
            get_or_404(TrainingSession, session_id),
            problems=problems,
            submitted=dict(request.form),
            status=422,
        )
    flash(_("Attendance saved."), "success")
    if granted:
        flash(_("%(count)d certificates granted by this course.", count=len(granted)), "success")
    return redirect(url_for("training.session", session_id=session_row.id))


@bp.route("/training/enrolments/<uuid:enrolment_id>/evaluation", methods=["GET", "POST"])
@require(RUN_TRAINING)
def evaluation(enrolment_id: uuid.UUID) -> Any:
    enrolment = get_or_404(Enrolment, enrolment_id)
    session_row = get_or_404(TrainingSession, enrolment.session_id)
    course_row = queries.course_of(session_row)
    form = EvaluationForm(obj=enrolment)
    if request.method == "GET":
        form.comment.data = enrolment.evaluation_comment
    if form.validate_on_submit():
        data = services.EvaluationInput(
            satisfaction=form.satisfaction.data,
            knowledge_score=form.knowledge_score.data,
            practical_rating=form.practical_rating.data,
            teamwork_rating=form.teamwork_rating.data,
            transfer_rating=form.transfer_rating.data,
            comment=form.comment.data or "",
        )
        if attempt(form, lambda: services.record_evaluation(enrolment, data, by=current_user)):
            flash(_("Evaluation saved."), "success")
            return redirect(url_for("training.session", session_id=session_row.id))
    name = staffing.names_of([enrolment.staff_file_id]).get(enrolment.staff_file_id, "")
    return render_template(
        "training/evaluation.html",
        form=form,
        enrolment=enrolment,
        session_row=session_row,
        course=course_row,
        name=name,
    ), form_status()


# -- transcripts ------------------------------------------------------------------------------------


def _render_transcript(staff: StaffFile, *, mine: bool) -> Any:
    person = staffing.staff_person(staff.id)
    return render_template(
        "training/transcript.html",
        staff=staff,
        person=person,
        transcript=transcript_of(staff),
        mine=mine,
        settings=workforce_settings(),
    )


@bp.route("/training/staff/<uuid:staff_id>")
@require(VIEW_TRAINING_RECORDS)
def transcript(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id, own_ok=True)
    return _render_transcript(staff, mine=staff.membership_id == current_membership().id)


@bp.route("/my/training")
@require(VIEW_TRAINING_RECORDS)
def my_training() -> Any:
    staff = staffing.staff_of_membership(current_membership().id)
    if staff is None:
        return render_template("staffing/no_file.html")
    return _render_transcript(staff, mine=True)


# -- compliance --------------------------------------------------------------------------------------


def _compliance_args() -> dict[str, str]:
    reason = request.args.get("reason") or "behind"
    sort = request.args.get("sort") or "name"
    return {
        "q": (request.args.get("q") or "").strip()[:100],
        "role": request.args.get("role") if request.args.get("role") in dict(choices("staff_role")) else "",
        "reason": reason if reason in queries.COMPLIANCE_REASONS else "behind",
        "sort": sort if sort in queries.COMPLIANCE_SORTS else "name",
    }


@bp.route("/training/compliance")
@require(RUN_TRAINING)
def compliance() -> Any:
    args = _compliance_args()
    stmt = queries.compliance_query(
        q=args["q"], staff_role=args["role"], reason=args["reason"], sort=args["sort"]
    )
    page = paginate(stmt, scalars=False)
    return render_template(
        "training/compliance.html",
        page=page,
        args=args,
        settings=workforce_settings(),
        roles=choices("staff_role"),
        reasons=queries.COMPLIANCE_REASONS,
        sorts=queries.COMPLIANCE_SORTS,
    )


@bp.route("/training/compliance.csv")
@require(RUN_TRAINING)
def compliance_csv() -> Any:
    args = _compliance_args()
    settings = workforce_settings()
    rows = queries.compliance_rows(
        q=args["q"], staff_role=args["role"], reason=args["reason"], sort=args["sort"]
    )
    header = [
        "name", "email", "staff_role", "pre_service_hours", "pre_service_required", "annual_hours",
        "annual_required", "certificates_missing", "certificates_expired", "certificates_expiring", "behind",
    ]  # fmt: skip

    def behind(r: Any) -> str:
        reasons = []
        if r.pre_service_hours < settings.pre_service_hours:
            reasons.append(_("pre-service hours"))
        if r.annual_hours < settings.annual_training_hours:
            reasons.append(_("annual hours"))
        if r.missing or r.expired:
            reasons.append(_("certificates"))
        return "; ".join(reasons)

    return csv_response(
        "training-compliance.csv",
        header,
        (
            [
                r.name,
                r.email,
                workforce_label("staff_role", r.staff_role),
                r.pre_service_hours,
                settings.pre_service_hours,
                r.annual_hours,
                settings.annual_training_hours,
                r.missing,
                r.expired,
                r.expiring,
                behind(r),
            ]
            for r in rows
        ),
    )
