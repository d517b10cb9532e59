"""Named permissions: what a member of an agency may do, each given to
membership roles in one place.

A `Permission` is named by what it allows (`MANAGE_CASES`), not by who holds
it. The core's own live here; each area declares its own in its
`AREA = Area(..., permissions=(...))` and they are discovered with the area,
so the whole list (and the table in CONTRIBUTING.md, made by
`python -m saas.permissions --markdown`) is read from the declarations.

Pages and API routes check one with `@require(PERMISSION)`; templates, the
menu and services ask `can(PERMISSION)` (or `role in PERMISSION`, for a role
they were given).
"""

from __future__ import annotations

import argparse
import functools
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, request

from saas import areas
from saas.models import Role
from saas.tenancy import current_membership

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Permission:
    """What a member may do (`name`, as the constant holding it is named), in
    a sentence for developers (`allows`), and the membership roles holding it."""

    name: str
    allows: str
    roles: tuple[str, ...]

    def __post_init__(self) -> None:
        known = {r.value for r in Role}
        roles = tuple(str(r) for r in self.roles)
        unknown = [r for r in roles if r not in known]
        if unknown or not roles:
            raise ValueError(f"permission {self.name}: unknown or no roles {unknown}")
        # kept in the order of Role, so two declarations read alike
        object.__setattr__(self, "roles", tuple(r.value for r in Role if r.value in roles))

    def __contains__(self, role: object) -> bool:
        """`role in PERMISSION`: whether a membership role holds it (the menu
        and services given a role ask this way)."""
        return str(role) in self.roles

    def __iter__(self) -> Iterator[str]:
        return iter(self.roles)


# -- the core's permissions -------------------------------------------------------

VIEW_MEMBERS = Permission(
    "VIEW_MEMBERS",
    "See the agency's members and invitations; read a member through the API",
    (Role.ADMIN, Role.COORDINATOR),
)
MANAGE_MEMBERS = Permission(
    "MANAGE_MEMBERS",
    "Invite members, change their role, deactivate and reactivate them, revoke invitations, "
    "decide whether carers use two-factor",
    (Role.ADMIN,),
)
READ_AUDIT_LOG = Permission(
    "READ_AUDIT_LOG",
    "Read the agency's audit log and who opened each client's file",
    (Role.ADMIN,),
)
MANAGE_SETTINGS = Permission(
    "MANAGE_SETTINGS",
    "Change the agency's settings: reminders, care, feedback, outreach (and its opinion boxes), "
    "surveys, workforce, quality targets",
    (Role.ADMIN,),
)
USE_PORTAL = Permission(
    "USE_PORTAL",
    "The client portal: one's own visits (and asking to cancel one), rating them, the ratings "
    "given, opinions and complaints",
    (Role.CLIENT,),
)

USE_API_TOKENS = Permission(
    "USE_API_TOKENS",
    "Make and revoke one's own API tokens, for the phone app and the agency's own scripts "
    "(a client's or family's app reads their visits and rates them through the API)",
    (Role.ADMIN, Role.COORDINATOR, Role.CARER, Role.CLIENT),
)

CORE: tuple[Permission, ...] = (
    VIEW_MEMBERS,
    MANAGE_MEMBERS,
    READ_AUDIT_LOG,
    MANAGE_SETTINGS,
    USE_PORTAL,
    USE_API_TOKENS,
)


@functools.cache
def declared() -> tuple[tuple[str, Permission], ...]:
    """Every permission, with where it is declared ("core" or the area's
    name): the core's, then each area's in discovery order. A name declared
    twice is an error, so a name means one thing."""
    found = [("core", p) for p in CORE]
    found += [(area.name, p) for area in areas.discover() for p in area.permissions]
    seen: dict[str, str] = {}
    for where, permission in found:
        if not isinstance(permission, Permission):
            raise TypeError(f"{where} declares {permission!r}, not a Permission")
        if permission.name in seen:
            raise ValueError(
                f"permission {permission.name} is declared by {seen[permission.name]} and {where}"
            )
        seen[permission.name] = where
    return tuple(found)


@functools.cache
def _by_name() -> dict[str, Permission]:
    return {permission.name: permission for _where, permission in declared()}


def by_name(name: str) -> Permission:
    """A permission by its name (templates ask for each link of the frame)."""
    try:
        return _by_name()[name]
    except KeyError:
        raise KeyError(f"no permission is named {name}") from None


def can(permission: Permission | str, membership: Any = None) -> bool:
    """Whether a member (by default the request's) holds a permission, given
    itself or by name (templates: `can("MANAGE_CASES")`)."""
    if isinstance(permission, str):
        permission = by_name(permission)
    if membership is None:
        membership = current_membership()
    return membership is not None and membership.role in permission


def require(
    permission: Permission, *, methods: Iterable[str] = (), refuse: int | None = None
) -> Callable[[F], F]:
    """Restrict an agency page or API route to the members holding a
    permission (only for some HTTP methods when `methods` names them). Other
    members get 403 where no object is named (they may know the page exists,
    it is their own agency; the API answers its JSON error), and 404 where
    one is: whether that object exists is not theirs to learn, and never a 403
    for another agency's id. `refuse` gives one status for every refusal
    instead (where a route answered so before permissions were named)."""
    only = {m.upper() for m in methods}

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if only and request.method not in only:
                return view(*args, **kwargs)
            membership = current_membership()
            if membership is None:
                abort(404)
            if membership.role not in permission:
                names_object = any(isinstance(v, uuid.UUID) for v in kwargs.values())
                abort(refuse or (404 if names_object else 403))
            return view(*args, **kwargs)

        wrapped.permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


# -- the table of who may do what -------------------------------------------------

TABLE_START = "<!-- permissions table: python -m saas.permissions --markdown -->"
TABLE_END = "<!-- end of permissions table -->"


def markdown() -> str:
    """The table of every permission and the roles holding it, as Markdown."""
    roles = [r.value for r in Role]
    lines = [
        "| permission | declared by | allows | " + " | ".join(roles) + " |",
        "| --- | --- | --- | " + " | ".join(":---:" for _ in roles) + " |",
    ]
    for where, permission in declared():
        marks = " | ".join("yes" if role in permission else "" for role in roles)
        lines.append(f"| `{permission.name}` | {where} | {permission.allows} | {marks} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m saas.permissions", description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the table for CONTRIBUTING.md")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(), end="")
    else:
        for where, permission in declared():
            print(f"{permission.name:32} {where:12} {', '.join(permission.roles)}")


if __name__ == "__main__":
    # run as the imported module, whose Permission the areas' declarations use
    from saas.permissions import main as _main

    _main()
