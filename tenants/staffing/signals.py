"""What the staffing area asks of the others.

- `client_ratings_wanted` (`RatingsWanted`): a performance review asks for the
  clients' average rating (1-5) of each carer's visits in a period; a receiver
  (feedback) answers `{staff_id: average}`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
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
