"""Service plans: the draft, its services, submission, approval, activation."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from billing.lifecycle import require_can_grow
from saas.errors import error_message
from saas.lifecycle import attempt, keep
from saas.permissions import require
from saas.settings import agency_setting
from saas.tenancy import current_agency, current_membership, get_or_404
from tenants.clients import MANAGE_CASES, queries, services
from tenants.clients.errors import ClientError
from tenants.clients.forms import PlanForm, PlanItemForm
from tenants.clients.models import ServicePlan, ServicePlanItem
from tenants.clients.services import activate_plan, approve_plan, return_plan, submit_plan
from tenants.clients.signals import PlanBooked
from tenants.clients.views.blueprint import bp, case_and_client


def _plan_context(plan: ServicePlan) -> dict[str, Any]:
    case, client = case_and_client(plan.case_id)
    return {
        "plan": plan,
        "case": case,
        "client": client,
        "items": queries.plan_lines(plan),
        "people": queries.plan_people(plan),
        # said beside the submit button, before it is refused
        "needs_contact": plan.status == "draft"
        and agency_setting(current_agency(), "plan_needs_emergency_contact")
        and not services.has_emergency_contact(client.id),
        # Approve is offered only to whoever may approve; others are told why not
        "approval_refusal": _approval_refusal(plan),
    }


def _approval_refusal(plan: ServicePlan) -> str | None:
    if plan.status != "submitted":
        return None
    code = services.approval_refusal(current_agency(), plan, by=current_user, role=g_role())
    return error_message(ClientError(code)) if code else None


def _plan_forms(plan: ServicePlan) -> tuple[Any, Any]:
    form = PlanForm(obj=plan, prefix="plan")
    item_form = PlanItemForm(prefix="item")
    item_form.service_item_id.choices = [(str(i), n) for i, n in queries.active_service_items()]
    carers = queries.active_carers()
    item_form.preferred_staff.choices = [(str(m), n) for m, n in carers]
    return form, item_form


@bp.route("/cases/<uuid:case_id>/plans", methods=["POST"])
@require(MANAGE_CASES)
@require_can_grow
def new_plan(case_id: uuid.UUID) -> Any:
    case, _client = case_and_client(case_id)
    created: list[ServicePlan] = []
    if not attempt(None, lambda: created.append(services.new_plan(case, by=current_user))):
        return redirect(url_for("clients.case", case_id=case.id))
    return redirect(url_for("clients.plan", plan_id=created[0].id))


@bp.route("/plans/<uuid:plan_id>", methods=["GET", "POST"])
@require(MANAGE_CASES)
def plan(plan_id: uuid.UUID) -> Any:
    plan = get_or_404(ServicePlan, plan_id)
    form, item_form = _plan_forms(plan)
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        if attempt(
            form,
            lambda: services.update_plan(
                plan,
                services.PlanFields(
                    goals=form.goals.data or "",
                    budget=form.budget.data,
                    risk_plan=form.risk_plan.data or "",
                    review_on=form.review_on.data,
                    starts_on=form.starts_on.data,
                    ends_on=form.ends_on.data,
                ),
                by=current_user,
            ),
        ):
            flash(_("Saved."), "success")
            return redirect(url_for("clients.plan", plan_id=plan.id))
        status = 422
    elif request.method == "POST":
        status = 422
    context = _plan_context(plan)
    services.log_file_access(context["client"].id, current_user.id, "plan")
    keep()  # the read is logged even when the form comes back with its errors
    return render_template("clients/plan.html", form=form, item_form=item_form, **context), status


@bp.route("/plans/<uuid:plan_id>/items", methods=["POST"])
@require(MANAGE_CASES)
def add_plan_item(plan_id: uuid.UUID) -> Any:
    plan = get_or_404(ServicePlan, plan_id)
    form, item_form = _plan_forms(plan)
    if item_form.validate_on_submit() and attempt(
        item_form,
        lambda: services.add_plan_item(
            plan,
            services.PlanItemData(
                service_item_id=uuid.UUID(item_form.service_item_id.data),
                weekdays=item_form.weekdays.data or [],
                start_time=item_form.start_time.data,
                duration_minutes=item_form.duration_minutes.data,
                preferred_staff_ids=[uuid.UUID(s) for s in item_form.preferred_staff.data or []],
                notes=item_form.notes.data or "",
            ),
            by=current_user,
        ),
    ):
        flash(_("Service added to the plan."), "success")
        return redirect(url_for("clients.plan", plan_id=plan.id))
    context = _plan_context(plan)
    return render_template("clients/plan.html", form=form, item_form=item_form, **context), 422


@bp.route("/plans/<uuid:plan_id>/items/<uuid:plan_item_id>/remove", methods=["POST"])
@require(MANAGE_CASES)
def remove_plan_item(plan_id: uuid.UUID, plan_item_id: uuid.UUID) -> Any:
    plan = get_or_404(ServicePlan, plan_id)
    item = get_or_404(ServicePlanItem, plan_item_id)
    attempt(None, lambda: services.remove_plan_item(plan, item, by=current_user))
    return redirect(url_for("clients.plan", plan_id=plan.id))


@bp.route("/plans/<uuid:plan_id>/<any(submit,approve,return,activate):action>", methods=["POST"])
@require(MANAGE_CASES)
def plan_action(plan_id: uuid.UUID, action: str) -> Any:
    plan = get_or_404(ServicePlan, plan_id)
    case, _client = case_and_client(plan.case_id)
    messages = {
        "submit": _("Plan submitted for approval."),
        "approve": _("Plan approved."),
        "return": _("Plan returned to its author."),
        "activate": _("Plan is now active."),
    }

    def act() -> None:
        if action == "submit":
            submit_plan(plan, case, by=current_user, agency=current_agency())
        elif action == "approve":
            approve_plan(current_agency(), plan, case, by=current_user, role=g_role())
        elif action == "return":
            return_plan(plan, case, by=current_user, note=request.form.get("note", ""))
        else:
            booked.extend(activate_plan(plan, case, by=current_user))

    booked: list[PlanBooked] = []
    if attempt(None, act):
        flash(messages[action], "success")
        for answer in booked:
            _flash_booked(answer)
    return redirect(url_for("clients.plan", plan_id=plan.id))


def _flash_booked(answer: PlanBooked) -> None:
    """How many visits were booked and given to their preferred carer, and
    why the others stay open, for the coordinator to take up."""
    flash(
        ngettext(
            "%(num)d visit booked; %(assigned)d given to their preferred carer.",
            "%(num)d visits booked; %(assigned)d given to their preferred carer.",
            answer.booked,
            assigned=answer.assigned,
        ),
        "success",
    )
    if answer.left_open:
        reasons = "; ".join(f"{reason} ({count})" for reason, count in answer.reasons.items())
        flash(
            ngettext(
                "%(num)d visit stays without a carer: the preferred carer did not pass the checks "
                "(%(reasons)s).",
                "%(num)d visits stay without a carer: the preferred carer did not pass the checks "
                "(%(reasons)s).",
                answer.left_open,
                reasons=reasons,
            ),
            "warning",
        )


def g_role() -> str:
    membership = current_membership()
    return membership.role if membership else ""
