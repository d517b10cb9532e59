"""Sentry, structured logs with request and agency ids, and health checks."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import sentry_sdk
from flask import Blueprint, Flask, g, has_request_context, jsonify, request
from sqlalchemy import inspect, text

from saas import db, jobs

log = logging.getLogger(__name__)

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
SENSITIVE_KEYS = re.compile(r"pass|secret|token|email|name|phone|address|birth|health|code|cookie|auth", re.I)
REDACTED = "[redacted]"


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 12:
        return REDACTED
    if isinstance(value, str):
        return EMAIL_RE.sub(REDACTED, value)
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(k, str) and SENSITIVE_KEYS.search(k) else _scrub(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v, depth + 1) for v in value]
    return value


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """before_send: no personal data leaves for Sentry.

    Exception messages can quote user input, so their text goes too; the type
    and stack (function names and lines, no local variables) stay.
    """
    event.pop("user", None)
    request_data = event.get("request")
    if isinstance(request_data, dict):
        event["request"] = {
            "method": request_data.get("method"),
            "url": EMAIL_RE.sub(REDACTED, str(request_data.get("url", ""))),
        }
    for exc in (event.get("exception") or {}).get("values", []) or []:
        if exc.get("value"):
            exc["value"] = REDACTED
    if "logentry" in event:
        event["logentry"] = {"message": REDACTED}
    for crumb in (event.get("breadcrumbs") or {}).get("values", []) or []:
        crumb.pop("data", None)
        if crumb.get("message"):
            crumb["message"] = REDACTED
    for key in ("extra", "contexts", "tags"):
        if key in event:
            event[key] = _scrub(event[key])
    return event


def init_sentry(dsn: str, environment: str, transport: Any = None) -> None:
    if not dsn:
        return
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    options: dict[str, Any] = dict(
        dsn=dsn,
        environment=environment,
        integrations=[FlaskIntegration(), RqIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        include_source_context=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        traces_sample_rate=0.0,
    )
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)


class ContextFilter(logging.Filter):
    """Adds request_id and agency_id to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        agency = g.get("agency") if has_request_context() else None
        # the id the session knows the row by: reading `agency.id` after a
        # rollback would query the database, which may be what just failed
        state = inspect(agency, raiseerr=False) if agency is not None else None
        identity = state.identity if state is not None else None
        record.agency_id = str(identity[0]) if identity else "-"
        return True


def configure_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_saas", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._saas = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(levelname)s [req=%(request_id)s agency=%(agency_id)s] %(name)s: %(message)s"
        )
    )
    root.addHandler(handler)
    root.setLevel(level)


def init_request_context(app: Flask) -> None:
    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if re.fullmatch(r"[A-Za-z0-9-]{8,64}", incoming) else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response: Any) -> Any:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response


health = Blueprint("health", __name__)


_LIVE = b'{"status":"ok"}\n'
_LIVE_HEADERS = [
    ("Content-Type", "application/json"),
    ("Content-Length", str(len(_LIVE))),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
]


def answer_liveness(wsgi_app: Any) -> Any:
    """`GET /healthz` answered in front of Flask: it says the process serves,
    so nothing of a page's work (session, rate limits, the request's
    transaction) belongs in it, and a probe polled every few seconds by every
    load balancer costs next to nothing. Anything else goes on to the app."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response("200 OK", list(_LIVE_HEADERS))
            return [] if environ["REQUEST_METHOD"] == "HEAD" else [_LIVE]
        return wsgi_app(environ, start_response)

    return app


@health.route("/readyz")
def readyz() -> Any:
    checks = {"database": False, "redis": False}
    try:
        with db.get_engine().connect() as conn:
            conn.execute(text("select 1"))
        checks["database"] = True
    except Exception:  # noqa: BLE001 - readiness reports, it does not raise
        log.warning("readyz: database not answering")
    try:
        checks["redis"] = bool(jobs.redis_connection().ping())
    except Exception:  # noqa: BLE001
        log.warning("readyz: redis not answering")
    ok = all(checks.values())
    return jsonify(status="ready" if ok else "unavailable", checks=checks), 200 if ok else 503
