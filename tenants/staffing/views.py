"""Staff pages: the staff list, each staff file and what is kept on it, the
caseload view, workforce settings, certificate types, spreadsheet imports and
exports."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, and_, case, func, literal, or_, select

from billing.lifecycle import can_grow, refusal_response, require_can_grow
from saas import db
from saas.models import Membership, Role, User
from saas.pagination import contains_pattern, paginate
from saas.tenancy import current_agency, current_membership, get_or_404, require_role
from tenants.spreadsheets import csv_response, split_list
from tenants.staffing import imports, services, teams
from tenants.staffing.errors import Invalid
from tenants.staffing.forms import (
    CaseloadForm,
    CertificateForm,
    CertificateTypeForm,
    EndCaseloadForm,
    ImportForm,
    NewStaffForm,
    OverrideForm,
    RatingForm,
    RecruitmentForm,
    ReviewForm,
    RewardForm,
    SettingsForm,
    StaffForm,
    TeamForm,
    TimeOffForm,
)
from tenants.staffing.labels import choices, workforce_label
from tenants.staffing.models import (
    REVIEW_DIMENSIONS,
    STAFF_ROLES,
    WEEKDAYS,
    AssignabilityOverride,
    CaseloadAssignment,
    Certificate,
    CertificateType,
    ImportBatch,
    PerformanceReview,
    RecruitmentRecord,
    ReviewRating,
    RewardPenalty,
    StaffDocument,
    StaffFile,
    StaffTimeOff,
    Team,
)
from tenants.staffing.pages import STAFF, VIEWERS, import_upload
from tenants.staffing.pages import attempt as _attempt
from tenants.staffing.pages import is_admin as _is_admin
from tenants.staffing.pages import is_viewer as _is_viewer
from tenants.staffing.pages import staff_or_404 as _staff_or_404
from tenants.staffing.settings import NUMBERS, local_today, save_workforce_settings, workforce_settings

bp = Blueprint("staffing", __name__, url_prefix="/a/<slug>")


@bp.app_template_global()
def wf_label(group: str, code: str | None) -> str:
    return workforce_label(group, code)


@bp.app_template_filter()
def wf_hours(value: Any) -> str:
    if value is None:
        return "0"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


# -- the staff list ---------------------------------------------------------------------


def staff_list_query(
    q: str, role: str, status: str, area: str, skill: str, language: str, today: date
) -> Select:
    stmt = (
        select(StaffFile, User.name, User.email, Membership.active)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
    )
    if q:
        like = contains_pattern(q.lower())
        stmt = stmt.where(
            or_(
                func.lower(User.name).like(like, escape="\\"),
                User.email.like(like, escape="\\"),
                StaffFile.staff_number == q,
            )
        )
    if role in STAFF_ROLES:
        stmt = stmt.where(StaffFile.staff_role == role)
    employed = and_(
        Membership.active.is_(True),
        StaffFile.employment_start <= today,
        or_(StaffFile.employment_end.is_(None), StaffFile.employment_end > today),
    )
    if status == "active":
        stmt = stmt.where(employed)
    elif status == "inactive":
        stmt = stmt.where(~employed)
    if area:
        stmt = stmt.where(StaffFile.home_area == area)
    if skill:
        stmt = stmt.where(StaffFile.skills.contains([skill]))
    if language:
        stmt = stmt.where(StaffFile.languages.contains([language]))
    return stmt.order_by(func.lower(User.name), User.email, StaffFile.id)


def _list_args() -> dict[str, str]:
    args = {k: (request.args.get(k) or "").strip()[:100] for k in ("q", "role", "area", "skill", "language")}
    args["status"] = request.args.get("status") or "active"
    return args


@bp.route("/staff")
@require_role(*VIEWERS)
def index() -> Any:
    args = _list_args()
    today = local_today()
    page = paginate(
        db.session,
        staff_list_query(
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


# matches no row: a choice that is not a UUID is refused by the service next to
# its field, instead of being read as "none"
NOT_A_CHOICE = uuid.UUID(int=0)


def _chosen_id(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    return _uuid_or_none(value) or NOT_A_CHOICE


def _save_staff(form: StaffForm, staff: StaffFile | None, created: list[StaffFile]) -> None:
    """Add or update the file and its team in one transaction."""
    if staff is None:
        staff = services.add_staff(form.email.data, form.name.data or "", _staff_input(form), by=current_user)
        created.append(staff)
    else:
        services.update_staff(staff, _staff_input(form))
    teams.place_in_team(staff, _chosen_id(form.team_id.data))


@bp.route("/staff/new", methods=["GET", "POST"])
@require_role(Role.ADMIN)
@require_can_grow
def new() -> Any:
    form = NewStaffForm()
    _team_choices(form)
    if request.method == "GET":
        form.employment_start.data = local_today()
    created: list[StaffFile] = []
    if form.validate_on_submit() and _attempt(form, lambda: _save_staff(form, None, created)):
        flash(_("Staff file opened."), "success")
        return redirect(url_for("staffing.file", staff_id=created[0].id))
    return render_template(
        "staffing/edit.html", form=form, staff=None
    ), 422 if request.method == "POST" else 200


@bp.route("/staff/<uuid:staff_id>/edit", methods=["GET", "POST"])
@require_role(Role.ADMIN)
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
    if form.validate_on_submit() and _attempt(form, lambda: _save_staff(form, staff, [])):
        flash(_("Staff file saved."), "success")
        return redirect(url_for("staffing.file", staff_id=staff.id))
    person = services.staff_person(staff_id)
    return render_template("staffing/edit.html", form=form, staff=staff, person=person), (
        422 if request.method == "POST" else 200
    )


# -- the staff file -------------------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>")
@require_role(*STAFF)
def file(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id, own_ok=True)
    return _render_file(staff)


def _render_file(staff: StaffFile, forms: dict[str, Any] | None = None, status: int = 200) -> Any:
    from tenants.training.services import transcript

    staff, membership, user = services.staff_person(staff.id)
    today = local_today()
    settings = workforce_settings()
    fit = services.assignability(staff.id, today).get(staff.id)
    certificates = services.certificates_of([staff.id], today).get(staff.id, [])
    assignments = db.session.scalars(
        select(CaseloadAssignment)
        .where(
            CaseloadAssignment.staff_file_id == staff.id,
            or_(CaseloadAssignment.ends_on.is_(None), CaseloadAssignment.ends_on > today),
        )
        .order_by(CaseloadAssignment.starts_on.desc())
    ).all()
    load = services.current_loads([staff.id], today).get(staff.id, (0, 0))
    time_off = db.session.scalars(
        select(StaffTimeOff)
        .where(StaffTimeOff.staff_file_id == staff.id, StaffTimeOff.ends_on >= today)
        .order_by(StaffTimeOff.starts_on)
    ).all()
    recruitment = db.session.scalar(
        select(RecruitmentRecord).where(RecruitmentRecord.staff_file_id == staff.id)
    )
    reviews = db.session.scalars(
        select(PerformanceReview)
        .where(PerformanceReview.staff_file_id == staff.id)
        .order_by(PerformanceReview.period_start.desc())
    ).all()
    ratings = (
        db.session.scalars(
            select(ReviewRating).where(ReviewRating.review_id.in_([r.id for r in reviews]))
        ).all()
        if reviews
        else []
    )
    summaries = {
        r.id: services.review_summary(r, [x for x in ratings if x.review_id == r.id]) for r in reviews
    }
    rewards = db.session.scalars(
        select(RewardPenalty)
        .where(RewardPenalty.staff_file_id == staff.id)
        .order_by(RewardPenalty.on_date.desc())
    ).all()
    overrides = db.session.scalars(
        select(AssignabilityOverride)
        .where(AssignabilityOverride.staff_file_id == staff.id)
        .order_by(AssignabilityOverride.created_at.desc())
        .limit(10)
    ).all()
    names = services.user_names(
        [o.created_by_id for o in overrides]
        + [o.revoked_by_id for o in overrides]
        + [r.recorded_by_id for r in rewards]
        + [recruitment.decided_by_id if recruitment else None]
    )
    forms = forms or {}
    if _is_admin():
        forms.setdefault("time_off", TimeOffForm(formdata=None))
        forms.setdefault("caseload", CaseloadForm(formdata=None, starts_on=today))
        forms.setdefault("review", ReviewForm(formdata=None))
        forms.setdefault("reward", RewardForm(formdata=None, on_date=today))
        forms.setdefault("override", OverrideForm(formdata=None))
        forms.setdefault("end", EndCaseloadForm(formdata=None))
    own = staff.membership_id == current_membership().id
    return render_template(
        "staffing/file.html",
        staff=staff,
        team=db.session.get(Team, (staff.tenant_id, staff.team_id)) if staff.team_id else None,
        membership_of_staff=membership,
        person=user,
        fit=fit,
        certificates=certificates,
        assignments=assignments,
        load=load,
        limits=(
            services.caseload_limit(staff, "individual", settings),
            services.caseload_limit(staff, "community", settings),
        ),
        time_off=time_off,
        recruitment=recruitment,
        reviews=reviews,
        summaries=summaries,
        rewards=rewards,
        overrides=overrides,
        names=names,
        forms=forms,
        transcript=transcript(staff, today),
        availability=services.availability_texts(staff.availability),
        weekdays=WEEKDAYS,
        employed=services.is_employed(staff, membership, today),
        today=today,
        own=own,
        is_admin=_is_admin(),
        is_viewer=_is_viewer(),
    ), status


@bp.route("/my/staff-file")
@require_role(*STAFF)
def my_file() -> Any:
    staff = services.staff_of_membership(current_membership().id)
    if staff is None:
        return render_template("staffing/no_file.html")
    return redirect(url_for("staffing.file", staff_id=staff.id))


# -- time off ---------------------------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>/time-off", methods=["POST"])
@require_role(Role.ADMIN)
def add_time_off(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = TimeOffForm()
    if form.validate_on_submit() and _attempt(
        form,
        lambda: services.add_time_off(staff, form.starts_on.data, form.ends_on.data, form.reason.data or ""),
    ):
        flash(_("Time off recorded."), "success")
        return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="time-off"))
    return _render_file(staff, {"time_off": form}, 422)


@bp.route("/staff/<uuid:staff_id>/time-off/<uuid:time_off_id>/delete", methods=["POST"])
@require_role(Role.ADMIN)
def remove_time_off(staff_id: uuid.UUID, time_off_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    entry = get_or_404(StaffTimeOff, time_off_id)
    if entry.staff_file_id != staff.id:
        abort(404)
    services.remove_time_off(entry)
    db.session.commit()
    flash(_("Time off removed."), "success")
    return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="time-off"))


# -- certificates -------------------------------------------------------------------------------


def _type_choices(form: CertificateForm) -> None:
    form.certificate_type_id.choices = [("", _("Choose…"))] + [
        (str(t.id), t.name) for t in services.certificate_types(active_only=True)
    ]


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@bp.route("/staff/<uuid:staff_id>/certificates/new", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def new_certificate(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = CertificateForm()
    _type_choices(form)
    if form.validate_on_submit():
        upload = form.document.data
        document = None
        if upload is not None and getattr(upload, "filename", ""):
            # read one byte past the limit: enough to refuse, never the whole of a huge upload
            data = upload.stream.read(services.MAX_DOCUMENT_BYTES + 1)
            document = (upload.filename, data)
        data_in = services.CertificateInput(
            certificate_type_id=_uuid_or_none(form.certificate_type_id.data),
            number=form.number.data or "",
            issuer=form.issuer.data or "",
            issued_on=form.issued_on.data,
            expires_on=form.expires_on.data,
        )
        if _attempt(
            form, lambda: services.add_certificate(staff, data_in, document=document, by=current_user)
        ):
            flash(_("Certificate added."), "success")
            return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="certificates"))
    person = services.staff_person(staff.id)
    return render_template("staffing/certificate_new.html", form=form, staff=staff, person=person), (
        422 if request.method == "POST" else 200
    )


@bp.route("/certificates/<uuid:certificate_id>/delete", methods=["POST"])
@require_role(Role.ADMIN)
def remove_certificate(certificate_id: uuid.UUID) -> Any:
    cert = get_or_404(Certificate, certificate_id)
    staff_id = cert.staff_file_id
    services.remove_certificate(cert)
    db.session.commit()
    flash(_("Certificate removed."), "success")
    return redirect(url_for("staffing.file", staff_id=staff_id, _anchor="certificates"))


@bp.route("/certificates/<uuid:certificate_id>/document")
@require_role(*STAFF)
def certificate_document(certificate_id: uuid.UUID) -> Any:
    """The scan, only as a download: attachment, its checked type, nosniff."""
    cert = get_or_404(Certificate, certificate_id)
    _staff_or_404(cert.staff_file_id, own_ok=True)
    if cert.document_id is None:
        abort(404)
    document = get_or_404(StaffDocument, cert.document_id)
    response = send_file(
        io.BytesIO(document.data),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
        max_age=0,
        etag=False,
        conditional=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- recruitment ---------------------------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>/recruitment", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def recruitment(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    record = services.recruitment_of(staff)
    form = RecruitmentForm(obj=record)
    if form.validate_on_submit():
        data = services.RecruitmentInput(
            **{name: getattr(form, name).data for name in services.RecruitmentInput.__dataclass_fields__}
        )
        data.notes = data.notes or ""
        if _attempt(form, lambda: services.update_recruitment(record, data, by=current_user)):
            flash(_("Recruitment record saved."), "success")
            return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="recruitment"))
    db.session.commit()  # a record made on first visit stays
    person = services.staff_person(staff.id)
    decided_by = (
        services.user_names([record.decided_by_id]).get(record.decided_by_id) if record.decided_by_id else ""
    )
    return render_template(
        "staffing/recruitment.html", form=form, staff=staff, person=person, decided_by=decided_by
    ), (422 if request.method == "POST" else 200)


# -- caseload -----------------------------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>/caseload", methods=["POST"])
@require_role(Role.ADMIN)
def assign_caseload(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = CaseloadForm()
    if form.validate_on_submit():
        data = services.CaseloadInput(
            kind=form.kind.data,
            label=form.label.data or "",
            reference=form.reference.data or "",
            residents=form.residents.data,
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
        )
        if _attempt(
            form,
            lambda: services.assign_caseload(
                staff, data, by=current_user, override_reason=form.override_reason.data or None
            ),
        ):
            flash(_("Added to the caseload."), "success")
            return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="caseload"))
    return _render_file(staff, {"caseload": form}, 422)


@bp.route("/caseload/<uuid:assignment_id>/end", methods=["POST"])
@require_role(Role.ADMIN)
def end_caseload(assignment_id: uuid.UUID) -> Any:
    assignment = get_or_404(CaseloadAssignment, assignment_id)
    form = EndCaseloadForm()
    form.validate_on_submit()
    try:
        services.end_caseload(assignment, form.ends_on.data)
    except Invalid as exc:
        db.session.rollback()
        for message in exc.messages():
            flash(message, "error")
    else:
        db.session.commit()
        flash(_("Caseload entry ended."), "success")
    return redirect(url_for("staffing.file", staff_id=assignment.staff_file_id, _anchor="caseload"))


def caseload_query(q: str, role: str, full_only: bool, sort: str, today: date) -> Select:
    """Each employed worker's current load against their limits, one statement."""
    settings = workforce_settings()
    individual, community = services.load_expression()
    loads = (
        select(
            CaseloadAssignment.staff_file_id.label("staff_file_id"),
            individual.label("individual"),
            community.label("community"),
        )
        .where(
            CaseloadAssignment.starts_on <= today,
            or_(CaseloadAssignment.ends_on.is_(None), CaseloadAssignment.ends_on > today),
        )
        .group_by(CaseloadAssignment.staff_file_id)
        .subquery("loads")
    )
    ind = func.coalesce(loads.c.individual, 0)
    com = func.coalesce(loads.c.community, 0)
    ind_limit = func.coalesce(StaffFile.caseload_limit, settings.caseload_limit_individual)
    com_limit = func.coalesce(StaffFile.community_limit, settings.caseload_limit_community)
    share = func.greatest(
        case(
            (ind_limit > 0, ind * 1.0 / func.nullif(ind_limit, 0)),
            else_=case((ind > 0, literal(999.0)), else_=0.0),
        ),
        case(
            (com_limit > 0, com * 1.0 / func.nullif(com_limit, 0)),
            else_=case((com > 0, literal(999.0)), else_=0.0),
        ),
    )
    stmt = (
        select(
            StaffFile.id.label("staff_file_id"),
            User.name.label("name"),
            User.email.label("email"),
            StaffFile.staff_role.label("staff_role"),
            ind.label("individual"),
            ind_limit.label("individual_limit"),
            com.label("community"),
            com_limit.label("community_limit"),
            share.label("share"),
        )
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .outerjoin(loads, loads.c.staff_file_id == StaffFile.id)
        .where(
            Membership.active.is_(True),
            StaffFile.employment_start <= today,
            or_(StaffFile.employment_end.is_(None), StaffFile.employment_end > today),
        )
    )
    if q:
        like = contains_pattern(q.lower())
        stmt = stmt.where(
            or_(func.lower(User.name).like(like, escape="\\"), User.email.like(like, escape="\\"))
        )
    if role in STAFF_ROLES:
        stmt = stmt.where(StaffFile.staff_role == role)
    if full_only:
        stmt = stmt.where(or_(ind >= ind_limit, com >= com_limit))
    if sort == "name":
        return stmt.order_by(func.lower(User.name), StaffFile.id)
    return stmt.order_by(share.desc(), func.lower(User.name), StaffFile.id)


@bp.route("/caseload")
@require_role(*VIEWERS)
def caseload() -> Any:
    q = (request.args.get("q") or "").strip()[:100]
    role = request.args.get("role") or ""
    full_only = request.args.get("full") == "1"
    sort = request.args.get("sort") or "load"
    page = paginate(db.session, caseload_query(q, role, full_only, sort, local_today()), scalars=False)
    return render_template(
        "staffing/caseload.html",
        page=page,
        q=q,
        role=role,
        full_only=full_only,
        sort=sort,
        roles=choices("staff_role"),
    )


# -- reviews, rewards and penalties -----------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>/reviews", methods=["POST"])
@require_role(Role.ADMIN)
def new_review(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = ReviewForm()
    created: list[PerformanceReview] = []
    if form.validate_on_submit() and _attempt(
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
    return _render_file(staff, {"review": form}, 422)


def _render_review(review: PerformanceReview, form: RatingForm | None = None, status: int = 200) -> Any:
    staff = _staff_or_404(review.staff_file_id, own_ok=True)
    person = services.staff_person(staff.id)
    ratings = db.session.scalars(
        select(ReviewRating).where(ReviewRating.review_id == review.id).order_by(ReviewRating.created_at)
    ).all()
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
        raters=services.user_names(r.rater_id for r in ratings),
        dimensions=REVIEW_DIMENSIONS,
        form=form,
        is_admin=_is_admin(),
    ), status


@bp.route("/reviews/<uuid:review_id>")
@require_role(*STAFF)
def review(review_id: uuid.UUID) -> Any:
    return _render_review(get_or_404(PerformanceReview, review_id))


@bp.route("/reviews/<uuid:review_id>/ratings", methods=["POST"])
@require_role(*STAFF)
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
            if _attempt(
                form,
                lambda: services.add_rating(
                    review_row, form.source.data, scores, form.comment.data or "", by=current_user
                ),
            ):
                flash(_("Rating added."), "success")
                return redirect(url_for("staffing.review", review_id=review_row.id))
    return _render_review(review_row, form, 422)


@bp.route("/staff/<uuid:staff_id>/rewards", methods=["POST"])
@require_role(Role.ADMIN)
def add_reward(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = RewardForm()
    if form.validate_on_submit() and _attempt(
        form,
        lambda: services.add_reward_penalty(
            staff, form.kind.data, form.on_date.data, form.reason.data or "", by=current_user
        ),
    ):
        flash(_("Recorded on the file."), "success")
        return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="rewards"))
    return _render_file(staff, {"reward": form}, 422)


# -- assignability override ----------------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>/override", methods=["POST"])
@require_role(Role.ADMIN)
def override(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = OverrideForm()
    if form.validate_on_submit() and _attempt(
        form,
        lambda: services.grant_override(staff, form.reason.data or "", form.expires_on.data, by=current_user),
    ):
        flash(_("Override recorded."), "success")
        return redirect(url_for("staffing.file", staff_id=staff.id))
    return _render_file(staff, {"override": form}, 422)


@bp.route("/overrides/<uuid:override_id>/revoke", methods=["POST"])
@require_role(Role.ADMIN)
def revoke_override(override_id: uuid.UUID) -> Any:
    row = get_or_404(AssignabilityOverride, override_id)
    services.revoke_override(row, by=current_user)
    db.session.commit()
    flash(_("Override withdrawn."), "success")
    return redirect(url_for("staffing.file", staff_id=row.staff_file_id))


# -- settings and certificate types ----------------------------------------------------------------


@bp.route("/workforce/settings", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def settings_page() -> Any:
    agency = current_agency()
    current = workforce_settings(agency)
    type_choices = [(str(t.id), t.name) for t in services.certificate_types(active_only=True)]
    form = SettingsForm()
    for role in STAFF_ROLES:
        getattr(form, f"required_{role}").choices = type_choices
    if request.method == "GET":
        for key in NUMBERS:
            getattr(form, key).data = int(getattr(current, key))
        for role in STAFF_ROLES:
            getattr(form, f"required_{role}").data = [str(i) for i in current.required_for(role)]
    if form.validate_on_submit():
        numbers = {key: getattr(form, key).data for key in NUMBERS}
        required = {
            role: [i for i in (_uuid_or_none(v) for v in getattr(form, f"required_{role}").data or []) if i]
            for role in STAFF_ROLES
        }
        if _attempt(form, lambda: save_workforce_settings(agency, numbers, required)):
            flash(_("Workforce settings saved."), "success")
            return redirect(url_for("staffing.settings_page"))
    return render_template("staffing/settings.html", form=form, roles=STAFF_ROLES), (
        422 if request.method == "POST" else 200
    )


@bp.route("/certificate-types", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def certificate_types() -> Any:
    form = CertificateTypeForm()
    if form.validate_on_submit() and _attempt(
        form, lambda: services.create_certificate_type(form.name.data, form.description.data or "")
    ):
        flash(_("Certificate type added."), "success")
        return redirect(url_for("staffing.certificate_types"))
    counts = dict(
        db.session.execute(
            select(Certificate.certificate_type_id, func.count()).group_by(Certificate.certificate_type_id)
        ).all()
    )
    return render_template(
        "staffing/certificate_types.html", form=form, types=services.certificate_types(), counts=counts
    ), (422 if request.method == "POST" else 200)


@bp.route("/certificate-types/<uuid:certificate_type_id>/retire", methods=["POST"])
@require_role(Role.ADMIN)
def retire_certificate_type(certificate_type_id: uuid.UUID) -> Any:
    kind = get_or_404(CertificateType, certificate_type_id)
    services.set_certificate_type_active(kind, False)
    db.session.commit()
    flash(_("Certificate type retired."), "success")
    return redirect(url_for("staffing.certificate_types"))


@bp.route("/certificate-types/<uuid:certificate_type_id>/reactivate", methods=["POST"])
@require_role(Role.ADMIN)
def reactivate_certificate_type(certificate_type_id: uuid.UUID) -> Any:
    kind = get_or_404(CertificateType, certificate_type_id)
    services.set_certificate_type_active(kind, True)
    db.session.commit()
    flash(_("Certificate type back in use."), "success")
    return redirect(url_for("staffing.certificate_types"))


# -- teams ----------------------------------------------------------------------------------------


def _supervisor_choices(form: TeamForm) -> None:
    form.supervisor_membership_id.choices = [("", _("No supervisor yet"))] + [
        (str(mid), name) for mid, name in teams.supervisor_choices()
    ]


def _team_input(form: TeamForm) -> teams.TeamInput:
    return teams.TeamInput(
        name=form.name.data or "",
        supervisor_membership_id=_chosen_id(form.supervisor_membership_id.data),
        active=bool(form.active.data),
    )


@bp.route("/teams", methods=["GET", "POST"])
@require_role(*VIEWERS)
def team_list() -> Any:
    form = TeamForm()
    _supervisor_choices(form)
    if request.method == "POST":
        if not _is_admin():
            abort(403)
        if form.validate_on_submit() and _attempt(form, lambda: teams.create_team(_team_input(form))):
            flash(_("Team added."), "success")
            return redirect(url_for("staffing.team_list"))
    return render_template("staffing/teams.html", form=form, rows=teams.team_rows()), (
        422 if request.method == "POST" else 200
    )


@bp.route("/teams/<uuid:team_id>/edit", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def team_edit(team_id: uuid.UUID) -> Any:
    team = get_or_404(Team, team_id)
    form = TeamForm(obj=team)
    _supervisor_choices(form)
    if request.method == "GET":
        form.supervisor_membership_id.data = str(team.supervisor_membership_id or "")
    if form.validate_on_submit() and _attempt(form, lambda: teams.update_team(team, _team_input(form))):
        flash(_("Team saved."), "success")
        return redirect(url_for("staffing.team_list"))
    return render_template("staffing/team_edit.html", form=form, team=team), (
        422 if request.method == "POST" else 200
    )


# -- imports ----------------------------------------------------------------------------------------

IMPORT_PAGES = {"staff": "staffing.index", "certificates": "staffing.index", "catalogue": "catalogue.index"}


@bp.route("/staff/import", methods=["GET", "POST"])
@require_role(Role.ADMIN)
@require_can_grow
def import_staff() -> Any:
    return import_upload("staff")


@bp.route("/certificates/import", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def import_certificates() -> Any:
    return import_upload("certificates")


def _batch_or_404(import_id: uuid.UUID) -> ImportBatch:
    return get_or_404(ImportBatch, import_id)


def _render_preview(batch: ImportBatch, checked: imports.Checked | None, status: int = 200) -> Any:
    importer = imports.importer_for(batch.kind)
    return render_template(
        "staffing/import_preview.html",
        batch=batch,
        checked=checked,
        columns=importer.columns,
        back=IMPORT_PAGES.get(batch.kind, "staffing.index"),
    ), status


@bp.route("/imports/<uuid:import_id>")
@require_role(Role.ADMIN)
def import_preview(import_id: uuid.UUID) -> Any:
    batch = _batch_or_404(import_id)
    checked = imports.check_batch(batch) if batch.status == "pending" else None
    return _render_preview(batch, checked)


@bp.route("/imports/<uuid:import_id>/save", methods=["POST"])
@require_role(Role.ADMIN)
def import_save(import_id: uuid.UUID) -> Any:
    batch = _batch_or_404(import_id)
    form = ImportForm()
    if not form.validate_on_submit():
        abort(400)
    if batch.kind == "staff" and not can_grow(current_agency()):
        return refusal_response(current_agency())
    try:
        count, _checked = imports.save_batch(batch, by=current_user)
    except Invalid:
        db.session.rollback()
        batch = _batch_or_404(import_id)
        checked = imports.check_batch(batch) if batch.status == "pending" else None
        flash(_("Nothing was saved: some rows have problems."), "error")
        return _render_preview(batch, checked, 422)
    db.session.commit()
    flash(_("%(count)d rows saved.", count=count), "success")
    return redirect(url_for(IMPORT_PAGES.get(batch.kind, "staffing.index")))


@bp.route("/imports/<uuid:import_id>/discard", methods=["POST"])
@require_role(Role.ADMIN)
def import_discard(import_id: uuid.UUID) -> Any:
    batch = _batch_or_404(import_id)
    imports.discard_batch(batch)
    db.session.commit()
    flash(_("Import discarded. Nothing was saved."), "success")
    return redirect(url_for(IMPORT_PAGES.get(batch.kind, "staffing.index")))


# -- exports ----------------------------------------------------------------------------------------


@bp.route("/staff/export.csv")
@require_role(*VIEWERS)
def export_staff() -> Any:
    rows = db.session.execute(
        select(StaffFile, User.name, User.email)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .order_by(func.lower(User.name), User.email)
    ).all()
    header = [c.key for c in imports.STAFF_COLUMNS]
    return csv_response(
        "staff.csv",
        header,
        (
            [
                email,
                name,
                s.staff_role,
                s.staff_number or "",
                s.employment_start,
                s.employment_end or "",
                wf_hours(s.contracted_hours),
                s.home_area,
                ", ".join(s.skills or []),
                ", ".join(s.languages or []),
            ]
            for s, name, email in rows
        ),
    )


@bp.route("/certificates/export.csv")
@require_role(*VIEWERS)
def export_certificates() -> Any:
    today = local_today()
    window = workforce_settings().certificate_expiring_days
    rows = db.session.execute(
        select(Certificate, CertificateType.name, StaffFile.staff_number, User.name, User.email)
        .join(CertificateType, CertificateType.id == Certificate.certificate_type_id)
        .join(StaffFile, StaffFile.id == Certificate.staff_file_id)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .order_by(func.lower(User.name), CertificateType.name, Certificate.issued_on)
    ).all()
    header = [c.key for c in imports.CERTIFICATE_COLUMNS]
    return csv_response(
        "certificates.csv",
        header,
        (
            [
                email,
                staff_number or "",
                name,
                type_name,
                c.number,
                c.issuer,
                c.issued_on,
                c.expires_on or "",
                services.certificate_status(c.expires_on, today, window),
            ]
            for c, type_name, staff_number, name, email in rows
        ),
    )


@bp.route("/staff/import/template.csv")
@require_role(Role.ADMIN)
def staff_template() -> Any:
    return csv_response("staff-template.csv", [c.key for c in imports.STAFF_COLUMNS], [])


@bp.route("/certificates/import/template.csv")
@require_role(Role.ADMIN)
def certificates_template() -> Any:
    return csv_response("certificates-template.csv", [c.key for c in imports.CERTIFICATE_COLUMNS], [])
