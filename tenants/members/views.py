from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from billing.lifecycle import growth_refusal
from saas.auth.services import invite, is_being_sent
from saas.lifecycle import attempt
from saas.models import ApiToken, Invitation, Membership
from saas.pagination import paginate
from saas.permissions import MANAGE_MEMBERS, READ_AUDIT_LOG, USE_API_TOKENS, VIEW_MEMBERS, require
from saas.settings import agency_setting, update_settings
from saas.tenancy import CARERS_TWO_FACTOR, current_agency, current_membership, get_or_404
from tenants.members import queries, services
from tenants.members.forms import (
    ChangeRoleForm,
    InviteMemberForm,
    NewTokenForm,
    TwoFactorPolicyForm,
    role_choices,
)

bp = Blueprint("members", __name__, url_prefix="/a/<slug>")


def _members_page(form: InviteMemberForm) -> str:
    """The members list (searchable, paginated) with pending invitations."""
    q = (request.args.get("q") or "").strip()[:100]
    role = request.args.get("role") or ""
    page = paginate(queries.member_list(q, role), scalars=False)
    pending = queries.pending_invitations()
    return render_template(
        "members/index.html",
        page=page,
        pending=pending,
        # the job has not mailed these yet (it runs right after the request)
        being_sent={i.id for i in pending if is_being_sent(i)},
        q=q,
        role=role,
        roles=role_choices(),
        form=form,
        role_form=ChangeRoleForm(),
        policy_form=TwoFactorPolicyForm(
            formdata=None, carers_two_factor=agency_setting(current_agency(), CARERS_TWO_FACTOR)
        ),
    )


@bp.route("/members")
@require(VIEW_MEMBERS)
def index() -> Any:
    return _members_page(InviteMemberForm())


@bp.route("/members/invite", methods=["POST"])
@require(MANAGE_MEMBERS)
def invite_member() -> Any:
    form = InviteMemberForm()
    if form.validate_on_submit():
        # staff cannot be added while the agency is restricted (or past its plan's limit)
        refusal = growth_refusal(current_agency(), form.role.data)
        if refusal:
            form.role.errors.append(refusal)
            return _members_page(form), 403
        if attempt(
            form, lambda: invite(current_agency(), form.email.data, form.role.data, invited_by=current_user)
        ):
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("members.index"))
    return _members_page(form), 422


@bp.route("/members/two-factor", methods=["POST"])
@require(MANAGE_MEMBERS)
def two_factor_policy() -> Any:
    """Whether carers must sign in with two-factor (admins and coordinators always do)."""
    form = TwoFactorPolicyForm()
    if form.validate_on_submit():
        agency = current_agency()
        wanted = bool(form.carers_two_factor.data)
        update_settings(agency, {CARERS_TWO_FACTOR: wanted})
        flash(_("Saved."), "success")
    return redirect(url_for("members.index"))


@bp.route("/members/invitations/<uuid:invitation_id>/revoke", methods=["POST"])
@require(MANAGE_MEMBERS)
def revoke_invitation(invitation_id: uuid.UUID) -> Any:
    if services.revoke_invitation(get_or_404(Invitation, invitation_id)):
        flash(_("Invitation withdrawn."), "success")
    return redirect(url_for("members.index"))


@bp.route("/members/<uuid:member_id>/role", methods=["POST"])
@require(MANAGE_MEMBERS)
def change_role(member_id: uuid.UUID) -> Any:
    membership = get_or_404(Membership, member_id)
    form = ChangeRoleForm()
    if form.validate_on_submit() and attempt(
        None, lambda: services.change_role(membership, form.role.data, by=current_user)
    ):
        flash(_("Role changed."), "success")
    return redirect(url_for("members.index"))


@bp.route("/members/<uuid:member_id>/deactivate", methods=["POST"])
@require(MANAGE_MEMBERS)
def deactivate(member_id: uuid.UUID) -> Any:
    membership = get_or_404(Membership, member_id)
    if attempt(None, lambda: services.deactivate(membership, by=current_user)):
        flash(_("Member deactivated."), "success")
    return redirect(url_for("members.index"))


@bp.route("/members/<uuid:member_id>/reactivate", methods=["POST"])
@require(MANAGE_MEMBERS)
def reactivate(member_id: uuid.UUID) -> Any:
    membership = get_or_404(Membership, member_id)
    refusal = growth_refusal(current_agency(), membership.role)
    if refusal:
        flash(refusal, "error")
        return redirect(url_for("members.index"))
    services.reactivate(membership)
    flash(_("Member reactivated."), "success")
    return redirect(url_for("members.index"))


@bp.route("/audit")
@require(READ_AUDIT_LOG)
def audit_log() -> Any:
    page = paginate(queries.audit_log())
    actors = queries.emails_of({e.actor_id for e in page.items if e.actor_id})
    return render_template("members/audit.html", page=page, actors=actors)


@bp.route("/tokens", methods=["GET", "POST"])
@require(USE_API_TOKENS)
def tokens() -> Any:
    membership = current_membership()
    form = NewTokenForm()
    new_token = None
    made: list[str] = []
    if form.validate_on_submit() and attempt(
        form,
        lambda: made.append(
            services.create_token(membership, form.name.data, [*form.kinds.data, *form.areas.data])
        ),
    ):
        new_token = made[0]
        form = NewTokenForm(formdata=None)
    rows = queries.tokens_of(membership)
    return render_template("members/tokens.html", form=form, rows=rows, new_token=new_token)


@bp.route("/tokens/<uuid:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: uuid.UUID) -> Any:
    token = get_or_404(ApiToken, token_id)
    if token.membership_id != current_membership().id:
        abort(404)  # someone else's token: not theirs to know about
    services.revoke_token(token)
    flash(_("Token revoked."), "success")
    return redirect(url_for("members.tokens"))
