"""The yardstick of `bench.http`: a Flask app doing nothing, served by
gunicorn with the platform's own settings (deploy/gunicorn.conf.py)."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "ok"
