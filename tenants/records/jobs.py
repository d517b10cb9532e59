"""The retention sweep: each agency's files at the end of their retention
listed for its appraisal, on the agency's own calendar."""

from __future__ import annotations

from sqlalchemy import select

from saas.agencies import sweep_agencies
from saas.jobs import periodic
from saas.models import Agency
from tenants.clients.models import Client
from tenants.records import services


def _sweep_one(agency: Agency) -> int:
    # a closed agency's archive is read-only: nobody can decide; its purge follows retention
    if agency.is_closed:
        return 0
    return services.sweep(agency)


@periodic
def retention_sweep() -> int:
    """Declared in the area's `periodic`; idempotent."""
    return sweep_agencies(
        select(Client.tenant_id).where(Client.archived_at.is_not(None), Client.anonymised_at.is_(None)),
        _sweep_one,
    )
