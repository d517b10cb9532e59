"""The agency's care settings."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from saas.permissions import MANAGE_SETTINGS, require
from saas.settings_pages import settings_page as generated_settings_page
from tenants.clients.views.blueprint import bp


@bp.route("/settings/care", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def care_settings() -> Any:
    """The care settings the clients and scheduling areas declare (page "care")."""
    return generated_settings_page(
        "care", title=_("Care settings"), endpoint="clients.care_settings", saved=_("Saved.")
    )
