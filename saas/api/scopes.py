"""What an API token may do, chosen when it is made: `read` (GET) and `write`
(the rest), and the areas it reaches, one scope per area with API routes
(named as the area is: `clients`, `scheduling`, ...), and `members` for the
core's member lookup. A request needs both its kind and its area's scope;
`/me` needs only a valid token."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from saas.areas import discover

READ = "read"
WRITE = "write"
CORE_SCOPES: dict[str, Any] = {"members": _l("Members")}


def kind_labels() -> list[tuple[str, Any]]:
    return [(READ, _l("Read")), (WRITE, _l("Write"))]


def area_labels() -> list[tuple[str, Any]]:
    """Every area scope with its words, in a stable order."""
    found = dict(CORE_SCOPES)
    for area in discover():
        if area.api_label is not None:
            found[area.name] = area.api_label
    return sorted(found.items())


def every_scope() -> list[str]:
    return [READ, WRITE, *(name for name, _label in area_labels())]


def needed(method: str) -> str:
    return READ if method in ("GET", "HEAD", "OPTIONS") else WRITE


def scope_of(view: Any) -> str | None:
    """The area scope of an API view: given to `operation(scope=...)`, or the
    area whose `api` module declares it; None for what any token may do."""
    declared = getattr(view, "api_scope", "")
    if declared != "":
        return declared
    module = getattr(view, "__module__", "")
    parts = module.split(".")
    if len(parts) >= 3 and parts[0] in ("tenants", "billing") and parts[-1] == "api":
        return parts[1]
    return None
