"""What the scheduling area tells the others.

- `visit_completed` (`VisitCompleted`): a carer checked out of a visit and
  wrote its service record, in the check-out's transaction (feedback emails
  the client a rating link).
"""

from __future__ import annotations

from dataclasses import dataclass

from blinker import Namespace

from saas.models import Agency
from tenants.scheduling.models import ServiceRecord, Visit

scheduling_signals = Namespace()


@dataclass(frozen=True)
class VisitCompleted:
    agency: Agency
    visit: Visit
    record: ServiceRecord


visit_completed = scheduling_signals.signal("visit-completed")
