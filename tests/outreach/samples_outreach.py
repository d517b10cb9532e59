"""Samples for the opinion box, stakeholder opinion rounds and funder visits."""

from __future__ import annotations

import uuid
from datetime import date

from saas import db
from tests.samples import AgencyWorld, sample


def _add(world: AgencyWorld, row) -> uuid.UUID:
    with db.tenant_scope(world.agency.id):
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("opinion_box_locations")
def _location(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.outreach.models import BoxLocation

    return _add(world, BoxLocation(name="Front office", since=date(2026, 1, 1)))


@sample("opinion_box_logs")
def _box_log(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.outreach.models import BoxLog

    return _add(
        world,
        BoxLog(
            location_id=world.ids["opinion_box_locations"],
            day=date(2026, 1, 5),
            opened=True,
            slips=2,
            opened_by_membership_id=world.ids["memberships"],
        ),
    )


@sample("stakeholder_rounds")
def _round(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.outreach.models import StakeholderRound

    return _add(
        world,
        StakeholderRound(
            team_id=world.ids["teams"],
            stakeholder_group="clients",
            held_on=date(2026, 1, 10),
            method="meeting",
            participants=8,
            opinions=5,
            summary="Want earlier morning visits",
            led_by_membership_id=world.ids["memberships"],
        ),
    )


@sample("funders")
def _funder(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.outreach.models import Funder

    return _add(world, Funder(name="District civil affairs bureau"))


@sample("funder_visits")
def _funder_visit(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.outreach.models import FunderVisit

    return _add(
        world,
        FunderVisit(
            funder_id=world.ids["funders"],
            visited_on=date(2026, 1, 12),
            visited_by_membership_id=world.ids["memberships"],
            topics="Monthly service report",
        ),
    )
