"""A case: its page, its stages, assessments, risks, closure and follow-ups."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas.lifecycle import attempt
from saas.permissions import require
from saas.tenancy import current_agency, get_or_404
from tenants.clients import MANAGE_CASES, queries, services
from tenants.clients.forms import AssessmentForm, CloseCaseForm, FollowUpForm, RiskForm, domain_label
from tenants.clients.models import ASSESSMENT_DOMAINS, CaseStatus, FollowUp
from tenants.clients.views.blueprint import bp, case_and_client


@bp.route("/cases/<uuid:case_id>")
@require(MANAGE_CASES)
def case(case_id: uuid.UUID) -> Any:
    case, client = case_and_client(case_id)
    found = queries.case_file(case)
    services.log_file_access(client.id, current_user.id, "case")
    return render_template(
        "clients/case.html",
        case=case,
        client=client,
        assessments=found.assessments,
        risks=found.risks,
        high=services.high_risks(current_agency(), found.risks[0] if found.risks else None),
        plans=found.plans,
        follow_ups=found.follow_ups,
        transitions=found.transitions,
        domains=ASSESSMENT_DOMAINS,
        domain_label=domain_label,
        risk_score=services.risk_score,
    )


@bp.route("/cases/<uuid:case_id>/stage", methods=["POST"])
@require(MANAGE_CASES)
def move_case(case_id: uuid.UUID) -> Any:
    case, _client = case_and_client(case_id)
    target = request.form.get("to", "")
    if target not in {s.value for s in CaseStatus} or target == CaseStatus.CLOSED:
        abort(400)
    attempt(
        None,
        lambda: services.transition(
            case, target, by=current_user, note=(request.form.get("note") or "")[:500]
        ),
    )
    return redirect(url_for("clients.case", case_id=case.id))


@bp.route("/cases/<uuid:case_id>/special-programme", methods=["POST"])
@require(MANAGE_CASES)
def special_programme(case_id: uuid.UUID) -> Any:
    case, _client = case_and_client(case_id)
    special = request.form.get("special") == "1"
    services.set_special_programme(case, special, by=current_user)
    flash(
        _("Marked as a special programme: its file is kept for the longer retention period.")
        if special
        else _("No longer marked as a special programme."),
        "success",
    )
    return redirect(url_for("clients.case", case_id=case.id))


@bp.route("/cases/<uuid:case_id>/assessments/new", methods=["GET", "POST"])
@require(MANAGE_CASES)
def assess(case_id: uuid.UUID) -> Any:
    case, client = case_and_client(case_id)
    form = AssessmentForm()
    if request.method == "GET":
        form.assessed_on.data = services.agency_today(current_agency())
    if form.validate_on_submit():
        domains = {
            d: {"level": form[f"{d}_level"].data, "notes": form[f"{d}_notes"].data}
            for d in ASSESSMENT_DOMAINS
        }
        if attempt(
            form,
            lambda: services.record_assessment(
                case,
                method=form.method.data,
                assessed_on=form.assessed_on.data,
                domains=domains,
                summary=form.summary.data or "",
                by=current_user,
                today=services.agency_today(current_agency()),
            ),
        ):
            flash(_("Assessment recorded."), "success")
            return redirect(url_for("clients.case", case_id=case.id))
    return render_template(
        "clients/assessment_form.html",
        form=form,
        case=case,
        client=client,
        domains=ASSESSMENT_DOMAINS,
        domain_label=domain_label,
    ), (200 if request.method == "GET" else 422)


@bp.route("/cases/<uuid:case_id>/risks/new", methods=["GET", "POST"])
@require(MANAGE_CASES)
def assess_risk(case_id: uuid.UUID) -> Any:
    case, client = case_and_client(case_id)
    form = RiskForm()
    if request.method == "GET":
        form.assessed_on.data = services.agency_today(current_agency())
    if form.validate_on_submit():
        hazards = [
            {
                "hazard": h.form.hazard.data,
                "likelihood": h.form.likelihood.data,
                "impact": h.form.impact.data,
                "mitigation": h.form.mitigation.data,
            }
            for h in form.hazards
        ]
        if attempt(
            form,
            lambda: services.record_risks(
                case,
                assessed_on=form.assessed_on.data,
                hazards=hazards,
                by=current_user,
                today=services.agency_today(current_agency()),
            ),
        ):
            flash(_("Risk assessment recorded."), "success")
            return redirect(url_for("clients.case", case_id=case.id))
    return render_template("clients/risk_form.html", form=form, case=case, client=client), (
        200 if request.method == "GET" else 422
    )


@bp.route("/cases/<uuid:case_id>/close", methods=["GET", "POST"])
@require(MANAGE_CASES)
def close(case_id: uuid.UUID) -> Any:
    case, client = case_and_client(case_id)
    form = CloseCaseForm()
    if request.method == "GET":
        form.closed_on.data = services.agency_today(current_agency())
    if form.validate_on_submit() and attempt(
        form,
        lambda: services.close_case(
            current_agency(),
            case,
            reason=form.reason.data,
            closed_on=form.closed_on.data,
            by=current_user,
        ),
    ):
        flash(_("Case closed. Follow-ups are scheduled."), "success")
        return redirect(url_for("clients.case", case_id=case.id))
    return render_template("clients/close.html", form=form, case=case, client=client), (
        200 if request.method == "GET" else 422
    )


@bp.route("/follow-ups/<uuid:follow_up_id>", methods=["GET", "POST"])
@require(MANAGE_CASES)
def follow_up(follow_up_id: uuid.UUID) -> Any:
    item = get_or_404(FollowUp, follow_up_id)
    case, client = case_and_client(item.case_id)
    form = FollowUpForm(obj=item)
    if request.method == "GET" and item.done_on is None:
        form.done_on.data = services.agency_today(current_agency())
    if form.validate_on_submit() and attempt(
        form,
        lambda: services.record_follow_up(
            item,
            case,
            done_on=form.done_on.data,
            method=form.method.data,
            outcome=form.outcome.data,
            new_intervention=bool(form.new_intervention.data),
            reopen=bool(form.reopen.data),
            by=current_user,
            today=services.agency_today(current_agency()),
        ),
    ):
        flash(_("Follow-up recorded."), "success")
        return redirect(url_for("clients.case", case_id=case.id))
    return render_template("clients/follow_up.html", form=form, item=item, case=case, client=client), (
        200 if request.method == "GET" else 422
    )
