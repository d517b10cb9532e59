"""The incidents pages: the list, reporting (from a visit too), one incident
with each step of its flow, and the settings."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas import db
from saas.fields import uuid_or_none
from saas.lifecycle import attempt, form_status
from saas.permissions import MANAGE_SETTINGS, can, require
from saas.settings import agency_setting
from saas.settings_pages import settings_page as generated_settings_page
from saas.tenancy import current_agency, current_membership
from tenants.incidents import (
    ACKNOWLEDGE_INCIDENTS,
    MANAGE_INCIDENTS,
    REPORT_INCIDENTS,
    labels,
    queries,
    services,
)
from tenants.incidents.forms import (
    ActionForm,
    CloseForm,
    FindingsForm,
    InvestigateForm,
    ReportForm,
    RespondForm,
)
from tenants.incidents.models import Incident, IncidentStatus

bp = Blueprint("incidents", __name__, url_prefix="/a/<slug>")
bp.app_template_global("incident_type_label")(labels.type_label)
bp.app_template_global("incident_severity_label")(labels.severity_label)
bp.app_template_global("incident_status_label")(labels.status_label)


@bp.route("/incidents/")
@require(REPORT_INCIDENTS)
def index() -> Any:
    open_only = request.args.get("open") == "1"
    rows = queries.incident_list(current_membership(), open_only=open_only)
    return render_template("incidents/index.html", rows=rows, open_only=open_only)


def _local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(current_agency().zone) if moment else None


@bp.route("/incidents/new", methods=["GET", "POST"])
@require(REPORT_INCIDENTS)
def new() -> Any:
    """A report; from a visit (`?visit_id=`), its client and visit come with it."""
    membership = current_membership()
    manager = services.is_manager(membership)
    form = ReportForm()
    blank = [("", _("None"))]
    form.client_id.choices = blank + (queries.client_choices() if manager else [])
    form.staff_file_ids.choices = queries.staff_choices()
    visit_id = uuid_or_none(request.args.get("visit_id") if request.method == "GET" else form.visit_id.data)
    visit = queries.visit_prefill(visit_id) if visit_id else None
    if visit is not None and not (manager or services.reports_on(visit.staff_file_id, membership)):
        visit = None  # another carer's visit: not theirs to name
    if visit is not None:
        # the client of the visit (whoever reports), shown as a choice even to carers
        form.client_id.choices = [(str(visit.client_id), visit.client)]
    if request.method == "GET":
        form.visit_id.data = str(visit.id) if visit is not None else ""
        form.occurred_at.data = datetime.now(current_agency().zone).replace(
            second=0, microsecond=0, tzinfo=None
        )
        if visit is not None:
            form.client_id.data = str(visit.client_id)
    if form.validate_on_submit():
        made: list[Incident] = []
        occurred = (
            form.occurred_at.data.replace(tzinfo=current_agency().zone) if form.occurred_at.data else None
        )
        if attempt(
            form,
            lambda: made.append(
                services.report(
                    current_agency(),
                    services.ReportData(
                        type=form.type.data or "",
                        severity=form.severity.data or "",
                        place=form.place.data or "",
                        occurred_at=occurred,
                        description=form.description.data or "",
                        people_involved=form.people_involved.data or "",
                        client_id=uuid_or_none(form.client_id.data),
                        visit_id=uuid_or_none(form.visit_id.data),
                        staff_file_ids=[i for i in map(uuid_or_none, form.staff_file_ids.data or []) if i],
                        immediate_response=form.immediate_response.data or "",
                    ),
                    by=membership,
                )
            ),
        ):
            flash(_("Incident reported. The agency head has been told."), "success")
            return redirect(url_for("incidents.show", incident_id=made[0].id))
    return render_template(
        "incidents/new.html", form=form, visit=visit, visit_start=_local(visit.starts_at) if visit else None
    ), form_status()


def _incident(incident_id: uuid.UUID) -> Incident:
    incident = queries.visible_incident(incident_id, current_membership())
    if incident is None:
        abort(404)
    return incident


def _page(incident: Incident, status: int = 200, **forms: Any) -> Any:
    """One incident with the forms of its next steps; `forms` are the ones
    posted (with their messages), the others fresh."""
    agency = current_agency()
    membership = current_membership()
    manager = services.is_manager(membership)
    page = queries.incident_page(incident)
    investigate = forms.get("investigate") or InvestigateForm(formdata=None)
    action = forms.get("action") or ActionForm(formdata=None)
    if manager:
        investigate.investigator.choices = queries.investigator_choices()
        action.owner.choices = queries.owner_choices()
        if investigate.deadline.data is None and not forms.get("investigate"):
            investigate.deadline.data = incident.investigation_deadline or (
                incident.reported_at.astimezone(agency.zone).date()
                + timedelta(days=int(agency_setting(agency, "incident_investigation_days")))
            )
        if incident.investigator_membership_id and not forms.get("investigate"):
            investigate.investigator.data = str(incident.investigator_membership_id)
    return render_template(
        "incidents/show.html",
        page=page,
        incident=incident,
        local=_local,
        manager=manager,
        me=membership.id,
        respond_form=forms.get("respond") or RespondForm(formdata=None),
        investigate_form=investigate,
        findings_form=forms.get("findings") or FindingsForm(formdata=None),
        action_form=action,
        close_form=forms.get("close") or CloseForm(formdata=None),
        can_acknowledge=can(ACKNOWLEDGE_INCIDENTS),
        safeguarding=services.is_safeguarding(incident),
        statuses=IncidentStatus,
        today=agency.today(),
        now_utc=db.utcnow(),
    ), status


@bp.route("/incidents/<uuid:incident_id>")
@require(REPORT_INCIDENTS)
def show(incident_id: uuid.UUID) -> Any:
    return _page(_incident(incident_id))


def _step(incident_id: uuid.UUID, name: str, form: Any, call: Any, done: str) -> Any:
    """A step's post: the service call, then back to the incident, or the
    page again with the messages next to the step's fields (nothing kept)."""
    incident = _incident(incident_id)
    if form.validate_on_submit() and attempt(form, lambda: call(incident)):
        flash(done, "success")
        return redirect(url_for("incidents.show", incident_id=incident.id))
    return _page(_incident(incident_id), 422, **{name: form})


@bp.route("/incidents/<uuid:incident_id>/respond", methods=["POST"])
@require(REPORT_INCIDENTS)
def respond(incident_id: uuid.UUID) -> Any:
    form = RespondForm()
    return _step(
        incident_id,
        "respond",
        form,
        lambda i: services.respond(i, form.immediate_response.data or "", by=current_membership()),
        _("Immediate response recorded."),
    )


@bp.route("/incidents/<uuid:incident_id>/investigate", methods=["POST"])
@require(MANAGE_INCIDENTS)
def investigate(incident_id: uuid.UUID) -> Any:
    form = InvestigateForm()
    form.investigator.choices = queries.investigator_choices()
    return _step(
        incident_id,
        "investigate",
        form,
        lambda i: services.investigate(
            current_agency(),
            i,
            investigator_id=uuid_or_none(form.investigator.data),
            deadline=form.deadline.data,
            by=current_membership(),
        ),
        _("Investigation assigned."),
    )


@bp.route("/incidents/<uuid:incident_id>/findings", methods=["POST"])
@require(MANAGE_INCIDENTS)
def findings(incident_id: uuid.UUID) -> Any:
    form = FindingsForm()
    return _step(
        incident_id,
        "findings",
        form,
        lambda i: services.record_findings(
            i,
            findings=form.findings.data or "",
            root_cause=form.root_cause.data or "",
            by=current_membership(),
        ),
        _("Findings recorded."),
    )


@bp.route("/incidents/<uuid:incident_id>/actions", methods=["POST"])
@require(MANAGE_INCIDENTS)
def add_action(incident_id: uuid.UUID) -> Any:
    form = ActionForm()
    form.owner.choices = queries.owner_choices()
    return _step(
        incident_id,
        "action",
        form,
        lambda i: services.add_action(
            current_agency(),
            i,
            description=form.description.data or "",
            owner_id=uuid_or_none(form.owner.data),
            due_on=form.due_on.data,
            rectification=bool(form.rectification.data),
            by=current_membership(),
            user=current_user,
        ),
        _("Action added."),
    )


@bp.route("/incidents/<uuid:incident_id>/actions/<uuid:action_id>/done", methods=["POST"])
@require(REPORT_INCIDENTS)
def action_done(incident_id: uuid.UUID, action_id: uuid.UUID) -> Any:
    incident = _incident(incident_id)
    action = queries.action_of(incident, action_id)
    if action is None:
        abort(404)
    # the token is checked app-wide (CSRFProtect); a refusal is flashed
    if attempt(None, lambda: services.complete_action(incident, action, by=current_membership())):
        flash(_("Action done."), "success")
    return redirect(url_for("incidents.show", incident_id=incident.id))


@bp.route("/incidents/<uuid:incident_id>/acknowledge", methods=["POST"])
@require(ACKNOWLEDGE_INCIDENTS)
def acknowledge(incident_id: uuid.UUID) -> Any:
    incident = _incident(incident_id)
    if attempt(None, lambda: services.acknowledge(incident, by=current_membership())):
        flash(_("Incident acknowledged."), "success")
    return redirect(url_for("incidents.show", incident_id=incident.id))


@bp.route("/incidents/<uuid:incident_id>/close", methods=["POST"])
@require(MANAGE_INCIDENTS)
def close(incident_id: uuid.UUID) -> Any:
    form = CloseForm()
    return _step(
        incident_id,
        "close",
        form,
        lambda i: services.close(i, note=form.closing_note.data or "", by=current_membership()),
        _("Incident closed."),
    )


@bp.route("/incidents/settings", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def settings_page() -> Any:
    return generated_settings_page(
        "incidents",
        title=_("Incident settings"),
        endpoint="incidents.settings_page",
        intro=_("A new acknowledgement time applies to incidents reported from now on."),
        saved=_("Saved."),
    )
