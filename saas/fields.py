"""Form pieces shared by every feature: validators that speak the user's language."""

from __future__ import annotations

import re
import uuid
from typing import Any
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, ValidationError

from saas.auth.passwords import password_problem

LOCALES = (("en", "English"), ("zh_CN", "简体中文"))
LOCALE_CODES = tuple(code for code, _ in LOCALES)
RESERVED_SLUGS = frozenset(
    {
        "a", "admin", "api", "app", "static", "operator", "login", "logout", "account", "auth",
        "billing", "healthz", "readyz", "invite", "reset", "help", "www", "mail", "status", "docs",
    }
)  # fmt: skip
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def timezone_choices() -> list[tuple[str, str]]:
    return [(tz, tz) for tz in sorted(available_timezones()) if "/" in tz and not tz.startswith("Etc/")]


class StrongPassword:
    """The platform's password policy as a WTForms validator."""

    def __init__(self, email_field: str | None = None) -> None:
        self.email_field = email_field

    def __call__(self, form: Form, field: Field) -> None:
        email = ""
        if self.email_field and self.email_field in form:
            email = form[self.email_field].data or ""
        problem = password_problem(field.data or "", email)
        if problem:
            raise ValidationError(problem)


def valid_slug(form: Any, field: Field) -> None:
    value = (field.data or "").strip().lower()
    field.data = value
    if not SLUG_RE.match(value):
        raise ValidationError(
            _l("Use 1 to 40 lowercase letters, digits and hyphens; start and end with a letter or digit.")
        )
    if value in RESERVED_SLUGS:
        raise ValidationError(_l("This address is reserved. Choose another."))


def lowercase(value: str | None) -> str | None:
    return value.strip().lower() if isinstance(value, str) else value


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def uuid_or_none(value: str | None) -> uuid.UUID | None:
    """A form's id choice as a UUID; None when empty or not an id."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
