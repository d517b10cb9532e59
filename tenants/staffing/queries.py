"""Read models of the staff pages: the staff list and the caseload list,
each one statement the page paginates."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, case, func, literal, or_, select

from saas.models import Membership, User
from saas.pagination import contains_pattern
from tenants.staffing.caseload import load_expression
from tenants.staffing.models import STAFF_ROLES, CaseloadAssignment, StaffFile
from tenants.staffing.settings import workforce_settings


def staff_list_query(
    q: str, role: str, status: str, area: str, skill: str, language: str, today: date
) -> Select:
    stmt = (
        select(StaffFile, User.name, User.email, Membership.active)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
    )
    if q:
        like = contains_pattern(q.lower())
        stmt = stmt.where(
            or_(
                func.lower(User.name).like(like, escape="\\"),
                User.email.like(like, escape="\\"),
                StaffFile.staff_number == q,
            )
        )
    if role in STAFF_ROLES:
        stmt = stmt.where(StaffFile.staff_role == role)
    employed = and_(Membership.active.is_(True), StaffFile.employed_on(today))
    if status == "active":
        stmt = stmt.where(employed)
    elif status == "inactive":
        stmt = stmt.where(~employed)
    if area:
        stmt = stmt.where(StaffFile.home_area == area)
    if skill:
        stmt = stmt.where(StaffFile.skills.contains([skill]))
    if language:
        stmt = stmt.where(StaffFile.languages.contains([language]))
    return stmt.order_by(func.lower(User.name), User.email, StaffFile.id)


def caseload_query(q: str, role: str, full_only: bool, sort: str, today: date) -> Select:
    """Each employed worker's current load against their limits, one statement."""
    settings = workforce_settings()
    individual, community = load_expression()
    loads = (
        select(
            CaseloadAssignment.staff_file_id.label("staff_file_id"),
            individual.label("individual"),
            community.label("community"),
        )
        .where(
            CaseloadAssignment.running_on(today),
        )
        .group_by(CaseloadAssignment.staff_file_id)
        .subquery("loads")
    )
    ind = func.coalesce(loads.c.individual, 0)
    com = func.coalesce(loads.c.community, 0)
    ind_limit = func.coalesce(StaffFile.caseload_limit, settings.caseload_limit_individual)
    com_limit = func.coalesce(StaffFile.community_limit, settings.caseload_limit_community)
    share = func.greatest(
        case(
            (ind_limit > 0, ind * 1.0 / func.nullif(ind_limit, 0)),
            else_=case((ind > 0, literal(999.0)), else_=0.0),
        ),
        case(
            (com_limit > 0, com * 1.0 / func.nullif(com_limit, 0)),
            else_=case((com > 0, literal(999.0)), else_=0.0),
        ),
    )
    stmt = (
        select(
            StaffFile.id.label("staff_file_id"),
            User.name.label("name"),
            User.email.label("email"),
            StaffFile.staff_role.label("staff_role"),
            ind.label("individual"),
            ind_limit.label("individual_limit"),
            com.label("community"),
            com_limit.label("community_limit"),
            share.label("share"),
        )
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .outerjoin(loads, loads.c.staff_file_id == StaffFile.id)
        .where(
            Membership.active.is_(True),
            StaffFile.employed_on(today),
        )
    )
    if q:
        like = contains_pattern(q.lower())
        stmt = stmt.where(
            or_(func.lower(User.name).like(like, escape="\\"), User.email.like(like, escape="\\"))
        )
    if role in STAFF_ROLES:
        stmt = stmt.where(StaffFile.staff_role == role)
    if full_only:
        stmt = stmt.where(or_(ind >= ind_limit, com >= com_limit))
    if sort == "name":
        return stmt.order_by(func.lower(User.name), StaffFile.id)
    return stmt.order_by(share.desc(), func.lower(User.name), StaffFile.id)
