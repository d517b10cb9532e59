"""The client portal: a client's visits and asking to cancel one."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from saas import db
from saas.permissions import USE_PORTAL, require
from saas.tenancy import current_agency, current_membership, get_or_404
from tenants.scheduling import queries, services
from tenants.scheduling.forms import ReasonForm
from tenants.scheduling.models import Visit
from tenants.scheduling.views.blueprint import bp, local, portal_client_ids


@bp.route("/portal")
@require(USE_PORTAL)
def portal() -> Any:
    agency = current_agency()
    client_ids = portal_client_ids()
    now = db.utcnow()
    upcoming, past = [], []
    if client_ids:
        upcoming = queries.upcoming_portal_visits(client_ids, now)
        past = queries.past_portal_visits(client_ids, now)
    return render_template(
        "scheduling/portal.html",
        upcoming=upcoming,
        past=past,
        local=lambda m: local(agency, m),
        reason_form=ReasonForm(formdata=None),
    )


@bp.route("/portal/visits/<uuid:visit_id>/cancel-request", methods=["POST"])
@require(USE_PORTAL)
def request_cancel(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    if visit.client_id not in portal_client_ids():
        abort(404)
    form = ReasonForm()
    if not services.may_request_cancellation(visit):
        flash(_("This visit can no longer be changed."), "error")
    elif not form.validate_on_submit():
        flash(_("Tell us why, in a few words."), "error")
    else:
        services.request_cancellation(visit, current_membership().id, form.reason.data)
        flash(_("Your request was sent to the agency."), "success")
    return redirect(url_for("scheduling.portal"))
