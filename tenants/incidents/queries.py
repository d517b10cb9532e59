"""What the incidents pages, the API, the client's file and the quality
summary read: a fixed number of statements per page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    cast,
    column,
    extract,
    func,
    literal,
    null,
    select,
    values,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from saas import db
from saas.links import UrlPattern
from saas.models import Membership, Role, User
from saas.settings import agency_setting
from tenants.clients.models import Client
from tenants.clients.signals import TimelineEntry, TimelineLine, TimelineWanted
from tenants.incidents import MANAGE_INCIDENTS
from tenants.incidents.labels import severity_label, status_label, type_label
from tenants.incidents.models import (
    Incident,
    IncidentAction,
    IncidentStaff,
    IncidentStatus,
    IncidentType,
    Severity,
)
from tenants.incidents.services import visible_to, visible_to_user
from tenants.quality.signals import MonthBounds
from tenants.scheduling.models import Visit
from tenants.staffing.models import StaffFile

LIST_ROWS = 200


def _name_of(member: Any) -> Any:
    """The name of a membership (aliased), as a scalar subquery."""
    return (
        select(User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == Incident.tenant_id, Membership.id == member)
        .scalar_subquery()
    )


def incident_list(membership: Membership, *, open_only: bool = False) -> list[Any]:
    """The incidents the member sees, newest first: (incident, client, reporter)."""
    stmt = (
        select(
            Incident,
            Client.full_name.label("client"),
            _name_of(Incident.reporter_membership_id).label("reporter"),
        )
        .outerjoin(Client, and_(Client.tenant_id == Incident.tenant_id, Client.id == Incident.client_id))
        .where(visible_to(membership))
        .order_by(Incident.reported_at.desc(), Incident.id.desc())
        .limit(LIST_ROWS)
    )
    if open_only:
        stmt = stmt.where(Incident.status != IncidentStatus.CLOSED)
    return list(db.session.execute(stmt).all())


def api_incidents(
    membership: Membership,
    *,
    status: str | None = None,
    open_only: bool = False,
    client_id: uuid.UUID | None = None,
    kind: str | None = None,
    severity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[Any]:
    """The API's list: the incidents the member sees, filtered (saas.api.paging
    adds the cursor, the order and the limit)."""
    stmt = select(Incident).where(visible_to(membership))
    if status:
        stmt = stmt.where(Incident.status == status)
    if open_only:
        stmt = stmt.where(Incident.status != IncidentStatus.CLOSED)
    if client_id is not None:
        stmt = stmt.where(Incident.client_id == client_id)
    if kind:
        stmt = stmt.where(Incident.type == kind)
    if severity:
        stmt = stmt.where(Incident.severity == severity)
    if since is not None:
        stmt = stmt.where(Incident.reported_at >= since)
    if until is not None:
        stmt = stmt.where(Incident.reported_at < until)
    return stmt


def visible_incident(incident_id: uuid.UUID, membership: Membership | None) -> Incident | None:
    """The incident if the member may see it (another agency's: None too)."""
    if membership is None:
        return None
    return db.session.scalar(select(Incident).where(Incident.id == incident_id, visible_to(membership)))


@dataclass
class IncidentPage:
    incident: Incident
    names: dict[str, str | None]
    client: str | None
    visit_start: datetime | None
    staff: str | None
    actions: list[Any] = field(default_factory=list)  # (action, owner name)


def incident_page(incident: Incident) -> IncidentPage:
    """The names around one incident (one statement) and its actions with
    their owners (one statement)."""
    staff_names = (
        select(func.string_agg(User.name, aggregate_order_by(literal(", "), User.name)))
        .join(Membership, Membership.user_id == User.id)
        .join(
            StaffFile,
            and_(StaffFile.tenant_id == Membership.tenant_id, StaffFile.membership_id == Membership.id),
        )
        .join(
            IncidentStaff,
            and_(IncidentStaff.tenant_id == StaffFile.tenant_id, IncidentStaff.staff_file_id == StaffFile.id),
        )
        .where(IncidentStaff.tenant_id == Incident.tenant_id, IncidentStaff.incident_id == Incident.id)
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            _name_of(Incident.reporter_membership_id).label("reporter"),
            _name_of(Incident.responded_by_membership_id).label("responder"),
            _name_of(Incident.investigator_membership_id).label("investigator"),
            _name_of(Incident.acknowledged_by_membership_id).label("acknowledger"),
            _name_of(Incident.closed_by_membership_id).label("closer"),
            select(Client.full_name)
            .where(Client.tenant_id == Incident.tenant_id, Client.id == Incident.client_id)
            .scalar_subquery()
            .label("client"),
            select(Visit.starts_at)
            .where(Visit.tenant_id == Incident.tenant_id, Visit.id == Incident.visit_id)
            .scalar_subquery()
            .label("visit_start"),
            staff_names.label("staff"),
        ).where(Incident.id == incident.id)
    ).one()
    owner = aliased(Membership)
    actions = db.session.execute(
        select(IncidentAction, User.name)
        .join(
            owner,
            and_(owner.tenant_id == IncidentAction.tenant_id, owner.id == IncidentAction.owner_membership_id),
        )
        .join(User, User.id == owner.user_id)
        .where(IncidentAction.incident_id == incident.id)
        .order_by(IncidentAction.created_at, IncidentAction.id)
    ).all()
    names = {k: getattr(row, k) for k in ("reporter", "responder", "investigator", "acknowledger", "closer")}
    return IncidentPage(incident, names, row.client, row.visit_start, row.staff, list(actions))


def action_of(incident: Incident, action_id: uuid.UUID) -> IncidentAction | None:
    return db.session.scalar(
        select(IncidentAction).where(
            IncidentAction.id == action_id, IncidentAction.incident_id == incident.id
        )
    )


# -- the forms' choices ------------------------------------------------------------------------


def investigator_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Membership.id, User.name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True), Membership.role.in_(MANAGE_INCIDENTS.roles))
        .order_by(User.name)
        .limit(2000)
    ).all()
    return [(str(i), n) for i, n in rows]


def owner_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Membership.id, User.name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True), Membership.role != Role.CLIENT)
        .order_by(User.name)
        .limit(2000)
    ).all()
    return [(str(i), n) for i, n in rows]


def client_choices() -> list[tuple[str, str]]:
    # archived clients are kept apart (tenants/records): no new reports about them
    rows = db.session.execute(
        select(Client.id, Client.full_name)
        .where(Client.archived_at.is_(None))
        .order_by(Client.full_name)
        .limit(2000)
    ).all()
    return [(str(i), n) for i, n in rows]


def staff_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(StaffFile.id, User.name)
        .join(
            Membership,
            and_(Membership.tenant_id == StaffFile.tenant_id, Membership.id == StaffFile.membership_id),
        )
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True))
        .order_by(User.name)
        .limit(2000)
    ).all()
    return [(str(i), n) for i, n in rows]


def visit_prefill(visit_id: uuid.UUID) -> Any:
    """The visit a report starts from: its client and start, or None."""
    return db.session.execute(
        select(
            Visit.id, Visit.client_id, Visit.starts_at, Visit.staff_file_id, Client.full_name.label("client")
        )
        .join(Client, and_(Client.tenant_id == Visit.tenant_id, Client.id == Visit.client_id))
        .where(Visit.id == visit_id)
    ).first()


# -- the client's file --------------------------------------------------------------------------


def client_file_incidents(wanted: TimelineWanted) -> Any:
    """A page of the client's incidents, newest first by when they happened;
    an abuse or neglect report only for an admin or a person named on it."""
    return (
        select(
            Incident.occurred_at.label("at"),
            cast(func.timezone(wanted.timezone, Incident.occurred_at), Date).label("on"),
            Incident.id.label("ref"),
            Incident.id.label("link"),
            literal("incident", String).label("kind"),
            Incident.type.label("label"),
            null().cast(Integer).label("number"),
            (Incident.severity + literal(":", String) + Incident.status).label("detail"),
        )
        .where(
            Incident.client_id == wanted.client_id,
            visible_to_user(wanted.user_id),
            *wanted.older(Incident.occurred_at, Incident.id),
        )
        .order_by(Incident.occurred_at.desc(), Incident.id.desc())
        .limit(wanted.limit)
    )


def incident_entries(lines: Sequence[TimelineLine]) -> list[TimelineEntry]:
    url = UrlPattern("incidents.show", "incident_id")
    out = []
    for line in lines:
        severity, _sep, status = (line.detail or "").partition(":")
        out.append(
            TimelineEntry(
                line.on,
                "incident",
                _(
                    "Incident: %(type)s (%(severity)s)",
                    type=type_label(line.label or ""),
                    severity=severity_label(severity),
                ),
                status_label(status),
                url(line.link),
            )
        )
    return out


# -- the monthly quality summary ----------------------------------------------------------------


def month_figures(connection: Any, bounds: Sequence[MonthBounds]) -> dict[uuid.UUID, dict[str, Any]]:
    """Each agency's incidents reported in its month: counts by type and by
    severity, and the mean time from report to first response (responses
    recorded by the build), with the agency's target then; one SELECT across
    the agencies, on the connection the summary is built with."""
    if not bounds:
        return {}
    months = values(
        column("agency_id", Uuid),
        column("lo", DateTime(timezone=True)),
        column("hi", DateTime(timezone=True)),
        column("as_of", DateTime(timezone=True)),
        name="months",
    ).data([(b.agency.id, b.lo, b.hi, b.as_of) for b in bounds])
    answered = and_(Incident.responded_at.isnot(None), Incident.responded_at <= months.c.as_of)
    rows = connection.execute(
        select(
            Incident.tenant_id,
            Incident.type,
            Incident.severity,
            func.count(),
            func.count().filter(answered),
            func.coalesce(
                func.sum(extract("epoch", Incident.responded_at - Incident.reported_at)).filter(answered), 0
            ),
        )
        .join(
            months,
            and_(
                Incident.tenant_id == months.c.agency_id,
                Incident.reported_at >= months.c.lo,
                Incident.reported_at < months.c.hi,
            ),
        )
        .group_by(Incident.tenant_id, Incident.type, Incident.severity)
    ).all()
    found: dict[uuid.UUID, dict[str, Any]] = {}
    totals: dict[uuid.UUID, list[float]] = {}
    for b in bounds:
        found[b.agency.id] = {
            "reported": 0,
            "by_type": {t.value: 0 for t in IncidentType},
            "by_severity": {s.value: 0 for s in Severity},
            "responded": 0,
            "mean_response_minutes": None,
            "target_minutes": int(agency_setting(b.agency, "incident_response_target_minutes")),
        }
        totals[b.agency.id] = [0.0]
    for agency_id, kind, severity, count, responded, seconds in rows:
        figures = found[agency_id]
        figures["reported"] += count
        figures["by_type"][kind] = figures["by_type"].get(kind, 0) + count
        figures["by_severity"][severity] = figures["by_severity"].get(severity, 0) + count
        figures["responded"] += responded
        totals[agency_id][0] += float(seconds)
    for agency_id, figures in found.items():
        if figures["responded"]:
            figures["mean_response_minutes"] = round(totals[agency_id][0] / figures["responded"] / 60, 1)
    return found
