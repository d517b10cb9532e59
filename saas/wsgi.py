"""WSGI entry point for gunicorn: `gunicorn saas.wsgi:app`."""

from saas.cli import ensure_services

ensure_services()

from saas.app import create_app  # noqa: E402 - services first

app = create_app()
