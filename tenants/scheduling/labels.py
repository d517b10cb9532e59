from __future__ import annotations

from flask_babel import gettext as _


def visit_status_label(status: str) -> str:
    labels = {
        "scheduled": _("Scheduled"),
        "in_progress": _("In progress"),
        "completed": _("Completed"),
        "cancelled": _("Cancelled"),
        "missed": _("Missed"),
    }
    return labels.get(status, status)


def refusal_label(code: str) -> str:
    """The check an override lifted, from a refusal's stable code
    (`certificate_expired:<type id>` and the like name the check by their kind)."""
    labels = {
        "caseload_full": _("caseload limit"),
        "pre_service_hours": _("pre-service training"),
        "certificate_missing": _("required certificate missing"),
        "certificate_expired": _("required certificate expired"),
        "unavailable": _("availability"),
        "time_off": _("time off"),
        "travel_time": _("travel time"),
        "overlap": _("another visit at the same time"),
        "inactive": _("account deactivated"),
        "employment_ended": _("employment ended"),
        "employment_not_started": _("employment not started"),
        "unknown": _("not a member of staff"),
    }
    kind = code.split(":", 1)[0]
    return labels.get(kind, kind)


def refusal_labels(codes: list[str]) -> str:
    return ", ".join(dict.fromkeys(refusal_label(c) for c in codes))
