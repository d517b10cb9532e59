"""The office's list of visit ratings: every rating, the latest visit first,
filtered by client, carer, the visits' days and low scores. Routes of the
feedback blueprint (`tenants.feedback.views.bp`)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _

from saas.permissions import require
from saas.tenancy import current_agency
from tenants.feedback import HANDLE_RATINGS, labels, queries, services
from tenants.feedback.models import DIMENSIONS
from tenants.feedback.views import bp


def _day(name: str, errors: dict[str, str]) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Give a date as YYYY-MM-DD.")
        return None


def _picked(name: str, choices: list[tuple[str, str]], errors: dict[str, str]) -> uuid.UUID | None:
    raw = request.args.get(name) or ""
    if not raw:
        return None
    if raw not in {value for value, _label in choices}:
        errors[name] = _("Choose one from the list.")
        return None
    return uuid.UUID(raw)


@bp.route("/feedback/ratings")
@require(HANDLE_RATINGS)
def ratings() -> Any:
    """The ratings; a filter value that cannot be read is named next to its
    field and left out, the list shown without it."""
    agency = current_agency()
    client_choices, carer_choices = queries.rating_filter_choices()
    errors: dict[str, str] = {}
    first, last = _day("from", errors), _day("to", errors)
    if first and last and last < first:
        errors["to"] = _("The end cannot be before the start.")
        last = None
    threshold = services.low_threshold(agency)
    wanted = queries.RatingFilters(
        client_id=_picked("client_id", client_choices, errors),
        staff_id=_picked("staff_id", carer_choices, errors),
        first=first,
        last=last,
        low_only=request.args.get("low") == "1",
        low_threshold=threshold,
    )
    page = queries.ratings_page(wanted, request.args.get("after"))
    # the filters as sent, kept in the next page's link
    kept = {
        k: v for k, v in request.args.items() if k in ("client_id", "staff_id", "from", "to", "low") and v
    }
    return render_template(
        "feedback/ratings.html",
        page=page,
        args=kept,
        errors=errors,
        client_choices=client_choices,
        carer_choices=carer_choices,
        heads=[
            _("Visit"),
            _("Client"),
            _("Carer"),
            *(labels.dimension_label(d) for d in DIMENSIONS),
            _("Comment"),
        ],
        threshold=threshold,
        next_url=url_for("feedback.ratings", after=page.next, **kept) if page.next else None,
    ), (422 if errors else 200)
