"""The agency's care settings."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from saas import audit
from saas.permissions import MANAGE_SETTINGS, require
from saas.tenancy import current_agency
from tenants.clients import services
from tenants.clients.forms import CareSettingsForm
from tenants.clients.views.blueprint import bp

FOLLOW_UP_LABEL = __import__("re").compile(r"^[1-9][0-9]{0,2}[dwm]$")


@bp.route("/settings/care", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def care_settings() -> Any:
    agency = current_agency()
    form = CareSettingsForm()
    if request.method == "GET":
        form.visit_window_days.data = agency.setting("visit_window_days", 28)
        form.travel_buffer_minutes.data = agency.setting("travel_buffer_minutes", 15)
        form.late_grace_minutes.data = agency.setting("late_grace_minutes", 15)
        form.checkin_location.data = bool(agency.setting("checkin_location", False))
        form.high_risk_score.data = agency.setting("high_risk_score", 15)
        form.elderly_from_age.data = agency.setting("elderly_from_age", 60)
        form.follow_up_schedule.data = ", ".join(
            agency.setting("follow_up_schedule", list(services.DEFAULT_FOLLOW_UPS))
        )
        form.coordinators_approve.data = "coordinator" in agency.setting(
            "plan_approver_roles", ["admin", "coordinator"]
        )
    if form.validate_on_submit():
        labels = [x.strip().lower() for x in form.follow_up_schedule.data.split(",") if x.strip()]
        if not labels or len(labels) > 8 or not all(FOLLOW_UP_LABEL.match(x) for x in labels):
            form.follow_up_schedule.errors.append(
                _("Write intervals like 7d, 2w or 1m, separated by commas.")
            )
        else:
            values = {
                "visit_window_days": form.visit_window_days.data,
                "travel_buffer_minutes": form.travel_buffer_minutes.data or 0,
                "late_grace_minutes": form.late_grace_minutes.data or 0,
                "checkin_location": bool(form.checkin_location.data),
                "high_risk_score": form.high_risk_score.data,
                "elderly_from_age": form.elderly_from_age.data,
                "follow_up_schedule": list(dict.fromkeys(labels)),
                "plan_approver_roles": ["admin", "coordinator"]
                if form.coordinators_approve.data
                else ["admin"],
            }
            changed = {k: v for k, v in values.items() if agency.setting(k, None) != v}
            agency.settings = {**(agency.settings or {}), **values}
            audit.record("settings.care_changed", agency.slug, **{k: str(v) for k, v in changed.items()})
            flash(_("Saved."), "success")
            return redirect(url_for("clients.care_settings"))
    return render_template("clients/settings.html", form=form), 200 if request.method == "GET" else 422
