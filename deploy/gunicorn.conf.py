"""Gunicorn settings for CareHub: `gunicorn -c deploy/gunicorn.conf.py saas.wsgi:app`.

Every value can be tuned from the environment; `--bind` (as `saas run` passes)
or any other command-line flag overrides what is set here.
"""

from __future__ import annotations

import os

bind = os.environ.get("BIND", "127.0.0.1:5000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"

timeout = 30
graceful_timeout = 20
keepalive = 5

# Trust X-Forwarded-* only from the reverse proxy in front of us.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_line = 8190

# Recycle workers now and then so slow leaks cannot accumulate.
max_requests = 2000
max_requests_jitter = 200

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# Path only (%U, never the query string, which can carry personal data),
# plus the request id the app echoes in X-Request-ID.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms req=%({x-request-id}o)s'


def post_fork(server: object, worker: object) -> None:
    """Forked workers must never share database connections with the master."""
    try:
        from saas import db

        db.get_engine().dispose(close=False)
    except RuntimeError:
        pass  # the engine is created later, inside each worker
