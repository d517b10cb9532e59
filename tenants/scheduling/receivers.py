"""How scheduling reacts to the other areas' events (connected when the app
is made: `Area.receivers`)."""

from __future__ import annotations

from tenants.clients.signals import (
    PlanActivated,
    PlanBooked,
    TimelinePart,
    TimelineWanted,
    client_timeline,
    plan_activated,
)
from tenants.scheduling import queries
from tenants.scheduling.services import replace_plan_visits
from tenants.staffing.settings import agency_in_scope


def book_plan_visits(event: PlanActivated) -> PlanBooked:
    """A plan became active: its visits are (re)booked in the same
    transaction, each given to its preferred carer where every check passes."""
    booked, outcome = replace_plan_visits(agency_in_scope(), event.plan, event.case, by=event.by)
    return PlanBooked(booked, outcome.assigned, outcome.open, dict(outcome.reasons.most_common()))


def visits_in_client_file(event: TimelineWanted) -> TimelinePart:
    """The visits' part of a page of the client's one-matter file."""
    return TimelinePart(queries.client_file_visits(event), queries.visit_entries)


plan_activated.connect(book_plan_visits)
client_timeline.connect(visits_in_client_file)
