"""The operator's onboarding wizard (/operator/agencies/new): after the agency's
details and its first admin, its plan and trial and its starting service
catalogue. One page, four steps, so an agency can be live in two minutes."""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import gettext as _

from billing import lifecycle, services
from billing.models import Plan
from saas import db
from saas.i18n import current_locale
from saas.models import Agency, User


def plan_choices() -> list[tuple[str, str]]:
    return [("", _("No plan yet"))] + [(str(p.id), p.name) for p in services.active_plans()]


def _presets() -> dict[str, Any]:
    """The workforce feature's catalogue presets, when that package is installed."""
    try:
        from tenants.catalogue.presets import PRESETS
    except ImportError:
        return {}
    return PRESETS


def catalogue_choices() -> list[tuple[str, str]]:
    language = "zh" if current_locale() == "zh_CN" else "en"
    choices = [("", _("Empty: the agency builds its own"))]
    for key, preset in _presets().items():
        title = getattr(preset, "title", {}) or {}
        choices.append((key, title.get(language) or title.get("en") or key))
    return choices


def apply(
    agency: Agency,
    *,
    plan_id: str | None,
    trial_days: int | None,
    catalogue_preset: str | None,
    by: User | None,
) -> None:
    """Billing and catalogue steps for an agency just created (caller commits)."""
    plan = db.session.get(Plan, uuid.UUID(plan_id)) if plan_id else None
    if plan is not None or trial_days is not None:
        days = trial_days if trial_days is not None else (plan.trial_days if plan else lifecycle.trial_days())
        services.onboard(agency, plan=plan, trial_days=days, by=by)
    if catalogue_preset:
        if catalogue_preset not in _presets():
            raise services.BillingError("preset_unknown", "catalogue_preset")
        # optional, as _presets() says
        from tenants.catalogue.services import load_preset

        load_preset(agency, catalogue_preset, by=by)
