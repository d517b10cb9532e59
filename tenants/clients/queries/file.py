"""Read models of the clients area. The client's file is one statement, which
also writes the read to the access log (a data-modifying CTE): the client's
facts, contacts, portal members and cases, and one page of the one-matter
file, newest first, merged from the clients area's own lines and each other
area's part (`signals.client_timeline`), every part bounded by the page, so the
file costs the same for a client with three visits or three thousand.

tests/core/test_performance.py counts its round trips and reads its plan.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    Select,
    String,
    Uuid,
    bindparam,
    cast,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from saas import db
from saas.lifecycle import note_write
from saas.links import UrlPattern
from saas.models import Agency, Membership, User
from saas.pagination import Keyset
from tenants.clients import labels
from tenants.clients.models import (
    Case,
    Client,
    ClientFileAccess,
    EmergencyContact,
    FollowUp,
    NeedsAssessment,
    PortalLink,
    RiskAssessment,
    ServicePlan,
)
from tenants.clients.signals import (
    TimelineEntry,
    TimelineLine,
    TimelineWanted,
    client_timeline,
    timeline_parts,
)

TIMELINE_PAGE = 50
# more than any client has; a file lists the latest ones
CONTACTS_SHOWN = 50
PORTAL_SHOWN = 50
CASES_SHOWN = 100
# the file shows a line's detail cut to 200 characters (a leeway of 5): read
# one more than that, so that the cut falls where it would on the whole text
DETAIL_READ = 206
# a case closed on the day it was opened: its closure comes just after
AFTER_OPENING = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class ClientFile:
    client: Any  # the shown columns of the client, by name
    contacts: list[dict[str, Any]]
    portal: list[dict[str, Any]]
    cases: list[dict[str, Any]]  # oldest first: id, number, status, opened_on
    timeline: list[TimelineEntry]
    older: str | None  # the Keyset token of the next, older page, if any


# -- the clients area's own lines ------------------------------------------------------------


def _day_start(day: Any, timezone: Any) -> Any:
    # a line with only a day is placed at the start of that day, in the agency's zone
    return func.timezone(timezone, cast(day, DateTime))


def _part(
    wanted: TimelineWanted,
    *,
    at: Any,
    on: Any,
    ref: Any,
    link: Any,
    kind: str,
    label: Any,
    number: Any = None,
    detail: Any = None,
    where: tuple[Any, ...] = (),
    join: Any = None,
) -> Select[Any]:
    stmt = select(
        at.label("at"),
        on.label("on"),
        ref.label("ref"),
        link.label("link"),
        literal(kind, String).label("kind"),
        label.label("label"),
        (number if number is not None else null().cast(Integer)).label("number"),
        (detail if detail is not None else null().cast(String)).label("detail"),
    )
    if join is not None:
        stmt = stmt.select_from(join)
    return stmt.where(*where, *wanted.older(at, ref)).order_by(at.desc(), ref.desc()).limit(wanted.limit)


def own_lines(wanted: TimelineWanted) -> list[Select[Any]]:
    """Cases opened and closed, needs and risk assessments, plan versions and
    follow-ups done: each bounded by the client's cases (ix_cases_client, then
    each table's index by case)."""
    tz = wanted.timezone
    of_client = Case.client_id == wanted.client_id
    opened = _day_start(Case.opened_on, tz)
    closed = _day_start(Case.closed_on, tz) + AFTER_OPENING
    plan_day = cast(func.timezone(tz, ServicePlan.created_at), Date)
    hazards = func.array_to_string(
        func.array(
            select(func.jsonb_array_elements(RiskAssessment.hazards).op("->>")("hazard"))
            .limit(3)
            .scalar_subquery()
        ),
        ", ",
    )
    return [
        _part(
            wanted,
            at=opened,
            on=Case.opened_on,
            ref=Case.id,
            link=Case.id,
            kind="case_opened",
            label=Case.number,
            where=(of_client,),
        ),
        _part(
            wanted,
            at=closed,
            on=Case.closed_on,
            ref=Case.id,
            link=Case.id,
            kind="case_closed",
            label=Case.number,
            detail=Case.closure_reason,
            where=(of_client, Case.closed_on.is_not(None)),
        ),
        _part(
            wanted,
            at=_day_start(NeedsAssessment.assessed_on, tz),
            on=NeedsAssessment.assessed_on,
            ref=NeedsAssessment.id,
            link=Case.id,
            kind="assessment",
            label=Case.number,
            detail=NeedsAssessment.summary,
            where=(of_client,),
            join=NeedsAssessment.__table__.join(Case.__table__, _same_case(NeedsAssessment)),
        ),
        _part(
            wanted,
            at=_day_start(RiskAssessment.assessed_on, tz),
            on=RiskAssessment.assessed_on,
            ref=RiskAssessment.id,
            link=Case.id,
            kind="risk",
            label=Case.number,
            detail=hazards,
            where=(of_client,),
            join=RiskAssessment.__table__.join(Case.__table__, _same_case(RiskAssessment)),
        ),
        _part(
            wanted,
            at=ServicePlan.created_at,
            on=plan_day,
            ref=ServicePlan.id,
            link=ServicePlan.id,
            kind="plan",
            label=Case.number,
            number=ServicePlan.version,
            detail=ServicePlan.status,
            where=(of_client,),
            join=ServicePlan.__table__.join(Case.__table__, _same_case(ServicePlan)),
        ),
        _part(
            wanted,
            at=_day_start(FollowUp.done_on, tz),
            on=FollowUp.done_on,
            ref=FollowUp.id,
            link=FollowUp.id,
            kind="follow_up",
            label=FollowUp.label,
            detail=FollowUp.outcome,
            where=(of_client, FollowUp.done_on.is_not(None)),
            join=FollowUp.__table__.join(Case.__table__, _same_case(FollowUp)),
        ),
    ]


def _same_case(model: Any) -> Any:
    return (Case.tenant_id == model.tenant_id) & (Case.id == model.case_id)


def own_entries(lines: list[TimelineLine]) -> list[TimelineEntry]:
    """The words of the clients area's lines, with the links made once per page."""
    case_url = UrlPattern("clients.case", "case_id")
    plan_url = UrlPattern("clients.plan", "plan_id")
    follow_up_url = UrlPattern("clients.follow_up", "follow_up_id")
    plan_status = {}
    out = []
    for line in lines:
        n = line.label or ""
        if line.kind == "case_opened":
            entry = TimelineEntry(line.on, "case", _("Case %(n)s opened", n=n), link=case_url(line.link))
        elif line.kind == "case_closed":
            entry = TimelineEntry(
                line.on, "case", _("Case %(n)s closed", n=n), line.detail or "", case_url(line.link)
            )
        elif line.kind == "assessment":
            entry = TimelineEntry(
                line.on,
                "assessment",
                _("Needs assessment (%(n)s)", n=n),
                line.detail or "",
                case_url(line.link),
            )
        elif line.kind == "risk":
            entry = TimelineEntry(
                line.on, "risk", _("Risk assessment (%(n)s)", n=n), line.detail or "", case_url(line.link)
            )
        elif line.kind == "plan":
            status = line.detail or ""
            if status not in plan_status:
                plan_status[status] = labels.plan_status_label(status)
            entry = TimelineEntry(
                line.on,
                "plan",
                _("Service plan v%(v)d (%(n)s)", v=line.number or 0, n=n),
                plan_status[status],
                plan_url(line.link),
            )
        else:
            entry = TimelineEntry(
                line.on,
                "follow_up",
                _("Follow-up %(label)s done", label=n),
                line.detail or "",
                follow_up_url(line.link),
            )
        out.append(entry)
    return out


# -- the file --------------------------------------------------------------------------------


def _json_rows(stmt: Select[Any], order: Callable[[Any], tuple[Any, ...]]) -> Any:
    """A JSON array of the statement's rows (an empty one when none), in `order`."""
    rows = stmt.subquery()
    return select(
        func.coalesce(
            func.json_agg(aggregate_order_by(rows.table_valued(), *order(rows))), literal_column("'[]'::json")
        )
    ).scalar_subquery()


def file_statement(parts: list[Select[Any]], limit: int) -> Select[Any]:
    """One statement for the whole page: the read written to the access log
    (only when the client is the agency's: otherwise no row, and nothing
    written), the client's facts, and JSON arrays of its contacts, portal
    members, cases and one page of its file merged from `parts`. Its values
    are bound parameters (`client_id`, `tenant_id`, `access_id`, `user_id`,
    `now` and the parts'), so it is built once per shape of page."""
    client_id = bindparam("client_id", type_=Uuid)
    log = ClientFileAccess.__table__
    logged = (
        insert(log)
        .from_select(
            ["tenant_id", "id", "client_id", "user_id", "at", "section"],
            select(
                bindparam("tenant_id", type_=Uuid),
                bindparam("access_id", type_=Uuid),
                Client.id,
                bindparam("user_id", type_=Uuid),
                bindparam("now", type_=DateTime(timezone=True)),
                literal("file", String),
            ).where(Client.id == client_id),
        )
        .returning(log.c.client_id)
        .cte("logged")
    )
    contacts = _json_rows(
        select(
            EmergencyContact.id, EmergencyContact.name, EmergencyContact.relationship, EmergencyContact.phone
        )
        .where(EmergencyContact.client_id == client_id)
        .order_by(EmergencyContact.id)
        .limit(CONTACTS_SHOWN),
        lambda r: (r.c.id,),
    )
    portal = _json_rows(
        select(PortalLink.id, PortalLink.relationship, User.name, User.email)
        .join(
            Membership,
            (Membership.tenant_id == PortalLink.tenant_id) & (Membership.id == PortalLink.membership_id),
        )
        .join(User, User.id == Membership.user_id)
        .where(PortalLink.client_id == client_id)
        .order_by(PortalLink.id)
        .limit(PORTAL_SHOWN),
        lambda r: (r.c.id,),
    )
    cases = _json_rows(
        select(Case.id, Case.number, Case.status, Case.opened_on)
        .where(Case.client_id == client_id)
        .order_by(Case.opened_on.desc(), Case.id.desc())
        .limit(CASES_SHOWN),
        lambda r: (r.c.opened_on, r.c.id),
    )
    numbered = [select(literal(i, Integer).label("part"), *p.subquery().c) for i, p in enumerate(parts)]
    merged = union_all(*numbered).subquery("lines")
    page = (
        select(
            merged.c.part,
            merged.c.at,
            merged.c.on,
            merged.c.ref,
            merged.c.link,
            merged.c.kind,
            merged.c.label,
            merged.c.number,
            func.left(merged.c.detail, DETAIL_READ).label("detail"),
        )
        .order_by(merged.c.at.desc(), merged.c.ref.desc())
        .limit(limit)
    )
    timeline = _json_rows(page, lambda r: (r.c.at.desc(), r.c.ref.desc()))
    return (
        select(
            Client.id,
            Client.full_name,
            Client.preferred_name,
            Client.date_of_birth,
            Client.phone,
            Client.address,
            Client.area,
            Client.languages,
            Client.family_status,
            Client.economic_status,
            Client.health_status,
            Client.psychological_state,
            Client.consent_services,
            Client.consent_data,
            Client.archived_at,
            Client.anonymised_at,
            contacts.label("contacts"),
            portal.label("portal"),
            cases.label("cases"),
            timeline.label("timeline"),
        )
        .select_from(logged)
        .join(Client, Client.id == logged.c.client_id)
    )


def _line(raw: dict[str, Any]) -> TimelineLine:
    return TimelineLine(
        at=datetime.fromisoformat(raw["at"]),
        on=date.fromisoformat(raw["on"]),
        ref=uuid.UUID(raw["ref"]),
        link=uuid.UUID(raw["link"]) if raw["link"] else None,
        kind=raw["kind"],
        label=raw["label"],
        number=raw["number"],
        detail=raw["detail"],
    )


# Built once per shape of page (first or later, its length) and set of parts:
# building the statement costs several times what running it does.
_FILE_STATEMENTS: dict[tuple[Any, ...], tuple[Select[Any], list[Any]]] = {}


def _file_statement(paged: bool, limit: int) -> tuple[Select[Any], list[Any]]:
    key = (paged, limit, tuple(client_timeline.receivers))
    found = _FILE_STATEMENTS.get(key)
    if found is None:
        wanted = TimelineWanted(paged, limit)
        parts: list[Select[Any]] = []
        renderers: list[Any] = []
        for select_ in own_lines(wanted):
            parts.append(select_)
            renderers.append(own_entries)
        for part in timeline_parts(wanted):
            parts.append(part.rows)
            renderers.append(part.render)
        if len(_FILE_STATEMENTS) > 16:  # receivers connected and gone (tests): keep it small
            _FILE_STATEMENTS.clear()
        found = _FILE_STATEMENTS[key] = (file_statement(parts, limit), renderers)
    return found


def client_file(
    agency: Agency, client_id: uuid.UUID, user_id: uuid.UUID | None, before: Keyset | None
) -> ClientFile | None:
    """The client's file with the page of its one-matter file older than
    `before` (the newest page when None), the read logged; None when the
    agency has no such client."""
    statement, renderers = _file_statement(before is not None, TIMELINE_PAGE + 1)
    now = db.utcnow()
    values = {
        **TimelineWanted.values(client_id, agency.timezone, now, before),
        "tenant_id": agency.id,
        "access_id": db.new_id(),
        "user_id": user_id,
    }
    row = db.session.execute(statement, values).first()
    if row is None:
        return None
    note_write()  # the read was logged: the request commits it
    lines = [(raw["part"], _line(raw)) for raw in row.timeline]
    shown = lines[:TIMELINE_PAGE]
    # each part words its own lines, once per page; the file keeps their order
    by_renderer: dict[Any, list[int]] = defaultdict(list)
    for position, (part, _shown_line) in enumerate(shown):
        by_renderer[renderers[part]].append(position)
    entries: list[TimelineEntry | None] = [None] * len(shown)
    for render, positions in by_renderer.items():
        for position, entry in zip(positions, render([shown[p][1] for p in positions]), strict=True):
            entries[position] = entry
    older = None
    if len(lines) > TIMELINE_PAGE:
        last = shown[-1][1]
        older = Keyset(last.at, last.ref).token()
    cases = [
        {**c, "id": uuid.UUID(c["id"]), "opened_on": date.fromisoformat(c["opened_on"])} for c in row.cases
    ]
    return ClientFile(
        client=row,
        contacts=row.contacts,
        portal=row.portal,
        cases=cases,
        timeline=[e for e in entries if e is not None],
        older=older,
    )
