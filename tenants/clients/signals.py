"""What the clients area tells the others, and what it asks of them.

- `plan_activated` (`PlanActivated`): a service plan became the active one, in
  the activating transaction (scheduling books its visits).
- `client_timeline` (`TimelineWanted`): the client's one-matter file asks each
  receiver for its own entries (`list[TimelineEntry]`: visits, ratings ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from blinker import Namespace

from tenants.clients.models import Case, Client, ServicePlan

client_signals = Namespace()


@dataclass
class TimelineEntry:
    """One line of a client's file, whichever area it comes from."""

    on: date
    kind: str
    title: str
    detail: str = ""
    link: str | None = None


@dataclass(frozen=True)
class PlanActivated:
    plan: ServicePlan
    case: Case


@dataclass(frozen=True)
class TimelineWanted:
    client: Client


plan_activated = client_signals.signal("plan-activated")
client_timeline = client_signals.signal("client-timeline")


def timeline_entries(client: Client) -> list[TimelineEntry]:
    """Every other area's entries for the client's file."""
    entries: list[TimelineEntry] = []
    for _receiver, found in client_timeline.send(TimelineWanted(client)):
        entries.extend(found or ())
    return entries
