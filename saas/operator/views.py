"""/operator/: agencies, their first admins, suspension, the mail outbox and
the platform audit log. Only platform operators; anyone else gets a 404."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas import agencies, db
from saas.auth.services import AccountError, invite
from saas.lifecycle import refuse
from saas.models import Agency, AgencyStatus, Role
from saas.operator import queries
from saas.operator.forms import InviteAdminForm, ReasonForm
from saas.pagination import paginate

bp = Blueprint("operator", __name__, url_prefix="/operator")

# the agency list and the creation wizard are billing's (billing/operator_console.py)


@bp.before_request
def operators_only() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if not current_user.is_operator:
        abort(404)
    return None


def _agency_or_404(agency_id: uuid.UUID) -> Agency:
    agency = queries.agency(agency_id)
    if agency is None:
        abort(404)
    return agency


@bp.route("/agencies/<uuid:agency_id>")
def agency(agency_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    members = queries.members_of(agency)
    return render_template(
        "operator/agency.html",
        agency=agency,
        members=members,
        invite_form=InviteAdminForm(),
        reason_form=ReasonForm(),
    )


@bp.route("/agencies/<uuid:agency_id>/invite", methods=["POST"])
def invite_admin(agency_id: uuid.UUID) -> Any:
    agency = _agency_or_404(agency_id)
    form = InviteAdminForm()
    if form.validate_on_submit():
        with db.tenant_scope(agency.id):
            try:
                invite(agency, form.email.data, Role.ADMIN, invited_by=current_user)
            except AccountError as exc:
                refuse(None, exc)
                return redirect(url_for("operator.agency", agency_id=agency.id))
        flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
    else:
        for error in form.email.errors:
            flash(error, "error")
    return redirect(url_for("operator.agency", agency_id=agency.id))


@bp.route("/agencies/<uuid:agency_id>/suspend", methods=["POST"])
def suspend(agency_id: uuid.UUID) -> Any:
    return _set_status(agency_id, AgencyStatus.SUSPENDED, _("Agency suspended."))


@bp.route("/agencies/<uuid:agency_id>/reactivate", methods=["POST"])
def reactivate(agency_id: uuid.UUID) -> Any:
    return _set_status(agency_id, AgencyStatus.ACTIVE, _("Agency reactivated."))


def _set_status(agency_id: uuid.UUID, status: AgencyStatus, message: str) -> Any:
    agency = _agency_or_404(agency_id)
    form = ReasonForm()
    if form.validate_on_submit():
        agencies.set_status(agency, status, form.reason.data or "")
        flash(message, "success")
    return redirect(url_for("operator.agency", agency_id=agency.id))


@bp.route("/outbox")
def outbox() -> Any:
    page = paginate(queries.outbox())
    return render_template("operator/outbox.html", page=page)


@bp.route("/outbox/<uuid:message_id>")
def outbox_message(message_id: uuid.UUID) -> Any:
    message = queries.mail_message(message_id)
    if message is None:
        abort(404)
    return render_template("operator/outbox_message.html", message=message)


@bp.route("/audit")
def audit_log() -> Any:
    page = paginate(queries.platform_audit())
    return render_template("operator/audit.html", page=page)
