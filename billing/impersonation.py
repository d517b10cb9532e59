"""Operators viewing an agency as its admin ("view as").

Only with a written reason, for at most 30 minutes, bound to the operator's
own signed-in session, and read-only. No membership row is created: while the
session lasts, `saas.tenancy.check_agency_access` asks `membership_for()` and
gets an in-memory admin membership of that one agency. Every page visited is
written to the agency's audit log, the operator sees a banner on every page,
and the agency's admins can list every session (`billing.impersonations`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import abort, flash, g, has_request_context, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from billing.models import ImpersonationSession
from billing.services import BillingError
from saas import audit, db
from saas.lifecycle import keep
from saas.models import Agency, AuditEvent, Membership, Role, User

DURATION = timedelta(minutes=30)
SESSION_KEY = "impersonation"
MIN_REASON = 10
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _current_session_id() -> uuid.UUID | None:
    us = getattr(current_user, "current_session", None)
    return us.id if us is not None else None


def start(agency: Agency, operator: User, reason: str) -> ImpersonationSession:
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise BillingError("reason_missing", "reason")
    if not operator.is_operator:
        raise BillingError("not_operator", "reason")
    end("replaced")
    now = db.utcnow()
    with db.tenant_scope(agency.id):
        row = ImpersonationSession(
            operator_id=operator.id,
            user_session_id=_current_session_id(),
            reason=reason[:1000],
            started_at=now,
            expires_at=now + DURATION,
        )
        db.session.add(row)
        db.session.flush()
        audit.record(
            "impersonation.started",
            operator.email,
            actor_id=operator.id,
            session=str(row.id),
            reason=row.reason,
            expires_at=row.expires_at.isoformat(),
        )
    audit.record_platform(
        "impersonation.started", agency.slug, agency_id=agency.id, actor_id=operator.id, reason=row.reason
    )
    session[SESSION_KEY] = {
        "agency_id": agency.id.hex,
        "slug": agency.slug,
        "name": agency.name,
        "session_id": row.id.hex,
        "expires_at": row.expires_at.isoformat(),
    }
    return row


def end(end_reason: str = "ended") -> Agency | None:
    """Close the operator's view-as session, if any (idempotent)."""
    data = session.pop(SESSION_KEY, None)
    if not data:
        return None
    agency = db.session.get(Agency, uuid.UUID(hex=data["agency_id"]))
    if agency is None:
        return None
    with db.tenant_scope(agency.id):
        row = db.session.scalar(
            select(ImpersonationSession).where(ImpersonationSession.id == uuid.UUID(hex=data["session_id"]))
        )
        if row is not None and row.ended_at is None:
            now = db.utcnow()
            row.ended_at = min(now, row.expires_at)
            row.end_reason = end_reason if now < row.expires_at else "expired"
            audit.record("impersonation.ended", str(row.id), reason=row.end_reason, pages=row.pages)
            db.session.flush()
    audit.record_platform("impersonation.ended", agency.slug, agency_id=agency.id, reason=end_reason)
    return agency


def membership_for(agency: Agency) -> Membership | None:
    """tenancy fallback: an operator with a live view-as session of this agency
    acts as its admin; nobody else, nowhere else."""
    if not current_user.is_authenticated or not current_user.is_operator:
        return None
    data = session.get(SESSION_KEY)
    if not data or data.get("agency_id") != agency.id.hex:
        return None
    row = db.session.scalar(
        select(ImpersonationSession).where(ImpersonationSession.id == uuid.UUID(hex=data["session_id"]))
    )
    if (
        row is None
        or row.operator_id != current_user.id
        or row.user_session_id != _current_session_id()
        or row.ended_at is not None
    ):
        session.pop(SESSION_KEY, None)
        return None
    now = db.utcnow()
    if now >= row.expires_at:
        row.ended_at = row.expires_at
        row.end_reason = "expired"
        audit.record("impersonation.ended", str(row.id), reason="expired", pages=row.pages)
        session.pop(SESSION_KEY, None)
        flash(_("Your view-as session of %(name)s ended after 30 minutes.", name=agency.name), "warning")
        abort(redirect(url_for("operator.agency", agency_id=agency.id)))
    g.impersonation = row
    return Membership(tenant_id=agency.id, user_id=current_user.id, role=Role.ADMIN, active=True)


def guard(agency: Agency, membership: Membership) -> Any:
    """tenancy access guard: record every page of a view-as session; refuse changes."""
    row: ImpersonationSession | None = g.get("impersonation")
    if row is None:
        return None
    refused = request.method not in SAFE_METHODS
    audit.record(
        "impersonation.page",
        request.path,
        actor_id=current_user.id,
        session=str(row.id),
        method=request.method,
        refused=refused,
    )
    row.pages += 1
    # every page of a view-as session is on the record, a refused one too
    keep()
    if refused:
        return (
            render_template(
                "billing/refused.html",
                message=_("Viewing an agency as its admin is read-only: nothing can be changed."),
            ),
            403,
        )
    return None


def banner() -> dict[str, Any] | None:
    """What the operator's banner shows, from the signed cookie (no query)."""
    if not has_request_context() or not current_user or not current_user.is_authenticated:
        return None
    if not current_user.is_operator:
        return None
    data = session.get(SESSION_KEY)
    if not data:
        return None
    expires = datetime.fromisoformat(data["expires_at"])
    if db.utcnow() >= expires:
        return None
    return {"slug": data["slug"], "name": data["name"], "expires_at": expires}


def sessions_of_agency(limit: int = 200) -> list[tuple[ImpersonationSession, str]]:
    """For the agency's admins: every view-as session, newest first."""
    rows = db.session.execute(
        select(ImpersonationSession, User.email)
        .join(User, User.id == ImpersonationSession.operator_id)
        .order_by(ImpersonationSession.started_at.desc())
        .limit(limit)
    ).all()
    return [(r, email) for r, email in rows]


def page_views(session_ids: list[uuid.UUID]) -> dict[str, list[Any]]:
    """The pages each session visited, from the agency's audit log."""
    if not session_ids:
        return {}
    wanted = [str(s) for s in session_ids]
    events = db.session.execute(
        select(AuditEvent.details["session"].astext, AuditEvent.at, AuditEvent.subject)
        .where(AuditEvent.action == "impersonation.page", AuditEvent.details["session"].astext.in_(wanted))
        .order_by(AuditEvent.seq)
        .limit(2000)
    ).all()
    pages: dict[str, list[Any]] = {}
    for sid, at, path in events:
        pages.setdefault(sid, []).append((at, path))
    return pages


def render_sessions() -> Any:
    rows = sessions_of_agency()
    return render_template(
        "billing/impersonations.html",
        rows=rows,
        pages=page_views([r.id for r, _ in rows]),
        now=db.utcnow(),
    )
