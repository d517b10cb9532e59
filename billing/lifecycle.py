"""The agency billing life cycle: the one module that changes `billing_state`.

    trial ──paid──▶ active ◀──paid── past_due ──grace──▶ restricted
      │               │  ▲              ▲                    │
      └─trial ended───┼──┼──────────────┘        paid ───────┘ (at once)
                      ▼  │ resumed
                  cancelled ──period end──▶ closed ──export window and retention──▶ purged

- past_due: a banner and emails to the agency's admins; nothing is refused.
- restricted (after the grace period, default 14 days): admins cannot add
  clients, plans or staff (`can_grow`). Carers still see and check in to
  visits, clients can still rate and complain: care never stops for a billing
  reason. Paying restores the agency at once.
- cancelled: the agency chose to leave. Admins and coordinators keep read
  access until the paid period ends; carers and clients are not affected.
- closed: a read-only archive. Only the agency's admins reach it: they read
  every page and export the data, and nothing can be changed. The data is
  purged (billing.purge) once the export window has passed (an operator's
  setting, default 30 days) and every client file's retention has ended
  (tenants.records: 3 years after the last case closed, 5 for a special
  programme; cases open at the closing count from it).

Every transition is recorded in the agency's audit log and the platform's.
A subscription Stripe ends while the agency owes money does not close it:
closing for non-payment is an operator's decision, never automatic.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, g, has_app_context, has_request_context, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from billing import EXPORT_AGENCY_DATA, MANAGE_BILLING
from billing.models import BillingState, Invoice, Plan
from saas import audit, db, mail
from saas.models import Agency, Invitation, Membership, Role, User
from saas.platform_settings import IntSetting, declare, platform_setting
from saas.tenancy import current_agency

F = TypeVar("F", bound=Callable[..., Any])

GROWING_STATES = frozenset({BillingState.TRIAL, BillingState.ACTIVE, BillingState.PAST_DUE})
EXPORT_WINDOW_DAYS = declare(
    IntSetting(
        "export_window_days",
        30,
        _l("Export window of a closed agency (days)"),
        min=7,
        max=365,
        help=_l(
            "A closed agency's data is purged no earlier than this many days after it closed, "
            "and never before every client file's retention has ended."
        ),
    )
)
DEFAULT_TRIAL_DAYS = 14
DEFAULT_GRACE_DAYS = 14


def _setting(key: str, default: int) -> int:
    if has_app_context():
        return int(current_app.config.get(key, default))
    return default


def trial_days() -> int:
    return _setting("TRIAL_DAYS", DEFAULT_TRIAL_DAYS)


def grace_period() -> timedelta:
    return timedelta(days=_setting("BILLING_GRACE_DAYS", DEFAULT_GRACE_DAYS))


def state_label(state: str) -> str:
    labels = {
        BillingState.TRIAL: _("Trial"),
        BillingState.ACTIVE: _("Active"),
        BillingState.PAST_DUE: _("Payment overdue"),
        BillingState.RESTRICTED: _("Restricted"),
        BillingState.CANCELLED: _("Cancelled"),
        BillingState.CLOSED: _("Closed"),
    }
    return labels.get(state, state)


# -- what each state allows ------------------------------------------------------


def can_grow(agency: Agency) -> bool:
    """May the agency add clients, care plans or staff?"""
    return agency.billing_state in GROWING_STATES


def export_window() -> timedelta:
    """How long at least a closed agency's admins may export before the purge."""
    return timedelta(days=platform_setting(EXPORT_WINDOW_DAYS.key))


def export_until(agency: Agency) -> datetime:
    """The earliest moment a closed agency's data may be purged."""
    return (agency.closed_at or db.utcnow()) + export_window()


def export_window_open(agency: Agency) -> bool:
    """A closed agency's admins may read and export its archive until it is
    purged (no earlier than the export window, and not while a file's
    retention runs)."""
    return agency.purged_at is None


def active_carers(sess: Any = None) -> int:
    """Active carers of the agency in scope: what a per-carer plan bills."""
    sess = sess or db.session()
    return (
        sess.scalar(select(func.count()).where(Membership.role == Role.CARER, Membership.active.is_(True)))
        or 0
    )


def growth_refusal(agency: Agency, role: str) -> str | None:
    """Why adding a member with this role is refused now, or None. Clients
    (and their families) can always be given access: that is care."""
    if role == Role.CLIENT:
        return None
    if not can_grow(agency):
        return restricted_message(agency)
    if role == Role.CARER and agency.plan_id is not None:
        plan = db.session.get(Plan, agency.plan_id)
        if plan is not None and plan.max_carers is not None:
            pending = (
                db.session.scalar(
                    select(func.count()).where(
                        Invitation.role == Role.CARER,
                        Invitation.accepted_at.is_(None),
                        Invitation.revoked_at.is_(None),
                        Invitation.expires_at > db.utcnow(),
                    )
                )
                or 0
            )
            if active_carers() + pending >= plan.max_carers:
                return _(
                    "Your plan includes up to %(n)d carers. Change your plan to add more.",
                    n=plan.max_carers,
                )
    return None


def client_limit_refusal(agency: Agency, clients: int) -> str | None:
    """For the views that add a care client: `clients` is how many the agency
    has now. Why one more is refused (billing state or the plan's limit), or None."""
    if not can_grow(agency):
        return restricted_message(agency)
    plan = db.session.get(Plan, agency.plan_id) if agency.plan_id else None
    if plan is not None and plan.max_clients is not None and clients >= plan.max_clients:
        return _("Your plan includes up to %(n)d clients. Change your plan to add more.", n=plan.max_clients)
    return None


def restricted_message(agency: Agency) -> str:
    if agency.billing_state == BillingState.RESTRICTED:
        return _(
            "Your agency's account is restricted because a payment is overdue: you cannot add clients, "
            "plans or staff until it is paid. Visits and care continue as usual."
        )
    if agency.billing_state == BillingState.CANCELLED:
        return _("Your agency's subscription is cancelled: nothing new can be added.")
    return _("Your agency's account is closed.")


def refusal_response(agency: Agency) -> Any:
    return render_template("billing/refused.html", message=restricted_message(agency)), 403


def require_can_grow(view: F) -> F:
    """For views that add clients, care plans or staff: refused (403, with the
    reason) while the agency is restricted, cancelled or closed."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        agency = current_agency()
        if agency is not None and not can_grow(agency):
            return refusal_response(agency)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


# -- transitions -------------------------------------------------------------------


def _record(agency: Agency, action: str, actor_id: uuid.UUID | None, **details: Any) -> None:
    audit.record_platform(action, agency.slug, agency_id=agency.id, actor_id=actor_id, **details)
    with db.tenant_scope(agency.id):
        audit.record(action, agency.slug, actor_id=actor_id, **details)


def _move(agency: Agency, to: BillingState, reason: str, actor_id: uuid.UUID | None, **details: Any) -> bool:
    before = agency.billing_state
    if before == to:
        return False
    agency.billing_state = to
    _record(agency, "billing.state_changed", actor_id, before=before, after=str(to), reason=reason, **details)
    return True


def start_trial(
    agency: Agency, *, days: int | None = None, plan: Plan | None = None, actor_id: uuid.UUID | None = None
) -> None:
    days = trial_days() if days is None else days
    agency.billing_state = BillingState.TRIAL
    agency.trial_ends_at = db.utcnow() + timedelta(days=days)
    if plan is not None:
        agency.plan_id = plan.id
    _record(
        agency,
        "billing.trial_started",
        actor_id,
        days=days,
        plan=plan.name if plan else None,
        ends=agency.trial_ends_at.isoformat(),
    )


def mark_paid(
    agency: Agency, *, reason: str, period_end: datetime | None = None, actor_id: uuid.UUID | None = None
) -> bool:
    """Paid: active at once, whatever was overdue. A cancelled or closed agency
    stays so (a new subscription reinstates a cancelled one)."""
    if period_end is not None:
        agency.current_period_end = period_end
    if agency.billing_state in (BillingState.CANCELLED, BillingState.CLOSED):
        return False
    was_overdue = agency.billing_state in (BillingState.PAST_DUE, BillingState.RESTRICTED)
    agency.past_due_since = None
    moved = _move(agency, BillingState.ACTIVE, reason, actor_id)
    if moved and was_overdue:
        notify_admins(agency, "restored", marker=db.utcnow().strftime("%Y%m%d%H%M%S"))
    return moved


def mark_past_due(
    agency: Agency, *, reason: str, since: datetime | None = None, actor_id: uuid.UUID | None = None
) -> bool:
    if agency.billing_state not in (BillingState.TRIAL, BillingState.ACTIVE):
        return False
    since = since or db.utcnow()
    agency.past_due_since = since
    _move(agency, BillingState.PAST_DUE, reason, actor_id, since=since.isoformat())
    restrict_on = since + grace_period()
    notify_admins(agency, "past_due", marker=since.strftime("%Y%m%d%H%M%S"), restrict_on=restrict_on)
    return True


def restrict(agency: Agency, *, reason: str, actor_id: uuid.UUID | None = None) -> bool:
    if agency.billing_state != BillingState.PAST_DUE:
        return False
    _move(agency, BillingState.RESTRICTED, reason, actor_id)
    marker = (agency.past_due_since or db.utcnow()).strftime("%Y%m%d%H%M%S")
    notify_admins(agency, "restricted", marker=marker)
    return True


def cancel(
    agency: Agency, *, reason: str, access_until: datetime | None, actor_id: uuid.UUID | None = None
) -> bool:
    """The agency leaves: read access until `access_until` (the end of what it
    paid for), then closed by the sweep."""
    if agency.billing_state in (BillingState.CANCELLED, BillingState.CLOSED):
        if agency.billing_state == BillingState.CANCELLED and access_until is not None:
            agency.current_period_end = access_until
        return False
    agency.current_period_end = access_until or db.utcnow()
    agency.cancelled_at = db.utcnow()
    _move(
        agency, BillingState.CANCELLED, reason, actor_id, access_until=agency.current_period_end.isoformat()
    )
    notify_admins(agency, "cancelled", marker=agency.cancelled_at.strftime("%Y%m%d%H%M%S"))
    return True


def reinstate(agency: Agency, *, reason: str, actor_id: uuid.UUID | None = None) -> bool:
    """A cancellation withdrawn before the period ended."""
    if agency.billing_state != BillingState.CANCELLED:
        return False
    agency.cancelled_at = None
    return _move(agency, BillingState.ACTIVE, reason, actor_id)


def close(agency: Agency, *, reason: str, actor_id: uuid.UUID | None = None) -> bool:
    if agency.billing_state == BillingState.CLOSED:
        return False
    agency.closed_at = db.utcnow()
    if agency.cancelled_at is None:
        agency.cancelled_at = agency.closed_at
    _move(agency, BillingState.CLOSED, reason, actor_id)
    notify_admins(
        agency,
        "closed",
        marker=agency.closed_at.strftime("%Y%m%d"),
        export_until=export_until(agency),
    )
    return True


# -- the periodic sweep --------------------------------------------------------------


def due_transitions(now: datetime | None = None) -> dict[str, int]:
    """Time-based transitions, set-based and idempotent: each select finds only
    agencies still due, locked so two sweeps never move the same one."""
    now = now or db.utcnow()
    done = {"trial_ended": 0, "restricted": 0, "closed": 0, "invoice_overdue": 0}

    def due(*conditions: Any) -> list[Agency]:
        return list(
            db.session.scalars(
                select(Agency).where(*conditions).order_by(Agency.id).with_for_update(skip_locked=True)
            )
        )

    for agency in due(Agency.billing_state == BillingState.TRIAL, Agency.trial_ends_at <= now):
        done["trial_ended"] += mark_past_due(agency, reason="trial_ended", since=agency.trial_ends_at)
    for agency in due(
        Agency.billing_state == BillingState.PAST_DUE, Agency.past_due_since <= now - grace_period()
    ):
        done["restricted"] += restrict(agency, reason="grace_period_over")
    for agency in due(
        Agency.billing_state == BillingState.CANCELLED,
        (Agency.current_period_end <= now) | Agency.current_period_end.is_(None),
    ):
        done["closed"] += close(agency, reason="period_ended")
    # manual billing: an operator's invoice left unpaid after its due date
    with db.platform_reader() as reader:
        overdue = dict(
            reader.execute(
                select(Invoice.tenant_id, func.min(Invoice.due_at))
                .join(Agency, Agency.id == Invoice.tenant_id)
                .where(
                    Invoice.status == "open",
                    Invoice.source == "manual",
                    Invoice.due_at <= now,
                    Agency.billing_state.in_([BillingState.ACTIVE, BillingState.TRIAL]),
                )
                .group_by(Invoice.tenant_id)
            ).all()
        )
    if overdue:
        for agency in due(Agency.id.in_(list(overdue))):
            done["invoice_overdue"] += mark_past_due(
                agency, reason="invoice_overdue", since=overdue[agency.id]
            )
    return done


# -- telling the agency's admins -------------------------------------------------------


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for an email, from a request or from a job (built from
    BASE_URL; a pushed request context would run the request teardown, which
    ends the job's session)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def admins(agency: Agency) -> list[User]:
    with db.tenant_scope(agency.id):
        return list(
            db.session.scalars(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.role == Role.ADMIN, Membership.active.is_(True), User.is_active.is_(True))
                .order_by(User.email)
            )
        )


def notify_admins(agency: Agency, kind: str, *, marker: str, **context: Any) -> int:
    """Email every admin once per (kind, marker): a re-run sends nothing twice."""
    if not has_app_context():
        return 0
    link = external_url("billing.index", slug=agency.slug)
    sent = 0
    for user in admins(agency):
        message_id = mail.send(
            user.email,
            f"billing_{kind}",
            locale=user.locale or agency.locale,
            kind=f"billing.{kind}",
            agency_id=agency.id,
            dedupe_key=f"billing:{kind}:{agency.id}:{user.id}:{marker}",
            agency_name=agency.name,
            link=link,
            **context,
        )
        sent += message_id is not None
    return sent


def banner(agency: Agency | None, membership: Membership | None) -> dict[str, Any] | None:
    """What the admins' billing banner says on every page, if anything."""
    if agency is None or membership is None or membership.role not in MANAGE_BILLING:
        return None
    state = agency.billing_state
    if state == BillingState.CLOSED:
        return {"kind": "closed", "until": export_until(agency)}
    if state == BillingState.PAST_DUE:
        restrict_on = (agency.past_due_since or db.utcnow()) + grace_period()
        return {"kind": "past_due", "restrict_on": restrict_on}
    if state == BillingState.RESTRICTED:
        return {"kind": "restricted"}
    if state == BillingState.CANCELLED:
        return {"kind": "cancelled", "until": agency.current_period_end}
    if state == BillingState.TRIAL and agency.trial_ends_at is not None:
        days_left = (agency.trial_ends_at - db.utcnow()).days
        if days_left <= 7:
            return {"kind": "trial", "ends": agency.trial_ends_at}
    return None


# -- the gate on every agency request ---------------------------------------------------

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# what a cancelled agency's admins may still change: their subscription and exports
CANCELLED_WRITABLE = frozenset({"billing.checkout", "billing.portal", "billing.request_export"})
# all a closed agency's admins may still do besides reading: export
CLOSED_WRITABLE = frozenset({"billing.request_export"})


def gate(agency: Agency, membership: Membership) -> Any:
    """tenancy access guard: what the billing state allows this request."""
    state = agency.billing_state
    endpoint = request.endpoint or ""
    if state == BillingState.CLOSED:
        # the read-only archive: its admins read everything and export, nobody changes anything
        # its own admins only: an operator's view-as session does not open it
        may_read = (
            membership.role in EXPORT_AGENCY_DATA
            and export_window_open(agency)
            and g.get("impersonation") is None
        )
        if may_read and (request.method in SAFE_METHODS or endpoint in CLOSED_WRITABLE):
            return None
        return (
            render_template(
                "billing/closed.html", closed=agency, can_export=may_read, export_until=export_until(agency)
            ),
            403,
        )
    if (
        state == BillingState.CANCELLED
        and request.method not in SAFE_METHODS
        and membership.role in (Role.ADMIN, Role.COORDINATOR)
        and endpoint not in CANCELLED_WRITABLE
    ):
        return render_template(
            "billing/refused.html",
            message=_(
                "Your agency's subscription is cancelled: you can still read everything until "
                "%(date)s, but not change it. Resubscribe on the billing page to continue.",
                date=_format_date(agency.current_period_end),
            ),
        ), 403
    return None


def _format_date(value: datetime | None) -> str:
    from flask_babel import format_date

    return format_date(value, "long") if value else ""
