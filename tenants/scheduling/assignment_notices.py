"""Telling carers their schedule changed hands: a visit given to them, or
taken off them, from the visit sheet or the rota board (one notice per carer
and change, however many visits it moved), in the app and by email, in the
change's own transaction (`send_now`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from saas import db
from saas.models import Agency
from saas.notifications.kinds import Kind, register
from saas.notifications.reminders import Due, send_now
from tenants.scheduling.models import Visit
from tenants.scheduling.services.timing import tz_of
from tenants.staffing.models import StaffFile

# at most this many visit times are listed in one notice; the count says the rest
LISTED = 8

VISITS_GIVEN = register(
    Kind(
        "visit.given",
        _l("Visits given to you"),
        title=lambda p: ngettext(
            "%(num)d visit added to your schedule", "%(num)d visits added to your schedule", int(p["count"])
        ),
        body=lambda p: _("On your schedule now: %(times)s.", times=p["times"]),
    )
)
VISITS_TAKEN_OFF = register(
    Kind(
        "visit.taken_off",
        _l("Visits taken off your schedule"),
        title=lambda p: ngettext(
            "%(num)d visit taken off your schedule",
            "%(num)d visits taken off your schedule",
            int(p["count"]),
        ),
        body=lambda p: _("No longer yours: %(times)s.", times=p["times"]),
    )
)


def _times(agency: Agency, visits: list[Visit]) -> str:
    tz = tz_of(agency)
    ordered = sorted(visits, key=lambda v: v.starts_at)
    listed = [v.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") for v in ordered[:LISTED]]
    if len(ordered) > LISTED:
        listed.append("…")
    return ", ".join(listed)


def tell_carers(
    agency: Agency,
    given: dict[uuid.UUID, list[Visit]],
    taken_off: dict[uuid.UUID, list[Visit]],
) -> None:
    """One notice per carer: the visits given to them, the visits taken off
    them (a carer both given and relieved of visits gets both). Each change is
    its own occurrence, so a visit moved back and forth is told each time."""
    given = {s: v for s, v in given.items() if v}
    taken_off = {s: v for s, v in taken_off.items() if v}
    if not given and not taken_off:
        return
    members = _memberships(set(given) | set(taken_off))
    change = db.new_id()
    now = db.utcnow()
    dues = []
    for kind, wanted in ((VISITS_GIVEN, given), (VISITS_TAKEN_OFF, taken_off)):
        for staff_id, visits in wanted.items():
            member = members.get(staff_id)
            if member is None:
                continue
            dues.append(
                Due(
                    kind=kind.name,
                    subject=f"{staff_id}:{change}",
                    due_at=now,
                    membership_ids=(member,),
                    params={"count": str(len(visits)), "times": _times(agency, visits)},
                    link=f"/a/{agency.slug}/my/schedule",
                )
            )
    send_now(dues)


def _memberships(staff_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    ids = list(staff_ids)
    return dict(
        db.session.execute(select(StaffFile.id, StaffFile.membership_id).where(StaffFile.id.in_(ids))).all()
    )
