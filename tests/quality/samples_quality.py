"""Samples for the monthly quality summary."""

from __future__ import annotations

import uuid

from saas import db
from tests.samples import AgencyWorld, sample


@sample("quality_summaries")
def _summary(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.quality import services
    from tenants.quality.models import BuildState, QualitySummary

    agency = world.agency
    month = services.previous_month(agency)
    with db.tenant_scope(agency.id):
        row = QualitySummary(
            month=month,
            state=BuildState.DONE,
            figures=services.compute_figures(agency, month),
            locale=agency.locale,
            built_at=db.utcnow(),
        )
        db.session.add(row)
        db.session.commit()
        return row.id
