"""/a/<slug>/billing/: the agency admins' billing pages (plan, subscription,
invoices), their data exports, and the list of operators' view-as sessions."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

import billing.jobs  # noqa: F401 - registers the billing jobs
import billing.listeners  # noqa: F401 - staff changes ask for a quantity sync
from billing import (
    EXPORT_AGENCY_DATA,
    MANAGE_BILLING,
    exports,
    impersonation,
    lifecycle,
    queries,
    services,
    stripe_client,
)
from billing.forms import CheckoutForm
from billing.models import DataExport, Plan
from saas import audit, tenancy
from saas.lifecycle import discard, refuse
from saas.permissions import require
from saas.tenancy import current_agency, get_or_404

bp = Blueprint("billing", __name__, url_prefix="/a/<slug>/billing")

# The billing state and view-as sessions decide what every agency request may do.
tenancy.MEMBERSHIP_FALLBACKS.append(impersonation.membership_for)
tenancy.ACCESS_GUARDS.append(impersonation.guard)
tenancy.ACCESS_GUARDS.append(lifecycle.gate)


@bp.app_context_processor
def _billing_globals() -> dict[str, Any]:
    membership = g.get("membership") if has_request_context() else None
    agency = g.get("agency") if membership else None
    return {
        "billing_banner": lifecycle.banner(agency, membership),
        "impersonation_banner": impersonation.banner(),
        "billing_state_label": lifecycle.state_label,
    }


def _plan_choices(plans: list[Plan]) -> list[tuple[str, str]]:
    return [(str(p.id), p.name) for p in plans]


@bp.route("/")
@require(MANAGE_BILLING)
def index() -> Any:
    agency = current_agency()
    stripe_mode = stripe_client.enabled()
    plans = services.active_plans()
    form = CheckoutForm()
    form.plan.choices = _plan_choices([p for p in plans if p.stripe_price_id])
    if agency.plan_id:
        form.plan.data = str(agency.plan_id)
    plan = queries.plan(agency.plan_id)
    carers = lifecycle.active_carers()
    invoices = queries.invoices(50)
    return render_template(
        "billing/index.html",
        stripe_mode=stripe_mode,
        plan=plan,
        plans=plans,
        form=form,
        carers=carers,
        monthly=services.monthly_amount(plan, carers),
        subscription=queries.subscription(),
        invoices=invoices,
        can_grow=lifecycle.can_grow(agency),
    )


def _to_stripe(stripe_url: Callable[[], str], unreachable: str) -> Any:
    """Send the admin to the Stripe page `stripe_url()` opens; when a billing
    rule refuses or Stripe is out of reach, keep nothing and go back to the
    billing page with the refusal or the `unreachable` message."""
    try:
        url = stripe_url()
    except services.BillingError as exc:
        refuse(None, exc)
    except stripe_client.StripeUnavailable:
        discard()
        flash(unreachable, "error")
    else:
        return redirect(url, code=303)
    return redirect(url_for("billing.index"))


@bp.route("/checkout", methods=["POST"])
@require(MANAGE_BILLING)
def checkout() -> Any:
    if not stripe_client.enabled():
        abort(404)
    agency = current_agency()
    form = CheckoutForm()
    form.plan.choices = _plan_choices([p for p in services.active_plans() if p.stripe_price_id])
    if not form.validate_on_submit():
        flash(_("Choose a plan."), "error")
        return redirect(url_for("billing.index"))
    plan = queries.plan(uuid.UUID(form.plan.data))

    def checkout_url() -> str:
        services.ensure_customer(agency, current_user.email)
        return services.start_checkout(
            agency,
            plan,
            success_url=url_for("billing.checkout_return", _external=True)
            + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=url_for("billing.index", _external=True),
            by=current_user,
        )

    return _to_stripe(
        checkout_url, _("Stripe could not be reached. Nothing was charged; try again in a few minutes.")
    )


@bp.route("/checkout/done")
@require(MANAGE_BILLING)
def checkout_return() -> Any:
    flash(
        _("Thank you. Your subscription starts as soon as Stripe confirms the payment (usually at once)."),
        "success",
    )
    return redirect(url_for("billing.index"))


@bp.route("/portal", methods=["POST"])
@require(MANAGE_BILLING)
def portal() -> Any:
    if not stripe_client.enabled():
        abort(404)
    return _to_stripe(
        lambda: services.portal_url(current_agency(), return_url=url_for("billing.index", _external=True)),
        _("Stripe could not be reached. Try again in a few minutes."),
    )


# -- exports ------------------------------------------------------------------------------


@bp.route("/exports")
@require(EXPORT_AGENCY_DATA)
def exports_page() -> Any:
    rows = queries.exports(50)
    return render_template(
        "billing/exports.html",
        rows=rows,
        request_url=url_for("billing.request_export"),
        export_url=lambda e: url_for("billing.export", export_id=e.id),
        closed=current_agency().is_closed,
        export_until=lifecycle.export_until(current_agency()) if current_agency().closed_at else None,
    )


@bp.route("/exports", methods=["POST"])
@require(EXPORT_AGENCY_DATA)
def request_export() -> Any:
    export = exports.request_export(current_agency(), by=current_user, by_operator=False)
    flash(_("Your export is being prepared."), "success")
    return redirect(url_for("billing.export", export_id=export.id))


@bp.route("/exports/<uuid:export_id>")
@require(EXPORT_AGENCY_DATA)
def export(export_id: uuid.UUID) -> Any:
    row = get_or_404(DataExport, export_id)
    return export_page(
        row,
        url_for("billing.download_export", export_id=row.id, sig=exports.sign(row))
        if row.status == "ready"
        else None,
        url_for("billing.exports_page"),
    )


def export_page(row: DataExport, download_url: str | None, back_url: str, **context: Any) -> Any:
    """The progress page; refreshes itself (a Refresh header: no script) until ready."""
    response = make_response(
        render_template(
            "billing/export.html", export=row, download_url=download_url, back_url=back_url, **context
        )
    )
    if row.status in ("queued", "running"):
        response.headers["Refresh"] = "3"
    return response


@bp.route("/exports/<uuid:export_id>/download")
@require(EXPORT_AGENCY_DATA)
def download_export(export_id: uuid.UUID) -> Any:
    row = get_or_404(DataExport, export_id)
    return send_export(row, request.args.get("sig", ""))


def send_export(row: DataExport, signature: str) -> Any:
    """Shared with the operators' download: 404 for a link that is not this
    export's, 410 with an explanation once it has expired."""
    try:
        exports.check_link(row, signature)
    except exports.ExportLinkInvalid:
        abort(404)
    except exports.ExportLinkExpired:
        return render_template("billing/export_expired.html", export=row), 410
    audit.record("export.downloaded", str(row.id), by_operator=bool(current_user.is_operator))
    return send_file(
        io.BytesIO(exports.content_of(row)),
        mimetype="application/zip",
        as_attachment=True,
        download_name=row.filename,
    )


# -- operators' view-as sessions ---------------------------------------------------------------


@bp.route("/access")
@require(MANAGE_BILLING)
def impersonations() -> Any:
    return impersonation.render_sessions()
