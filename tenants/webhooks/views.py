"""The webhook pages: the endpoints, one endpoint with its delivery log and
each attempt, and the redelivery button."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas.lifecycle import attempt, form_status
from saas.pagination import paginate
from saas.permissions import require
from saas.tenancy import get_or_404
from tenants.webhooks import MANAGE_WEBHOOKS, labels, queries, services
from tenants.webhooks.forms import EndpointForm
from tenants.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

bp = Blueprint("webhooks", __name__, url_prefix="/a/<slug>")
bp.app_template_global("delivery_status_label")(labels.delivery_status_label)
bp.app_template_global("attempt_error_label")(labels.attempt_error_label)


@bp.route("/webhooks", methods=["GET", "POST"])
@require(MANAGE_WEBHOOKS)
def index() -> Any:
    form = EndpointForm()
    made: list[tuple[WebhookEndpoint, str]] = []
    if form.validate_on_submit() and attempt(
        form,
        lambda: made.append(
            services.create_endpoint(
                form.url.data, form.events.data or [], form.description.data or "", by=current_user
            )
        ),
    ):
        endpoint, secret = made[0]
        return render_template(
            "webhooks/index.html",
            form=EndpointForm(formdata=None),
            rows=queries.endpoints(),
            new=(endpoint, secret),
        )
    status = form_status() if request.method == "POST" else 200
    return render_template("webhooks/index.html", form=form, rows=queries.endpoints(), new=None), status


@bp.route("/webhooks/<uuid:endpoint_id>", methods=["GET", "POST"])
@require(MANAGE_WEBHOOKS)
def endpoint(endpoint_id: uuid.UUID) -> Any:
    found = get_or_404(WebhookEndpoint, endpoint_id)
    form = EndpointForm(obj=found)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and attempt(
            form,
            lambda: services.update_endpoint(
                found,
                form.url.data,
                form.events.data or [],
                form.description.data or "",
                bool(form.active.data),
            ),
        ):
            flash(_("Saved."), "success")
            return redirect(url_for("webhooks.endpoint", endpoint_id=found.id))
        status = 422
    shown = request.args.get("status") or ""
    if shown not in {s.value for s in DeliveryStatus}:
        shown = ""
    page = paginate(
        queries.deliveries_statement(found.id, shown or None).order_by(
            WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()
        ),
        per_page=25,
    )
    attempts = queries.attempts_of([d.id for d in page.items])
    return render_template(
        "webhooks/endpoint.html",
        endpoint=found,
        form=form,
        page=page,
        attempts=attempts,
        shown=shown,
        statuses=[(s.value, labels.delivery_status_label(s.value)) for s in DeliveryStatus],
    ), status


@bp.route("/webhooks/<uuid:endpoint_id>/delete", methods=["POST"])
@require(MANAGE_WEBHOOKS)
def delete(endpoint_id: uuid.UUID) -> Any:
    services.delete_endpoint(get_or_404(WebhookEndpoint, endpoint_id))
    flash(_("Webhook removed."), "success")
    return redirect(url_for("webhooks.index"))


@bp.route("/webhooks/deliveries/<uuid:delivery_id>/redeliver", methods=["POST"])
@require(MANAGE_WEBHOOKS)
def redeliver(delivery_id: uuid.UUID) -> Any:
    delivery = get_or_404(WebhookDelivery, delivery_id)
    services.redeliver(delivery, by=current_user)
    flash(_("Sent again: its attempts appear below."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=delivery.endpoint_id))
