"""What the outreach rules share: the refusal listing every problem, text and
count checks, and who counts as staff. The agency's numbers are its settings
(declared in the area, read with `saas.settings.agency_setting`)."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from saas import db
from saas.errors import DomainError, register_messages
from saas.models import STAFF_ROLES, Agency, Membership, User
from tenants.outreach.models import (
    RoundMethod,
    StakeholderGroup,
)

GROUPS = tuple(g.value for g in StakeholderGroup)
METHODS = tuple(m.value for m in RoundMethod)
# counts are stored as PostgreSQL integers: a larger number is refused with a
# message, never left to fail the insert
MAX_COUNT = 1_000_000


def agency_or_current(agency: Agency | None) -> Agency:
    """The agency given, or the one in scope (jobs and other areas call with ids only)."""
    if agency is not None:
        return agency
    tenant_id = db.current_tenant_id()
    if tenant_id is None:
        raise db.TenantNotSet("outreach")
    found = db.session.get(Agency, tenant_id)
    assert found is not None
    return found


class OutreachProblem(DomainError):
    """One refusal of an outreach rule, next to its field."""


class OutreachError(OutreachProblem):
    """Refused, with every problem found: `problems` lists (field, code) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        field, code = problems[0]
        super().__init__(code, field, **PARAMS.get(code, {}))
        self.problems = problems

    def by_field(self) -> list[DomainError]:
        return [OutreachProblem(code, field, **PARAMS.get(code, {})) for field, code in self.problems]

    def codes(self) -> set[str]:
        return {c for _, c in self.problems}


# the numbers some messages name
PARAMS: dict[str, dict[str, int]] = {"too_large": {"min": 0, "max": MAX_COUNT}}

register_messages(
    {
        "required": _l("This is required."),
        "too_long": _l("This is too long."),
        "negative": _l("This cannot be negative."),
        "too_large": _l("Enter a number from %(min)s to %(max)s."),
        "bad_choice": _l("Choose one of the options."),
        "bad_email": _l("Enter a valid email address."),
        "future": _l("This date is still to come: record it on the day or later."),
        "location_unknown": _l("Choose one of the agency's opinion boxes."),
        "location_taken": _l("There is already a box with this name."),
        "already_logged": _l("This box has already been logged for that day: change that entry instead."),
        "reason_required": _l("Say why the box could not be opened."),
        "slips_unopened": _l("A box that was not opened has no slips."),
        "slips_below_entered": _l("More slips of this day have been entered as feedback than that."),
        "staff_unknown": _l("Choose an active staff member."),
        "team_unknown": _l("Choose an active team."),
        "funder_unknown": _l("Choose an active funder."),
        "funder_taken": _l("There is already a funder with this name."),
    },
    error=OutreachProblem,
)


def raise_if(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise OutreachError(problems)


def clean_text(value: str | None) -> str:
    # PostgreSQL text cannot hold NUL: drop it rather than fail the insert
    return (value or "").replace("\x00", "").strip()


def count_problem(name: str, value: int | None) -> tuple[str, str] | None:
    if value is None:
        return (name, "required")
    if value < 0:
        return (name, "negative")
    if value > MAX_COUNT:
        return (name, "too_large")
    return None


def staff_choices(keep: uuid.UUID | None = None) -> list[tuple[uuid.UUID, str]]:
    """Active staff members (admins, coordinators, carers), by name, and `keep`
    (who an entry already names, though they may have left): one statement."""
    is_staff = Membership.active.is_(True) & Membership.role.in_([str(r) for r in STAFF_ROLES])
    rows = db.session.execute(
        select(Membership.id, User.name, User.email)
        .join(User, User.id == Membership.user_id)
        .where(is_staff | (Membership.id == keep) if keep is not None else is_staff)
        .order_by(User.name, User.email)
    ).all()
    return [(mid, name or email) for mid, name, email in rows]


def is_staff(membership_id: uuid.UUID | None, kept: uuid.UUID | None = None) -> bool:
    """An active staff member, or `kept`: the person an entry already names
    stays valid when they leave, so an old entry can still be corrected."""
    if membership_id is None:
        return False
    if membership_id == kept:
        return True
    return (
        db.session.scalar(
            select(Membership.id).where(
                Membership.id == membership_id,
                Membership.active.is_(True),
                Membership.role.in_([str(r) for r in STAFF_ROLES]),
            )
        )
        is not None
    )


def flush_unique(problem: tuple[str, str]) -> None:
    """Flush inside a savepoint: a unique clash (two people logging the same
    box at once) becomes a message, and nothing else of the request is lost."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise OutreachError([problem]) from None
