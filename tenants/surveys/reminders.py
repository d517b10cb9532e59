"""The six-monthly outcome survey reminder, so outcomes are measured on
schedule; through the notification centre, on `tenants.surveys.services.outcome_survey_due`.

`survey.outcome_due`: on the day the next outcome survey is due (the last one
sent plus `survey_outcome_months`, agency time zone), the admins are told,
once per agency and due date. An agency that never sent one is due from the
day it was created (a stable key, so it is told once, not every day); an
agency with the setting at 0 does not track it.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from saas.agencies import sweep_agencies
from saas.jobs import periodic
from saas.models import Agency, Role
from saas.notifications.kinds import Kind, register
from saas.notifications.reminders import Due, recipients, send_due
from saas.settings import agency_setting
from tenants.staffing.reminders import date_param, local_midnight
from tenants.surveys import services

OUTCOME_DUE = register(
    Kind(
        name="survey.outcome_due",
        label=_l("Outcome survey due"),
        title=lambda p: _("The outcome survey is due on %(date)s", date=date_param(p["date"])),
        body=lambda p: _(
            "Send an outcome survey to a random sample of at least %(sample)s clients.", sample=p["sample"]
        ),
    )
)


def outcome_dues(agency: Agency, today: date | None = None) -> list[Due]:
    today = today or agency.today()
    last = services.last_outcome_sent(agency)
    due = services.next_outcome_due(agency, last)
    if due is None:
        return []
    if last is None:
        due = agency.created_at.astimezone(agency.zone).date()
    if due > today:
        return []
    return [
        Due(
            kind=OUTCOME_DUE.name,
            subject="outcome",
            due_at=local_midnight(agency, due),
            membership_ids=recipients(Role.ADMIN),
            params={"date": due.isoformat(), "sample": str(agency_setting(agency, "survey_sample_min"))},
            link=f"/a/{agency.slug}/surveys/campaigns/new",
        )
    ]


@periodic
def outcome_sweep() -> int:
    """Hourly (saas/schedule.py); the dedupe key makes re-runs no-ops."""
    return sweep_agencies(select(Agency.id), lambda agency: send_due(outcome_dues(agency)))
