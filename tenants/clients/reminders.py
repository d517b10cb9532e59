"""Case reminders, so no follow-up after closure or plan review passes unnoticed.

- `case.follow_up_due`: on a follow-up's due day (1 week, 2 weeks, 1 month,
  2 months after closure, or the agency's schedule), local midnight, while it
  is not recorded. Two occurrences: one to the coordinators, linking to the
  case (they record it), and one to the case's workers (carers who completed
  visits under its plans; subject `<follow-up id>:workers`, no link: carers
  cannot open cases). A sweep that missed the day still sends it up to
  FOLLOW_UP_GRACE_DAYS late.
- `plan.review_soon` N days before an approved or active plan's review date
  (`plan_review_reminder_days`, default 7) and `plan.review_due` on the day,
  to the coordinators and the plan's author. Only the most urgent stage
  passed is sent (a plan seen first on its review day gets only "due").

No client names in the messages: the case number identifies it.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import distinct, func, or_, select

from saas import db
from saas.agencies import sweep_agencies
from saas.jobs import periodic
from saas.models import Agency, Membership, Role
from saas.notifications.kinds import Kind, register
from saas.notifications.reminders import Due, recipients, send_due
from saas.settings import agency_setting
from tenants.clients.models import Case, CaseStatus, FollowUp, PlanStatus, ServicePlan
from tenants.scheduling.models import Visit, VisitStatus
from tenants.staffing.models import StaffFile
from tenants.staffing.reminders import date_param, local_midnight

REVIEW_DAYS_KEY = "plan_review_reminder_days"
# a due day the sweep did not see is still told, up to this late
FOLLOW_UP_GRACE_DAYS = 7
REVIEW_GRACE_DAYS = 7
REVIEWED_STATUSES = (PlanStatus.APPROVED, PlanStatus.ACTIVE)


def _label(code: str) -> str:
    """'1w' -> '1 week' in the recipient's language (the follow-up schedule)."""
    try:
        amount, unit = int(code[:-1]), code[-1]
    except ValueError:
        return code
    if unit == "d":
        return ngettext("%(num)s day", "%(num)s days", amount)
    if unit == "w":
        return ngettext("%(num)s week", "%(num)s weeks", amount)
    if unit == "m":
        return ngettext("%(num)s month", "%(num)s months", amount)
    return code


FOLLOW_UP_DUE = register(
    Kind(
        name="case.follow_up_due",
        label=_l("Follow-ups due after case closure"),
        title=lambda p: _(
            "Follow-up of case %(case)s due today (%(after)s after closure)",
            case=p["case"],
            after=_label(p["label"]),
        ),
        body=lambda p: _(
            "Contact the client by phone, a visit, a group meeting or their support network, "
            "and record whether a new intervention is needed."
        ),
    )
)
PLAN_REVIEW_SOON = register(
    Kind(
        name="plan.review_soon",
        label=_l("Service plan reviews coming up"),
        title=lambda p: _(
            "Service plan of case %(case)s is to be reviewed on %(date)s",
            case=p["case"],
            date=date_param(p["date"]),
        ),
        body=lambda p: _("Prepare the review: goals, the services delivered and any changed needs."),
    )
)
PLAN_REVIEW_DUE = register(
    Kind(
        name="plan.review_due",
        label=_l("Service plan reviews due"),
        title=lambda p: _(
            "Service plan of case %(case)s is due for review on %(date)s",
            case=p["case"],
            date=date_param(p["date"]),
        ),
        body=lambda p: _("Review the plan with the client and record any changes as a new version."),
    )
)


def review_days(agency: Agency) -> int:
    return int(agency_setting(agency, REVIEW_DAYS_KEY))


def _case_link(agency: Agency, case_id: object) -> str:
    return f"/a/{agency.slug}/cases/{case_id}"


def follow_up_dues(agency: Agency, today: date | None = None) -> list[Due]:
    """Follow-ups due today (or missed by the sweep lately), with each case's
    workers, in one SELECT."""
    today = today or agency.today()
    workers = (
        select(func.array_agg(distinct(StaffFile.membership_id)))
        .select_from(Visit)
        .join(ServicePlan, ServicePlan.id == Visit.plan_id)
        .join(StaffFile, StaffFile.id == Visit.staff_file_id)
        .join(Membership, Membership.id == StaffFile.membership_id)
        .where(
            ServicePlan.case_id == Case.id,
            Visit.status == VisitStatus.COMPLETED,
            Membership.active.is_(True),
            Membership.role == Role.CARER,
        )
        .correlate(Case)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(FollowUp.id, FollowUp.label, FollowUp.due_on, Case.id.label("case_id"), Case.number, workers)
        .join(Case, Case.id == FollowUp.case_id)
        .where(
            FollowUp.done_on.is_(None),
            FollowUp.due_on <= today,
            FollowUp.due_on >= today - timedelta(days=FOLLOW_UP_GRACE_DAYS),
            Case.status == CaseStatus.CLOSED,
        )
        .order_by(FollowUp.due_on, FollowUp.id)
    ).all()
    if not rows:
        return []
    coordinators = recipients(Role.COORDINATOR)
    dues = []
    for follow_up_id, label, due_on, case_id, number, case_workers in rows:
        due_at = local_midnight(agency, due_on)
        params = {"case": number, "label": label, "date": due_on.isoformat()}
        dues.append(
            Due(
                FOLLOW_UP_DUE.name,
                str(follow_up_id),
                due_at,
                coordinators,
                params,
                _case_link(agency, case_id),
            )
        )
        if case_workers:
            dues.append(
                Due(FOLLOW_UP_DUE.name, f"{follow_up_id}:workers", due_at, tuple(case_workers), params)
            )
    return dues


def plan_review_dues(agency: Agency, today: date | None = None) -> list[Due]:
    """Plans whose review is near or today (one SELECT)."""
    today = today or agency.today()
    ahead = review_days(agency)
    author = (
        select(Membership.id)
        .where(
            Membership.user_id == ServicePlan.author_user_id,
            Membership.active.is_(True),
            Membership.role.in_([Role.ADMIN, Role.COORDINATOR]),
        )
        .correlate(ServicePlan)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            ServicePlan.id, ServicePlan.review_on, ServicePlan.case_id, Case.number, author.label("author")
        )
        .join(Case, Case.id == ServicePlan.case_id)
        .where(
            ServicePlan.status.in_([s.value for s in REVIEWED_STATUSES]),
            ServicePlan.review_on.isnot(None),
            ServicePlan.review_on <= today + timedelta(days=ahead),
            ServicePlan.review_on >= today - timedelta(days=REVIEW_GRACE_DAYS),
            or_(ServicePlan.ends_on.is_(None), ServicePlan.ends_on >= ServicePlan.review_on),
        )
        .order_by(ServicePlan.review_on, ServicePlan.id)
    ).all()
    if not rows:
        return []
    coordinators = recipients(Role.COORDINATOR)
    dues = []
    for plan_id, review_on, case_id, number, author_id in rows:
        if review_on <= today:
            kind, due_on = PLAN_REVIEW_DUE.name, review_on
        elif ahead > 0:
            kind, due_on = PLAN_REVIEW_SOON.name, review_on - timedelta(days=ahead)
        else:
            continue
        to = (*coordinators, author_id) if author_id else coordinators
        dues.append(
            Due(
                kind=kind,
                subject=str(plan_id),
                due_at=local_midnight(agency, due_on),
                membership_ids=to,
                params={"case": number, "date": review_on.isoformat()},
                link=_case_link(agency, case_id),
            )
        )
    return dues


@periodic
def case_sweep() -> int:
    """Hourly (saas/schedule.py): each agency's day change is met within the
    hour; the dedupe key makes the other runs no-ops."""
    today = db.utcnow().date()
    # coarse across agencies and time zones; exact per agency on its own calendar
    follow_ups = select(FollowUp.tenant_id).where(
        FollowUp.done_on.is_(None),
        FollowUp.due_on <= today + timedelta(days=1),
        FollowUp.due_on >= today - timedelta(days=FOLLOW_UP_GRACE_DAYS + 1),
    )
    reviews = select(ServicePlan.tenant_id).where(
        ServicePlan.status.in_([s.value for s in REVIEWED_STATUSES]),
        ServicePlan.review_on <= today + timedelta(days=366),
        ServicePlan.review_on >= today - timedelta(days=REVIEW_GRACE_DAYS + 1),
    )
    return sweep_agencies(
        follow_ups.union(reviews).subquery().select(),
        lambda agency: send_due(follow_up_dues(agency)) + send_due(plan_review_dues(agency)),
    )
