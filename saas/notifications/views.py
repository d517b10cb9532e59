"""Pages of the notification centre, for every member of the agency:
the list (newest first, mark one or all read, open the subject), the unread
badge in the header (one cached count per page) and the preferences. Admins
also set the agency's reminder times and numbers."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from saas.lifecycle import refuse
from saas.notifications import services
from saas.notifications.forms import PreferencesForm
from saas.notifications.models import Notification
from saas.notifications.services import NotificationError
from saas.pagination import paginate
from saas.permissions import MANAGE_SETTINGS, require
from saas.settings_pages import settings_page
from saas.tenancy import current_agency, current_membership

bp = Blueprint("notifications", __name__, url_prefix="/a/<slug>")

PER_PAGE = 30


@bp.app_context_processor
def _unread_badge() -> dict[str, Any]:
    def unread_notifications() -> int:
        membership = current_membership()
        if membership is None or current_agency() is None:
            return 0
        return services.unread_count(membership)

    return {"unread_notifications": unread_notifications}


def _me() -> Any:
    membership = current_membership()
    if membership is None:
        abort(404)
    return membership


@bp.route("/notifications")
def index() -> Any:
    me = _me()
    page = paginate(services.list_query(me), per_page=PER_PAGE)
    return render_template("notifications/index.html", page=page)


def _own_or_404(notification_id: uuid.UUID) -> Notification:
    note = services.own_notification(_me(), notification_id)
    if note is None:
        abort(404)
    return note


@bp.route("/notifications/<uuid:notification_id>/read", methods=["POST"])
def mark_read(notification_id: uuid.UUID) -> Any:
    services.mark_read(_own_or_404(notification_id))
    return redirect(url_for("notifications.index", page=request.args.get("page") or None))


@bp.route("/notifications/<uuid:notification_id>/open", methods=["POST"])
def open_subject(notification_id: uuid.UUID) -> Any:
    """Mark read and go to what it is about (only a path inside this agency)."""
    note = _own_or_404(notification_id)
    services.mark_read(note)
    agency = current_agency()
    prefix = f"/a/{agency.slug}/" if agency else "/"
    if note.link.startswith(prefix) and "//" not in note.link:
        return redirect(note.link)
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
def mark_all_read() -> Any:
    count = services.mark_all_read(_me())
    if count:
        flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
def preferences() -> Any:
    me = _me()
    agency = current_agency()
    current = services.preferences(me)
    form = PreferencesForm()
    form.timezone.choices = [("", _("The agency's (%(zone)s)", zone=agency.timezone))] + [
        (z, z) for z in sorted(available_timezones())
    ]
    status = 200
    if request.method == "GET":
        form.quiet_start.data = current.quiet_start.strftime("%H:%M") if current.quiet_start else ""
        form.quiet_end.data = current.quiet_end.strftime("%H:%M") if current.quiet_end else ""
        form.timezone.data = current.timezone
        form.digest.data = current.digest
    elif form.validate_on_submit():
        channels = {
            c.kind.name: (
                request.form.get(f"in_app-{c.kind.name}") == "on",
                request.form.get(f"email-{c.kind.name}") == "on",
            )
            for c in current.choices
        }
        try:
            services.save_preferences(
                me,
                channels=channels,
                quiet_start=form.quiet_start.data or "",
                quiet_end=form.quiet_end.data or "",
                timezone=form.timezone.data or "",
                digest=bool(form.digest.data),
            )
        except NotificationError as exc:
            refuse(form, exc)
            status = 422
        else:
            flash(_("Your notification preferences are saved."), "success")
            return redirect(url_for("notifications.preferences"))
        # keep what was ticked, so a mistake elsewhere loses nothing
        for choice in current.choices:
            if not choice.kind.mandatory:
                choice.in_app, choice.email = channels[choice.kind.name]
    else:
        status = 422
    return render_template("notifications/preferences.html", form=form, choices=current.choices), status


@bp.route("/notifications/settings", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def agency_settings() -> Any:
    # the areas declare the settings of their reminders (page "reminders")
    return settings_page(
        "reminders",
        title=_("Reminder settings"),
        endpoint="notifications.agency_settings",
        intro=_("Times are on the agency's clock (%(zone)s).", zone=current_agency().timezone),
        saved=_("Reminder settings saved."),
    )
