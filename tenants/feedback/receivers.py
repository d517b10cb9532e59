"""How feedback reacts to the other areas' events (connected when the app is
made: `Area.receivers`)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from tenants.clients.signals import TimelinePart, TimelineWanted, client_timeline
from tenants.feedback import queries
from tenants.feedback.services import client_ratings, email_rating_link
from tenants.scheduling.signals import VisitCompleted, visit_completed
from tenants.staffing.signals import (
    ComplaintAgainst,
    ComplaintsWanted,
    RatingsWanted,
    client_ratings_wanted,
    complaints_wanted,
)


def offer_rating_link(event: VisitCompleted) -> None:
    """After check-out, the client may get a personal link to rate the visit."""
    email_rating_link(event.agency, event.visit)


def ratings_for_review(event: RatingsWanted) -> dict[uuid.UUID, Decimal]:
    return client_ratings(event.staff_ids, event.start, event.end)


def complaints_for_review(event: ComplaintsWanted) -> list[ComplaintAgainst]:
    """The complaints against the worker in a review's period."""
    return queries.complaints_against(event.staff_id, event.start, event.end)


def feedback_in_client_file(event: TimelineWanted) -> TimelinePart:
    """The opinions and complaints' part of a page of the client's file."""
    return TimelinePart(queries.client_file_feedback(event), queries.feedback_entries)


visit_completed.connect(offer_rating_link)
client_ratings_wanted.connect(ratings_for_review)
complaints_wanted.connect(complaints_for_review)
client_timeline.connect(feedback_in_client_file)
