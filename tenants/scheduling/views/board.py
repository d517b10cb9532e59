"""The coordinator's board and the visit sheet: assignment, rescheduling,
cancelling, flags, bulk assignment, one-off visits."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas import db
from saas.errors import DomainError
from saas.lifecycle import attempt, discard, field_of, refuse
from saas.permissions import can, require
from saas.tenancy import current_agency, current_membership, get_or_404
from tenants.clients.models import Client, ServicePlan
from tenants.clients.services import emergency_contacts_of, high_risks
from tenants.scheduling import MANAGE_VISITS, RECORD_VISITS, queries, services
from tenants.scheduling.forms import (
    AssignForm,
    BulkAssignForm,
    CheckInForm,
    OneOffVisitForm,
    ReasonForm,
    RescheduleForm,
)
from tenants.scheduling.labels import visit_status_label
from tenants.scheduling.models import Visit, VisitStatus
from tenants.scheduling.services import AssignmentRefused
from tenants.scheduling.views.blueprint import bp, local, my_staff_id, visit_for_user
from tenants.staffing.errors import Invalid


@bp.route("/visits")
@require(MANAGE_VISITS)
def board() -> Any:
    agency = current_agency()
    now = db.utcnow()
    found = queries.board(now)
    day_status = request.args.get("day_status", "")
    if day_status not in {s.value for s in VisitStatus}:
        day_status = ""
    return render_template(
        "scheduling/board.html",
        today=queries.day_visits(agency.today(), day_status or None),
        day_status=day_status,
        status_labels={s.value: visit_status_label(s.value) for s in VisitStatus},
        flagged=found.flagged,
        unassigned=found.unassigned,
        attention=found.attention,
        requests=found.requests,
        at_risk=queries.visits_at_risk(agency, now),
        local=lambda m: local(agency, m),
    )


def _sheet_context(visit: Visit) -> dict[str, Any]:
    """Everything the visit sheet shows, in a fixed number of queries."""
    agency = current_agency()
    sheet = queries.visit_sheet(visit, reader=current_user.id)
    return {
        "visit": visit,
        "client": sheet.client,
        "item_name": sheet.item_name,
        "high": high_risks(agency, sheet.risk),
        "last": sheet.last,
        "record": sheet.record,
        "carer": sheet.carer,
        "overrides": sheet.overrides,
        # part of the sheet, whose read of the client's file is logged
        "contacts": emergency_contacts_of(visit.client_id),
        "starts": local(agency, visit.starts_at),
        "ends": local(agency, visit.ends_at),
        "local": lambda m: local(agency, m),
        "past": visit.is_past(db.utcnow()),
        # check-in and check-out are the assigned carer's own (the service refuses anyone else)
        "mine": visit.staff_file_id is not None
        and can(RECORD_VISITS)
        and visit.staff_file_id == my_staff_id(),
    }


@bp.route("/visits/<uuid:visit_id>")
def visit(visit_id: uuid.UUID) -> Any:
    visit = visit_for_user(visit_id)
    context = _sheet_context(visit)
    if can(MANAGE_VISITS) and visit.still_to_plan(db.utcnow()):
        assign_form = AssignForm()
        assign_form.staff_id.choices = queries.carer_choices()
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


def _assign_page(visit_id: uuid.UUID, form: AssignForm, refused: AssignmentRefused | None = None) -> Any:
    """The visit sheet again with the assignment form's refusals and messages
    (nothing of the post kept)."""
    discard()
    context = _sheet_context(get_or_404(Visit, visit_id))
    context.update(
        assign_form=form,
        reschedule_form=RescheduleForm(formdata=None),
        reason_form=ReasonForm(formdata=None),
        suggestions=[],
        refusals=refused.refusals if refused else [],
        refusals_overridable=bool(refused and refused.overridable),
        checkin_form=CheckInForm(formdata=None),
    )
    return render_template("scheduling/visit.html", **context), 422


@bp.route("/visits/<uuid:visit_id>/assign", methods=["POST"])
@require(MANAGE_VISITS)
def assign(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = AssignForm()
    form.staff_id.choices = queries.carer_choices()
    if not form.validate_on_submit():
        if form.staff_id.errors:
            form.staff_id.errors = [_("Choose a carer from the list.")]
        return _assign_page(visit_id, form)
    try:
        services.assign_and_tell(
            current_agency(),
            visit,
            uuid.UUID(form.staff_id.data),
            by=current_user,
            role=current_membership().role,
            override_reason=form.override_reason.data or "",
        )
    except AssignmentRefused as exc:
        return _assign_page(visit_id, form, exc)
    except Invalid as exc:  # the workforce package's caseload rule
        discard()
        flash(" ".join(p.message() for p in exc.problems), "error")
    except DomainError as exc:
        if field_of(form, exc.field) is not None:
            refuse(form, exc)
            return _assign_page(visit_id, form)
        refuse(None, exc)
    else:
        flash(_("Visit assigned."), "success")
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/visits/<uuid:visit_id>/unassign", methods=["POST"])
@require(MANAGE_VISITS)
def unassign(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    attempt(None, lambda: services.unassign_and_tell(current_agency(), visit))
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/visits/<uuid:visit_id>/reschedule", methods=["POST"])
@require(MANAGE_VISITS)
def reschedule(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = RescheduleForm()
    if not form.validate_on_submit():
        flash(_("Give the new date, time and a reason."), "error")
    elif attempt(
        None,
        lambda: services.reschedule(
            current_agency(),
            visit,
            day=form.day.data,
            start=form.start_time.data,
            reason=form.reason.data,
            by=current_user,
        ),
    ):
        flash(_("Visit moved; the carer and the client are told."), "success")
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/visits/<uuid:visit_id>/cancel", methods=["POST"])
@require(MANAGE_VISITS)
def cancel(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give a reason."), "error")
    elif attempt(
        None, lambda: services.cancel(current_agency(), visit, reason=form.reason.data, by=current_user)
    ):
        flash(_("Visit cancelled; the carer and the client are told."), "success")
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/visits/<uuid:visit_id>/resolve", methods=["POST"])
@require(MANAGE_VISITS)
def resolve(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = ReasonForm()
    if form.validate_on_submit() and attempt(
        None, lambda: services.resolve_flag(visit, form.reason.data, current_user)
    ):
        flash(_("Resolved."), "success")
    return redirect(url_for("scheduling.board"))


@bp.route("/visits/<uuid:visit_id>/attention-resolved", methods=["POST"])
@require(MANAGE_VISITS)
def attention_resolved(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    if services.resolve_attention(visit) is None:
        abort(404)
    flash(_("Marked as dealt with."), "success")
    return redirect(url_for("scheduling.board"))


@bp.route("/plans/<uuid:plan_id>/bulk-assign", methods=["GET", "POST"])
@require(MANAGE_VISITS)
def bulk_assign(plan_id: uuid.UUID) -> Any:
    plan = get_or_404(ServicePlan, plan_id)
    form = BulkAssignForm()
    form.staff_id.choices = queries.carer_choices()
    if form.validate_on_submit():
        assigned, refused = services.bulk_assign(
            current_agency(), plan, uuid.UUID(form.staff_id.data), by=current_user
        )
        flash(
            _("%(a)d visits assigned; %(r)d did not pass the checks and stay open.", a=assigned, r=refused),
            "success" if not refused else "warning",
        )
        return redirect(url_for("clients.plan", plan_id=plan.id))
    return render_template("scheduling/bulk_assign.html", form=form, plan=plan)


@bp.route("/clients/<uuid:client_id>/visits/new", methods=["GET", "POST"])
@require(MANAGE_VISITS)
def one_off(client_id: uuid.UUID) -> Any:
    client = get_or_404(Client, client_id)
    form = OneOffVisitForm()
    form.service_item_id.choices = queries.service_choices()
    booked: list[Visit] = []
    if form.validate_on_submit() and attempt(
        form,
        lambda: booked.append(
            services.add_one_off_visit(
                current_agency(),
                client,
                service_item_id=uuid.UUID(form.service_item_id.data),
                day=form.day.data,
                start=form.start_time.data,
                duration_minutes=form.duration_minutes.data,
                by=current_user,
            )
        ),
    ):
        flash(_("Visit booked."), "success")
        return redirect(url_for("scheduling.visit", visit_id=booked[0].id))
    return render_template("scheduling/one_off.html", form=form, client=client), (
        200 if request.method == "GET" else 422
    )
