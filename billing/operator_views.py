"""The operators' billing console under /operator/: plans, each agency's
billing (manual invoices and payments, plan, cancel and close), view-as
sessions and agency data exports. Operators only; anyone else gets a 404."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from billing import exports, impersonation, lifecycle, queries, services, stripe_client
from billing.forms import (
    ChangePlanForm,
    InvoiceForm,
    PaymentForm,
    PlanForm,
    PlatformSettingsForm,
    ReasonForm,
    method_choices,
)
from billing.models import (
    BillingState,
    DataExport,
    Invoice,
    Plan,
)
from billing.views import export_page, send_export
from saas import db
from saas.lifecycle import attempt
from saas.models import Agency
from saas.operator.views import operators_only
from saas.platform_settings import platform_setting, update_platform_setting

bp = Blueprint("billing_operator", __name__, url_prefix="/operator")
bp.before_request(operators_only)


def _agency_or_404(agency_id: uuid.UUID) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        abort(404)
    return agency


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


# -- platform settings -----------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
def platform_settings() -> Any:
    key = lifecycle.EXPORT_WINDOW_DAYS.key
    form = PlatformSettingsForm()
    if form.validate_on_submit() and attempt(
        form, lambda: update_platform_setting(key, form.export_window_days.data, by=current_user.id)
    ):
        flash(_("Saved."), "success")
        return redirect(url_for("billing_operator.platform_settings"))
    if not form.is_submitted():
        form.export_window_days.data = str(platform_setting(key))
    return render_template(
        "billing/operator/platform_settings.html", form=form, setting=lifecycle.EXPORT_WINDOW_DAYS
    ), (422 if form.is_submitted() else 200)


# -- plans -----------------------------------------------------------------------------


@bp.route("/plans")
def plans() -> Any:
    rows = queries.plans_for_operators()
    return render_template("billing/operator/plans.html", rows=rows, stripe_mode=stripe_client.enabled())


def _plan_page(form: PlanForm, plan: Plan | None) -> Any:
    if form.validate_on_submit():
        saved: list[Plan] = []
        if attempt(
            form,
            lambda: saved.append(
                services.save_plan(
                    plan,
                    by=current_user,
                    name=form.name.data,
                    pricing=form.pricing.data,
                    price=form.price.data,
                    currency=form.currency.data,
                    max_carers=form.max_carers.data,
                    max_clients=form.max_clients.data,
                    features=(form.features.data or "").splitlines(),
                    trial_days=form.trial_days.data,
                    stripe_price_id=form.stripe_price_id.data,
                    active=form.active.data,
                )
            ),
        ):
            flash(_("Plan %(name)s saved.", name=saved[0].name), "success")
            return redirect(url_for("billing_operator.plans"))
    status = 422 if form.is_submitted() else 200
    return render_template("billing/operator/plan_form.html", form=form, plan=plan), status


@bp.route("/plans/new", methods=["GET", "POST"])
def new_plan() -> Any:
    form = PlanForm()
    if not form.is_submitted():
        form.trial_days.data = lifecycle.trial_days()
    return _plan_page(form, None)


@bp.route("/plans/<uuid:billing_plan_id>", methods=["GET", "POST"])
def edit_plan(billing_plan_id: uuid.UUID) -> Any:
    plan = db.session.get(Plan, billing_plan_id)
    if plan is None:
        abort(404)
    form = PlanForm(obj=plan) if request.method == "GET" else PlanForm()
    if request.method == "GET":
        form.features.data = "\n".join(plan.features or [])
    return _plan_page(form, plan)


# -- one agency's billing ------------------------------------------------------------------


@bp.route("/agencies/<uuid:agency_id>/billing")
def agency_billing(agency_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    plan_form = ChangePlanForm()
    plan_form.plan.choices = [(str(p.id), p.name) for p in services.active_plans()]
    plan_form.plan.data = str(agency.plan_id) if agency.plan_id else None
    with db.tenant_scope(agency.id):
        subscription = queries.subscription()
        invoices = queries.invoices(100)
        payments = queries.payments(200)
        export_rows = queries.exports(20)
        sessions = queries.impersonation_sessions(20)
        carers = lifecycle.active_carers()
    plan = db.session.get(Plan, agency.plan_id) if agency.plan_id else None
    return render_template(
        "billing/operator/agency.html",
        agency=agency,
        plan=plan,
        carers=carers,
        monthly=services.monthly_amount(plan, carers),
        subscription=subscription,
        invoices=invoices,
        payments=payments,
        exports=export_rows,
        sessions=sessions,
        plan_form=plan_form,
        invoice_form=InvoiceForm(formdata=None),
        payment_form=PaymentForm(formdata=None),
        payment_methods=method_choices(),
        reason_form=ReasonForm(formdata=None),
        stripe_mode=stripe_client.enabled(),
        now=db.utcnow(),
        states=BillingState,
    )


def _back(agency: Agency) -> Any:
    return redirect(url_for("billing_operator.agency_billing", agency_id=agency.id))


def _flash_form_errors(form: Any) -> None:
    for name, errors in form.errors.items():
        label = form[name].label.text if name in form else name
        for error in errors:
            flash(f"{label}: {error}", "error")


@bp.route("/agencies/<uuid:agency_id>/billing/plan", methods=["POST"])
def set_plan(agency_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    form = ChangePlanForm()
    form.plan.choices = [(str(p.id), p.name) for p in services.active_plans()]
    if form.validate_on_submit():
        if attempt(
            None,
            lambda: services.set_plan(
                agency, db.session.get(Plan, uuid.UUID(form.plan.data)), by=current_user
            ),
        ):
            flash(_("Plan changed."), "success")
    else:
        _flash_form_errors(form)
    return _back(agency)


@bp.route("/agencies/<uuid:agency_id>/billing/invoices", methods=["POST"])
def record_invoice(agency_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    form = InvoiceForm()
    if form.validate_on_submit():
        recorded: list[Invoice] = []
        if attempt(
            None,
            lambda: recorded.append(
                services.record_invoice(
                    agency,
                    amount=form.amount.data,
                    currency=form.currency.data,
                    description=form.description.data,
                    period_start=_start_of(form.period_start.data),
                    period_end=_start_of(form.period_end.data),
                    due_at=_start_of(form.due_on.data),
                    by=current_user,
                )
            ),
        ):
            flash(_("Invoice %(number)s recorded.", number=recorded[0].number), "success")
    else:
        _flash_form_errors(form)
    return _back(agency)


@bp.route("/agencies/<uuid:agency_id>/billing/invoices/<uuid:invoice_id>/payments", methods=["POST"])
def record_payment(agency_id: uuid.UUID, invoice_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    with db.tenant_scope(agency.id):
        invoice = queries.invoice(invoice_id)
    if invoice is None:
        abort(404)
    form = PaymentForm()
    if form.validate_on_submit():
        if attempt(
            None,
            lambda: services.record_payment(
                agency,
                invoice,
                amount=form.amount.data,
                method=form.method.data,
                reference=form.reference.data or "",
                paid_at=_start_of(form.paid_on.data),
                by=current_user,
            ),
        ):
            flash(_("Payment recorded."), "success")
    else:
        _flash_form_errors(form)
    return _back(agency)


@bp.route("/agencies/<uuid:agency_id>/billing/cancel", methods=["POST"])
def cancel(agency_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    form = ReasonForm()
    if form.validate_on_submit():
        if lifecycle.cancel(
            agency,
            reason=form.reason.data,
            access_until=agency.current_period_end if agency.current_period_end else None,
            actor_id=current_user.id,
        ):
            flash(_("The agency is cancelled; it keeps read access until its period ends."), "success")
    else:
        _flash_form_errors(form)
    return _back(agency)


@bp.route("/agencies/<uuid:agency_id>/billing/close", methods=["POST"])
def close(agency_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    form = ReasonForm()
    if form.validate_on_submit():
        if lifecycle.close(agency, reason=form.reason.data, actor_id=current_user.id):
            flash(_("The agency is closed. Its admins can export its data for 30 days."), "success")
    else:
        _flash_form_errors(form)
    return _back(agency)


# -- view as an agency admin ------------------------------------------------------------------


@bp.route("/agencies/<uuid:agency_id>/impersonate", methods=["POST"])
def impersonate(agency_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(url_for("operator.agency", agency_id=agency.id))
    if not attempt(None, lambda: impersonation.start(agency, current_user, form.reason.data)):
        return redirect(url_for("operator.agency", agency_id=agency.id))
    return redirect(url_for("home.index", slug=agency.slug))


@bp.route("/impersonation/end", methods=["POST"])
def end_impersonation() -> Any:
    agency = impersonation.end("ended")
    flash(_("You are no longer viewing the agency."), "success")
    if agency is not None:
        return redirect(url_for("operator.agency", agency_id=agency.id))
    return redirect(url_for("operator.index"))


# -- exports ------------------------------------------------------------------------------------


@bp.route("/agencies/<uuid:agency_id>/exports", methods=["POST"])
def request_export(agency_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    if agency.purged_at is not None:
        abort(404)
    export = exports.request_export(agency, by=current_user, by_operator=True)
    flash(_("The export is being prepared."), "success")
    return redirect(url_for("billing_operator.export", agency_id=agency.id, export_id=export.id))


def _export_or_404(agency: Agency, export_id: uuid.UUID) -> DataExport:
    with db.tenant_scope(agency.id):
        row = queries.export(export_id)
    if row is None:
        abort(404)
    return row


@bp.route("/agencies/<uuid:agency_id>/exports/<uuid:export_id>")
def export(agency_id: uuid.UUID, export_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    row = _export_or_404(agency, export_id)
    download = None
    if row.status == "ready":
        download = url_for(
            "billing_operator.download_export", agency_id=agency.id, export_id=row.id, sig=exports.sign(row)
        )
    return export_page(
        row, download, url_for("billing_operator.agency_billing", agency_id=agency.id), for_agency=agency
    )


@bp.route("/agencies/<uuid:agency_id>/exports/<uuid:export_id>/download")
def download_export(agency_id: uuid.UUID, export_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    row = _export_or_404(agency, export_id)
    db.set_tenant(agency.id)
    return send_export(row, request.args.get("sig", ""))
