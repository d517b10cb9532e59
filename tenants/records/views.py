"""The appraisal: the files at the end of their retention, and the decision
on each (keep with a new review date, anonymise, destroy), with its reason."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from saas.lifecycle import attempt, form_status
from saas.permissions import MANAGE_SETTINGS, require
from saas.settings_pages import settings_page
from saas.tenancy import current_agency
from tenants.records import APPRAISE_RECORDS, queries, services
from tenants.records.forms import DecisionForm

bp = Blueprint("records", __name__, url_prefix="/a/<slug>")


@bp.route("/records/appraisal")
@require(APPRAISE_RECORDS)
def appraisal() -> Any:
    return render_template(
        "records/appraisal.html",
        page=queries.pending(),
        decided=queries.decided(),
        today=current_agency().today(),
    )


@bp.route("/records/appraisal/<uuid:review_id>", methods=["GET", "POST"])
@require(APPRAISE_RECORDS)
def decide(review_id: uuid.UUID) -> Any:
    found = queries.review(review_id)
    if found is None:
        abort(404)
    review = found[0]
    form = DecisionForm()
    if review.decision is None and form.validate_on_submit():
        data = services.DecisionData(form.decision.data or "", form.reason.data or "", form.review_on.data)
        if attempt(form, lambda: services.decide(current_agency(), review, data, by=current_user)):
            messages = {
                "keep": _("The file is kept until %(date)s.", date=format_date(form.review_on.data, "long")),
                "anonymise": _("The file was anonymised."),
                "destroy": _("The file was destroyed."),
            }
            flash(messages[data.decision], "success")
            return redirect(url_for("records.appraisal"))
    return render_template(
        "records/decide.html", found=found, review=review, form=form, today=current_agency().today()
    ), form_status()


@bp.route("/settings/records", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def settings() -> Any:
    """How long the agency keeps a client's file (page "records")."""
    return settings_page(
        "records", title=_("Retention settings"), endpoint="records.settings", saved=_("Saved.")
    )
