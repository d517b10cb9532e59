"""Words for the webhook codes shown on the pages."""

from __future__ import annotations

from flask_babel import gettext as _


def delivery_status_label(status: str) -> str:
    return {
        "pending": _("Waiting to be sent"),
        "retrying": _("Failed, will try again"),
        "delivered": _("Delivered"),
        "failed": _("Failed"),
    }.get(status, status)


def attempt_error_label(code: str) -> str:
    return {
        "status": _("the receiver did not accept it"),
        "timeout": _("no answer in time"),
        "connection": _("the receiver could not be reached"),
        "url_private": _("the address is now private or local: not sent"),
        "url_unresolved": _("the address cannot be found"),
    }.get(code, code)
