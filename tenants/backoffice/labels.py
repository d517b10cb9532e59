"""Words for the back office's stored codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.labels import Labels

LINE_KINDS = Labels(
    {
        "visit": _l("Visit delivered"),
        "late_cancellation": _l("Late cancellation"),
        "adjustment": _l("Adjustment"),
        "credit": _l("Credit"),
    }
)
UNITS = Labels({"per_visit": _l("visit"), "per_hour": _l("h")})
INVOICE_STATUSES = Labels({"draft": _l("Draft"), "issued": _l("Issued and numbered")})
INVOICE_KINDS = Labels({"invoice": _l("Invoice"), "credit_note": _l("Credit note")})
TIMESHEET_STATUSES = Labels({"draft": _l("To approve"), "approved": _l("Approved")})
ENTRY_KINDS = Labels({"visit": _l("Visit"), "travel": _l("Travel"), "time_off": _l("Time off")})


def line_kind_label(code: str) -> str:
    return LINE_KINDS(code)


def unit_label(code: str) -> str:
    return UNITS(code)
