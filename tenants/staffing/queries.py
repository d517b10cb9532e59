"""Read models of the staff pages: the staff list and the caseload list
(each one statement the page paginates), the staff file page, a review's
ratings, the certificate types' counts, the exports, and finding a worker by
email or staff number."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select

from saas import db
from saas.models import Membership, User
from saas.pagination import contains_pattern
from tenants.staffing.assignability import Assignability, assignability
from tenants.staffing.caseload import caseload_limit, current_loads, load_expression
from tenants.staffing.certificates import CertificateRow, certificates_of
from tenants.staffing.models import (
    JOB_ROLES,
    AssignabilityOverride,
    CaseloadAssignment,
    Certificate,
    CertificateType,
    PerformanceReview,
    RecruitmentRecord,
    ReviewRating,
    RewardPenalty,
    StaffFile,
    StaffTimeOff,
    Team,
)
from tenants.staffing.reviews import ReviewSummary, review_summary
from tenants.staffing.settings import workforce_settings
from tenants.staffing.staff_files import availability_texts, is_employed, staff_person, user_names
from tenants.training.transcripts import Transcript, transcript

# the staff list's filter behind the dashboard's figure: a certificate expires within this many days
EXPIRING = "expiring"
EXPIRING_DAYS = 30


def _certificate_expiring(today: date) -> Any:
    """The worker holds a certificate expiring from today to EXPIRING_DAYS on."""
    return (
        select(Certificate.id)
        .where(
            Certificate.tenant_id == StaffFile.tenant_id,
            Certificate.staff_file_id == StaffFile.id,
            Certificate.expires_on >= today,
            Certificate.expires_on <= today + timedelta(days=EXPIRING_DAYS),
        )
        .exists()
    )


def expiring_certificates(today: date) -> Select:
    """One row: how many certificates of the workers employed today expire
    within EXPIRING_DAYS (`expiring`)."""
    return (
        select(func.count().label("expiring"))
        .select_from(Certificate)
        .join(
            StaffFile,
            and_(StaffFile.tenant_id == Certificate.tenant_id, StaffFile.id == Certificate.staff_file_id),
        )
        .join(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .where(
            Membership.active.is_(True),
            StaffFile.employed_on(today),
            Certificate.expires_on >= today,
            Certificate.expires_on <= today + timedelta(days=EXPIRING_DAYS),
        )
    )


def staff_list_query(
    q: str, role: str, status: str, area: str, skill: str, language: str, today: date
) -> Select:
    stmt = (
        select(StaffFile, User.name, User.email, Membership.active)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
    )
    if q:
        stmt = stmt.where(or_(*_name_or_email_like(q), StaffFile.staff_number == q))
    if role in JOB_ROLES:
        stmt = stmt.where(StaffFile.staff_role == role)
    employed = and_(Membership.active.is_(True), StaffFile.employed_on(today))
    if status == "active":
        stmt = stmt.where(employed)
    elif status == "inactive":
        stmt = stmt.where(~employed)
    elif status == EXPIRING:
        stmt = stmt.where(employed, _certificate_expiring(today))
    if area:
        stmt = stmt.where(StaffFile.home_area == area)
    if skill:
        stmt = stmt.where(StaffFile.skills.contains([skill]))
    if language:
        stmt = stmt.where(StaffFile.languages.contains([language]))
    return stmt.order_by(func.lower(User.name), User.email, StaffFile.id)


def _name_or_email_like(q: str) -> tuple[Any, Any]:
    """The worker's name or email contains `q` (case-insensitive, literally)."""
    like = contains_pattern(q.lower())
    return func.lower(User.name).like(like, escape="\\"), User.email.like(like, escape="\\")


def employed_staff_query(today: date, q: str, *columns: Any) -> Select:
    """Each worker employed on `today` with an active membership, whose name or
    email contains `q` (all when empty): their file's id, name, email and staff
    role, then `columns`. The base of the caseload and the training compliance
    lists."""
    stmt = (
        select(
            StaffFile.id.label("staff_file_id"),
            User.name.label("name"),
            User.email.label("email"),
            StaffFile.staff_role.label("staff_role"),
            *columns,
        )
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True), StaffFile.employed_on(today))
    )
    if q:
        stmt = stmt.where(or_(*_name_or_email_like(q)))
    return stmt


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
    stmt = employed_staff_query(
        today,
        q,
        ind.label("individual"),
        ind_limit.label("individual_limit"),
        com.label("community"),
        com_limit.label("community_limit"),
        share.label("share"),
    ).outerjoin(loads, loads.c.staff_file_id == StaffFile.id)
    if role in JOB_ROLES:
        stmt = stmt.where(StaffFile.staff_role == role)
    if full_only:
        stmt = stmt.where(or_(ind >= ind_limit, com >= com_limit))
    if sort == "name":
        return stmt.order_by(func.lower(User.name), StaffFile.id)
    return stmt.order_by(share.desc(), func.lower(User.name), StaffFile.id)


@dataclass(frozen=True)
class StaffFilePage:
    """What the staff file page shows of one worker on one day."""

    staff: StaffFile
    membership: Membership
    person: User
    team: Team | None
    fit: Assignability | None
    certificates: list[CertificateRow]
    assignments: list[CaseloadAssignment]  # running or coming
    load: tuple[int, int]
    limits: tuple[int, int]
    time_off: list[StaffTimeOff]  # not over
    recruitment: RecruitmentRecord | None
    reviews: list[PerformanceReview]
    summaries: dict[uuid.UUID, ReviewSummary]
    rewards: list[RewardPenalty]
    overrides: list[AssignabilityOverride]  # the last ten
    names: dict[uuid.UUID, str]  # of the users the entries name
    transcript: Transcript
    availability: dict[str, str]
    employed: bool


def staff_file_page(staff_id: uuid.UUID, today: date) -> StaffFilePage:
    staff, membership, user = staff_person(staff_id)
    settings = workforce_settings()
    fit = assignability(staff.id, today).get(staff.id)
    certificates = certificates_of([staff.id], today).get(staff.id, [])
    assignments = db.session.scalars(
        select(CaseloadAssignment)
        .where(CaseloadAssignment.staff_file_id == staff.id, CaseloadAssignment.ends_after(today))
        .order_by(CaseloadAssignment.starts_on.desc())
    ).all()
    load = current_loads([staff.id], today).get(staff.id, (0, 0))
    time_off = db.session.scalars(
        select(StaffTimeOff)
        .where(StaffTimeOff.staff_file_id == staff.id, StaffTimeOff.ends_on >= today)
        .order_by(StaffTimeOff.starts_on)
    ).all()
    recruitment = db.session.scalar(
        select(RecruitmentRecord).where(RecruitmentRecord.staff_file_id == staff.id)
    )
    reviews = db.session.scalars(
        select(PerformanceReview)
        .where(PerformanceReview.staff_file_id == staff.id)
        .order_by(PerformanceReview.period_start.desc())
    ).all()
    ratings = (
        db.session.scalars(
            select(ReviewRating).where(ReviewRating.review_id.in_([r.id for r in reviews]))
        ).all()
        if reviews
        else []
    )
    summaries = {r.id: review_summary(r, [x for x in ratings if x.review_id == r.id]) for r in reviews}
    rewards = db.session.scalars(
        select(RewardPenalty)
        .where(RewardPenalty.staff_file_id == staff.id)
        .order_by(RewardPenalty.on_date.desc())
    ).all()
    overrides = db.session.scalars(
        select(AssignabilityOverride)
        .where(AssignabilityOverride.staff_file_id == staff.id)
        .order_by(AssignabilityOverride.created_at.desc())
        .limit(10)
    ).all()
    names = user_names(
        [o.created_by_id for o in overrides]
        + [o.revoked_by_id for o in overrides]
        + [r.recorded_by_id for r in rewards]
        + [recruitment.decided_by_id if recruitment else None]
    )
    return StaffFilePage(
        staff=staff,
        membership=membership,
        person=user,
        team=db.session.get(Team, (staff.tenant_id, staff.team_id)) if staff.team_id else None,
        fit=fit,
        certificates=certificates,
        assignments=list(assignments),
        load=load,
        limits=(
            caseload_limit(staff, "individual", settings),
            caseload_limit(staff, "community", settings),
        ),
        time_off=list(time_off),
        recruitment=recruitment,
        reviews=list(reviews),
        summaries=summaries,
        rewards=list(rewards),
        overrides=list(overrides),
        names=names,
        transcript=transcript(staff, today),
        availability=availability_texts(staff.availability),
        employed=is_employed(staff, membership, today),
    )


def review_ratings(review_id: uuid.UUID) -> list[ReviewRating]:
    """A review's ratings, oldest first."""
    return list(
        db.session.scalars(
            select(ReviewRating).where(ReviewRating.review_id == review_id).order_by(ReviewRating.created_at)
        )
    )


def certificate_counts() -> dict[uuid.UUID, int]:
    """Certificate type id -> how many certificates of it the agency holds."""
    return dict(
        db.session.execute(
            select(Certificate.certificate_type_id, func.count()).group_by(Certificate.certificate_type_id)
        ).all()
    )


def staff_export_rows() -> list[Any]:
    """(staff file, name, email) of every worker, by name."""
    return list(
        db.session.execute(
            select(StaffFile, User.name, User.email)
            .join(Membership, Membership.id == StaffFile.membership_id)
            .join(User, User.id == Membership.user_id)
            .order_by(func.lower(User.name), User.email)
        ).all()
    )


def certificate_export_rows() -> list[Any]:
    """(certificate, type name, staff number, name, email) of every certificate, by worker."""
    return list(
        db.session.execute(
            select(Certificate, CertificateType.name, StaffFile.staff_number, User.name, User.email)
            .join(CertificateType, CertificateType.id == Certificate.certificate_type_id)
            .join(StaffFile, StaffFile.id == Certificate.staff_file_id)
            .join(Membership, Membership.id == StaffFile.membership_id)
            .join(User, User.id == Membership.user_id)
            .order_by(func.lower(User.name), CertificateType.name, Certificate.issued_on)
        ).all()
    )


def staff_by_email_or_number(who: str) -> StaffFile | None:
    """The staff file of the member with this email address or staff number."""
    who = who.strip()
    return db.session.scalar(
        select(StaffFile)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(or_(User.email == who.lower(), StaffFile.staff_number == who))
        .limit(1)
    )


def api_staff_files(role: str | None, employed: bool | None, today: date) -> Select[Any]:
    """The API's staff list: by role, and employed today or not."""
    stmt = select(StaffFile)
    if role:
        stmt = stmt.where(StaffFile.staff_role == role)
    if employed is not None:
        on = StaffFile.employed_on(today)
        stmt = stmt.where(on if employed else ~on)
    return stmt
