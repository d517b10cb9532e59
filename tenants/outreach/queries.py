"""Read models of the outreach pages: the recent entries and the choices the
forms offer, each in one statement bounded by the page."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, select

from saas import db
from saas.models import Membership, User
from tenants.outreach.models import Funder, FunderVisit, StakeholderRound
from tenants.staffing.models import Team

RECENT = 50


def user_name(user_id: uuid.UUID | None) -> str | None:
    return db.session.scalar(select(User.name).where(User.id == user_id))


def recent_rounds(limit: int = RECENT) -> list[Row[Any]]:
    """The latest rounds held, each with its team's and its leader's name."""
    return list(
        db.session.execute(
            select(StakeholderRound, Team.name, User.name)
            .join(Team, Team.id == StakeholderRound.team_id)
            .join(Membership, Membership.id == StakeholderRound.led_by_membership_id)
            .join(User, User.id == Membership.user_id)
            .order_by(StakeholderRound.held_on.desc(), StakeholderRound.created_at.desc())
            .limit(limit)
        ).all()
    )


def team_options() -> list[Row[Any]]:
    """(id, name, active) of every team, by name."""
    return list(db.session.execute(select(Team.id, Team.name, Team.active).order_by(Team.name)).all())


def recent_funder_visits(limit: int = RECENT) -> list[Row[Any]]:
    """The latest return visits, each with the funder's and the visitor's name."""
    return list(
        db.session.execute(
            select(FunderVisit, Funder.name, User.name)
            .join(Funder, Funder.id == FunderVisit.funder_id)
            .join(Membership, Membership.id == FunderVisit.visited_by_membership_id)
            .join(User, User.id == Membership.user_id)
            .order_by(FunderVisit.visited_on.desc(), FunderVisit.created_at.desc())
            .limit(limit)
        ).all()
    )


def inactive_funders() -> list[Row[Any]]:
    return list(db.session.execute(select(Funder.id, Funder.name).where(Funder.active.is_(False))).all())


def visits_of_funder(funder_id: uuid.UUID, limit: int = RECENT) -> list[FunderVisit]:
    return list(
        db.session.scalars(
            select(FunderVisit)
            .where(FunderVisit.funder_id == funder_id)
            .order_by(FunderVisit.visited_on.desc())
            .limit(limit)
        )
    )


def funder_options() -> list[Row[Any]]:
    """(id, name, active) of every funder, by name."""
    return list(db.session.execute(select(Funder.id, Funder.name, Funder.active).order_by(Funder.name)).all())
