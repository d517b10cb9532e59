"""What the staffing area asks of the others.

- `client_ratings_wanted` (`RatingsWanted`): a performance review asks for the
  clients' average rating (1-5) of each carer's visits in a period; a receiver
  (feedback) answers `{staff_id: average}`.
- `complaints_wanted` (`ComplaintsWanted`): a 360-degree review asks for the
  complaints against one worker received in its period; a receiver (feedback)
  answers a list of `ComplaintAgainst`, never saying who complained.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from blinker import Namespace

staffing_signals = Namespace()


@dataclass(frozen=True)
class RatingsWanted:
    staff_ids: list[uuid.UUID]
    start: date
    end: date


client_ratings_wanted = staffing_signals.signal("client-ratings-wanted")


def client_ratings(staff_ids: list[uuid.UUID], start: date, end: date) -> dict[uuid.UUID, Decimal]:
    """The receivers' answers to `client_ratings_wanted`, together; none
    without a receiver."""
    averages: dict[uuid.UUID, Decimal] = {}
    for _receiver, answer in client_ratings_wanted.send(RatingsWanted(staff_ids, start, end)):
        averages.update(answer or {})
    return averages


@dataclass(frozen=True)
class ComplaintsWanted:
    staff_id: uuid.UUID
    start: date
    end: date


@dataclass(frozen=True)
class ComplaintAgainst:
    """One complaint against the worker, as their review shows it."""

    received_at: datetime
    status: str  # worded in the reader's language
    description: str
    link: str | None = None  # the complaint's page, for those who handle complaints


complaints_wanted = staffing_signals.signal("complaints-wanted")


def complaints_against(staff_id: uuid.UUID, start: date, end: date) -> list[ComplaintAgainst]:
    """The receivers' answers to `complaints_wanted`, latest first; none
    without a receiver."""
    found: list[ComplaintAgainst] = []
    for _receiver, answer in complaints_wanted.send(ComplaintsWanted(staff_id, start, end)):
        found.extend(answer or [])
    return sorted(found, key=lambda c: c.received_at, reverse=True)
