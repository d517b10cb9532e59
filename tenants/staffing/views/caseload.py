"""The caseload: assigning and ending entries, and every worker's load
against their limits."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas.lifecycle import attempt
from saas.pagination import paginate
from saas.permissions import require
from saas.tenancy import get_or_404
from tenants.staffing import MANAGE_STAFF, VIEW_STAFF, queries, services
from tenants.staffing.forms import (
    CaseloadForm,
    EndCaseloadForm,
)
from tenants.staffing.labels import choices
from tenants.staffing.models import (
    CaseloadAssignment,
)
from tenants.staffing.pages import staff_or_404 as _staff_or_404
from tenants.staffing.settings import local_today
from tenants.staffing.views.blueprint import bp
from tenants.staffing.views.files import render_file

# -- caseload -----------------------------------------------------------------------------------


@bp.route("/staff/<uuid:staff_id>/caseload", methods=["POST"])
@require(MANAGE_STAFF)
def assign_caseload(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = CaseloadForm()
    if form.validate_on_submit():
        data = services.CaseloadInput(
            kind=form.kind.data,
            label=form.label.data or "",
            reference=form.reference.data or "",
            residents=form.residents.data,
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
        )
        if attempt(
            form,
            lambda: services.assign_caseload(
                staff, data, by=current_user, override_reason=form.override_reason.data or None
            ),
        ):
            flash(_("Added to the caseload."), "success")
            return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="caseload"))
    return render_file(staff, {"caseload": form}, 422)


@bp.route("/caseload/<uuid:assignment_id>/end", methods=["POST"])
@require(MANAGE_STAFF)
def end_caseload(assignment_id: uuid.UUID) -> Any:
    assignment = get_or_404(CaseloadAssignment, assignment_id)
    form = EndCaseloadForm()
    form.validate_on_submit()
    # a refusal: the page it goes back to shows the message above the file
    if attempt(None, lambda: services.end_caseload(assignment, form.ends_on.data)):
        flash(_("Caseload entry ended."), "success")
    return redirect(url_for("staffing.file", staff_id=assignment.staff_file_id, _anchor="caseload"))


@bp.route("/caseload")
@require(VIEW_STAFF)
def caseload() -> Any:
    q = (request.args.get("q") or "").strip()[:100]
    role = request.args.get("role") or ""
    full_only = request.args.get("full") == "1"
    sort = request.args.get("sort") or "load"
    stmt = queries.caseload_query(q, role, full_only, sort, local_today())
    page = paginate(stmt, scalars=False)
    return render_template(
        "staffing/caseload.html",
        page=page,
        q=q,
        role=role,
        full_only=full_only,
        sort=sort,
        roles=choices("staff_role"),
    )
