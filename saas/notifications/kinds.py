"""What can be notified: one `Kind` per reminder or event, registered once.

Public API (other packages register their own kinds):

    @dataclass(frozen=True)
    class Kind:
        name: str                 # "visit.tomorrow": dotted, stable (stored in rows)
        label: LazyString         # lazy_gettext, shown on the preferences page
        mandatory: bool = False   # cannot be turned off (escalations)
        title: Callable[[dict[str, str]], str]  # params -> one-line title
        body: Callable[[dict[str, str]], str]   # params -> a short paragraph
        mail_kind: str = "notification"  # the email's kind in the outbox (mail_messages.kind)

    KINDS: dict[str, Kind]
    register(kind) -> kind        # raises KindAlreadyRegistered on a duplicate name

`title` and `body` are called under the recipient's locale (`force_locale`),
so they use `gettext` (not the lazy variant) with the params as placeholders:
`title=lambda p: _("%(count)s visits tomorrow", count=p["count"])`. Without a
`title` the label is the title; without a `body` the body is empty.

Kinds register when their module is imported; `load_kinds()` imports every
area's reminder modules (`Area.reminders`, saas/areas.py) so the preferences
page and `send_due` see them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from saas.areas import import_all


def _label_title(params: dict[str, str]) -> str:  # placeholder; replaced in __post_init__
    return ""


def _empty_body(params: dict[str, str]) -> str:
    return ""


@dataclass(frozen=True)
class Kind:
    name: str
    label: Any  # flask_babel.LazyString
    mandatory: bool = False
    title: Callable[[dict[str, str]], str] = field(default=_label_title, compare=False)
    body: Callable[[dict[str, str]], str] = field(default=_empty_body, compare=False)
    mail_kind: str = field(default="notification", compare=False)

    def __post_init__(self) -> None:
        if self.title is _label_title:
            label = self.label
            object.__setattr__(self, "title", lambda params: str(label))


class KindAlreadyRegistered(ValueError):
    pass


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind; a second kind with the same name is a programming error."""
    if kind.name in KINDS:
        raise KindAlreadyRegistered(kind.name)
    KINDS[kind.name] = kind
    return kind


def load_kinds() -> dict[str, Kind]:
    import_all("reminders")
    return KINDS


def get(name: str) -> Kind:
    if name not in KINDS:
        load_kinds()
    return KINDS[name]
