"""The clients list, a client's profile and file, their portal members, who read the file."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from billing.lifecycle import client_limit_refusal
from saas.lifecycle import attempt
from saas.links import UrlPattern
from saas.models import Membership
from saas.pagination import Keyset
from saas.permissions import READ_AUDIT_LOG, require
from saas.settings import agency_setting
from saas.tenancy import current_agency, get_or_404
from tenants.clients import GRANT_PORTAL_ACCESS, MANAGE_CASES, queries, services
from tenants.clients.forms import ClientForm, OpenCaseForm, PortalLinkForm
from tenants.clients.models import Case, Client
from tenants.clients.services import ClientData, ContactData
from tenants.clients.views.blueprint import bp


@bp.route("/clients")
@require(MANAGE_CASES)
def index() -> Any:
    q = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status") or ""
    page = queries.client_list(q, status, current_agency().today())
    return render_template("clients/index.html", page=page, q=q, status=status)


def _client_data(form: ClientForm) -> ClientData:
    return ClientData(
        full_name=form.full_name.data or "",
        preferred_name=form.preferred_name.data or "",
        date_of_birth=form.date_of_birth.data,
        gender=form.gender.data,
        phone=form.phone.data or "",
        email=(form.email.data or "").lower(),
        address=form.address.data or "",
        area=form.area.data or "",
        access_notes=form.access_notes.data or "",
        latitude=form.latitude.data,
        longitude=form.longitude.data,
        checkin_radius_m=form.checkin_radius_m.data or 300,
        languages=[x.strip() for x in (form.languages.data or "").split(",") if x.strip()][:10],
        family_status=form.family_status.data or None,
        economic_status=form.economic_status.data or None,
        health_status=form.health_status.data or None,
        psychological_state=form.psychological_state.data or None,
        consent_services=bool(form.consent_services.data),
        consent_data=bool(form.consent_data.data),
        contacts=[
            ContactData(c.form.name.data, c.form.relationship.data or "", c.form.phone.data or "")
            for c in form.contacts
            if c.form.name.data and c.form.phone.data
        ],
    )


def _contacts_complete(form: ClientForm) -> bool:
    ok = True
    for entry in form.contacts:
        name, phone = entry.form.name.data, entry.form.phone.data
        if bool(name) != bool(phone):
            (entry.form.phone if name else entry.form.name).errors.append(
                _("Give both a name and a phone number.")
            )
            ok = False
    return ok


@bp.route("/clients/new", methods=["GET", "POST"])
@require(MANAGE_CASES)
def create() -> Any:
    clients_now = queries.active_client_count()
    refusal = client_limit_refusal(current_agency(), clients_now)
    if refusal:
        return render_template("billing/refused.html", message=refusal), 403
    form = ClientForm()
    if form.validate_on_submit() and _contacts_complete(form):
        added: list[Client] = []
        if attempt(form, lambda: added.append(services.save_client(current_agency(), _client_data(form)))):
            flash(_("Client added."), "success")
            return redirect(url_for("clients.show", client_id=added[0].id))
    return render_template(
        "clients/form.html", form=form, client=None
    ), 200 if request.method == "GET" else 422


@bp.route("/clients/<uuid:client_id>/edit", methods=["GET", "POST"])
@require(MANAGE_CASES)
def edit(client_id: uuid.UUID) -> Any:
    client = get_or_404(Client, client_id)
    contacts = queries.contacts_of(client.id)
    form = ClientForm(obj=client)
    if request.method == "GET":
        form.languages.data = ", ".join(client.languages or [])
        for entry, contact in zip(form.contacts, contacts, strict=False):
            entry.form.name.data, entry.form.relationship.data, entry.form.phone.data = (
                contact.name,
                contact.relationship,
                contact.phone,
            )
        services.log_file_access(client.id, current_user.id, "edit")
    if (
        form.validate_on_submit()
        and _contacts_complete(form)
        and attempt(form, lambda: services.save_client(current_agency(), _client_data(form), client))
    ):
        flash(_("Saved."), "success")
        return redirect(url_for("clients.show", client_id=client.id))
    return render_template(
        "clients/form.html", form=form, client=client
    ), 200 if request.method == "GET" else 422


@bp.route("/clients/<uuid:client_id>")
@require(MANAGE_CASES)
def show(client_id: uuid.UUID) -> Any:
    """One matter, one file: the client and a page of everything about them,
    newest first, in one statement that also logs the read."""
    agency = current_agency()
    found = queries.client_file(agency, client_id, current_user.id, Keyset.parse(request.args.get("before")))
    if found is None:
        abort(404)
    client = found.client
    return render_template(
        "clients/show.html",
        client=client,
        contacts=found.contacts,
        portal=found.portal,
        cases=found.cases,
        timeline=found.timeline,
        older=found.older,
        paged=request.args.get("before") is not None,
        case_url=UrlPattern("clients.case", "case_id"),
        age_group=services.age_group(
            client.date_of_birth, services.agency_today(agency), agency_setting(agency, "elderly_from_age")
        ),
        open_case_form=OpenCaseForm(),
    )


@bp.route("/clients/<uuid:client_id>/cases", methods=["POST"])
@require(MANAGE_CASES)
def open_case(client_id: uuid.UUID) -> Any:
    client = get_or_404(Client, client_id)
    form = OpenCaseForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("clients.show", client_id=client.id))
    opened: list[Case] = []
    if not attempt(
        None,
        lambda: opened.append(
            services.open_case(
                current_agency(),
                client,
                channel=form.intake_channel.data,
                referrer=form.referrer.data or "",
                materials=form.materials_received.data or "",
                by=current_user,
                special_programme=bool(form.special_programme.data),
            )
        ),
    ):
        return redirect(url_for("clients.show", client_id=client.id))
    flash(_("Case %(n)s opened.", n=opened[0].number), "success")
    return redirect(url_for("clients.case", case_id=opened[0].id))


@bp.route("/clients/<uuid:client_id>/portal", methods=["GET", "POST"])
@require(GRANT_PORTAL_ACCESS)
def portal(client_id: uuid.UUID) -> Any:
    client = get_or_404(Client, client_id)
    members = queries.portal_candidates()
    form = PortalLinkForm()
    form.membership_id.choices = [(str(m.id), f"{u.name} <{u.email}>") for m, u in members]
    if form.validate_on_submit():
        membership = get_or_404(Membership, uuid.UUID(form.membership_id.data))
        if attempt(form, lambda: services.link_portal_member(client, membership, form.relationship.data)):
            flash(_("Linked to the client portal."), "success")
            return redirect(url_for("clients.show", client_id=client.id))
    return render_template("clients/portal.html", client=client, form=form)


@bp.route("/clients/<uuid:client_id>/access-log")
@require(READ_AUDIT_LOG)
def access_log(client_id: uuid.UUID) -> Any:
    client = get_or_404(Client, client_id)
    page = queries.access_log(client.id)
    return render_template("clients/access_log.html", client=client, page=page)
