"""Language: the user's choice, then the agency's, then the browser's."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import flask_babel
from babel import dates as babel_dates
from flask import g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from saas.fields import LOCALE_CODES

# Browsers say zh-CN, zh-Hans, zh; all of them mean our Simplified Chinese.
_BROWSER_TAGS = {"en": "en", "zh_CN": "zh_CN", "zh": "zh_CN", "zh_Hans": "zh_CN", "zh_Hans_CN": "zh_CN"}


def select_locale() -> str:
    if not has_request_context():
        return "en"
    api_user = g.get("api_user")
    if api_user is not None and not request.headers.get("Accept-Language"):
        # the API: the language the caller asks for, else the token's user's
        if api_user.locale in LOCALE_CODES:
            return api_user.locale
    if current_user and current_user.is_authenticated and current_user.locale in LOCALE_CODES:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LOCALE_CODES:
        return chosen
    agency = g.get("agency")
    if agency is not None and agency.locale in LOCALE_CODES:
        return agency.locale
    for tag, _quality in request.accept_languages:
        key = tag.replace("-", "_")
        if key in _BROWSER_TAGS:
            return _BROWSER_TAGS[key]
        base = key.split("_")[0]
        if base in _BROWSER_TAGS:
            return _BROWSER_TAGS[base]
    return "en"


def select_timezone() -> str:
    agency = g.get("agency") if has_request_context() else None
    return agency.timezone if agency is not None else "UTC"


def current_locale() -> str:
    """Our code for the request's language ("en" or "zh_CN").

    Babel parses zh_CN as zh_Hans_CN, which is also the catalogue's folder."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def role_label(role: str) -> str:
    from flask_babel import gettext as _

    labels = {
        "admin": _("Agency admin"),
        "coordinator": _("Coordinator"),
        "carer": _("Carer"),
        "client": _("Client or family member"),
    }
    return labels.get(role, role)


def status_label(status: str) -> str:
    from flask_babel import gettext as _

    labels = {"active": _("Active"), "suspended": _("Suspended")}
    return labels.get(status, status)


def format_month(month: date, skeleton: str = "yMMMM") -> str:
    """A month as the user's language writes it: "October 2026", "2026年10月"
    (a CLDR skeleton, so the order and words follow the locale)."""
    from babel.dates import format_skeleton
    from flask_babel import get_locale

    return format_skeleton(skeleton, month, locale=get_locale() or "en")


def format_day(value: date, format: str = "medium") -> str:
    """The `dateformat` filter: Flask-Babel's, with a day's words kept per
    language and format. A page of a client's file or a schedule writes the
    same days many times, and Babel builds its formatter anew each time (a
    tenth of such a page's time went there)."""
    if type(value) is date:
        return _day_words(value, format, str(get_locale() or "en"))
    return flask_babel.format_date(value, format)


@lru_cache(maxsize=8192)
def _day_words(day: date, format: str, locale: str) -> str:
    return babel_dates.format_date(day, format=format, locale=locale)
