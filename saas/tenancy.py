"""The agency of a request, resolved once from `/a/<slug>/` and membership.

A URL naming an agency the user does not belong to is a 404, exactly like a
slug that does not exist: nobody learns which agencies exist.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import sentry_sdk
from flask import abort, g, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from saas import db
from saas.auth import sessions, tokens
from saas.fields import SLUG_RE
from saas.memberships import MEMBER_FIGURES as MEMBER_FIGURES
from saas.memberships import kept_membership
from saas.memberships import member_figure as member_figure
from saas.models import Agency, Membership, Role
from saas.settings import agency_setting

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC_ATTR = "_agency_public"

# Extension points, filled by feature packages at import (billing: view-as
# sessions and the billing state). A fallback may supply a membership for a
# signed-in user who has none in the agency; a guard runs once access is
# established and may answer the request itself (a response) or let it through (None).
MEMBERSHIP_FALLBACKS: list[Callable[[Agency], Membership | None]] = []
ACCESS_GUARDS: list[Callable[[Agency, Membership], Any]] = []


def public_agency_page(view: F) -> F:
    """Mark an agency page that needs no sign-in (the public feedback form)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def current_agency() -> Agency | None:
    return g.get("agency")


def current_membership() -> Membership | None:
    return g.get("membership")


def agency_by_slug(slug: str) -> Agency | None:
    slug = slug.lower()
    if not SLUG_RE.match(slug):
        return None
    return db.session.scalar(select(Agency).where(Agency.slug == slug))


def resolve_agency(endpoint: str | None, values: dict[str, Any] | None) -> Any:
    """url_value_preprocessor: pop `slug`, put the agency in scope."""
    if not values or "slug" not in values:
        return None
    slug = values.pop("slug")
    agency = agency_by_slug(slug)
    if agency is None:
        abort(404)
    g.agency = agency
    db.set_tenant(agency.id)
    sentry_sdk.set_tag("agency_id", str(agency.id))
    return None


def _active_membership(agency: Agency) -> Membership | None:
    kept = kept_membership(agency.id)
    if kept is not None:
        return kept[0]
    return db.session.scalar(
        select(Membership).where(Membership.user_id == current_user.id, Membership.active.is_(True))
    )


def check_agency_access() -> Any:
    """before_request: a signed-in member of the agency, or a public page."""
    agency = current_agency()
    if agency is None:
        return None
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, PUBLIC_ATTR, False):
        if agency.is_suspended or agency.is_closed:
            abort(404)
        g.agency_public = True
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    membership = _active_membership(agency)
    for fallback in MEMBERSHIP_FALLBACKS if membership is None else ():
        membership = fallback(agency)
        if membership is not None:
            break
    if membership is None:
        abort(404)
    if agency.is_suspended:
        return render_template("errors/suspended.html", agency=agency), 403
    g.membership = membership
    if needs_two_factor(agency, membership.role):
        # whoever can open client files must use two-factor before anything else here
        if not current_user.has_totp:
            session["after_2fa"] = request.full_path
            return redirect(url_for("auth.two_factor_setup"))
        if not current_user.current_session.two_factor_passed:
            # enrolled since this session began (on another device, say): sign in with the code
            sessions.end_session()
            return redirect(url_for("auth.login", next=request.full_path))
    if sessions.session_expired_for_agency(
        agency_setting(agency, "session_idle_minutes"), agency_setting(agency, "session_absolute_hours")
    ):
        sessions.end_session()
        return redirect(url_for("auth.login", next=request.full_path))
    for guard in ACCESS_GUARDS:
        response = guard(agency, membership)
        if response is not None:
            return response
    return None


CARERS_TWO_FACTOR = "carers_two_factor"


def needs_two_factor(agency: Agency, role: Role | str) -> bool:
    """Admins and coordinators open client files, so they always sign in with
    two-factor; carers do when their agency says so (off unless an admin turns it on)."""
    if role in (Role.ADMIN, Role.COORDINATOR):
        return True
    return role == Role.CARER and bool(agency_setting(agency, CARERS_TWO_FACTOR))


def get_or_404(model: type, object_id: uuid.UUID) -> Any:
    """Load a tenant-owned object of the current agency, or 404.

    Scoping is central (db.py), so another agency's id simply finds nothing.
    """
    obj = db.session.scalar(select(model).where(model.id == object_id))
    if obj is None:
        abort(404)
    return obj


def inject_slug(endpoint: str, values: dict[str, Any]) -> None:
    """url_defaults: building an agency URL inside an agency request needs no slug."""
    agency = current_agency()
    if agency is None or "slug" in values:
        return
    from flask import current_app

    if _takes_slug(current_app.url_map, endpoint):
        values["slug"] = agency.slug


# endpoint -> whether its URL names the agency, per URL map: every link of a
# page asks, and the rules are all in place before the first request
_SLUG_ENDPOINTS: weakref.WeakKeyDictionary[Any, dict[str, bool]] = weakref.WeakKeyDictionary()


def _takes_slug(url_map: Any, endpoint: str) -> bool:
    known = _SLUG_ENDPOINTS.setdefault(url_map, {})
    takes = known.get(endpoint)
    if takes is None:
        rules = url_map._rules_by_endpoint.get(endpoint, [])
        takes = known[endpoint] = any("slug" in r.arguments for r in rules)
    return takes


L = TypeVar("L")


def open_personal_link(token: str, model: type[L]) -> tuple[Agency, L] | None:
    """The agency and the link row a personal link's token names, with the
    agency put in scope, or None for an unknown, altered or foreign token or
    an agency that is suspended or closed. The token carries the agency's id
    and the row's id; only the secret's digest is stored (`token_hash`)."""
    parsed = tokens.split(token, 2)
    if parsed is None:
        return None
    (agency_id, link_id), secret = parsed
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.is_suspended or agency.is_closed:
        return None
    db.set_tenant(agency.id)
    link = db.session.scalar(select(model).where(model.id == link_id))  # type: ignore[attr-defined]
    if link is None or not tokens.same(secret, link.token_hash):  # type: ignore[attr-defined]
        return None
    return agency, link


def frame_for_not_found() -> None:
    """A page not found under /a/<slug>/ (no route matched, so the agency was
    never resolved) is shown in the agency's frame, its menu and bell, to a
    signed-in member who could open the agency's pages. Anyone else gets the
    plain page, exactly as for an agency that does not exist."""
    if g.get("agency") is not None or not current_user.is_authenticated:
        return
    parts = request.path.split("/")
    if len(parts) < 3 or parts[1] != "a":
        return
    agency = agency_by_slug(parts[2])
    if agency is None or agency.is_suspended or agency.is_closed:
        return
    db.set_tenant(agency.id)
    membership = _active_membership(agency)
    passed = current_user.has_totp and current_user.current_session.two_factor_passed
    expired = sessions.session_expired_for_agency(
        agency_setting(agency, "session_idle_minutes"), agency_setting(agency, "session_absolute_hours")
    )
    if membership is None or expired or (needs_two_factor(agency, membership.role) and not passed):
        db.set_tenant(None)
        return
    g.agency = agency
    g.membership = membership
