"""Language and formats. The language (the catalogue: English or Simplified
Chinese) is the user's choice, then the agency's, then the browser's; dates,
times, numbers and currency follow that language as written in a region: the
user's chosen region, else the agency's (its setting, else the country of its
time zone), so a UK agency reads "1 Nov 2026" and 01/11/2026, not the US
"Nov 1, 2026" and 11/1/26, while its catalogue stays the language's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from typing import Any

import flask_babel
from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel.core import get_global
from flask import g, has_request_context, request, session
from flask_babel import get_locale
from flask_babel.speaklater import LazyString
from flask_login import current_user

from saas.fields import LOCALE_CODES, LOCALES

# Browsers say zh-CN, zh-Hans, zh; all of them mean our Simplified Chinese.
_BROWSER_TAGS = {"en": "en", "zh_CN": "zh_CN", "zh": "zh_CN", "zh_Hans": "zh_CN", "zh_Hans_CN": "zh_CN"}

# Regions offered for formats (the agency's setting, a user's preference):
# where agencies write English or Chinese. Any other stays possible through an
# agency's time zone.
REGIONS = ("GB", "IE", "US", "CA", "AU", "NZ", "SG", "HK", "CN")
# the session's memory of the agency last opened, for the pages outside one
# (the account, two-factor, the list of agencies) to speak as it does
AGENCY_KEY = "agency_locale"


def select_locale() -> str:
    if not has_request_context():
        return "en"
    language, region = _request_language_and_region()
    return full_locale(language, region)


def _request_language_and_region() -> tuple[str, str | None]:
    agency = g.get("agency")
    agency_pair = agency_language_and_region(agency) if agency is not None else None
    if agency_pair is not None and g.get("membership") is not None and g.get("api_user") is None:
        # a page's reader (an API call carries no session to remember it in)
        _remember_agency(agency_pair)
    elif agency_pair is None:
        kept = session.get(AGENCY_KEY)
        if isinstance(kept, list | tuple) and len(kept) == 2:
            agency_pair = (str(kept[0]), kept[1] if isinstance(kept[1], str) else None)
    user = current_user if current_user and current_user.is_authenticated else None
    region = getattr(user, "region", None) if user is not None else None
    region = region or (agency_pair[1] if agency_pair else None) or _browser_region()
    api_user = g.get("api_user")
    if api_user is not None:
        # the API: the language the caller asks for, else the token's user's
        if request.headers.get("Accept-Language"):
            return _browser_language(), getattr(api_user, "region", None) or region
        if api_user.locale in LOCALE_CODES:
            return api_user.locale, getattr(api_user, "region", None) or region
    if user is not None and user.locale in LOCALE_CODES:
        return user.locale, region
    chosen = session.get("locale")
    if chosen in LOCALE_CODES:
        return chosen, region
    if agency_pair is not None:
        return agency_pair[0], region
    return _browser_language(), region


def _remember_agency(pair: tuple[str, str | None]) -> None:
    # written only when it changes: every write re-sends the session
    if tuple(session.get(AGENCY_KEY) or ()) != pair:
        session[AGENCY_KEY] = list(pair)


def _browser_language() -> str:
    for tag, _quality in request.accept_languages:
        key = tag.replace("-", "_")
        if key in _BROWSER_TAGS:
            return _BROWSER_TAGS[key]
        base = key.split("_")[0]
        if base in _BROWSER_TAGS:
            return _BROWSER_TAGS[base]
    return "en"


def _browser_region() -> str | None:
    for tag, _quality in request.accept_languages:
        parts = tag.replace("-", "_").split("_")
        if len(parts) > 1 and len(parts[-1]) == 2 and parts[-1].isalpha():
            return parts[-1].upper()
    return None


def agency_language_and_region(agency: Any) -> tuple[str, str | None]:
    """The agency's language and the region its formats follow: its setting,
    else the country of its time zone."""
    from saas.settings import settings_of

    language = agency.locale if agency.locale in LOCALE_CODES else "en"
    chosen = settings_of(agency).get("region")
    return language, chosen if chosen in REGIONS else timezone_region(agency.timezone)


def timezone_region(timezone: str | None) -> str | None:
    """The country of a time zone (CLDR's): Europe/London is GB, Asia/Shanghai CN."""
    return get_global("zone_territories").get(timezone or "")


@lru_cache(maxsize=256)
def full_locale(language: str, region: str | None) -> str:
    """The locale formats use: the language as written in the region when
    CLDR knows it ("en_GB", "zh_Hans_CN"); else the language's international
    form for English ("en_001": day before month, no US order) or its
    mainland form for Chinese."""
    base = "zh" if language.startswith("zh") else "en"
    if region:
        try:
            return str(Locale.parse(f"{base}_{region}"))
        except (UnknownLocaleError, ValueError):
            pass
    return "zh_Hans_CN" if base == "zh" else ("en" if region == "US" else "en_001")


def agency_locale(language: str | None, agency: Any = None) -> str:
    """The locale for someone reading `language` (their own, or else the
    agency's) outside a request, in the agency's formats: emails, PDFs,
    public pages."""
    if agency is None:
        return full_locale(language if language in LOCALE_CODES else "en", None)
    own, region = agency_language_and_region(agency)
    return full_locale(language if language in LOCALE_CODES else own, region)


@contextmanager
def agency_language(language: str | None, agency: Any = None) -> Iterator[None]:
    """`flask_babel.force_locale`, in the agency's formats (see `agency_locale`)."""
    with flask_babel.force_locale(agency_locale(language, agency)):
        yield


def region_choices() -> list[tuple[str, Any]]:
    """(code, name) of the offered regions, named in the reader's language."""
    return [(code, LazyString(_territory_name, code)) for code in REGIONS]


def _territory_name(code: str) -> str:
    locale = get_locale() or Locale.parse("en")
    return locale.territories.get(code, code)


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


def language_label(code: str) -> str:
    """A language as the picker names it (in itself: "English", "简体中文")."""
    return dict(LOCALES).get(code, code)


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
