"""Sample rows of the records area's tables for the schema test and the isolation walk."""

from __future__ import annotations

import uuid
from datetime import date

from saas import db
from tests.samples import AgencyWorld, sample


@sample("retention_reviews")
def _review(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.records.models import RetentionReview

    with db.tenant_scope(world.agency.id):
        row = RetentionReview(client_id=world.ids["clients"], due_on=date(2020, 1, 1))
        db.session.add(row)
        db.session.commit()
        return row.id
