"""Teams: a name, a supervisor, the staff files in it.

A team is what collects stakeholder opinions, answers for its
rectifications and is compared in the statistics; its supervisor follows up
the low ratings of its carers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError

from saas import audit, db
from saas.models import Membership, User
from tenants.staffing import SUPERVISE_TEAMS
from tenants.staffing.errors import Problem, raise_if
from tenants.staffing.models import StaffFile, Team


@dataclass
class TeamInput:
    name: str
    supervisor_membership_id: uuid.UUID | None = None
    active: bool = True


def teams(*, active_only: bool = False) -> list[Team]:
    stmt = select(Team).order_by(Team.name)
    if active_only:
        stmt = stmt.where(Team.active.is_(True))
    return list(db.session.scalars(stmt))


def team_rows() -> list[tuple[Team, str | None, int]]:
    """Each team with its supervisor's name and how many staff files it holds
    (one statement)."""
    members = (
        select(StaffFile.team_id, func.count().label("n"))
        .where(StaffFile.team_id.is_not(None))
        .group_by(StaffFile.team_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Team, User.name, func.coalesce(members.c.n, 0))
        .outerjoin(Membership, Membership.id == Team.supervisor_membership_id)
        .outerjoin(User, User.id == Membership.user_id)
        .outerjoin(members, members.c.team_id == Team.id)
        .order_by(Team.active.desc(), Team.name)
    ).all()
    return [(team, name, count) for team, name, count in rows]


def _may_supervise() -> ColumnElement[bool]:
    return Membership.role.in_(SUPERVISE_TEAMS.roles) & Membership.active.is_(True)


def supervisor_choices() -> list[tuple[uuid.UUID, str]]:
    rows = db.session.execute(
        select(Membership.id, User.name, User.email)
        .join(User, User.id == Membership.user_id)
        .where(_may_supervise())
        .order_by(User.name, User.email)
    ).all()
    return [(mid, name or email) for mid, name, email in rows]


def _name(data: TeamInput) -> str:
    # PostgreSQL text cannot hold NUL: drop it rather than fail the insert
    return (data.name or "").replace("\x00", "").strip()


def _problems(data: TeamInput, exclude: uuid.UUID | None = None) -> list[Problem]:
    problems: list[Problem] = []
    name = _name(data)
    if not name:
        problems.append(Problem("required", "name"))
    elif len(name) > 120:
        problems.append(Problem("too_long", "name", {"max": 120}))
    else:
        taken = select(Team.id).where(func.lower(Team.name) == name.lower())
        if exclude is not None:
            taken = taken.where(Team.id != exclude)
        if db.session.scalar(taken):
            problems.append(Problem("team_taken", "name"))
    if data.supervisor_membership_id is not None and not db.session.scalar(
        select(Membership.id).where(Membership.id == data.supervisor_membership_id, _may_supervise())
    ):
        problems.append(Problem("supervisor_choose", "supervisor_membership_id"))
    return problems


def create_team(data: TeamInput) -> Team:
    raise_if(_problems(data))
    team = Team(name=_name(data), supervisor_membership_id=data.supervisor_membership_id)
    try:
        with db.session.begin_nested():  # two admins adding the same name at once
            db.session.add(team)
            db.session.flush()
    except IntegrityError:
        raise_if([Problem("team_taken", "name")])
    audit.record("team.created", str(team.id), name=team.name)
    return team


def update_team(team: Team, data: TeamInput) -> None:
    raise_if(_problems(data, exclude=team.id))
    before = (team.name, team.supervisor_membership_id, team.active)
    team.name = _name(data)
    team.supervisor_membership_id = data.supervisor_membership_id
    team.active = data.active
    if (team.name, team.supervisor_membership_id, team.active) != before:
        audit.record("team.updated", str(team.id), name=team.name, active=team.active)


def place_in_team(staff: StaffFile, team_id: uuid.UUID | None) -> None:
    """Move the worker to an active team (or none); staying in a team that has
    since been deactivated is allowed."""
    if (
        team_id is not None
        and team_id != staff.team_id
        and not db.session.scalar(select(Team.id).where(Team.id == team_id, Team.active.is_(True)))
    ):
        raise_if([Problem("team_choose", "team_id")])
    if staff.team_id != team_id:
        staff.team_id = team_id
        audit.record("staff.team_changed", str(staff.id), team=str(team_id) if team_id else None)


def supervisor_of(staff_file_id: uuid.UUID | None) -> uuid.UUID | None:
    """The membership that supervises this worker (their team's supervisor)."""
    if staff_file_id is None:
        return None
    return db.session.scalar(
        select(Team.supervisor_membership_id)
        .join(StaffFile, StaffFile.team_id == Team.id)
        .where(StaffFile.id == staff_file_id, Team.active.is_(True))
    )
