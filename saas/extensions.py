"""Extensions, created unbound here and registered by the app factory."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    headers_enabled=True,
    # With Redis down the limits are counted in this process's memory (each
    # web process counts its own) until Redis answers again, and an error of
    # the limiter's storage is logged, never turned into a 500: sign-in and the
    # public forms stay up and stay limited.
    in_memory_fallback_enabled=True,
    swallow_errors=True,
)
