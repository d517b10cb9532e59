"""The carer's phone as an installable web app: its manifest, its service
worker (served from the agency's address, so its scope covers the carer's
pages), and the phone's own API token, with which the queue of what was
recorded offline is sent (a page session ends after 30 idle minutes; a visit
made in a basement may be sent hours later)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, abort, current_app, jsonify, request, url_for

from saas.auth.sessions import remember_device_token
from saas.permissions import require
from saas.tenancy import current_agency, current_membership
from tenants.scheduling import RECORD_VISITS, VIEW_OWN_SCHEDULE, services
from tenants.scheduling.views.blueprint import bp


@bp.route("/sw.js")
@require(VIEW_OWN_SCHEDULE)
def service_worker() -> Any:
    """The service worker, from the agency's address: its scope is the
    agency's pages (/a/<slug>/), no wider."""
    path = current_app.static_folder + "/js/sw.js"  # type: ignore[operator]
    with open(path, encoding="utf-8") as script:
        body = script.read().replace("__STATIC__", url_for("static", filename=""))
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("scheduling.my_schedule").rsplit("/my/", 1)[0] + "/"
    # the browser checks for a new worker at each visit; never an old copy
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/app.webmanifest")
@require(VIEW_OWN_SCHEDULE)
def manifest() -> Any:
    agency = current_agency()
    scope = url_for("scheduling.my_schedule").rsplit("/my/", 1)[0] + "/"
    document = {
        "name": agency.name,
        "short_name": agency.name[:12],
        "id": scope,
        "start_url": url_for("scheduling.my_schedule"),
        "scope": scope,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d5c8c",
        "lang": agency.locale,
        "icons": [
            {"src": url_for("static", filename=f"icons/carehub-{name}.png"), "sizes": size}
            | ({"purpose": "maskable"} if name == "maskable" else {})
            for name, size in (("192", "192x192"), ("512", "512x512"), ("maskable", "512x512"))
        ],
    }
    response = jsonify(document)
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/my/phone", methods=["POST"])
@require(RECORD_VISITS)
def phone_token() -> Any:
    """This phone's API token, shown once: the app keeps it on the phone and
    sends its queue with it (revoked at sign-out)."""
    token_id, token = services.issue_phone_token(current_membership())
    remember_device_token(current_agency().id, token_id)
    return jsonify(token=token, token_id=str(token_id))


@bp.route("/my/phone/forget", methods=["POST"])
@require(RECORD_VISITS)
def forget_phone() -> Any:
    """Signing out on the phone: its token stops working."""
    raw = (request.get_json(silent=True) or {}).get("token_id")
    try:
        token_id = uuid.UUID(str(raw))
    except ValueError:
        abort(400)
    services.revoke_phone_token(current_membership(), token_id)
    return jsonify(revoked=True)
