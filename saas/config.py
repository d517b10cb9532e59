"""Configuration read once from the environment.

The owner URL (`DATABASE_URL`) runs migrations; the app itself connects as the
unprivileged `saas_app` role so row-level security applies to every query.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))

APP_ROLE = "saas_app"
PLATFORM_READER_ROLE = "saas_platform_reader"


def app_url_from_owner(owner_url: str, password: str, role: str = APP_ROLE) -> str:
    """Same server and database as the owner URL, as the app role (or the
    platform reader's)."""
    url = make_url(owner_url).set(drivername="postgresql+psycopg", username=role, password=password)
    return url.render_as_string(hide_password=False)


def owner_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    # A stable key under instance/ so sessions survive restarts of the embedded default.
    INSTANCE.mkdir(parents=True, exist_ok=True)
    path = INSTANCE / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass
class Config:
    SECRET_KEY: str = ""
    DATABASE_URL: str = ""
    APP_DATABASE_URL: str = ""
    APP_DB_PASSWORD: str = "saas-app-local"  # noqa: S105 - local default; set in production
    # reads across agencies log in as their own role on their own connections
    # (saas.db.platform_reader): on Citus a role switched to inside the app's
    # transaction cannot reach the workers
    READER_DATABASE_URL: str = ""
    READER_DB_PASSWORD: str = "saas-reader-local"  # noqa: S105 - local default; set in production
    REDIS_URL: str = ""
    SMTP_URL: str = ""
    MAIL_FROM: str = "CareHub <no-reply@carehub.example>"
    BASE_URL: str = "http://127.0.0.1:5000"
    SENTRY_DSN: str = ""
    SENTRY_ENVIRONMENT: str = "development"
    DEMO_PASSWORD: str = "demo-pass-2026"  # noqa: S105 - the documented demo login
    DEMO_TOTP_SECRET: str = "JBSWY3DPEHPK3PXP"  # noqa: S105 - the documented demo secret
    TESTING: bool = False
    SESSION_IDLE_MINUTES: int = 30
    SESSION_ABSOLUTE_HOURS: int = 12
    # certificate scans are up to 5 MB (tenants/staffing); form fields stay capped by
    # Flask's MAX_FORM_MEMORY_SIZE (500 kB each)
    MAX_CONTENT_LENGTH: int = 8 * 1024 * 1024
    RELAY_INLINE: bool = True
    # web processes also check that the scheduled sweeps run (saas/sweeps.py)
    WEB_SWEEP_WATCH: bool = True
    # billing (billing/): Stripe when both keys are set, manual invoicing otherwise
    STRIPE_SECRET_KEY: str = ""
    STRIPE_WEBHOOK_SECRET: str = ""
    STRIPE_API_BASE: str = ""  # only to point the SDK at a stand-in (tests)
    TRIAL_DAYS: int = 14
    BILLING_GRACE_DAYS: int = 14
    # reverse proxies in front of the web process whose X-Forwarded-For and
    # X-Forwarded-Proto are believed (saas/app.py); 0 believes none, so a client
    # cannot choose the address its rate limits are counted on
    TRUSTED_PROXY_HOPS: int = 0
    # a Nominatim-compatible geocoder (saas/geocoding.py); unset: positions are typed by hand
    GEOCODER_URL: str = ""
    GEOCODER_TIMEOUT: float = 3.0
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: object) -> Config:
        env = os.environ
        cfg = cls(
            SECRET_KEY=_secret_key() if "SECRET_KEY" not in overrides else "",
            DATABASE_URL=env.get("DATABASE_URL", ""),
            APP_DATABASE_URL=env.get("APP_DATABASE_URL", ""),
            APP_DB_PASSWORD=env.get("APP_DB_PASSWORD", "saas-app-local"),
            READER_DATABASE_URL=env.get("READER_DATABASE_URL", ""),
            READER_DB_PASSWORD=env.get("READER_DB_PASSWORD", "saas-reader-local"),
            REDIS_URL=env.get("REDIS_URL", ""),
            SMTP_URL=env.get("SMTP_URL", ""),
            MAIL_FROM=env.get("MAIL_FROM", cls.MAIL_FROM),
            BASE_URL=env.get("BASE_URL", f"http://127.0.0.1:{env.get('PORT', '5000')}"),
            SENTRY_DSN=env.get("SENTRY_DSN", ""),
            SENTRY_ENVIRONMENT=env.get("SENTRY_ENVIRONMENT", "development"),
            DEMO_PASSWORD=env.get("DEMO_PASSWORD", "demo-pass-2026"),
            DEMO_TOTP_SECRET=env.get("DEMO_TOTP_SECRET", "JBSWY3DPEHPK3PXP"),
            STRIPE_SECRET_KEY=env.get("STRIPE_SECRET_KEY", ""),
            STRIPE_WEBHOOK_SECRET=env.get("STRIPE_WEBHOOK_SECRET", ""),
            STRIPE_API_BASE=env.get("STRIPE_API_BASE", ""),
            TRIAL_DAYS=int(env.get("TRIAL_DAYS", "14")),
            BILLING_GRACE_DAYS=int(env.get("BILLING_GRACE_DAYS", "14")),
            TRUSTED_PROXY_HOPS=int(env.get("TRUSTED_PROXY_HOPS", "0")),
            GEOCODER_URL=env.get("GEOCODER_URL", ""),
            GEOCODER_TIMEOUT=float(env.get("GEOCODER_TIMEOUT", "3")),
        )
        for key, value in overrides.items():
            setattr(cfg, key, value)
        if cfg.DATABASE_URL and not cfg.APP_DATABASE_URL:
            cfg.APP_DATABASE_URL = app_url_from_owner(cfg.DATABASE_URL, cfg.APP_DB_PASSWORD)
        if (cfg.DATABASE_URL or cfg.APP_DATABASE_URL) and not cfg.READER_DATABASE_URL:
            cfg.READER_DATABASE_URL = app_url_from_owner(
                cfg.DATABASE_URL or cfg.APP_DATABASE_URL, cfg.READER_DB_PASSWORD, PLATFORM_READER_ROLE
            )
        return cfg

    def flask_mapping(self) -> dict[str, object]:
        data = {k: v for k, v in self.__dict__.items() if k.isupper()}
        https = self.BASE_URL.startswith("https://")
        data.update(
            # over https the session cookie is a __Host- cookie: browsers accept it
            # only Secure, for Path=/ and with no Domain, so no subdomain or plain
            # http page can set or overwrite it
            SESSION_COOKIE_NAME="__Host-session" if https else "session",
            SESSION_COOKIE_PATH="/",
            SESSION_COOKIE_DOMAIN=None,
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=https,
            # Flask-Login's remember cookie is never issued (sessions are server
            # side); were it ever, it would be as guarded as the session cookie
            REMEMBER_COOKIE_SECURE=https,
            REMEMBER_COOKIE_HTTPONLY=True,
            REMEMBER_COOKIE_SAMESITE="Lax",
            WTF_CSRF_TIME_LIMIT=None,
            BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
        )
        data.update(self.extra)
        return data
