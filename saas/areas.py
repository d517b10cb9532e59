"""Agency areas describe themselves; the core discovers them.

Each package under `tenants/` (and `billing/`) holds an `AREA = Area(...)` in
its `__init__.py`, naming in one place what the rest of the platform needs
from it: the modules defining its tables, its blueprints, the modules adding
routes to a core blueprint (the API, the operator console), its reminder kinds,
the modules connecting its signal receivers, its periodic jobs, its menu
entries, its isolation samples and URL parameters, its agency settings. The
app factory, the scheduler, the reminder centre, the agency menu, the settings
pages (`saas.settings`), `saas.all_models` and the tests' isolation walk read
these declarations, so adding an area is adding
its folder and its migration, nothing else.

Discovery walks the packages with `pkgutil` (as Indico's
`discover_blueprints()` does) rather than setuptools entry points: an area
found by being in its folder needs no reinstall of the project, which entry
points would, and nothing outside the folder can forget to list it.

Module names are written relative to the area's package (".views") and are
imported only when the part is needed, so reading the declarations imports
nothing heavy, and the core never imports an area by name.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from saas.settings import Setting

# The packages that hold areas: every sub-package of `tenants`, and `billing`
# itself. Names, not imports: the core does not depend on them.
AREA_PACKAGES: tuple[str, ...] = ("billing",)
AREA_PARENTS: tuple[str, ...] = ("tenants",)


@dataclass(frozen=True)
class Periodic:
    """A periodic job for `rq cron` (`saas cron`): a function that opens its
    own app context and session. `func` is a dotted path, relative (".jobs.x")
    to the declaring area's package or absolute."""

    name: str
    func: str
    queue: str = "default"
    interval: int | None = None  # seconds
    cron: str | None = None  # crontab, UTC


@dataclass(frozen=True)
class NavEntry:
    """One link of the agency menu. `order` places it among every area's
    entries; `roles` are the membership roles that see it, best given as the
    `saas.permissions.Permission` its page requires (`role in roles` either
    way); `shown`, when given, decides per agency and role (a setting turning
    a page on); `tab` puts it in the phone's tab bar, with `icon`
    (templates/_icons.html); `settings` files it under the sidebar's settings
    and administration (as is any entry needing MANAGE_SETTINGS)."""

    endpoint: str
    label: Any  # flask_babel.LazyString
    roles: Any  # a saas.permissions.Permission, or a tuple of roles
    order: int
    shown: Callable[[Any, str], bool] | None = field(default=None, compare=False)
    # its place in the phone's tab bar (the first few of a role's menu with one), and the tab's icon
    tab: int | None = None
    icon: str = ""
    settings: bool = False


@dataclass(frozen=True)
class Area:
    """What an area gives the platform. Every module name is relative to the
    area's package (".models") or absolute."""

    name: str
    models: tuple[str, ...] = ()
    blueprints: tuple[str, ...] = ()  # each exposes `bp`
    routes: tuple[str, ...] = ()  # add routes to a core blueprint (API, operator console)
    reminders: tuple[str, ...] = ()  # register notification kinds when imported
    receivers: tuple[str, ...] = ()  # connect signal receivers when imported
    periodic: tuple[Periodic, ...] = ()
    nav: tuple[NavEntry, ...] = ()
    # the isolation walk: URL parameter -> the tenant table whose id it takes,
    # and the test modules registering a sample row for each of its tables
    url_params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    samples: tuple[str, ...] = ()
    demo: str | None = None  # "module.function", called with the demo agencies once they exist
    # the area's agency settings (saas.settings.Setting), each key declared once platform-wide
    settings: tuple[Setting, ...] = ()
    permissions: tuple[Any, ...] = ()  # saas.permissions.Permission, each named once platform-wide
    # functions answering a home dashboard (saas.dashboard.DashboardWanted) with figures and panels
    dashboard: tuple[str, ...] = ()
    # the words for this area's API scope on the token page (areas with API routes)
    api_label: Any = None
    package: str = ""  # filled by discovery

    def qualified(self, name: str) -> str:
        """A module or function name declared by the area, made absolute."""
        return self.package + name if name.startswith(".") else name

    def modules(self, part: str) -> Iterator[ModuleType]:
        """Import the modules of one part (`models`, `blueprints`, ...)."""
        for name in getattr(self, part):
            yield importlib.import_module(self.qualified(name))


def _declared(package_name: str) -> Area | None:
    package = importlib.import_module(package_name)
    area = getattr(package, "AREA", None)
    if area is None:
        return None
    if not isinstance(area, Area):
        raise TypeError(f"{package_name}.AREA is not an Area")
    return replace(area, package=package_name)


@functools.cache
def discover() -> tuple[Area, ...]:
    """Every declared area, in a stable order (by package name). Read once
    per process (the menu asks on every page); a test adding a package under
    `tenants/` calls `discover.cache_clear()`."""
    # billing first: the platform's plans exist before the care areas' demo
    found = [area for area in map(_declared, AREA_PACKAGES) if area is not None]
    for parent_name in AREA_PARENTS:
        parent = importlib.import_module(parent_name)
        for info in sorted(pkgutil.iter_modules(parent.__path__), key=lambda i: i.name):
            if info.ispkg:
                area = _declared(f"{parent_name}.{info.name}")
                if area is not None:
                    found.append(area)
    names = [a.name for a in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"two areas are named {sorted(duplicates)}")
    return tuple(found)


def import_all(part: str) -> list[ModuleType]:
    """Import one part of every area: `import_all("models")` fills the metadata."""
    return [module for area in discover() for module in area.modules(part)]


def periodic_jobs() -> tuple[Periodic, ...]:
    """Every area's periodic jobs, their functions made absolute."""
    return tuple(replace(job, func=area.qualified(job.func)) for area in discover() for job in area.periodic)


def nav_entries(agency: Any, role: str, core: tuple[NavEntry, ...] = ()) -> list[NavEntry]:
    """The agency menu for one role: the core's entries and every area's, in
    their declared order."""
    declared = [*core, *(entry for area in discover() for entry in area.nav)]
    entries = [
        entry
        for entry in declared
        if role in entry.roles and (entry.shown is None or entry.shown(agency, role))
    ]
    return sorted(entries, key=lambda e: e.order)


def url_params() -> dict[str, str]:
    params: dict[str, str] = {}
    for area in discover():
        params.update(area.url_params)
    return params


def resolve(path: str) -> Any:
    """The object a dotted path names (`package.module.function`)."""
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)
