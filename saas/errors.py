"""Domain errors: a rule refused a change. One kind of error for every area.

A service raises `DomainError(code, field, **params)` (or its area's
subclass); nothing of the change is kept (`saas.lifecycle` rolls the request
back). The message shown is looked up by code among the messages the areas
register, in the user's language, and formatted with the params:

    register_messages({"slug_taken": _l("Another agency already uses this address.")})
    raise AgencyError("slug_taken", "slug")

A code means one thing wherever it is raised. An area whose code already
means something else elsewhere registers its messages for its own error class
(`register_messages(..., error=VisitError)`): those are looked up first for
that class and its subclasses.

`status` is what the JSON API answers (422 unless a subclass, or its
`statuses` by code, says otherwise); `saas.lifecycle` turns an error escaping
an API view into the API's error document with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from flask_babel import gettext as _

# code -> lazy message, for every error class; and per class, for codes that
# mean something of their own there
_MESSAGES: dict[str, Any] = {}
_CLASS_MESSAGES: dict[type, dict[str, Any]] = {}


class DomainError(ValueError):
    """A rule refused the change. `field` names the form field (dash path
    into lists: "contacts-0-phone") the message belongs next to; `params` fill
    the message's `%(name)s` placeholders."""

    status: int = 422
    # code -> the API status for that code, where it is not `status`
    statuses: ClassVar[Mapping[str, int]] = {}

    def __init__(self, code: str, field: str | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params
        self.status = self.status_for(code, field)

    @classmethod
    def status_for(cls, code: str, field: str | None) -> int:
        return cls.statuses.get(code, cls.status)

    def by_field(self) -> list[DomainError]:
        """Each refusal this error carries (errors reporting several fields at
        once return one per field), each shown next to its own field."""
        return [self]

    def message(self) -> str:
        return error_message(self)

    def own_message(self) -> str | None:
        """The message, for an error that words its own (the typed settings'
        declarations do); None: looked up by code among the registered ones."""
        return None


class FieldOrStateError(DomainError):
    """A domain error the API answers by what was refused: 400 (a bad request)
    for a value next to a field, 409 (a conflict) for the state of things."""

    @classmethod
    def status_for(cls, code: str, field: str | None) -> int:
        return 409 if field is None else 400


def register_messages(messages: Mapping[str, Any], *, error: type[DomainError] | None = None) -> None:
    """Give codes their lazy translated message (`lazy_gettext`). Without
    `error`, for every class: registering a code again with another message
    is refused (it would change what another area shows); with `error`, for
    that class and its subclasses only."""
    if error is not None:
        _CLASS_MESSAGES.setdefault(error, {}).update(messages)
        return
    for code, message in messages.items():
        known = _MESSAGES.get(code)
        if known is not None and _msgid(known) != _msgid(message):
            raise ValueError(
                f"error code {code!r} already has another message: register yours with error=YourError"
            )
        _MESSAGES[code] = message


def _msgid(message: Any) -> Any:
    # a LazyString keeps its gettext arguments; two are the same message when those are
    return getattr(message, "_args", message), getattr(message, "_kwargs", None)


def error_message(exc: DomainError) -> str:
    """The error's message in the current language; a generic one for a code
    nobody registered (the code itself is never shown)."""
    own = exc.own_message()
    if own is not None:
        return own
    message = None
    for cls in type(exc).__mro__:
        message = _CLASS_MESSAGES.get(cls, {}).get(exc.code)
        if message is not None:
            break
    if message is None:
        message = _MESSAGES.get(exc.code)
    if message is None:
        return _("This change is not allowed.")
    text = str(message)
    return text % exc.params if exc.params else text
