"""The page frame's menu links, rendered once per process for each kind of
reader. Every page carries them, and they are the same for everyone of one
agency, role and language: building them again (two dozen `url_for`s and
translations) was a measurable part of every page's time."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from flask import g, render_template, request
from flask_login import current_user
from markupsafe import Markup

from saas.i18n import current_locale

MENUS_KEPT = 2048  # kinds of reader per process (agencies x roles x languages met lately)


def menu_links_for(nav: Callable[[Any, str], list[Any]]) -> Callable[[], Markup]:
    """The template global `menu_links()`, given how the agency menu's entries
    are chosen (`saas.areas.nav_entries`): those are read for each page, since
    an area may show an entry by an agency's setting, and are part of the key."""

    @lru_cache(maxsize=MENUS_KEPT)
    def rendered(key: tuple[Any, ...]) -> Markup:
        # everything the template reads is in the key
        return Markup(render_template("_menu_links.html"))  # noqa: S704 - our template, autoescaped

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
            signed_in and bool(current_user.is_operator),
        )
        return rendered(key)

    return menu_links
