"""Outreach reminders, so no team, funder or opinion box goes unheard for
longer than the agency's rules allow; through the notification centre, built on
`tenants.outreach.services` (the same rules as the outreach pages).

- `outreach.round_due`: a team's opinion round with a stakeholder group
  (clients, funders, partners) is due every `stakeholder_round_months`; on the
  due day (agency time zone) the team's supervisor and the coordinators are
  told, once per (team, group, due date). A team that never held one is due
  from the day the team was created.
- `outreach.funder_visit_missing`: on the 1st of the month, each active funder
  visited fewer times last month than `funder_visits_per_month`, to the
  admins and coordinators, once per (funder, month).
- `outreach.box_missed`: the daily opinion-box log missed; once per (location,
  day), due at the agency's `opinion_box_reminder_hour` the next morning, to
  the admins and coordinators (in-app, and by email unless turned off in the
  preferences).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from saas import db
from saas.agencies import sweep_agencies
from saas.i18n import format_month
from saas.jobs import periodic
from saas.models import Agency, Role
from saas.notifications.kinds import Kind, register
from saas.notifications.reminders import Due, recipients, send_due
from saas.settings import agency_setting
from tenants.outreach import services
from tenants.outreach.labels import group_label
from tenants.outreach.models import BoxLocation, Funder
from tenants.staffing.models import Team
from tenants.staffing.reminders import date_param, local_midnight

# a day the sweep did not see is still told, up to this late
BOX_GRACE_DAYS = 2


ROUND_DUE = register(
    Kind(
        name="outreach.round_due",
        label=_l("Stakeholder opinion rounds due"),
        title=lambda p: _(
            "%(team)s: opinion round with %(group)s due on %(date)s",
            team=p["team"],
            group=group_label(p["group"]),
            date=date_param(p["date"]),
        ),
        body=lambda p: _("Each team collects the opinions of every stakeholder group regularly."),
    )
)
FUNDER_VISIT_MISSING = register(
    Kind(
        name="outreach.funder_visit_missing",
        label=_l("Funders not visited last month"),
        title=lambda p: _(
            "%(funder)s was not visited in %(month)s",
            funder=p["funder"],
            month=format_month(date.fromisoformat(p["month"])),
        ),
        body=lambda p: _("Funders are visited at least once a month."),
    )
)
BOX_MISSED = register(
    Kind(
        name="outreach.box_missed",
        label=_l("Opinion box not logged"),
        title=lambda p: _(
            "Opinion box at %(location)s not logged on %(date)s",
            location=p["location"],
            date=date_param(p["date"]),
        ),
        body=lambda p: _("The box is opened and logged every day."),
    )
)


def round_dues(agency: Agency, today: date | None = None) -> list[Due]:
    """Rounds due by today (the grid's two statements, one for the teams)."""
    today = today or agency.today()
    cells = services.overdue_rounds(today + timedelta(days=1), agency)  # due on or before today
    if not cells:
        return []
    teams = {
        row.id: row
        for row in db.session.execute(
            select(Team.id, Team.created_at, Team.supervisor_membership_id).where(
                Team.id.in_({c.team_id for c in cells})
            )
        )
    }
    coordinators = recipients(Role.COORDINATOR)
    dues = []
    for cell in cells:
        team = teams.get(cell.team_id)
        if team is None:
            continue
        due = cell.due or team.created_at.astimezone(agency.zone).date()
        to = (team.supervisor_membership_id, *coordinators) if team.supervisor_membership_id else coordinators
        dues.append(
            Due(
                kind=ROUND_DUE.name,
                subject=f"{cell.team_id}:{cell.stakeholder_group}",
                due_at=local_midnight(agency, due),
                membership_ids=to,
                params={"team": cell.team_name, "group": cell.stakeholder_group, "date": due.isoformat()},
                link=f"/a/{agency.slug}/outreach/rounds",
            )
        )
    return dues


def funder_dues(agency: Agency, today: date | None = None) -> list[Due]:
    """Funders not visited enough last month (the service's statements)."""
    today = today or agency.today()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    missing = services.funders_without_visit(last_month, agency)
    if not missing:
        return []
    managers = recipients(Role.ADMIN, Role.COORDINATOR)
    return [
        Due(
            kind=FUNDER_VISIT_MISSING.name,
            subject=f"{funder.id}:{last_month:%Y-%m}",
            due_at=local_midnight(agency, this_month),
            membership_ids=managers,
            params={"funder": funder.name, "month": last_month.isoformat()},
            link=f"/a/{agency.slug}/outreach/funders/{funder.id}",
        )
        for funder in missing
    ]


def box_dues(agency: Agency, now: datetime | None = None) -> list[Due]:
    """Boxes not logged on the last days, from the reminder hour (one statement)."""
    local = (now or db.utcnow()).astimezone(agency.zone)
    hour = int(agency_setting(agency, "opinion_box_reminder_hour"))
    if local.hour < hour:
        yesterday = local.date() - timedelta(days=2)  # today's reminder hour not reached yet
    else:
        yesterday = local.date() - timedelta(days=1)
    missed = services.missed_days(yesterday - timedelta(days=BOX_GRACE_DAYS), yesterday, agency)
    if not missed:
        return []
    managers = recipients(Role.ADMIN, Role.COORDINATOR)
    return [
        Due(
            kind=BOX_MISSED.name,
            subject=f"{m.location_id}:{m.day.isoformat()}",
            due_at=datetime.combine(m.day + timedelta(days=1), time(hour % 24), tzinfo=agency.zone),
            membership_ids=managers,
            params={"location": m.location_name, "date": m.day.isoformat()},
            link=f"/a/{agency.slug}/outreach/opinion-box",
        )
        for m in missed
    ]


@periodic
def outreach_sweep() -> int:
    """Hourly (saas/schedule.py); the dedupe key makes re-runs no-ops."""
    teams = select(Team.tenant_id).where(Team.active.is_(True))
    boxes = select(BoxLocation.tenant_id).where(BoxLocation.active.is_(True))
    funders = select(Funder.tenant_id).where(Funder.active.is_(True))

    def work(agency: Agency) -> int:
        return send_due(round_dues(agency)) + send_due(funder_dues(agency)) + send_due(box_dues(agency))

    return sweep_agencies(teams.union(boxes, funders).subquery().select(), work)
