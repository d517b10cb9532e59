"""The one function that says who may be assigned to work on a day, and
the admin overrides that lift training and certificate reasons."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select

from saas import audit, db
from saas.models import Membership, User
from tenants.staffing.errors import Problem, raise_if, too_long
from tenants.staffing.models import (
    AssignabilityOverride,
    Certificate,
    CertificateType,
    StaffFile,
)
from tenants.staffing.settings import (
    local_today,
    workforce_settings,
)
from tenants.staffing.staff_files import user_id_of
from tenants.training.models import Course, Enrolment, TrainingSession

NOT_OVERRIDABLE = ("inactive", "employment_ended", "employment_not_started")


@dataclass(frozen=True)
class Reason:
    """Why a worker is not assignable. `code` is stable (`inactive`,
    `employment_ended`, `employment_not_started`, `pre_service_hours`,
    `certificate_missing:<type id>`, `certificate_expired:<type id>`)."""

    code: str
    type_name: str = ""
    hours: Decimal | None = None
    required: Decimal | None = None
    expired_on: date | None = None
    # required by the worker's role (settings), or by the work itself (`require=`)
    by_role: bool = True

    @property
    def kind(self) -> str:
        return self.code.split(":", 1)[0]

    @property
    def overridable(self) -> bool:
        return self.kind not in NOT_OVERRIDABLE

    def __str__(self) -> str:
        return self.code

    def message(self) -> str:
        if self.kind == "inactive":
            return _("Their account in the agency is deactivated.")
        if self.kind == "employment_ended":
            return _("Their employment has ended.")
        if self.kind == "employment_not_started":
            return _("Their employment has not started yet.")
        if self.kind == "pre_service_hours":
            return _(
                "%(hours)s of the %(required)s hours of pre-service training done.",
                hours=_hours(self.hours),
                required=_hours(self.required),
            )
        if self.kind == "certificate_missing" and self.by_role:
            return _("Missing a certificate their role requires: %(type)s.", type=self.type_name)
        if self.kind == "certificate_missing":
            return _("Missing a certificate this work requires: %(type)s.", type=self.type_name)
        if self.kind == "certificate_expired":
            return _(
                "Certificate expired on %(date)s: %(type)s.",
                type=self.type_name,
                date=format_date(self.expired_on, "medium") if self.expired_on else "",
            )
        return self.code


def _hours(value: Decimal | None) -> str:
    if value is None:
        return "0"
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:.2f}".rstrip("0")


@dataclass(frozen=True)
class Override:
    id: uuid.UUID
    reason: str
    by_id: uuid.UUID | None
    at: datetime
    expires_on: date | None


@dataclass(frozen=True)
class Assignability:
    staff_file_id: uuid.UUID
    assignable: bool
    reasons: list[Reason]
    override: Override | None
    pre_service_hours: Decimal

    @property
    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    @property
    def overridden(self) -> bool:
        return self.assignable and bool(self.reasons)


def pre_service_hours(staff_ids: Iterable[uuid.UUID], at: date) -> dict[uuid.UUID, Decimal]:
    """Hours attended of courses flagged pre-service, at sessions held by `at`."""

    ids = set(staff_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Enrolment.staff_file_id, func.sum(Enrolment.attended_hours))
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(
            Enrolment.staff_file_id.in_(ids),
            Course.counts_as == "pre_service",
            TrainingSession.held_on <= at,
            Enrolment.attended_hours.isnot(None),
        )
        .group_by(Enrolment.staff_file_id)
    ).all()
    return {r[0]: Decimal(r[1] or 0) for r in rows}


def assignability(
    staff_ids: uuid.UUID | Iterable[uuid.UUID],
    at: date | None = None,
    *,
    require: Iterable[uuid.UUID] = (),
) -> dict[uuid.UUID, Assignability]:
    """Who may be assigned on day `at` (default: the agency's today), for any
    number of workers in four queries. Never stored.

    Assignable = membership active, employment started and not ended, at least
    the agency's pre-service hours attended, and a valid certificate (issued by
    `at`, not expired at `at`) of every type their staff role requires, plus
    any type in `require` (a visit's required qualification). An active admin
    override makes a worker assignable despite missing training or
    certificates, never despite not being employed. Unknown ids are left out.
    """
    ids = [staff_ids] if isinstance(staff_ids, uuid.UUID) else list(dict.fromkeys(staff_ids))
    if not ids:
        return {}
    at = at or local_today()
    settings = workforce_settings()
    extra = tuple(require)
    people = db.session.execute(
        select(
            StaffFile.id,
            StaffFile.staff_role,
            StaffFile.started_by(at).label("started"),
            StaffFile.leaves_after(at).label("staying"),
            Membership.active,
        )
        .join(Membership, Membership.id == StaffFile.membership_id)
        .where(StaffFile.id.in_(ids))
    ).all()
    if not people:
        return {}
    hours = pre_service_hours([p.id for p in people], at)
    needed_types = set(extra)
    for p in people:
        needed_types.update(settings.required_for(p.staff_role))
    # best certificate per worker and type: valid at `at` if any, else the latest expiry
    held: dict[tuple[uuid.UUID, uuid.UUID], tuple[bool, date | None]] = {}
    names: dict[uuid.UUID, str] = {}
    if needed_types:
        names = dict(
            db.session.execute(
                select(CertificateType.id, CertificateType.name).where(CertificateType.id.in_(needed_types))
            ).all()
        )
        rows = db.session.execute(
            select(
                Certificate.staff_file_id,
                Certificate.certificate_type_id,
                func.bool_or(Certificate.valid_on(at)),
                func.max(Certificate.expires_on),
            )
            .where(
                Certificate.staff_file_id.in_([p.id for p in people]),
                Certificate.certificate_type_id.in_(needed_types),
                Certificate.issued_on <= at,
            )
            .group_by(Certificate.staff_file_id, Certificate.certificate_type_id)
        ).all()
        held = {(r[0], r[1]): (bool(r[2]), r[3]) for r in rows}
    overrides = {}
    for o in db.session.scalars(
        select(AssignabilityOverride)
        .where(
            AssignabilityOverride.staff_file_id.in_([p.id for p in people]),
            AssignabilityOverride.active_on(at),
        )
        .order_by(AssignabilityOverride.created_at)
    ):
        overrides[o.staff_file_id] = Override(o.id, o.reason, o.created_by_id, o.created_at, o.expires_on)

    result = {}
    for p in people:
        reasons: list[Reason] = []
        if not p.active:
            reasons.append(Reason("inactive"))
        if not p.staying:
            reasons.append(Reason("employment_ended"))
        if not p.started:
            reasons.append(Reason("employment_not_started"))
        done = hours.get(p.id, Decimal(0))
        if done < settings.pre_service_hours:
            reasons.append(Reason("pre_service_hours", hours=done, required=settings.pre_service_hours))
        by_role = settings.required_for(p.staff_role)
        for type_id in dict.fromkeys((*by_role, *extra)):
            valid, latest = held.get((p.id, type_id), (False, None))
            if valid:
                continue
            type_name = names.get(type_id, "?")
            if latest is not None:
                reasons.append(
                    Reason(
                        f"certificate_expired:{type_id}",
                        type_name=type_name,
                        expired_on=latest,
                        by_role=type_id in by_role,
                    )
                )
            else:
                reasons.append(
                    Reason(f"certificate_missing:{type_id}", type_name=type_name, by_role=type_id in by_role)
                )
        override = overrides.get(p.id)
        assignable = not reasons or (override is not None and all(r.overridable for r in reasons))
        result[p.id] = Assignability(p.id, assignable, reasons, override, done)
    return result


def is_assignable(staff_id: uuid.UUID, at: date | None = None) -> bool:
    found = assignability(staff_id, at)
    return bool(found.get(staff_id) and found[staff_id].assignable)


def grant_override(
    staff: StaffFile, reason: str, expires_on: date | None, *, by: User | None
) -> AssignabilityOverride:
    reason = (reason or "").strip()
    problems = []
    if not reason:
        problems.append(Problem("reason_required", "reason"))
    too_long(problems, "reason", reason, 2000)
    if expires_on is not None and expires_on < local_today():
        problems.append(Problem("expires_in_past", "expires_on"))
    raise_if(problems)
    # one active override at a time: a new one replaces the old
    for old in db.session.scalars(
        select(AssignabilityOverride).where(
            AssignabilityOverride.staff_file_id == staff.id, AssignabilityOverride.revoked_at.is_(None)
        )
    ):
        old.revoked_at = db.utcnow()
        old.revoked_by_id = user_id_of(by)
    override = AssignabilityOverride(
        staff_file_id=staff.id, reason=reason, expires_on=expires_on, created_by_id=user_id_of(by)
    )
    db.session.add(override)
    db.session.flush()
    reasons = assignability(staff.id).get(staff.id)
    audit.record(
        "staff.assignability_override",
        str(staff.id),
        reason=reason,
        expires_on=str(expires_on) if expires_on else None,
        reasons=reasons.reason_codes if reasons else [],
    )
    return override


def revoke_override(override: AssignabilityOverride, *, by: User | None) -> None:
    if override.revoked_at is None:
        override.revoked_at = db.utcnow()
        override.revoked_by_id = user_id_of(by)
        audit.record(
            "staff.assignability_override_revoked", str(override.staff_file_id), override=str(override.id)
        )
