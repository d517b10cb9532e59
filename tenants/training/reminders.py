"""Training reminders, so workers make up required hours while there is still time.

- `training.behind`: in the first days after each quarter ends (agency time
  zone), every worker whose role-training hours this year, counted to the
  quarter's last day, are behind the pro-rata requirement (quarter / 4 x the
  agency's annual hours) is told, once per quarter. Workers who started
  during that quarter are left out (they could not be on track yet).
- `training.behind_summary`: the admins get one summary per quarter (how
  many are behind), linking to the compliance page.
- `training.pre_service_missing`: a carer or social worker who is employed,
  or will be and already has visits assigned, with fewer than the agency's
  pre-service hours: the coordinators are told once per worker (due at the
  local midnight of their employment start, which keys the occurrence).

Hours come from `tenants.training.queries.compliance_query` and
`tenants.staffing.services.pre_service_hours`, the same rules as the
compliance page and `assignability`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select

from saas import db
from saas.agencies import sweep_agencies
from saas.jobs import periodic
from saas.models import Agency, Membership, Role, User
from saas.notifications.kinds import Kind, register
from saas.notifications.reminders import Due, recipients, send_due
from tenants.scheduling.models import Visit, VisitStatus
from tenants.staffing.models import StaffFile
from tenants.staffing.reminders import local_midnight
from tenants.staffing.services import pre_service_hours
from tenants.staffing.settings import workforce_settings
from tenants.training.queries import compliance_query

# the quarter-end reminders go out during the first days of the next quarter
QUARTER_WINDOW_DAYS = 14
# staff roles that deliver visits and so need pre-service training
VISITING_ROLES = ("carer", "social_worker")


def _hours(value: str) -> str:
    return format(Decimal(value).normalize(), "f")


TRAINING_BEHIND = register(
    Kind(
        name="training.behind",
        label=_l("Training hours behind the year's requirement"),
        title=lambda p: _(
            "%(hours)s of %(required)s training hours done by the end of Q%(quarter)s %(year)s",
            hours=_hours(p["hours"]),
            required=_hours(p["required"]),
            quarter=p["quarter"],
            year=p["year"],
        ),
        body=lambda p: _(
            "%(staff)s needs %(annual)s hours of role training this year; book a session to catch up.",
            staff=p["staff"],
            annual=_hours(p["annual"]),
        ),
    )
)
TRAINING_BEHIND_SUMMARY = register(
    Kind(
        name="training.behind_summary",
        label=_l("Quarterly training summary"),
        title=lambda p: _(
            "%(count)s workers behind on training at the end of Q%(quarter)s %(year)s",
            count=p["count"],
            quarter=p["quarter"],
            year=p["year"],
        ),
        body=lambda p: _("The compliance page lists who they are and how many hours each is missing."),
    )
)
PRE_SERVICE_MISSING = register(
    Kind(
        name="training.pre_service_missing",
        label=_l("Pre-service training missing"),
        title=lambda p: _(
            "%(staff)s has %(hours)s of %(required)s pre-service training hours",
            staff=p["staff"],
            hours=_hours(p["hours"]),
            required=_hours(p["required"]),
        ),
        body=lambda p: _("They cannot be assigned visits until the pre-service training is complete."),
    )
)


def ended_quarter(today: date) -> tuple[date, int, int] | None:
    """(the new quarter's first day, quarter number, year) of the quarter that
    ended at most QUARTER_WINDOW_DAYS ago, else None."""
    starts = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    if (today - starts).days >= QUARTER_WINDOW_DAYS:
        return None
    ended = starts - timedelta(days=1)
    return starts, (ended.month - 1) // 3 + 1, ended.year


def quarter_dues(agency: Agency, today: date | None = None) -> list[Due]:
    """The quarter-end occurrences due in the agency in scope (one SELECT)."""
    found = ended_quarter(today or agency.today())
    if found is None:
        return []
    starts, quarter, year = found
    ended = starts - timedelta(days=1)
    quarter_began = date(year, 3 * quarter - 2, 1)
    annual = workforce_settings(agency).annual_training_hours
    required = (annual * quarter / 4).quantize(Decimal("0.01"))
    if required <= 0:
        return []
    hours = compliance_query(reason="all", today=ended).subquery("hours")
    rows = db.session.execute(
        select(
            hours.c.staff_file_id, hours.c.name, hours.c.email, hours.c.annual_hours, StaffFile.membership_id
        )
        .join(StaffFile, StaffFile.id == hours.c.staff_file_id)
        .where(hours.c.annual_hours < required, StaffFile.employment_start < quarter_began)
        .order_by(hours.c.staff_file_id)
    ).all()
    if not rows:
        return []
    due_at = local_midnight(agency, starts)
    label = f"{year}Q{quarter}"
    common = {"quarter": str(quarter), "year": str(year), "required": str(required), "annual": str(annual)}
    dues = [
        Due(
            kind=TRAINING_BEHIND.name,
            subject=f"{row.staff_file_id}:{label}",
            due_at=due_at,
            membership_ids=(row.membership_id,),
            params={**common, "staff": row.name or row.email, "hours": str(row.annual_hours)},
            link=f"/a/{agency.slug}/training/staff/{row.staff_file_id}",
        )
        for row in rows
    ]
    dues.append(
        Due(
            kind=TRAINING_BEHIND_SUMMARY.name,
            subject=label,
            due_at=due_at,
            membership_ids=recipients(Role.ADMIN),
            params={**common, "count": str(len(rows))},
            link=f"/a/{agency.slug}/training/compliance?reason=annual",
        )
    )
    return dues


def pre_service_dues(agency: Agency, today: date | None = None) -> list[Due]:
    """Carers short of pre-service hours (one SELECT for the workers, one for
    their hours)."""
    today = today or agency.today()
    required = workforce_settings(agency).pre_service_hours
    if required <= 0:
        return []
    has_visits = exists(
        select(Visit.id).where(
            Visit.staff_file_id == StaffFile.id,
            Visit.status == VisitStatus.SCHEDULED,
            Visit.local_day >= today,
        )
    )
    people = db.session.execute(
        select(StaffFile.id, StaffFile.membership_id, StaffFile.employment_start, User.name, User.email)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.active.is_(True),
            StaffFile.staff_role.in_(VISITING_ROLES),
            StaffFile.leaves_after(today),
            or_(StaffFile.started_by(today), has_visits),
        )
        .order_by(StaffFile.id)
    ).all()
    if not people:
        return []
    done = pre_service_hours([p.id for p in people], today)
    short = [p for p in people if done.get(p.id, Decimal(0)) < required]
    if not short:
        return []
    coordinators = recipients(Role.COORDINATOR)
    return [
        Due(
            kind=PRE_SERVICE_MISSING.name,
            subject=str(p.id),
            due_at=local_midnight(agency, p.employment_start),
            membership_ids=coordinators,
            params={
                "staff": p.name or p.email,
                "hours": str(done.get(p.id, Decimal(0))),
                "required": str(required),
            },
            link=f"/a/{agency.slug}/training/staff/{p.id}",
        )
        for p in short
    ]


@periodic
def training_sweep() -> int:
    """Hourly (saas/schedule.py): each agency's day change is met within the
    hour; the dedupe key makes the other runs no-ops."""
    stmt = select(StaffFile.tenant_id).where(StaffFile.staff_role.isnot(None))
    return sweep_agencies(
        stmt, lambda agency: send_due(quarter_dues(agency)) + send_due(pre_service_dues(agency))
    )
