"""The visits pages' blueprint and what the pages share: whose visit a user
may open, the member's staff file, the portal's clients, local times."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, abort

from saas.models import Agency, Role
from saas.tenancy import current_membership, get_or_404
from tenants.clients import services as client_services
from tenants.scheduling import MANAGE_VISITS, services
from tenants.scheduling.labels import visit_status_label
from tenants.scheduling.models import Visit
from tenants.staffing.services import staff_of_membership

bp = Blueprint("scheduling", __name__, url_prefix="/a/<slug>")
bp.app_template_global("visit_status_label")(visit_status_label)


def my_staff_id() -> uuid.UUID | None:
    membership = current_membership()
    staff = staff_of_membership(membership.id) if membership else None
    return staff.id if staff else None


def portal_client_ids() -> list[uuid.UUID]:
    return client_services.portal_client_ids(current_membership())


def visit_for_user(visit_id: uuid.UUID) -> Visit:
    """Coordinators see every visit; a carer only theirs (another's is a 404)."""
    visit = get_or_404(Visit, visit_id)
    role = current_membership().role
    if role in MANAGE_VISITS:
        return visit
    if role == Role.CARER and visit.staff_file_id is not None and visit.staff_file_id == my_staff_id():
        return visit
    abort(404)


def local(agency: Agency, moment: datetime | None) -> datetime | None:
    return moment.astimezone(services.tz_of(agency)) if moment else None
