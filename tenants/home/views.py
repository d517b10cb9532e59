from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("home", __name__, url_prefix="/a/<slug>")


@bp.route("/")
def index() -> Any:
    return render_template("home/index.html")
