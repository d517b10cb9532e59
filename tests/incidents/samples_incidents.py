"""Samples for incidents and their actions."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from saas import db
from tests.samples import AgencyWorld, sample


def _add(world: AgencyWorld, row) -> uuid.UUID:
    with db.tenant_scope(world.agency.id):
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("incidents")
def _incident(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.incidents.models import Incident

    # the sample member (a coordinator) reported it, so the walk's admin and
    # token both reach it in their own agency
    return _add(
        world,
        Incident(
            type="fall",
            severity="moderate",
            status="investigating",
            client_id=world.ids["clients"],
            visit_id=world.ids["visits"],
            place="Bathroom",
            occurred_at=db.utcnow() - timedelta(hours=2),
            description="Slipped getting out of the bath",
            reporter_membership_id=world.ids["memberships"],
            investigator_membership_id=world.ids["memberships"],
            investigation_deadline=date(2030, 1, 1),
        ),
    )


@sample("incident_actions")
def _action(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.incidents.models import IncidentAction

    return _add(
        world,
        IncidentAction(
            incident_id=world.ids["incidents"],
            description="Fit a grab rail",
            owner_membership_id=world.ids["memberships"],
            due_on=date(2030, 1, 1),
        ),
    )


@sample("incident_staff")
def _staff(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.incidents.models import IncidentStaff

    return _add(
        world, IncidentStaff(incident_id=world.ids["incidents"], staff_file_id=world.ids["staff_files"])
    )
