"""The agency home page: the reader's dashboard, from every area's figures
(`saas.dashboard`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user

from saas import db
from saas.dashboard import DashboardWanted, collect
from saas.tenancy import current_agency, current_membership

bp = Blueprint("home", __name__, url_prefix="/a/<slug>")


@bp.route("/")
def index() -> Any:
    agency = current_agency()
    membership = current_membership()
    wanted = DashboardWanted(
        agency=agency,
        membership=membership,
        role=membership.role,
        user_id=current_user.id,
        today=agency.today(),
        now=db.utcnow(),
    )
    return render_template("home/index.html", dashboard=collect(wanted), today=wanted.today)
