"""Stakeholder opinion rounds, per team and group, and when the next is due."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from saas import audit, db
from saas.models import Agency, User
from saas.settings import agency_setting
from tenants.outreach.models import (
    StakeholderRound,
)
from tenants.outreach.services.common import (
    GROUPS,
    METHODS,
    agency_or_current,
    clean_text,
    count_problem,
    is_staff,
    raise_if,
)
from tenants.staffing.models import Team


@dataclass
class RoundData:
    team_id: uuid.UUID | None
    stakeholder_group: str | None
    held_on: date | None
    method: str | None
    participants: int | None
    opinions: int | None
    summary: str
    led_by_membership_id: uuid.UUID | None


def _round_problems(
    agency: Agency, data: RoundData, current_team: uuid.UUID | None, kept: uuid.UUID | None = None
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if data.team_id is None or (
        data.team_id != current_team
        and not db.session.scalar(select(Team.id).where(Team.id == data.team_id, Team.active.is_(True)))
    ):
        problems.append(("team", "team_unknown"))
    if data.stakeholder_group not in GROUPS:
        problems.append(("stakeholder_group", "bad_choice"))
    if data.held_on is None:
        problems.append(("held_on", "required"))
    elif data.held_on > agency.today():
        problems.append(("held_on", "future"))
    if data.method not in METHODS:
        problems.append(("method", "bad_choice"))
    for name in ("participants", "opinions"):
        if problem := count_problem(name, getattr(data, name)):
            problems.append(problem)
    if not clean_text(data.summary):
        problems.append(("summary", "required"))
    if not is_staff(data.led_by_membership_id, kept):
        problems.append(("led_by", "staff_unknown"))
    return problems


def _round_values(data: RoundData) -> dict[str, Any]:
    return {
        "team_id": data.team_id,
        "stakeholder_group": data.stakeholder_group,
        "held_on": data.held_on,
        "method": data.method,
        "participants": data.participants,
        "opinions": data.opinions,
        "summary": clean_text(data.summary),
        "led_by_membership_id": data.led_by_membership_id,
    }


def record_round(agency: Agency, data: RoundData, *, by: User | None) -> StakeholderRound:
    raise_if(_round_problems(agency, data, None))
    row = StakeholderRound(recorded_by_user_id=by.id if by else None, **_round_values(data))
    db.session.add(row)
    db.session.flush()
    audit.record(
        "stakeholder_round.recorded",
        str(row.id),
        team=str(row.team_id),
        group=row.stakeholder_group,
        held_on=row.held_on.isoformat(),
    )
    return row


def update_round(agency: Agency, row: StakeholderRound, data: RoundData, *, by: User | None) -> None:
    raise_if(_round_problems(agency, data, row.team_id, row.led_by_membership_id))
    values = _round_values(data)
    changed = {k: str(v) for k, v in values.items() if getattr(row, k) != v and k != "summary"}
    if row.summary != values["summary"]:
        changed["summary"] = "changed"
    if not changed:
        return
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = db.utcnow()
    audit.record("stakeholder_round.changed", str(row.id), **changed)


@dataclass(frozen=True)
class RoundCell:
    team_id: uuid.UUID
    team_name: str
    stakeholder_group: str
    last_held: date | None
    due: date | None  # None: never held, due now
    overdue: bool


def round_grid(agency: Agency, today: date | None = None) -> list[list[RoundCell]]:
    """Active team x stakeholder group: the last round and the next due date
    (last + the agency's months). A team that never held one is overdue.
    Two statements whatever the number of teams and rounds."""
    today = today or agency.today()
    months = int(agency_setting(agency, "stakeholder_round_months"))
    teams = db.session.execute(
        select(Team.id, Team.name).where(Team.active.is_(True)).order_by(Team.name)
    ).all()
    last = {
        (team_id, group): held
        for team_id, group, held in db.session.execute(
            select(
                StakeholderRound.team_id,
                StakeholderRound.stakeholder_group,
                func.max(StakeholderRound.held_on),
            )
            .join(Team, Team.id == StakeholderRound.team_id)
            .where(Team.active.is_(True))
            .group_by(StakeholderRound.team_id, StakeholderRound.stakeholder_group)
        ).all()
    }
    grid = []
    for team_id, name in teams:
        row = []
        for group in GROUPS:
            held = last.get((team_id, group))
            due = held + relativedelta(months=months) if held else None
            row.append(RoundCell(team_id, name, group, held, due, due is None or due < today))
        grid.append(row)
    return grid


def overdue_rounds(today: date | None = None, agency: Agency | None = None) -> list[RoundCell]:
    """(team, group, due date) of every round overdue on `today` in the agency
    in scope; `due` is None for a team that never held one."""
    agency = agency_or_current(agency)
    return [cell for row in round_grid(agency, today) for cell in row if cell.overdue]
