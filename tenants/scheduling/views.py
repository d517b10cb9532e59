"""The coordinator's visit board, the visit sheet, assignment, the carer's
schedule and check-in/out, the iCalendar feed, return visits, the client portal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2.filters import do_truncate
from sqlalchemy import and_, or_, select

from saas import db
from saas.auth import tokens
from saas.links import UrlPattern
from saas.models import Agency, Membership, Role, User
from saas.permissions import USE_PORTAL, can, require
from saas.tenancy import current_agency, current_membership, get_or_404
from tenants.clients import services as client_services
from tenants.clients.models import Client, RiskAssessment, ServicePlan
from tenants.scheduling import (
    MANAGE_VISITS,
    RECORD_RETURN_VISITS,
    RECORD_VISITS,
    VIEW_OWN_SCHEDULE,
    queries,
    services,
)
from tenants.scheduling.forms import (
    AssignForm,
    BulkAssignForm,
    CheckInForm,
    CheckOutForm,
    OneOffVisitForm,
    ReasonForm,
    RescheduleForm,
    ReturnVisitForm,
)
from tenants.scheduling.labels import visit_status_label
from tenants.scheduling.models import CalendarFeed, CancellationRequest, ServiceRecord, Visit, VisitStatus
from tenants.scheduling.services import AssignmentRefused, VisitError
from tenants.staffing.errors import Invalid

bp = Blueprint("scheduling", __name__, url_prefix="/a/<slug>")
bp.app_template_global("visit_status_label")(visit_status_label)


def visit_error_message(exc: VisitError) -> str:
    messages = {
        "not_open": lambda: _("This visit can no longer be changed."),
        "reason_required": lambda: _("Give a reason."),
        "time_format": lambda: _("Give the time as HH:MM."),
        "in_past": lambda: _("A visit cannot be booked in the past."),
        "too_far_ahead": lambda: _(
            "Book a visit within two years from today (until %(latest)s).", **exc.params
        ),
        "in_future": lambda: _("The date cannot be in the future."),
        "item_unknown": lambda: _("Choose an active service from the catalogue."),
        "duration_range": lambda: _("Between 5 minutes and 24 hours."),
        "not_yours": lambda: _("This visit is assigned to another carer."),
        "already_checked_in": lambda: _("You have already checked in to this visit."),
        "not_checked_in": lambda: _("Check in before checking out."),
        "already_checked_out": lambda: _("This visit is already checked out."),
        "too_early": lambda: _("It is too early to check in to this visit."),
        "position_invalid": lambda: _("The position is not a valid latitude and longitude."),
        "required": lambda: _("This field is required."),
        "checklist_mismatch": lambda: _("The checklist does not match this visit."),
        "not_flagged": lambda: _("This visit has no late or missed flag."),
    }
    return messages.get(exc.code, lambda: _("This change is not allowed."))()


def my_staff_id() -> uuid.UUID | None:
    from tenants.staffing.services import staff_of_membership

    membership = current_membership()
    staff = staff_of_membership(membership.id) if membership else None
    return staff.id if staff else None


def _visit_for_user(visit_id: uuid.UUID) -> Visit:
    """Coordinators see every visit; a carer only theirs (another's is a 404)."""
    visit = get_or_404(Visit, visit_id)
    role = current_membership().role
    if role in MANAGE_VISITS:
        return visit
    if role == Role.CARER and visit.staff_file_id is not None and visit.staff_file_id == my_staff_id():
        return visit
    abort(404)


def _local(agency: Agency, moment: datetime | None) -> datetime | None:
    return moment.astimezone(services.tz_of(agency)) if moment else None


# -- the coordinator's board ------------------------------------------------------------


@bp.route("/visits")
@require(MANAGE_VISITS)
def board() -> Any:
    agency = current_agency()
    now = db.utcnow()
    flagged = db.session.execute(
        select(Visit, Client.full_name)
        .join(Client, Client.id == Visit.client_id)
        .where(
            or_(Visit.late_flagged_at.isnot(None), Visit.missed_flagged_at.isnot(None)),
            Visit.flag_resolved_at.is_(None),
            Visit.checked_in_at.is_(None),
        )
        .order_by(Visit.starts_at)
        .limit(200)
    ).all()
    unassigned = db.session.execute(
        select(Visit, Client.full_name)
        .join(Client, Client.id == Visit.client_id)
        .where(
            Visit.staff_file_id.is_(None),
            Visit.status == VisitStatus.SCHEDULED,
            Visit.starts_at >= now,
            Visit.starts_at < now + timedelta(days=7),
        )
        .order_by(Visit.starts_at)
        .limit(200)
    ).all()
    attention = db.session.execute(
        select(ServiceRecord, Visit, Client.full_name)
        .join(Visit, Visit.id == ServiceRecord.visit_id)
        .join(Client, Client.id == Visit.client_id)
        .where(ServiceRecord.needs_attention.is_(True), ServiceRecord.attention_resolved_at.is_(None))
        .order_by(ServiceRecord.created_at)
        .limit(200)
    ).all()
    requests = db.session.execute(
        select(CancellationRequest, Visit, Client.full_name)
        .join(Visit, Visit.id == CancellationRequest.visit_id)
        .join(Client, Client.id == Visit.client_id)
        .where(CancellationRequest.handled_at.is_(None))
        .order_by(CancellationRequest.created_at)
        .limit(200)
    ).all()
    return render_template(
        "scheduling/board.html",
        flagged=flagged,
        unassigned=unassigned,
        attention=attention,
        requests=requests,
        local=lambda m: _local(agency, m),
    )


def _sheet_context(visit: Visit) -> dict[str, Any]:
    """Everything the visit sheet shows, in a fixed number of queries."""
    from tenants.catalogue.models import ServiceItem
    from tenants.clients.services import high_risks
    from tenants.staffing.services import names_of

    agency = current_agency()
    client = db.session.scalar(select(Client).where(Client.id == visit.client_id))
    item_name = db.session.scalar(select(ServiceItem.name).where(ServiceItem.id == visit.service_item_id))
    risk = db.session.scalar(
        select(RiskAssessment)
        .join(ServicePlan, ServicePlan.case_id == RiskAssessment.case_id, isouter=True)
        .where(RiskAssessment.case_id.in_(select(ServicePlan.case_id).where(ServicePlan.id == visit.plan_id)))
        .order_by(RiskAssessment.assessed_on.desc())
        .limit(1)
    )
    last = db.session.execute(
        select(ServiceRecord, Visit.starts_at)
        .join(Visit, Visit.id == ServiceRecord.visit_id)
        .where(Visit.client_id == visit.client_id, Visit.starts_at < visit.starts_at)
        .order_by(Visit.starts_at.desc())
        .limit(1)
    ).first()
    record = db.session.scalar(select(ServiceRecord).where(ServiceRecord.visit_id == visit.id))
    carer = names_of([visit.staff_file_id]).get(visit.staff_file_id) if visit.staff_file_id else None
    return {
        "visit": visit,
        "client": client,
        "item_name": item_name,
        "high": high_risks(agency, risk),
        "last": last,
        "record": record,
        "carer": carer,
        "starts": _local(agency, visit.starts_at),
        "ends": _local(agency, visit.ends_at),
        "local": lambda m: _local(agency, m),
    }


def _carer_choices() -> list[tuple[str, str]]:
    from tenants.staffing.models import StaffFile

    rows = db.session.execute(
        select(StaffFile.id, User.name)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True), Membership.role == Role.CARER)
        .order_by(User.name)
        .limit(2000)
    ).all()
    return [(str(i), n) for i, n in rows]


@bp.route("/visits/<uuid:visit_id>")
def visit(visit_id: uuid.UUID) -> Any:
    visit = _visit_for_user(visit_id)
    context = _sheet_context(visit)
    if can(MANAGE_VISITS):
        assign_form = AssignForm()
        assign_form.staff_id.choices = _carer_choices()
        context.update(
            assign_form=assign_form,
            reschedule_form=RescheduleForm(formdata=None),
            reason_form=ReasonForm(formdata=None),
            suggestions=services.suggest(current_agency(), visit)
            if visit.staff_file_id is None and visit.status == VisitStatus.SCHEDULED
            else [],
        )
    context["checkin_form"] = CheckInForm(formdata=None)
    return render_template("scheduling/visit.html", **context)


@bp.route("/visits/<uuid:visit_id>/assign", methods=["POST"])
@require(MANAGE_VISITS)
def assign(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = AssignForm()
    form.staff_id.choices = _carer_choices()
    if not form.validate_on_submit():
        flash(_("Choose a carer from the list."), "error")
        return redirect(url_for("scheduling.visit", visit_id=visit.id))
    try:
        services.assign(
            current_agency(),
            visit,
            uuid.UUID(form.staff_id.data),
            by=current_user,
            role=current_membership().role,
            override_reason=form.override_reason.data or "",
        )
    except AssignmentRefused as exc:
        db.session.rollback()
        context = _sheet_context(get_or_404(Visit, visit_id))
        context.update(
            assign_form=form,
            reschedule_form=RescheduleForm(formdata=None),
            reason_form=ReasonForm(formdata=None),
            suggestions=[],
            refusals=exc.refusals,
            checkin_form=CheckInForm(formdata=None),
        )
        return render_template("scheduling/visit.html", **context), 422
    except VisitError as exc:
        db.session.rollback()
        flash(visit_error_message(exc), "error")
    except Invalid as exc:  # the workforce package's caseload rule
        db.session.rollback()
        flash(" ".join(p.message() for p in exc.problems), "error")
    else:
        db.session.commit()
        flash(_("Visit assigned."), "success")
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/visits/<uuid:visit_id>/unassign", methods=["POST"])
@require(MANAGE_VISITS)
def unassign(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    try:
        services.unassign(visit)
    except VisitError as exc:
        db.session.rollback()
        flash(visit_error_message(exc), "error")
    else:
        db.session.commit()
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/visits/<uuid:visit_id>/reschedule", methods=["POST"])
@require(MANAGE_VISITS)
def reschedule(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = RescheduleForm()
    if form.validate_on_submit():
        try:
            services.reschedule(
                current_agency(),
                visit,
                day=form.day.data,
                start=form.start_time.data,
                reason=form.reason.data,
                by=current_user,
            )
        except VisitError as exc:
            db.session.rollback()
            flash(visit_error_message(exc), "error")
        else:
            db.session.commit()
            flash(_("Visit moved; the carer and the client are told."), "success")
    else:
        flash(_("Give the new date, time and a reason."), "error")
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/visits/<uuid:visit_id>/cancel", methods=["POST"])
@require(MANAGE_VISITS)
def cancel(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            services.cancel(current_agency(), visit, reason=form.reason.data, by=current_user)
            db.session.execute(
                CancellationRequest.__table__.update()
                .where(
                    CancellationRequest.tenant_id == visit.tenant_id,
                    CancellationRequest.visit_id == visit.id,
                    CancellationRequest.handled_at.is_(None),
                )
                .values(handled_at=db.utcnow(), outcome="cancelled")
            )
        except VisitError as exc:
            db.session.rollback()
            flash(visit_error_message(exc), "error")
        else:
            db.session.commit()
            flash(_("Visit cancelled; the carer and the client are told."), "success")
    else:
        flash(_("Give a reason."), "error")
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/visits/<uuid:visit_id>/resolve", methods=["POST"])
@require(MANAGE_VISITS)
def resolve(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            services.resolve_flag(visit, form.reason.data, current_user)
        except VisitError as exc:
            db.session.rollback()
            flash(visit_error_message(exc), "error")
        else:
            db.session.commit()
            flash(_("Resolved."), "success")
    return redirect(url_for("scheduling.board"))


@bp.route("/visits/<uuid:visit_id>/attention-resolved", methods=["POST"])
@require(MANAGE_VISITS)
def attention_resolved(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    record = db.session.scalar(select(ServiceRecord).where(ServiceRecord.visit_id == visit.id))
    if record is None:
        abort(404)
    record.attention_resolved_at = db.utcnow()
    db.session.commit()
    flash(_("Marked as dealt with."), "success")
    return redirect(url_for("scheduling.board"))


@bp.route("/plans/<uuid:plan_id>/bulk-assign", methods=["GET", "POST"])
@require(MANAGE_VISITS)
def bulk_assign(plan_id: uuid.UUID) -> Any:
    plan = get_or_404(ServicePlan, plan_id)
    form = BulkAssignForm()
    form.staff_id.choices = _carer_choices()
    if form.validate_on_submit():
        assigned, refused = services.bulk_assign(
            current_agency(), plan, uuid.UUID(form.staff_id.data), by=current_user
        )
        db.session.commit()
        flash(
            _("%(a)d visits assigned; %(r)d did not pass the checks and stay open.", a=assigned, r=refused),
            "success" if not refused else "warning",
        )
        return redirect(url_for("clients.plan", plan_id=plan.id))
    return render_template("scheduling/bulk_assign.html", form=form, plan=plan)


@bp.route("/clients/<uuid:client_id>/visits/new", methods=["GET", "POST"])
@require(MANAGE_VISITS)
def one_off(client_id: uuid.UUID) -> Any:
    from tenants.catalogue.models import ServiceItem

    client = get_or_404(Client, client_id)
    form = OneOffVisitForm()
    form.service_item_id.choices = [
        (str(i), n)
        for i, n in db.session.execute(
            select(ServiceItem.id, ServiceItem.name)
            .where(ServiceItem.active.is_(True))
            .order_by(ServiceItem.name)
        )
    ]
    if form.validate_on_submit():
        try:
            visit = services.add_one_off_visit(
                current_agency(),
                client,
                service_item_id=uuid.UUID(form.service_item_id.data),
                day=form.day.data,
                start=form.start_time.data,
                duration_minutes=form.duration_minutes.data,
                by=current_user,
            )
        except VisitError as exc:
            db.session.rollback()
            target = form[exc.field] if exc.field in form else None
            if target is not None:
                target.errors.append(visit_error_message(exc))
            else:
                flash(visit_error_message(exc), "error")
        else:
            db.session.commit()
            flash(_("Visit booked."), "success")
            return redirect(url_for("scheduling.visit", visit_id=visit.id))
    return render_template("scheduling/one_off.html", form=form, client=client), (
        200 if request.method == "GET" else 422
    )


# -- the carer --------------------------------------------------------------------------


@bp.route("/my/schedule")
@require(VIEW_OWN_SCHEDULE)
def my_schedule() -> Any:
    agency = current_agency()
    today = services.local_now(agency).date()
    rows = queries.member_schedule(agency, current_membership().id, today, today + timedelta(days=7))
    return render_template(
        "scheduling/my_schedule.html", days=schedule_days(rows or []), today=today, has_file=rows is not None
    )


@dataclass(slots=True)
class VisitCard:
    """A visit as the schedule page shows it."""

    id: uuid.UUID
    status: str
    label: str
    url: str
    time: str
    client: str
    service: str
    address: str | None
    notes: str | None


def schedule_days(rows: list[queries.ScheduleRow]) -> list[tuple[date, list[VisitCard]]]:
    """The schedule's cards by local day, made once per page: one URL pattern
    for the links, the labels translated once, the times and the last notes
    written here rather than by a template call per visit."""
    visit_url = UrlPattern("scheduling.visit", "visit_id")
    labels = {s.value: visit_status_label(s) for s in VisitStatus}
    env = current_app.jinja_env
    days: list[tuple[date, list[VisitCard]]] = []
    for row in rows:
        day = row.starts.date()
        if not days or days[-1][0] != day:
            days.append((day, []))
        days[-1][1].append(
            VisitCard(
                id=row.id,
                status=row.status,
                label=labels[row.status],
                url=visit_url(row.id),
                time=f"{_clock(row.starts)}–{_clock(row.ends)}",
                client=row.client,
                service=row.service,
                address=row.address,
                notes=do_truncate(env, row.last_notes, 140) if row.last_notes else None,
            )
        )
    return days


def _clock(moment: datetime) -> str:
    """HH:MM, as strftime("%H:%M") writes it, for a fraction of its cost."""
    return "%02d:%02d" % (moment.hour, moment.minute)  # noqa: UP031 - the fastest way


@bp.route("/visits/<uuid:visit_id>/check-in", methods=["POST"])
@require(RECORD_VISITS)
def check_in(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = CheckInForm()
    form.validate_on_submit()
    try:
        services.check_in(
            current_agency(),
            visit,
            staff_id=my_staff_id(),
            latitude=form.latitude.data,
            longitude=form.longitude.data,
        )
    except VisitError as exc:
        db.session.rollback()
        if exc.code == "not_yours":
            abort(404)
        flash(visit_error_message(exc), "error")
    else:
        db.session.commit()
        flash(_("Checked in."), "success")
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/visits/<uuid:visit_id>/check-out", methods=["GET", "POST"])
@require(RECORD_VISITS)
def check_out(visit_id: uuid.UUID) -> Any:
    visit = _visit_for_user(visit_id)
    form = CheckOutForm()
    if form.validate_on_submit():
        ticked = [request.form.get(f"point-{i}") == "on" for i in range(len(visit.checklist))]
        try:
            services.check_out(
                current_agency(),
                visit,
                services.RecordData(
                    ticked=ticked,
                    what_was_done=form.what_was_done.data,
                    tools_used=form.tools_used.data or "",
                    outcome=form.outcome.data or "",
                    notes=form.notes.data or "",
                    needs_attention=bool(form.needs_attention.data),
                ),
                staff_id=my_staff_id(),
                by=current_user,
            )
        except VisitError as exc:
            db.session.rollback()
            if exc.code == "not_yours":
                abort(404)
            flash(visit_error_message(exc), "error")
        else:
            db.session.commit()
            flash(_("Checked out. Thank you."), "success")
            return redirect(url_for("scheduling.my_schedule"))
    return render_template("scheduling/check_out.html", form=form, visit=visit), (
        200 if request.method == "GET" else 422
    )


@bp.route("/my/calendar", methods=["GET", "POST"])
@require(VIEW_OWN_SCHEDULE)
def my_calendar() -> Any:
    staff_id = my_staff_id()
    if staff_id is None:
        abort(404)
    url = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "revoke":
            revoke_feeds(staff_id)
            flash(_("Calendar link revoked."), "success")
        else:
            url = issue_feed(staff_id)
            flash(_("Add this link to your phone's calendar. Keep it private."), "success")
        db.session.commit()
    active = db.session.scalar(
        select(CalendarFeed.created_at).where(
            CalendarFeed.staff_file_id == staff_id, CalendarFeed.revoked_at.is_(None)
        )
    )
    return render_template("scheduling/my_calendar.html", url=url, active=active)


def revoke_feeds(staff_id: uuid.UUID) -> None:
    db.session.execute(
        CalendarFeed.__table__.update()
        .where(
            CalendarFeed.tenant_id == db.current_tenant_id(),
            CalendarFeed.staff_file_id == staff_id,
            CalendarFeed.revoked_at.is_(None),
        )
        .values(revoked_at=db.utcnow())
    )


def issue_feed(staff_id: uuid.UUID) -> str:
    """A new private feed URL (the previous one stops working)."""
    revoke_feeds(staff_id)
    secret = tokens.new_secret()
    db.session.add(CalendarFeed(staff_file_id=staff_id, token_hash=tokens.digest(secret)))
    return url_for("calendar_feed.ics", token=tokens.compose(db.current_tenant_id(), secret), _external=True)


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def render_ics(agency: Agency, rows: list[queries.ScheduleRow]) -> str:
    """RFC 5545. Times in UTC; the summary carries the client's first name and
    the service, never health data."""
    stamp = db.utcnow().strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//CareHub//Visits//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_ics_text(agency.name)}",
    ]
    for row in rows:
        first = (row.client or "").split(" ")[0]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{row.id}@carehub",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{row.starts_at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}",
            f"DTEND:{row.ends_at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}",
            f"SUMMARY:{_ics_text(first + ' · ' + row.service)}",
            f"LOCATION:{_ics_text(row.address or '')}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


# -- monthly return visits -------------------------------------------------------------------


@bp.route("/return-visits", methods=["GET", "POST"])
@require(RECORD_RETURN_VISITS)
def return_visits() -> Any:
    agency = current_agency()
    today = services.local_now(agency).date()
    raw = request.args.get("month", "")
    try:
        month = date.fromisoformat(raw + "-01") if raw else services.month_start(today)
    except ValueError:
        month = services.month_start(today)
    if not 2000 <= month.year <= 2100:
        month = services.month_start(today)
    role = current_membership().role
    form = ReturnVisitForm()
    rows = services.return_visits_for(month, current_agency())
    own = my_staff_id()
    if role == Role.CARER:
        rows = [r for r in rows if r.staff_file_id == own]
    form.staff_id.choices = sorted({(str(r.staff_file_id), r.worker) for r in rows}, key=lambda c: c[1])
    form.client_id.choices = sorted({(str(r.client_id), r.client) for r in rows}, key=lambda c: c[1])
    if form.validate_on_submit():
        staff_id = uuid.UUID(form.staff_id.data)
        if role == Role.CARER and staff_id != own:
            abort(403)
        try:
            services.record_return_visit(
                agency,
                staff_id=staff_id,
                client_id=uuid.UUID(form.client_id.data),
                visited_on=form.visited_on.data,
                notes=form.notes.data or "",
            )
        except VisitError as exc:
            db.session.rollback()
            form.visited_on.errors.append(visit_error_message(exc))
        else:
            db.session.commit()
            flash(_("Return visit recorded."), "success")
            return redirect(url_for("scheduling.return_visits", month=month.strftime("%Y-%m")))
    return render_template("scheduling/return_visits.html", rows=rows, month=month, today=today, form=form)


# -- the client portal -----------------------------------------------------------------------


def portal_client_ids() -> list[uuid.UUID]:
    return client_services.portal_client_ids(current_membership())


@bp.route("/portal")
@require(USE_PORTAL)
def portal() -> Any:
    agency = current_agency()
    client_ids = portal_client_ids()
    now = db.utcnow()
    upcoming, past = [], []
    if client_ids:
        upcoming = portal_visits(
            client_ids,
            and_(Visit.starts_at >= now, Visit.status == VisitStatus.SCHEDULED),
            Visit.starts_at.asc(),
        )
        past = portal_visits(client_ids, Visit.starts_at < now, Visit.starts_at.desc())
    return render_template(
        "scheduling/portal.html",
        upcoming=upcoming,
        past=past,
        local=lambda m: _local(agency, m),
        reason_form=ReasonForm(formdata=None),
    )


def portal_visits(client_ids: list[uuid.UUID], condition: Any, order: Any, limit: int = 30) -> list[Any]:
    """Visits for the portal: date, time, the carer's first name, the record
    summary; nothing else about the carer."""
    from tenants.catalogue.models import ServiceItem
    from tenants.staffing.models import StaffFile

    return db.session.execute(
        select(Visit, ServiceItem.name, User.name, ServiceRecord.what_was_done, CancellationRequest.id)
        .join(ServiceItem, ServiceItem.id == Visit.service_item_id)
        .outerjoin(StaffFile, StaffFile.id == Visit.staff_file_id)
        .outerjoin(Membership, Membership.id == StaffFile.membership_id)
        .outerjoin(User, User.id == Membership.user_id)
        .outerjoin(ServiceRecord, ServiceRecord.visit_id == Visit.id)
        .outerjoin(
            CancellationRequest,
            and_(CancellationRequest.visit_id == Visit.id, CancellationRequest.handled_at.is_(None)),
        )
        .where(Visit.client_id.in_(client_ids), condition)
        .order_by(order)
        .limit(limit)
    ).all()


@bp.route("/portal/visits/<uuid:visit_id>/cancel-request", methods=["POST"])
@require(USE_PORTAL)
def request_cancel(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    if visit.client_id not in portal_client_ids():
        abort(404)
    form = ReasonForm()
    if visit.status != VisitStatus.SCHEDULED or visit.starts_at <= db.utcnow():
        flash(_("This visit can no longer be changed."), "error")
    elif not form.validate_on_submit():
        flash(_("Tell us why, in a few words."), "error")
    else:
        exists = db.session.scalar(
            select(CancellationRequest.id).where(
                CancellationRequest.visit_id == visit.id, CancellationRequest.handled_at.is_(None)
            )
        )
        if exists is None:
            db.session.add(
                CancellationRequest(
                    visit_id=visit.id, membership_id=current_membership().id, reason=form.reason.data
                )
            )
            db.session.commit()
        flash(_("Your request was sent to the agency."), "success")
    return redirect(url_for("scheduling.portal"))
