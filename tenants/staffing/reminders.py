"""Certificate reminders, so a certificate is renewed before its expiry stops
assignments: expiring at each of the agency's thresholds (default 60, 30 and
7 days before) and expired.

Who is told: the holder and the coordinators (who plan around it); an expired
certificate also goes to the admins, as it stops assignments that need it.
The link is the staff file, which the holder may open too (own file).

Each occurrence's due moment is the local midnight (agency time zone) of
`expires_on - N days`; "expired" is due at the local midnight after
`expires_on`, the first day the certificate no longer counts (as in
`services.certificate_status` and `assignability`). A sweep that missed some
days sends the most urgent stage passed, never an earlier one after a later
one has also passed (a certificate 5 days from expiry gets the 7-day
reminder, not the 60- or 30-day one). A renewed certificate (another of the
same type for the same person, valid longer) is not reminded of.

Also the small helpers the other reminder sweeps share: `local_midnight` and
`date_param` (the cross-agency loop is `saas.agencies.sweep_agencies`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, time, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased

from saas import db
from saas.agencies import sweep_agencies
from saas.jobs import periodic
from saas.models import Agency, Membership, Role, User
from saas.notifications.kinds import Kind, register
from saas.notifications.reminders import Due, recipients, send_due
from saas.settings import agency_setting
from tenants.staffing.models import Certificate, CertificateType, StaffFile

log = logging.getLogger(__name__)

THRESHOLDS_KEY = "certificate_reminder_days"
# an expiry the sweep did not see on the day is still told, up to this late
EXPIRED_GRACE_DAYS = 30


# -- shared helpers ------------------------------------------------------------------------


def local_midnight(agency: Agency, day: date) -> datetime:
    """The start of `day` on the agency's wall clock, as an aware datetime
    (daylight saving included)."""
    return datetime.combine(day, time(0), tzinfo=agency.zone)


def date_param(value: str) -> str:
    """An ISO date from a reminder's params, in the recipient's language."""
    try:
        return format_date(date.fromisoformat(value), "medium")
    except ValueError:
        return value


def staff_link(agency: Agency, staff_id: uuid.UUID) -> str:
    return f"/a/{agency.slug}/staff/{staff_id}"


# -- kinds ---------------------------------------------------------------------------------


CERTIFICATE_EXPIRING = register(
    Kind(
        name="certificate.expiring",
        label=_l("Certificates expiring soon"),
        title=lambda p: _(
            "Certificate of %(staff)s expires on %(date)s: %(type)s",
            staff=p["staff"],
            type=p["type"],
            date=date_param(p["date"]),
        ),
        body=lambda p: _(
            "Renew it before then: once it has expired, visits that require it cannot be assigned."
        ),
    )
)
CERTIFICATE_EXPIRED = register(
    Kind(
        name="certificate.expired",
        label=_l("Certificates expired"),
        title=lambda p: _(
            "Certificate of %(staff)s expired on %(date)s: %(type)s",
            staff=p["staff"],
            type=p["type"],
            date=date_param(p["date"]),
        ),
        body=lambda p: _("Record the renewed certificate on the staff file."),
    )
)


# -- rules -----------------------------------------------------------------------------------


def reminder_days(agency: Agency) -> tuple[int, ...]:
    """The agency's thresholds (days before expiry), most distant first.
    A malformed setting falls back to the default; an empty list means only
    "expired" is sent."""
    return tuple(agency_setting(agency, THRESHOLDS_KEY))


def certificate_stage(expires_on: date, today: date, thresholds: tuple[int, ...]) -> int | None:
    """The stage to send today: the smallest threshold passed (days before
    expiry), 0 for expired, None when nothing is due."""
    days_left = (expires_on - today).days
    if days_left < 0:
        return 0 if -days_left <= EXPIRED_GRACE_DAYS else None
    passed = [n for n in thresholds if days_left <= n]
    return min(passed) if passed else None


def certificate_dues(agency: Agency, today: date | None = None) -> list[Due]:
    """Every certificate occurrence due now in the agency in scope: one SELECT
    for the certificates, one per recipient role set."""
    today = today or agency.today()
    thresholds = reminder_days(agency)
    newer = aliased(Certificate)
    renewed = exists(
        select(newer.id).where(
            newer.staff_file_id == Certificate.staff_file_id,
            newer.certificate_type_id == Certificate.certificate_type_id,
            newer.id != Certificate.id,
            or_(newer.expires_on.is_(None), newer.expires_on > Certificate.expires_on),
        )
    )
    rows = db.session.execute(
        select(
            Certificate.id,
            Certificate.expires_on,
            Certificate.staff_file_id,
            CertificateType.name.label("type_name"),
            StaffFile.membership_id,
            User.name,
            User.email,
        )
        .join(CertificateType, CertificateType.id == Certificate.certificate_type_id)
        .join(StaffFile, StaffFile.id == Certificate.staff_file_id)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(
            Certificate.expires_on >= today - timedelta(days=EXPIRED_GRACE_DAYS + 1),
            Certificate.expires_on <= today + timedelta(days=max(thresholds, default=0)),
            Membership.active.is_(True),
            StaffFile.leaves_after(today),
            ~renewed,
        )
        .order_by(Certificate.expires_on, Certificate.id)
    ).all()
    if not rows:
        return []
    coordinators = recipients(Role.COORDINATOR)
    managers = recipients(Role.ADMIN, Role.COORDINATOR)
    dues = []
    for row in rows:
        stage = certificate_stage(row.expires_on, today, thresholds)
        if stage is None:
            continue
        params = {"staff": row.name or row.email, "type": row.type_name, "date": row.expires_on.isoformat()}
        if stage == 0:
            kind, due_on, others = CERTIFICATE_EXPIRED.name, row.expires_on + timedelta(days=1), managers
        else:
            kind, due_on, others = (
                CERTIFICATE_EXPIRING.name,
                row.expires_on - timedelta(days=stage),
                coordinators,
            )
            params["days"] = str(stage)
        dues.append(
            Due(
                kind=kind,
                subject=str(row.id),
                due_at=local_midnight(agency, due_on),
                membership_ids=(row.membership_id, *others),
                params=params,
                link=staff_link(agency, row.staff_file_id),
            )
        )
    return dues


@periodic
def certificate_sweep() -> int:
    """Hourly (saas/schedule.py), so each agency's local midnight is met
    within the hour; the dedupe key makes the other runs no-ops."""
    today = db.utcnow().date()
    # coarse across agencies (any time zone, any threshold up to a year);
    # the exact window is applied per agency on its own calendar
    stmt = select(Certificate.tenant_id).where(
        Certificate.expires_on >= today - timedelta(days=EXPIRED_GRACE_DAYS + 2),
        Certificate.expires_on <= today + timedelta(days=367),
    )
    return sweep_agencies(stmt, lambda agency: send_due(certificate_dues(agency)))
