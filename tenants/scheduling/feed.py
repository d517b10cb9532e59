"""The carer's private iCalendar feed: no sign-in, the URL's secret is the key."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from flask import Blueprint, Response, abort

from saas import db
from saas.auth import tokens
from saas.models import Agency
from tenants.scheduling import queries, services

bp = Blueprint("calendar_feed", __name__)


@bp.route("/calendar/<token>.ics")
def ics(token: str) -> Any:
    parsed = tokens.split(token, 1)
    if parsed is None:
        abort(404)
    (agency_id,), secret = parsed
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.is_suspended or agency.is_closed:
        abort(404)
    db.set_tenant(agency.id)
    feed = queries.live_feed(tokens.digest(secret))
    if feed is None:
        abort(404)
    today = services.local_now(agency).date()
    # whoever holds the feed's address reads the clients' addresses: logged as its owner's reads
    rows = queries.staff_schedule(
        agency,
        feed.staff_file_id,
        today - timedelta(days=7),
        today + timedelta(days=60),
        section="calendar_feed",
        reader=queries.feed_reader(feed.staff_file_id),
    )
    return Response(
        render_ics(agency, rows), mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"}
    )


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def render_ics(agency: Agency, rows: list[queries.ScheduleRow]) -> str:
    """RFC 5545. Times in UTC; the summary carries the client's first name and
    the service, never health data."""
    stamp = db.utcnow().strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//CareHub//Visits//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_ics_text(agency.name)}",
    ]
    for row in rows:
        first = (row.client or "").split(" ")[0]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{row.id}@carehub",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{row.starts_at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}",
            f"DTEND:{row.ends_at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}",
            f"SUMMARY:{_ics_text(first + ' · ' + row.service)}",
            f"LOCATION:{_ics_text(row.address or '')}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"
