"""Gunicorn settings for CareHub: `gunicorn -c deploy/gunicorn.conf.py saas.wsgi:app`.

Every value can be tuned from the environment; `--bind` (as `saas run` passes)
or any other command-line flag overrides what is set here.
"""

from __future__ import annotations

import contextlib
import gc
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

# The app is imported once, in the master, and every worker is a fork of it:
# a worker started again (max_requests) costs a fork, not an import of the app
# and its templates in the middle of traffic. What must not be shared across
# the fork (database connections, Redis clients) is dropped in post_fork.
preload_app = True

# Recycle workers now and then so slow leaks cannot accumulate: every 20,000
# requests or so, which at a busy worker's few hundred a second is every
# minute or two; a worker's first requests after it starts are slower (new
# connections, cold caches), so recycling more often shows in the p99.
max_requests = 20000
max_requests_jitter = 2000

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# Path only (%U, never the query string, which can carry personal data),
# plus the request id the app echoes in X-Request-ID.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms req=%({x-request-id}o)s'


def when_ready(server: object) -> None:
    """In the master, once the app is loaded: compile the templates, so that
    no worker (nor a worker started again) compiles them during a request, and
    move what the import made out of the collector's way, so that forked
    workers keep sharing those pages instead of copying them."""
    app = server.app.wsgi()  # type: ignore[attr-defined]
    env = getattr(app, "jinja_env", None)
    if env is not None:
        for name in env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt", ".svg"))):
            with contextlib.suppress(Exception):  # one that fails will fail in its request too
                env.get_template(name)
    gc.freeze()


def post_fork(server: object, worker: object) -> None:
    """A worker never uses the master's database connections or Redis clients."""
    from saas import db, jobs

    # the master's sockets are left to the master (the engines may be created
    # later, inside each worker)
    db.dispose_after_fork()
    jobs._redis.clear()
