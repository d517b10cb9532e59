"""How feedback reacts to the other areas' events (connected when the app is
made: `Area.receivers`)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from tenants.feedback.services import client_ratings, email_rating_link
from tenants.scheduling.signals import VisitCompleted, visit_completed
from tenants.staffing.signals import RatingsWanted, client_ratings_wanted


def offer_rating_link(event: VisitCompleted) -> None:
    """After check-out, the client may get a personal link to rate the visit."""
    email_rating_link(event.agency, event.visit)


def ratings_for_review(event: RatingsWanted) -> dict[uuid.UUID, Decimal]:
    return client_ratings(event.staff_ids, event.start, event.end)


visit_completed.connect(offer_rating_link)
client_ratings_wanted.connect(ratings_for_review)
