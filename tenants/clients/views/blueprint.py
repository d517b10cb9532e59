"""The clients pages' blueprint and what the pages share: the case of a URL
with its client."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort

from saas.tenancy import get_or_404
from tenants.clients import labels, queries
from tenants.clients.models import Case, Client

bp = Blueprint("clients", __name__, url_prefix="/a/<slug>")
labels.register(bp)


def case_and_client(case_id: uuid.UUID) -> tuple[Case, Client]:
    case = get_or_404(Case, case_id)
    client = queries.client_of(case)
    if client is None:
        abort(404)
    return case, client
