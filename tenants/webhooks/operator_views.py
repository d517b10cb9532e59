"""The operators' switch for webhooks to private and loopback addresses (off
in production; a private deployment or a test may need it)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField

from saas.lifecycle import attempt
from saas.operator.views import operators_only
from saas.platform_settings import platform_setting, update_platform_setting
from tenants.webhooks import PRIVATE_ADDRESSES

bp = Blueprint("webhooks_operator", __name__, url_prefix="/operator")
bp.before_request(operators_only)


class PrivateAddressesForm(FlaskForm):
    allowed = BooleanField(_l("Webhooks may be sent to private and loopback addresses"))


@bp.route("/webhooks", methods=["GET", "POST"])
def settings() -> Any:
    form = PrivateAddressesForm()
    if form.validate_on_submit() and attempt(
        form,
        lambda: update_platform_setting(
            PRIVATE_ADDRESSES.key, 1 if form.allowed.data else 0, by=current_user.id
        ),
    ):
        flash(_("Saved."), "success")
        return redirect(url_for("webhooks_operator.settings"))
    if not form.is_submitted():
        form.allowed.data = bool(platform_setting(PRIVATE_ADDRESSES.key))
    return render_template("webhooks/operator.html", form=form, setting=PRIVATE_ADDRESSES)
