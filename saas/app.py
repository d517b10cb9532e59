"""The application factory: configuration, then extensions, then blueprints,
then the request lifecycle (tenant resolution, errors, teardown)."""

from __future__ import annotations

import functools
import importlib
from typing import Any

from flask import Flask, abort, g, has_request_context, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from saas import areas, db, jobs, lifecycle
from saas import mail as _mail  # registers the mail jobs; its labels serve the outbox
from saas.audit_labels import action_label
from saas.auth import sessions as _sessions  # noqa: F401 - registers the user loader
from saas.auth.forms import CsrfOnly
from saas.auth.views import landing_url, require_two_factor_guard
from saas.config import ROOT, Config
from saas.extensions import babel, csrf, limiter, login_manager
from saas.fields import LOCALES
from saas.i18n import (
    current_locale,
    format_day,
    format_month,
    language_label,
    role_label,
    select_locale,
    select_timezone,
    status_label,
)
from saas.menu import menu_links_for
from saas.observability import answer_liveness, configure_logging, health, init_request_context, init_sentry
from saas.permissions import MANAGE_SETTINGS, can
from saas.settings import agency_setting
from saas.tenancy import check_agency_access, inject_slug, resolve_agency

# The core's blueprints; each module exposes `bp`. The areas' come from their
# declarations (saas/areas.py).
BLUEPRINTS = (
    "saas.auth.views",
    "saas.operator.views",
    "saas.operator.jobs",
    "saas.api.views",
    "saas.notifications.views",
)
# The core's entries in the agency menu, placed among the areas' by their order.
CORE_NAV = (areas.NavEntry("notifications.agency_settings", _l("Reminder settings"), MANAGE_SETTINGS, 250),)


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
    )
    app.config.from_mapping(config.flask_mapping())
    if not app.config["APP_DATABASE_URL"] or not app.config["REDIS_URL"]:
        raise RuntimeError("DATABASE_URL and REDIS_URL are needed (saas run starts embedded ones)")

    configure_logging()
    init_sentry(
        app.config["SENTRY_DSN"], app.config["SENTRY_ENVIRONMENT"], app.config.get("SENTRY_TRANSPORT")
    )
    db.init_engine(app.config["APP_DATABASE_URL"], app.config.get("READER_DATABASE_URL", ""))
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops:
        # the client's address and scheme as the trusted proxies saw them (rate
        # limits are keyed on it); the Host header is forwarded by the proxy
        # itself, so X-Forwarded-Host, which a client could send through, is not
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)  # type: ignore[method-assign]
    _register_extensions(app)
    _register_blueprints(app)
    _register_lifecycle(app)
    # last: its commit runs before the other after_request hooks
    lifecycle.init_app(app)
    return app


def _register_extensions(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = None  # server-side sessions do this job
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["dateformat"] = format_day  # Flask-Babel's, with days' words kept
    app.config.setdefault("RATELIMIT_STORAGE_URI", _limiter_uri(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "carehub-limits")
    # an unreachable Redis is noticed at once and the limiter falls back to
    # memory (saas/extensions.py) instead of holding the request
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    limiter.init_app(app)


def _limiter_uri(redis_url: str) -> str:
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(health)
    app.wsgi_app = answer_liveness(app.wsgi_app)  # type: ignore[method-assign]
    core = [importlib.import_module(name) for name in BLUEPRINTS]
    # what the areas add: tables, signal receivers, routes on the core's
    # blueprints (API, operator console; before those are registered), their own
    areas.import_all("models")
    areas.import_all("receivers")
    areas.import_all("routes")
    for module in [*core, *areas.import_all("blueprints")]:
        app.register_blueprint(module.bp)
    # The API takes bearer tokens, never cookies. Flask-WTF exempts a blueprint
    # object or "module.function" names; a module's name exempts nothing.
    csrf.exempt(app.blueprints["api"])

    @app.route("/")
    def index() -> Any:
        if current_user.is_authenticated:
            return redirect(landing_url(current_user))
        return redirect(url_for("auth.login"))


def _register_lifecycle(app: Flask) -> None:
    init_request_context(app)
    app.before_request(refuse_nul_characters)
    app.url_value_preprocessor(resolve_agency)
    app.url_defaults(inject_slug)
    app.before_request(require_two_factor_guard)
    app.before_request(check_agency_access)

    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'",
        )
        if current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config["BASE_URL"].startswith("https://"):
            # served over https: browsers never try plain http again for two years
            response.headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        return response

    app.jinja_env.globals.update(
        role_label=role_label,
        status_label=status_label,
        audit_action=action_label,
        language_label=language_label,
        mail_status=_mail.STATUSES,
    )
    app.jinja_env.globals["agency_nav"] = lambda agency, role: areas.nav_entries(agency, role, CORE_NAV)
    app.jinja_env.globals["menu_links"] = menu_links_for(app.jinja_env.globals["agency_nav"])
    app.jinja_env.globals["agency_setting"] = agency_setting  # {{ agency_setting(agency, "key") }}
    app.jinja_env.globals["can"] = can  # {% if can("MANAGE_CASES") %}
    app.jinja_env.filters["monthformat"] = format_month

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        # the agency is named on a page only once access to it is established
        shown = g.get("agency") if (g.get("membership") or g.get("agency_public")) else None
        return {
            "agency": shown,
            "membership": g.get("membership"),
            "locales": LOCALES,
            "current_locale": current_locale(),
            # not when a job renders an email (no request, so no CSRF token to make)
            "language_form": CsrfOnly() if has_request_context() else None,
            "plain_form": CsrfOnly() if has_request_context() else None,
        }


def refuse_nul_characters() -> None:
    """PostgreSQL cannot store a NUL character in text: refuse a request
    carrying one (no browser types it) before any form or API code sees it,
    so it is a 400, never a 500 at the database."""
    values = [*request.args.values(), *request.form.values()]
    if any("\x00" in value for value in values):
        abort(400)
    if request.is_json and b"\\u0000" in request.get_data(cache=True):
        abort(400)


@functools.cache
def job_app() -> Flask:
    """One app per worker process, for jobs that need config and templates."""
    return create_app()


jobs.use_app(job_app)
