"""The carer: the week's schedule, check-in and check-out with the service
record, the private calendar feed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2.filters import do_truncate

from saas import db
from saas.lifecycle import refuse
from saas.links import UrlPattern
from saas.permissions import require
from saas.tenancy import current_agency, current_membership, get_or_404
from tenants.clients.models import Client
from tenants.scheduling import RECORD_VISITS, VIEW_OWN_SCHEDULE, queries, services
from tenants.scheduling.forms import CheckInForm, CheckOutForm
from tenants.scheduling.labels import visit_status_label
from tenants.scheduling.models import Visit, VisitStatus
from tenants.scheduling.services import VisitError
from tenants.scheduling.views.blueprint import bp, my_staff_id, visit_for_user


@bp.route("/my/schedule")
@require(VIEW_OWN_SCHEDULE)
def my_schedule() -> Any:
    agency = current_agency()
    today = services.local_now(agency).date()
    rows = queries.member_schedule(
        agency,
        current_membership().id,
        today,
        today + timedelta(days=7),
        section="schedule",
        reader=current_user.id,
    )
    return render_template(
        "scheduling/my_schedule.html",
        days=schedule_days(rows or [], today),
        today=today,
        has_file=rows is not None,
    )


@dataclass(slots=True)
class VisitCard:
    """A visit as the schedule page shows it."""

    id: uuid.UUID
    status: str
    label: str
    url: str
    time: str
    client: str
    service: str
    address: str | None
    notes: str | None
    # the pages the phone keeps for use without signal (the sheet; for a visit
    # still to do, its check-out and incident report too)
    offline_urls: str = ""


def schedule_days(
    rows: list[queries.ScheduleRow], today: date | None = None
) -> list[tuple[date, list[VisitCard]]]:
    """The schedule's cards by local day, made once per page: one URL pattern
    for the links, the labels translated once, the times and the last notes
    written here rather than by a template call per visit."""
    visit_url = UrlPattern("scheduling.visit", "visit_id")
    checkout_url = UrlPattern("scheduling.check_out", "visit_id")
    incident_url = url_for("incidents.new") + "?visit_id="
    open_statuses = {VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS, VisitStatus.MISSED}
    labels = {s.value: visit_status_label(s) for s in VisitStatus}
    env = current_app.jinja_env
    days: list[tuple[date, list[VisitCard]]] = []
    for row in rows:
        day = row.starts.date()
        if not days or days[-1][0] != day:
            days.append((day, []))
        days[-1][1].append(
            VisitCard(
                id=row.id,
                status=row.status,
                label=labels[row.status],
                url=visit_url(row.id),
                time=f"{_clock(row.starts)}–{_clock(row.ends)}",
                client=row.client,
                service=row.service,
                address=row.address,
                notes=do_truncate(env, row.last_notes, 140) if row.last_notes else None,
                # today's open visits with their forms; the week's sheets to read
                offline_urls=f"{visit_url(row.id)} {checkout_url(row.id)} {incident_url}{row.id}"
                if row.status in open_statuses and (day == today or row.status != VisitStatus.SCHEDULED)
                else visit_url(row.id),
            )
        )
    return days


def _clock(moment: datetime) -> str:
    """HH:MM, as strftime("%H:%M") writes it, for a fraction of its cost."""
    return "%02d:%02d" % (moment.hour, moment.minute)  # noqa: UP031 - the fastest way


@bp.route("/visits/<uuid:visit_id>/check-in", methods=["POST"])
@require(RECORD_VISITS)
def check_in(visit_id: uuid.UUID) -> Any:
    visit = get_or_404(Visit, visit_id)
    form = CheckInForm()
    form.validate_on_submit()
    try:
        warnings = services.check_in(
            current_agency(),
            visit,
            staff_id=my_staff_id(),
            latitude=form.latitude.data,
            longitude=form.longitude.data,
            presence_code=form.presence_code.data or None,
        )
    except VisitError as exc:
        if exc.code == "not_yours":
            abort(404)
        refuse(None, exc)
    else:
        flash(_("Checked in."), "success")
        for warning in warnings:
            flash(_("Warning: %(reason)s Tell your coordinator.", reason=warning), "warning")
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/visits/<uuid:visit_id>/check-out", methods=["GET", "POST"])
@require(RECORD_VISITS)
def check_out(visit_id: uuid.UUID) -> Any:
    visit = visit_for_user(visit_id)
    form = CheckOutForm()
    if form.validate_on_submit():
        ticked = [request.form.get(f"point-{i}") == "on" for i in range(len(visit.checklist))]
        try:
            services.check_out(
                current_agency(),
                visit,
                services.RecordData(
                    ticked=ticked,
                    what_was_done=form.what_was_done.data,
                    tools_used=form.tools_used.data or "",
                    outcome=form.outcome.data or "",
                    notes=form.notes.data or "",
                    needs_attention=bool(form.needs_attention.data),
                ),
                staff_id=my_staff_id(),
                by=current_user,
                presence_code=form.presence_code.data or None,
            )
        except VisitError as exc:
            if exc.code == "not_yours":
                abort(404)
            refuse(None, exc)
        else:
            flash(_("Checked out. Thank you."), "success")
            return redirect(url_for("scheduling.my_schedule"))
    client = db.session.get(Client, (visit.tenant_id, visit.client_id))
    return render_template("scheduling/check_out.html", form=form, visit=visit, client=client), (
        200 if request.method == "GET" else 422
    )


@bp.route("/my/calendar", methods=["GET", "POST"])
@require(VIEW_OWN_SCHEDULE)
def my_calendar() -> Any:
    staff_id = my_staff_id()
    if staff_id is None:
        abort(404)
    url = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "revoke":
            services.revoke_feeds(staff_id)
            flash(_("Calendar link revoked."), "success")
        else:
            url = services.issue_feed(staff_id)
            flash(_("Add this link to your phone's calendar. Keep it private."), "success")
    active = queries.feed_active_since(staff_id)
    return render_template("scheduling/my_calendar.html", url=url, active=active)
