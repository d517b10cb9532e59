"""How billing reacts to the core's events (connected when the app is made:
`Area.receivers`)."""

from __future__ import annotations

from billing.lifecycle import start_trial
from saas.signals import AgencyCreated, agency_created


def start_agency_trial(event: AgencyCreated) -> None:
    """Every new agency starts on a trial (TRIAL_DAYS)."""
    start_trial(event.agency)


agency_created.connect(start_agency_trial)
