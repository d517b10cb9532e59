"""How carers show they are at a client's home (position, the printed QR
code, or either), chosen per client by the office, and the code sheet to
print for the home, in the client's language."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from saas.lifecycle import attempt, form_status
from saas.permissions import require
from saas.tenancy import current_agency, get_or_404
from tenants.clients.models import Client
from tenants.clients.read_log import log_reads
from tenants.scheduling import MANAGE_VISITS, services
from tenants.scheduling.forms import PresenceForm
from tenants.scheduling.views.blueprint import bp


@bp.route("/clients/<uuid:client_id>/presence", methods=["GET", "POST"])
@require(MANAGE_VISITS)
def client_presence(client_id: uuid.UUID) -> Any:
    client = get_or_404(Client, client_id)
    form = PresenceForm(presence_mode=client.presence_mode)
    if request.method == "POST" and request.form.get("action") == "replace":
        if form.validate_on_submit():
            services.replace_presence_code(client)
            flash(_("A new code is ready: print the new sheet. The old one no longer counts."), "success")
            return redirect(url_for("scheduling.client_presence", client_id=client.id))
    elif form.validate_on_submit():
        if attempt(form, lambda: services.set_presence_mode(client, form.presence_mode.data)):
            flash(_("Saved."), "success")
            return redirect(url_for("scheduling.client_presence", client_id=client.id))
    return render_template("scheduling/presence.html", client=client, form=form), form_status()


@bp.route("/clients/<uuid:client_id>/presence/sheet")
@require(MANAGE_VISITS)
def presence_sheet(client_id: uuid.UUID) -> Any:
    """The sheet to leave in the home: the code and what it is for, in the
    client's language (the read of the client's name and address is logged)."""
    client = get_or_404(Client, client_id)
    log_reads([client.id], "presence_sheet", current_user.id)
    locale = services.sheet_locale(client, current_agency())
    with force_locale(locale):
        return render_template(
            "scheduling/presence_sheet.html",
            client=client,
            qr=services.presence_qr_svg(client),
            sheet_lang="zh-Hans" if locale == "zh_CN" else "en",
        )
