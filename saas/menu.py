"""The page frame's navigation: a sidebar on wide screens, a tab bar at the
bottom of a phone's screen, the current page marked in both.

The links come from the menu declarations (`saas.areas.NavEntry`, and the
core's own below); they are the same for everyone of one agency, role and
language, so their URLs are made once per process for each kind of reader
(two dozen `url_for`s and translations were a measurable part of every
page's time), and the frame's HTML once for each kind of reader and page
section (the link marked current)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from saas.i18n import current_locale
from saas.permissions import MANAGE_SETTINGS

MENUS_KEPT = 8192  # kinds of reader x sections per process (agencies x roles x languages met lately)
TABS = 4  # links in the phone's tab bar, "More" (the whole menu) aside


@dataclass(frozen=True)
class MenuLink:
    endpoint: str
    url: str
    label: str
    settings: bool = False  # under "Settings" in the sidebar
    tab: int | None = None  # place in the phone's tab bar, when it has one
    icon: str = ""  # the tab's icon (templates/_icons.html): home, visits, people, ...

    @property
    def own(self) -> bool:
        # the pages about one's own work are the `my_` views of their areas
        return self.endpoint.rpartition(".")[2].startswith("my_")


@dataclass(frozen=True)
class Menu:
    links: tuple[MenuLink, ...]

    @property
    def main(self) -> tuple[MenuLink, ...]:
        return tuple(link for link in self.links if not link.settings and not link.own)

    @property
    def own(self) -> tuple[MenuLink, ...]:
        """One's own pages (my visits, my training ...), apart from the agency's."""
        return tuple(link for link in self.links if not link.settings and link.own)

    @property
    def settings(self) -> tuple[MenuLink, ...]:
        return tuple(link for link in self.links if link.settings)

    @property
    def tabs(self) -> tuple[MenuLink, ...]:
        # one link per place: the first in the menu's order (the coordinator's
        # "Visits" before their own "My visits")
        by_place: dict[int, MenuLink] = {}
        for link in self.links:
            if link.tab is not None:
                by_place.setdefault(link.tab, link)
        return tuple(by_place[place] for place in sorted(by_place))[:TABS]

    def current(self, path: str, endpoint: str | None) -> str | None:
        """The link the page belongs under: its own, else the one whose URL
        is the longest start of the page's path (a client's file is under
        "Clients"), else the first of the page's blueprint."""
        for link in self.links:
            if link.endpoint == endpoint:
                return link.endpoint
        best: MenuLink | None = None
        for link in self.links:
            base = link.url.rstrip("/")
            if link.endpoint == "home.index" or not base:
                continue
            if (path == base or path.startswith(base + "/")) and (best is None or len(base) > len(best.url)):
                best = link
        if best is not None:
            return best.endpoint
        blueprint = (endpoint or "").rpartition(".")[0]
        for link in self.links:
            if blueprint and link.endpoint.rpartition(".")[0] == blueprint:
                return link.endpoint
        return None


def agency_menu(agency: Any, role: str, entries: list[Any]) -> Menu:
    links = [MenuLink("home.index", url_for("home.index"), _("Home"), tab=0, icon="home")]
    for entry in entries:
        links.append(
            MenuLink(
                entry.endpoint,
                url_for(entry.endpoint),
                str(entry.label),
                settings=entry.settings or entry.roles is MANAGE_SETTINGS,
                tab=getattr(entry, "tab", None),
                icon=getattr(entry, "icon", "") or "",
            )
        )
    # members, the audit log and billing are entries of their areas,
    # each with the permission its page requires
    return Menu(tuple(links))


def _operator_menu() -> Menu:
    return Menu(
        (
            MenuLink("operator.index", url_for("operator.index"), _("Agencies"), tab=0, icon="home"),
            MenuLink(
                "billing_operator.plans", url_for("billing_operator.plans"), _("Plans"), tab=1, icon="list"
            ),
            MenuLink("operator.outbox", url_for("operator.outbox"), _("Mail outbox"), tab=2, icon="mail"),
            MenuLink(
                "operator_jobs.index",
                url_for("operator_jobs.index"),
                _("Jobs and sweeps"),
                tab=3,
                icon="jobs",
            ),
            MenuLink("operator.audit_log", url_for("operator.audit_log"), _("Platform audit log")),
            MenuLink(
                "billing_operator.platform_settings",
                url_for("billing_operator.platform_settings"),
                _("Platform settings"),
                settings=True,
            ),
            MenuLink(
                "webhooks_operator.settings",
                url_for("webhooks_operator.settings"),
                _("Webhooks"),
                settings=True,
            ),
        )
    )


def menu_links_for(nav: Callable[[Any, str], list[Any]]) -> Callable[[], Markup]:
    """The template global `menu_links()`: the sidebar and the tab bar, given
    how the agency menu's entries are chosen (`saas.areas.nav_entries`):
    those are read for each page, since an area may show an entry by an
    agency's setting, and are part of the key."""

    @lru_cache(maxsize=MENUS_KEPT)
    def menu(key: tuple[Any, ...]) -> Menu | None:
        # everything read here is in the key
        agency = g.get("agency") if g.get("membership") else None
        if agency is not None:
            return agency_menu(agency, g.membership.role, nav(agency, g.membership.role))
        if key[-1]:  # an operator, outside any agency
            return _operator_menu()
        return None

    @lru_cache(maxsize=MENUS_KEPT)
    def rendered(key: tuple[Any, ...], current: str | None) -> Markup:
        found = menu(key)
        if found is None:
            return Markup("")
        # our template, autoescaped
        return Markup(render_template("_menu_links.html", menu=found, current=current))  # noqa: S704

    def menu_links() -> Markup:
        agency = g.get("agency") if g.get("membership") else None
        role = g.membership.role if agency is not None else None
        signed_in = bool(current_user and current_user.is_authenticated)
        key = (
            request.script_root,
            agency.slug if agency is not None else None,
            role,
            tuple(entry.endpoint for entry in nav(agency, role)) if agency is not None else (),
            current_locale(),
            signed_in,
            signed_in and agency is None and bool(current_user.is_operator),
        )
        found = menu(key)
        if found is None:
            return Markup("")
        return rendered(key, found.current(request.path, request.endpoint))

    return menu_links
