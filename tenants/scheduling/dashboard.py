"""The visits' part of the home dashboards (`saas.dashboard`): the
coordinator's figures of today and of what needs them, the carer's next visit
and week, the client's next visit."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from saas.dashboard import Counts, DashboardWanted, Figure, Panel
from saas.models import Role
from saas.permissions import USE_PORTAL
from tenants.clients.services import portal_client_ids
from tenants.scheduling import MANAGE_VISITS, queries
from tenants.scheduling.labels import visit_status_label
from tenants.scheduling.models import VisitStatus


def coordinator_figures(wanted: DashboardWanted) -> Iterator[Counts]:
    if wanted.role in MANAGE_VISITS:
        yield Counts(queries.visit_figures(wanted.today, wanted.now), _worded)


def _worded(row: Mapping[str, Any]) -> Iterator[Figure]:
    found = queries.VisitFigures.of(row)
    board = url_for("scheduling.board")
    for order, status in enumerate(VisitStatus):
        count = found.today[status.value]
        if status in (VisitStatus.CANCELLED, VisitStatus.MISSED) and not count:
            continue  # nothing to say
        yield Figure(
            f"visits.today.{status.value}",
            "today",
            10 + order,
            visit_status_label(status.value),
            count,
            url_for("scheduling.board", day_status=status.value, _anchor="today"),
            tone="bad" if status == VisitStatus.MISSED else "",
        )
    yield Figure(
        "visits.unassigned",
        "attention",
        10,
        _("Without a carer in the next 7 days"),
        found.unassigned,
        f"{board}#unassigned",
        tone="warn" if found.unassigned else "ok",
    )
    yield Figure(
        "visits.late",
        "attention",
        20,
        _("Late now"),
        found.late,
        f"{board}#flagged",
        tone="warn" if found.late else "ok",
    )
    yield Figure(
        "visits.missed",
        "attention",
        21,
        _("Missed, not dealt with"),
        found.missed,
        f"{board}#flagged",
        tone="bad" if found.missed else "ok",
    )
    yield Figure(
        "visits.attention",
        "attention",
        30,
        _("Service records needing attention"),
        found.attention,
        f"{board}#attention",
        tone="warn" if found.attention else "ok",
    )
    if found.requests:
        yield Figure(
            "visits.cancel_requests",
            "attention",
            35,
            _("Cancellation requests from clients"),
            found.requests,
            f"{board}#requests",
            tone="warn",
        )


def map_url(address: str | None) -> str | None:
    """A link that opens the address in a map (a phone offers its map app)."""
    if not address:
        return None
    return "https://www.openstreetmap.org/search?query=" + quote(address)


def carer_panels(wanted: DashboardWanted) -> Iterator[Panel]:
    """The carer's next visit as a card (time, client, address with a map
    link, the tasks, check-in or check-out), then the rest of today and of
    the week: one statement and the logged read of the clients shown."""
    if wanted.role != Role.CARER:
        return
    from tenants.scheduling.views.carer import schedule_days

    rows = queries.member_schedule(
        wanted.agency,
        wanted.membership.id,
        wanted.today,
        wanted.today + timedelta(days=7),
        section="schedule",
        reader=wanted.user_id,
    )
    rows = rows or []
    upcoming = [
        r
        for r in rows
        if r.status in (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS, VisitStatus.MISSED)
        and r.checked_out_at is None
        and (r.status == VisitStatus.IN_PROGRESS or r.ends_at >= wanted.now)
    ]
    following = upcoming[0] if upcoming else None
    later = [r for r in rows if following is None or r.id != following.id]
    days = schedule_days(later)
    today_cards = next((cards for day, cards in days if day == wanted.today), [])
    week = [(day, cards) for day, cards in days if day != wanted.today]
    yield Panel(
        "visits.next",
        10,
        "scheduling/_home_carer.html",
        {
            "next": following,
            "next_label": visit_status_label(following.status) if following else "",
            "map_url": map_url(following.address) if following else None,
            "today_cards": today_cards,
            "week": week,
            "week_count": ngettext("%(num)d visit", "%(num)d visits", sum(len(c) for _d, c in week)),
            "has_file": rows is not None,
        },
    )


def client_panels(wanted: DashboardWanted) -> Iterator[Panel]:
    """The client's next visit (the rating of the last one is the feedback area's)."""
    if wanted.role not in USE_PORTAL:
        return
    client_ids = portal_client_ids(wanted.membership)
    upcoming = queries.upcoming_portal_visits(client_ids, wanted.now, limit=1) if client_ids else []
    yield Panel(
        "visits.portal_next",
        10,
        "scheduling/_home_client.html",
        {"next": upcoming[0] if upcoming else None, "zone": wanted.agency.zone},
    )
