"""Monthly return-visit reminders, so a missing record is chased before it is late.

Each worker makes at least one return visit a month to each client they
visited that month (the same pairs as the return-visits page,
`services.return_visits_for`); the month's record is due by the 7th of the
next month (`return_visit_due_day`).

- `return_visit.missing`: from the 1st of the month (agency time zone) until
  the due day, each worker with clients lacking last month's return visit is
  told once (subject `<staff id>:<YYYY-MM>`, due at local midnight on the 1st).
- `return_visit.overdue`: mandatory; from the day after the due day (the 8th)
  to the month's end, the coordinators are told of each worker still missing
  some (due at local midnight on the 8th).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import and_, func, select

from saas import db
from saas.agencies import sweep_agencies
from saas.i18n import format_month
from saas.jobs import periodic
from saas.models import Agency, Membership, Role, User
from saas.notifications.kinds import Kind, register
from saas.notifications.reminders import Due, recipients, send_due
from tenants.scheduling.models import ReturnVisit, Visit
from tenants.scheduling.services import (
    month_start,
    return_visit_due_day,
    visited_pairs,
)
from tenants.staffing.models import StaffFile
from tenants.staffing.reminders import date_param, local_midnight


def _month(value: str) -> str:
    try:
        return format_month(date.fromisoformat(value))
    except ValueError:
        return value


RETURN_VISIT_MISSING = register(
    Kind(
        name="return_visit.missing",
        label=_l("Return visits to record"),
        title=lambda p: ngettext(
            "%(num)s client without a return visit for %(month)s",
            "%(num)s clients without a return visit for %(month)s",
            int(p["count"]),
            month=_month(p["month"]),
        ),
        body=lambda p: _("Record them by %(date)s.", date=date_param(p["due"])),
    )
)
RETURN_VISIT_OVERDUE = register(
    Kind(
        name="return_visit.overdue",
        label=_l("Return visits overdue (escalation)"),
        mandatory=True,
        title=lambda p: ngettext(
            "%(staff)s: %(num)s return visit for %(month)s overdue",
            "%(staff)s: %(num)s return visits for %(month)s overdue",
            int(p["count"]),
            staff=p["staff"],
            month=_month(p["month"]),
        ),
        body=lambda p: _("They were due by %(date)s.", date=date_param(p["due"])),
    )
)


def missing_by_worker(agency: Agency, month: date) -> list:
    """(staff id, membership id, name, email, clients missing) for `month`, one SELECT."""
    after = (month + timedelta(days=32)).replace(day=1)
    pairs = (
        visited_pairs(month)
        .where(
            # the indexed (tenant_id, starts_at) range around the local month
            Visit.starts_at >= local_midnight(agency, month) - timedelta(days=1),
            Visit.starts_at < local_midnight(agency, after) + timedelta(days=1),
        )
        .subquery("pairs")
    )
    return db.session.execute(
        select(
            pairs.c.staff_file_id,
            StaffFile.membership_id,
            User.name,
            User.email,
            func.count().label("missing"),
        )
        .join(StaffFile, StaffFile.id == pairs.c.staff_file_id)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .join(User, User.id == Membership.user_id)
        .outerjoin(
            ReturnVisit,
            and_(
                ReturnVisit.staff_file_id == pairs.c.staff_file_id,
                ReturnVisit.client_id == pairs.c.client_id,
                ReturnVisit.month == month,
            ),
        )
        .where(ReturnVisit.id.is_(None), Membership.active.is_(True))
        .group_by(pairs.c.staff_file_id, StaffFile.membership_id, User.name, User.email)
        .order_by(pairs.c.staff_file_id)
    ).all()


def return_visit_dues(agency: Agency, today: date | None = None) -> list[Due]:
    today = today or agency.today()
    this_month = month_start(today)
    last_month = month_start(this_month - timedelta(days=1))
    deadline = this_month.replace(day=return_visit_due_day(agency))
    rows = missing_by_worker(agency, last_month)
    if not rows:
        return []
    common = {"month": last_month.isoformat(), "due": deadline.isoformat()}
    label = last_month.strftime("%Y-%m")
    link = f"/a/{agency.slug}/return-visits?month={label}"
    if today <= deadline:
        due_at = local_midnight(agency, this_month)
        return [
            Due(
                RETURN_VISIT_MISSING.name,
                f"{row.staff_file_id}:{label}",
                due_at,
                (row.membership_id,),
                {**common, "count": str(row.missing)},
                link,
            )
            for row in rows
        ]
    due_at = local_midnight(agency, deadline + timedelta(days=1))
    coordinators = recipients(Role.COORDINATOR)
    return [
        Due(
            RETURN_VISIT_OVERDUE.name,
            f"{row.staff_file_id}:{label}",
            due_at,
            coordinators,
            {**common, "count": str(row.missing), "staff": row.name or row.email},
            link,
        )
        for row in rows
    ]


@periodic
def return_visit_sweep() -> int:
    """Hourly (saas/schedule.py): each agency's month change and due day are
    met within the hour; the dedupe key makes the other runs no-ops."""
    today = db.utcnow().date()
    # last month's visits, widened by a day for time zones on either side of UTC
    this_month = month_start(today + timedelta(days=1))
    since = month_start(month_start(today - timedelta(days=1)) - timedelta(days=1))
    stmt = select(Visit.tenant_id).where(
        Visit.staff_file_id.isnot(None),
        Visit.starts_at >= datetime.combine(since, time(0), tzinfo=UTC) - timedelta(days=1),
        Visit.starts_at < datetime.combine(this_month, time(0), tzinfo=UTC) + timedelta(days=1),
    )
    return sweep_agencies(stmt, lambda agency: send_due(return_visit_dues(agency)))
