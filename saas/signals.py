"""The core's named events, for the areas to react to without the core
importing them (blinker, which Flask ships).

Each signal is sent with one typed payload as its sender, so a receiver is
`def on_x(event: X) -> None` and connects with `x.connect(on_x)` in a module
its area lists in `Area.receivers` (imported when the app is made).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from blinker import Namespace

from saas.models import Agency, Membership, User

core_signals = Namespace()


@dataclass(frozen=True)
class AgencyCreated:
    agency: Agency


@dataclass(frozen=True)
class MembershipEnded:
    membership: Membership
    by: User | None


# in the creating transaction, once the agency has its id (billing starts the trial)
agency_created = core_signals.signal("agency-created")
# a member was deactivated in the agency, in the deactivating transaction
membership_ended = core_signals.signal("membership-ended")


@dataclass(frozen=True)
class BusinessEvent:
    """Something an agency's other systems may want to hear of (the webhooks
    area delivers it to the endpoints that chose it): `event` is its name
    (`visit.checked_in`, `complaint.received`, ...), `subject_id` the object's
    id, `data` what is said of it: ids, codes and moments only, never personal
    data, JSON-ready."""

    event: str
    subject_id: str
    data: dict[str, Any] = field(default_factory=dict)


# sent in the transaction that made the change; delivered only if it commits
business_event = core_signals.signal("business-event")


def announce(event: str, subject_id: object, **data: Any) -> None:
    """Send `business_event` (the areas' one line where something happens)."""
    business_event.send(BusinessEvent(event, str(subject_id), data))
