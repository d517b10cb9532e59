"""Rules of the opinion box log (`box`), stakeholder opinion rounds
(`rounds`) and funder return visits (`funders`). Views, jobs and other areas
(the reminder centre) call these.

Services check everything before writing and raise `OutreachError` with every
problem found (field, code); views put each message next to its field.
"""

from __future__ import annotations

from tenants.outreach.services.box import (
    BoxLogData,
    BoxMonth,
    MissedDay,
    add_location,
    box_month,
    find_log,
    locations,
    log_box,
    may_log_box,
    missed_days,
    set_location_active,
    update_box_log,
)
from tenants.outreach.services.common import (
    GROUPS,
    MAX_COUNT,
    METHODS,
    OutreachError,
    staff_choices,
)
from tenants.outreach.services.funders import (
    FunderData,
    FunderMonth,
    VisitData,
    create_funder,
    funder_overview,
    funders,
    funders_without_visit,
    record_visit,
    update_funder,
    update_visit,
)
from tenants.outreach.services.rounds import (
    RoundCell,
    RoundData,
    overdue_rounds,
    record_round,
    round_grid,
    update_round,
)

__all__ = [
    "GROUPS",
    "MAX_COUNT",
    "METHODS",
    "BoxLogData",
    "BoxMonth",
    "FunderData",
    "FunderMonth",
    "MissedDay",
    "OutreachError",
    "RoundCell",
    "RoundData",
    "VisitData",
    "add_location",
    "box_month",
    "create_funder",
    "find_log",
    "funder_overview",
    "funders",
    "funders_without_visit",
    "locations",
    "log_box",
    "may_log_box",
    "missed_days",
    "overdue_rounds",
    "record_round",
    "record_visit",
    "round_grid",
    "set_location_active",
    "staff_choices",
    "update_box_log",
    "update_funder",
    "update_round",
    "update_visit",
]
