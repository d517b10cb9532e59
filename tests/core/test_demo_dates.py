"""The demo platform is seeded whole on any day of the year, at any hour, in
both demo agencies' time zones (Europe/London and Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from saas import demo
from tests.core.test_cli import assert_demo_quality_areas

# weekdays, hours before, between and after the demo's visit slots in each zone,
# month, year and daylight-saving boundaries, a leap day
INSTANTS = [
    "2026-12-01T10:00:00+00:00",  # Tue: 18:00 in Shanghai, after its 10:30 visit of the day
    "2026-12-31T23:50:00+00:00",  # Thu in London, Fri 1 January in Shanghai
    "2027-01-31T16:30:00+00:00",  # 00:30 on 1 February in Shanghai
    "2027-03-28T01:30:00+00:00",  # Sun: 02:30 BST, just after the clocks went forward
    "2027-04-05T12:00:00+00:00",  # Mon: 13:00 BST, after the 09:00 visit
    "2027-06-02T05:00:00+00:00",  # Wed: 13:00 in Shanghai, between its visits
    "2027-08-14T08:45:00+00:00",  # Sat: 09:45 BST; 16:45 in Shanghai
    "2027-09-30T23:30:00+00:00",  # Thu: 00:30 BST on 1 October in London
    "2027-10-31T00:30:00+00:00",  # Sun: 01:30 BST, before the clocks go back
    "2028-02-29T15:00:00+00:00",  # Tue: the leap day, after every slot in London
]


def seed_and_check(app) -> None:
    with app.app_context():
        demo.seed(force=True)
        assert_demo_quality_areas()


@pytest.mark.dates
def test_demo_seeded_on_the_suites_day(app, dbconn):
    """Today, or the instant a moved run puts the suite at."""
    seed_and_check(app)


@pytest.mark.parametrize("instant", INSTANTS)
def test_demo_seeded_on_any_day(app, dbconn, instant):
    """Each at its own instant: not part of the moved runs."""
    with time_machine.travel(datetime.fromisoformat(instant), tick=True):
        seed_and_check(app)
