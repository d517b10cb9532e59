"""The staff pages' blueprint, its template helpers, and how the pages read
an id chosen in a form."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from saas.fields import uuid_or_none
from tenants.staffing.labels import workforce_label

bp = Blueprint("staffing", __name__, url_prefix="/a/<slug>")


@bp.app_template_global()
def wf_label(group: str, code: str | None) -> str:
    return workforce_label(group, code)


@bp.app_template_filter()
def wf_hours(value: Any) -> str:
    if value is None:
        return "0"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


# matches no row: a choice that is not a UUID is refused by the service next to
# its field, instead of being read as "none"
NOT_A_CHOICE = uuid.UUID(int=0)


def chosen_id(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    return uuid_or_none(value) or NOT_A_CHOICE
