"""The agency's teams."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from saas.lifecycle import attempt, form_status
from saas.permissions import require
from saas.tenancy import get_or_404
from tenants.staffing import MANAGE_STAFF, VIEW_STAFF, teams
from tenants.staffing.forms import (
    TeamForm,
)
from tenants.staffing.models import (
    Team,
)
from tenants.staffing.pages import is_admin as _is_admin
from tenants.staffing.views.blueprint import bp, chosen_id

# -- teams ----------------------------------------------------------------------------------------


def _supervisor_choices(form: TeamForm) -> None:
    form.supervisor_membership_id.choices = [("", _("No supervisor yet"))] + [
        (str(mid), name) for mid, name in teams.supervisor_choices()
    ]


def _team_input(form: TeamForm) -> teams.TeamInput:
    return teams.TeamInput(
        name=form.name.data or "",
        supervisor_membership_id=chosen_id(form.supervisor_membership_id.data),
        active=bool(form.active.data),
    )


@bp.route("/teams", methods=["GET", "POST"])
@require(VIEW_STAFF)
def team_list() -> Any:
    form = TeamForm()
    _supervisor_choices(form)
    if request.method == "POST":
        if not _is_admin():
            abort(403)
        if form.validate_on_submit() and attempt(form, lambda: teams.create_team(_team_input(form))):
            flash(_("Team added."), "success")
            return redirect(url_for("staffing.team_list"))
    return render_template("staffing/teams.html", form=form, rows=teams.team_rows()), (form_status())


@bp.route("/teams/<uuid:team_id>/edit", methods=["GET", "POST"])
@require(MANAGE_STAFF)
def team_edit(team_id: uuid.UUID) -> Any:
    team = get_or_404(Team, team_id)
    form = TeamForm(obj=team)
    _supervisor_choices(form)
    if request.method == "GET":
        form.supervisor_membership_id.data = str(team.supervisor_membership_id or "")
    if form.validate_on_submit() and attempt(form, lambda: teams.update_team(team, _team_input(form))):
        flash(_("Team saved."), "success")
        return redirect(url_for("staffing.team_list"))
    return render_template("staffing/team_edit.html", form=form, team=team), (form_status())
