"""Monthly return visits: the month's list and recording one."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from saas.lifecycle import attempt
from saas.models import Role
from saas.permissions import require
from saas.tenancy import current_agency, current_membership
from tenants.scheduling import RECORD_RETURN_VISITS, services
from tenants.scheduling.forms import ReturnVisitForm
from tenants.scheduling.views.blueprint import bp, my_staff_id


@bp.route("/return-visits", methods=["GET", "POST"])
@require(RECORD_RETURN_VISITS)
def return_visits() -> Any:
    agency = current_agency()
    today = services.local_now(agency).date()
    raw = request.args.get("month", "")
    try:
        month = date.fromisoformat(raw + "-01") if raw else services.month_start(today)
    except ValueError:
        month = services.month_start(today)
    if not 2000 <= month.year <= 2100:
        month = services.month_start(today)
    role = current_membership().role
    form = ReturnVisitForm()
    rows = services.return_visits_for(month, current_agency())
    own = my_staff_id()
    if role == Role.CARER:
        rows = [r for r in rows if r.staff_file_id == own]
    form.staff_id.choices = sorted({(str(r.staff_file_id), r.worker) for r in rows}, key=lambda c: c[1])
    form.client_id.choices = sorted({(str(r.client_id), r.client) for r in rows}, key=lambda c: c[1])
    if form.validate_on_submit():
        staff_id = uuid.UUID(form.staff_id.data)
        if role == Role.CARER and staff_id != own:
            abort(403)
        if attempt(
            form,
            lambda: services.record_return_visit(
                agency,
                staff_id=staff_id,
                client_id=uuid.UUID(form.client_id.data),
                visited_on=form.visited_on.data,
                notes=form.notes.data or "",
            ),
        ):
            flash(_("Return visit recorded."), "success")
            return redirect(url_for("scheduling.return_visits", month=month.strftime("%Y-%m")))
    return render_template("scheduling/return_visits.html", rows=rows, month=month, today=today, form=form)
