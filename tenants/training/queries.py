"""Read models of the training pages: the agency-wide compliance list, the
courses, the sessions around today, a course's sessions and a session's
trainees."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Select, String, Uuid, and_, column, func, literal, or_, select, values
from sqlalchemy.orm import aliased

from saas import db
from saas.models import Membership, User
from tenants.staffing.models import Certificate, StaffFile
from tenants.staffing.queries import employed_staff_query
from tenants.staffing.settings import local_today, workforce_settings
from tenants.training.models import Course, Enrolment, TrainingSession
from tenants.training.transcripts import hours_subquery

COMPLIANCE_REASONS = ("behind", "pre_service", "annual", "certificates", "expiring", "all")
COMPLIANCE_SORTS = ("name", "pre_service", "annual", "certificates")


def compliance_query(
    *,
    q: str = "",
    staff_role: str = "",
    reason: str = "behind",
    sort: str = "name",
    today: date | None = None,
) -> Select:
    """Every employed worker with their training hours and the state of the
    certificates their role requires, as one statement (filter and sort in SQL)."""
    today = today or local_today()
    settings = workforce_settings()
    hours = hours_subquery(today).subquery("hours")
    pre = func.coalesce(hours.c.pre, 0)
    annual = func.coalesce(hours.c.annual, 0)
    pairs = [(role, type_id) for role, ids in settings.required_certificate_types.items() for type_id in ids]
    if pairs:
        req = values(column("role", String), column("type_id", Uuid), name="req").data(pairs)
        best = (
            select(
                Certificate.staff_file_id.label("staff_file_id"),
                Certificate.certificate_type_id.label("type_id"),
                func.max(func.coalesce(Certificate.expires_on, literal(date.max, Date))).label("until"),
            )
            .where(Certificate.issued_on <= today)
            .group_by(Certificate.staff_file_id, Certificate.certificate_type_id)
            .subquery("best")
        )
        window_end = today + timedelta(days=settings.certificate_expiring_days)
        certs = (
            select(
                StaffFile.id.label("staff_file_id"),
                func.count().filter(best.c.until.is_(None)).label("missing"),
                func.count().filter(best.c.until < today).label("expired"),
                func.count()
                .filter(and_(best.c.until >= today, best.c.until <= window_end))
                .label("expiring"),
            )
            .join(req, req.c.role == StaffFile.staff_role)
            .outerjoin(best, and_(best.c.staff_file_id == StaffFile.id, best.c.type_id == req.c.type_id))
            .group_by(StaffFile.id)
            .subquery("certs")
        )
        missing, expired, expiring = (
            func.coalesce(certs.c.missing, 0),
            func.coalesce(certs.c.expired, 0),
            func.coalesce(certs.c.expiring, 0),
        )
    else:
        certs = None
        missing = expired = expiring = literal(0)
    stmt = employed_staff_query(
        today,
        q,
        pre.label("pre_service_hours"),
        annual.label("annual_hours"),
        missing.label("missing"),
        expired.label("expired"),
        expiring.label("expiring"),
    ).outerjoin(hours, hours.c.staff_file_id == StaffFile.id)
    if certs is not None:
        stmt = stmt.outerjoin(certs, certs.c.staff_file_id == StaffFile.id)
    if staff_role:
        stmt = stmt.where(StaffFile.staff_role == staff_role)
    pre_short = pre < settings.pre_service_hours
    annual_short = annual < settings.annual_training_hours
    cert_short = (missing + expired) > 0
    conditions = {
        "behind": or_(pre_short, annual_short, cert_short),
        "pre_service": pre_short,
        "annual": annual_short,
        "certificates": cert_short,
        "expiring": expiring > 0,
    }
    if reason in conditions:
        stmt = stmt.where(conditions[reason])
    orders = {
        "name": (func.lower(User.name), User.email),
        "pre_service": (pre.asc(), func.lower(User.name)),
        "annual": (annual.asc(), func.lower(User.name)),
        "certificates": ((missing + expired).desc(), expiring.desc(), func.lower(User.name)),
    }
    return stmt.order_by(*orders.get(sort, orders["name"]), StaffFile.id)


# the most rows the compliance export writes
COMPLIANCE_EXPORT_LIMIT = 100_000


def compliance_rows(
    *, q: str = "", staff_role: str = "", reason: str = "behind", sort: str = "name"
) -> list[Any]:
    """The compliance list's rows for its export (at most `COMPLIANCE_EXPORT_LIMIT`)."""
    stmt = compliance_query(q=q, staff_role=staff_role, reason=reason, sort=sort)
    return list(db.session.execute(stmt.limit(COMPLIANCE_EXPORT_LIMIT)).all())


def course_of(session_row: TrainingSession) -> Course:
    """The course a session is of."""
    return db.session.get(Course, (session_row.tenant_id, session_row.course_id))


def course_by_id(course_id: uuid.UUID) -> Course | None:
    """One of the agency's courses (None for an id it has not)."""
    return db.session.scalar(select(Course).where(Course.id == course_id))


def course_list(category: str = "") -> Select:
    """The courses, offered ones first, by title; of one category when given."""
    stmt = select(Course).order_by(Course.active.desc(), func.lower(Course.title))
    if category:
        stmt = stmt.where(Course.category == category)
    return stmt


def sessions_around(today: date, limit: int = 20) -> tuple[list[Any], list[Any]]:
    """(session, course title) of the next sessions from today, and of the last before it."""
    upcoming = db.session.execute(
        select(TrainingSession, Course.title)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(TrainingSession.held_on >= today)
        .order_by(TrainingSession.held_on)
        .limit(limit)
    ).all()
    recent = db.session.execute(
        select(TrainingSession, Course.title)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(TrainingSession.held_on < today)
        .order_by(TrainingSession.held_on.desc())
        .limit(limit)
    ).all()
    return list(upcoming), list(recent)


def course_sessions(course_id: uuid.UUID) -> list[Any]:
    """(session, number enrolled) of a course's last 200 sessions, newest first."""
    return list(
        db.session.execute(
            select(TrainingSession, func.count(Enrolment.id))
            .outerjoin(Enrolment, Enrolment.session_id == TrainingSession.id)
            .where(TrainingSession.course_id == course_id)
            .group_by(TrainingSession.tenant_id, TrainingSession.id)
            .order_by(TrainingSession.held_on.desc())
            .limit(200)
        ).all()
    )


def session_trainees(session_id: uuid.UUID) -> list[Any]:
    """(enrolment, name, email, staff number) of a session's trainees, by name."""
    return list(
        db.session.execute(
            select(Enrolment, User.name, User.email, StaffFile.staff_number)
            .join(StaffFile, StaffFile.id == Enrolment.staff_file_id)
            .join(Membership, Membership.id == StaffFile.membership_id)
            .join(User, User.id == Membership.user_id)
            .where(Enrolment.session_id == session_id)
            .order_by(func.lower(User.name), User.email)
        ).all()
    )


def enrolment_ids(session_id: uuid.UUID) -> list[uuid.UUID]:
    return list(db.session.scalars(select(Enrolment.id).where(Enrolment.session_id == session_id)))


# -- the carer's home dashboard ------------------------------------------------------------------

# what the carer's home lists as training due: sessions within this many days,
# certificates expiring within this many (or expired)
SESSIONS_AHEAD_DAYS = 30
CERTIFICATES_AHEAD_DAYS = 60
DUE_ROWS = 10


def _renewed(until: date) -> Any:
    """Another certificate of the same worker and type lasting beyond `until`."""
    other = aliased(Certificate)
    return (
        select(other.id)
        .where(
            other.tenant_id == Certificate.tenant_id,
            other.staff_file_id == Certificate.staff_file_id,
            other.certificate_type_id == Certificate.certificate_type_id,
            or_(other.expires_on.is_(None), other.expires_on > until),
        )
        .exists()
    )


def training_due(membership_id: uuid.UUID, today: date) -> list[Any]:
    """The member's training sessions to come (enrolled) and their
    certificates expired or expiring soon, soonest first: rows of (kind
    "session"/"certificate", title, day). One statement."""
    from tenants.staffing.models import CertificateType

    own_file = and_(StaffFile.membership_id == membership_id)
    sessions = (
        select(
            literal("session").label("kind"),
            Course.title.label("title"),
            TrainingSession.held_on.label("day"),
        )
        .select_from(Enrolment)
        .join(
            TrainingSession,
            and_(
                TrainingSession.tenant_id == Enrolment.tenant_id, TrainingSession.id == Enrolment.session_id
            ),
        )
        .join(
            Course,
            and_(Course.tenant_id == TrainingSession.tenant_id, Course.id == TrainingSession.course_id),
        )
        .join(
            StaffFile,
            and_(StaffFile.tenant_id == Enrolment.tenant_id, StaffFile.id == Enrolment.staff_file_id),
        )
        .where(
            own_file,
            Enrolment.status == "enrolled",
            TrainingSession.held_on >= today,
            TrainingSession.held_on <= today + timedelta(days=SESSIONS_AHEAD_DAYS),
        )
    )
    certificates = (
        select(
            literal("certificate").label("kind"), CertificateType.name.label("title"), Certificate.expires_on
        )
        .select_from(Certificate)
        .join(
            CertificateType,
            and_(
                CertificateType.tenant_id == Certificate.tenant_id,
                CertificateType.id == Certificate.certificate_type_id,
            ),
        )
        .join(
            StaffFile,
            and_(StaffFile.tenant_id == Certificate.tenant_id, StaffFile.id == Certificate.staff_file_id),
        )
        .where(
            own_file,
            Certificate.expires_on <= today + timedelta(days=CERTIFICATES_AHEAD_DAYS),
            Certificate.expires_on > today - timedelta(days=365),
        )
        # a certificate renewed since (another of the same type lasting longer) is not due
        .where(~_renewed(today + timedelta(days=CERTIFICATES_AHEAD_DAYS)))
    )
    both = sessions.union_all(certificates).subquery()
    return list(db.session.execute(select(both).order_by(both.c.day).limit(DUE_ROWS)))


def api_sessions(course_id: uuid.UUID | None, first: date | None, last: date | None) -> Select[Any]:
    """Training sessions with their course's title, by date range and course
    (the API's paged list; starts with (held_on, id))."""
    stmt = select(TrainingSession.held_on, TrainingSession.id, TrainingSession, Course.title).join(
        Course, and_(Course.tenant_id == TrainingSession.tenant_id, Course.id == TrainingSession.course_id)
    )
    if course_id is not None:
        stmt = stmt.where(TrainingSession.course_id == course_id)
    if first is not None:
        stmt = stmt.where(TrainingSession.held_on >= first)
    if last is not None:
        stmt = stmt.where(TrainingSession.held_on <= last)
    return stmt


def enrolments_of(session_ids: list[uuid.UUID]) -> list[Enrolment]:
    """The enrolments (and attendance) of these sessions, in one statement."""
    if not session_ids:
        return []
    return list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.session_id.in_(session_ids))
            .order_by(Enrolment.created_at, Enrolment.id)
        )
    )
