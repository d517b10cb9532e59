"""Certificates and their scans, certificate types and the workforce
settings."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas.fields import uuid_or_none
from saas.lifecycle import attempt, form_status
from saas.permissions import MANAGE_SETTINGS, require
from saas.settings_pages import settings_page as generated_settings_page
from saas.tenancy import current_agency, get_or_404
from tenants.staffing import MANAGE_STAFF, OPEN_STAFF_FILES, queries, services
from tenants.staffing.forms import (
    CertificateForm,
    CertificateTypeForm,
    RequiredCertificatesForm,
)
from tenants.staffing.models import (
    JOB_ROLES,
    Certificate,
    CertificateType,
    StaffDocument,
)
from tenants.staffing.pages import staff_or_404 as _staff_or_404
from tenants.staffing.settings import save_required_certificates, workforce_settings
from tenants.staffing.views.blueprint import bp

# -- certificates -------------------------------------------------------------------------------


def _type_choices(form: CertificateForm) -> None:
    form.certificate_type_id.choices = [("", _("Choose…"))] + [
        (str(t.id), t.name) for t in services.certificate_types(active_only=True)
    ]


@bp.route("/staff/<uuid:staff_id>/certificates/new", methods=["GET", "POST"])
@require(MANAGE_STAFF)
def new_certificate(staff_id: uuid.UUID) -> Any:
    staff = _staff_or_404(staff_id)
    form = CertificateForm()
    _type_choices(form)
    if form.validate_on_submit():
        upload = form.document.data
        document = None
        if upload is not None and getattr(upload, "filename", ""):
            # read one byte past the limit: enough to refuse, never the whole of a huge upload
            data = upload.stream.read(services.MAX_DOCUMENT_BYTES + 1)
            document = (upload.filename, data)
        data_in = services.CertificateInput(
            certificate_type_id=uuid_or_none(form.certificate_type_id.data),
            number=form.number.data or "",
            issuer=form.issuer.data or "",
            issued_on=form.issued_on.data,
            expires_on=form.expires_on.data,
        )
        if attempt(
            form, lambda: services.add_certificate(staff, data_in, document=document, by=current_user)
        ):
            flash(_("Certificate added."), "success")
            return redirect(url_for("staffing.file", staff_id=staff.id, _anchor="certificates"))
    person = services.staff_person(staff.id)
    return render_template("staffing/certificate_new.html", form=form, staff=staff, person=person), (
        form_status()
    )


@bp.route("/certificates/<uuid:certificate_id>/delete", methods=["POST"])
@require(MANAGE_STAFF)
def remove_certificate(certificate_id: uuid.UUID) -> Any:
    cert = get_or_404(Certificate, certificate_id)
    staff_id = cert.staff_file_id
    services.remove_certificate(cert)
    flash(_("Certificate removed."), "success")
    return redirect(url_for("staffing.file", staff_id=staff_id, _anchor="certificates"))


@bp.route("/certificates/<uuid:certificate_id>/document")
@require(OPEN_STAFF_FILES)
def certificate_document(certificate_id: uuid.UUID) -> Any:
    """The scan, only as a download: attachment, its checked type, nosniff."""
    cert = get_or_404(Certificate, certificate_id)
    _staff_or_404(cert.staff_file_id, own_ok=True)
    if cert.document_id is None:
        abort(404)
    document = get_or_404(StaffDocument, cert.document_id)
    response = send_file(
        io.BytesIO(document.data),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
        max_age=0,
        etag=False,
        conditional=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- settings and certificate types ----------------------------------------------------------------


@bp.route("/workforce/settings", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def settings_page() -> Any:
    """The area's declared numbers (a generated page), and below them the
    certificates each role requires (a form of its own)."""
    return _workforce_page(_required_form(filled=True))


def _required_form(*, filled: bool = False) -> RequiredCertificatesForm:
    form = RequiredCertificatesForm(formdata=None) if filled else RequiredCertificatesForm()
    type_choices = [(str(t.id), t.name) for t in services.certificate_types(active_only=True)]
    current = workforce_settings(current_agency())
    for role in JOB_ROLES:
        getattr(form, f"required_{role}").choices = type_choices
        if filled:
            getattr(form, f"required_{role}").data = [str(i) for i in current.required_for(role)]
    return form


def _workforce_page(required_form: RequiredCertificatesForm, status: int | None = None) -> Any:
    return generated_settings_page(
        "workforce",
        title=_("Workforce settings"),
        endpoint="staffing.settings_page",
        template="staffing/settings.html",
        saved=_("Workforce settings saved."),
        status=status,
        required_form=required_form,
        roles=JOB_ROLES,
    )


@bp.route("/workforce/settings/certificates", methods=["POST"])
@require(MANAGE_SETTINGS)
def required_certificates() -> Any:
    agency = current_agency()
    form = _required_form()
    if form.validate_on_submit():
        # each id is checked by the setting's declaration (saas.settings)
        required = {role: getattr(form, f"required_{role}").data or [] for role in JOB_ROLES}
        if attempt(form, lambda: save_required_certificates(agency, required)):
            flash(_("Workforce settings saved."), "success")
            return redirect(url_for("staffing.settings_page"))
    return _workforce_page(form, 422)


@bp.route("/certificate-types", methods=["GET", "POST"])
@require(MANAGE_STAFF)
def certificate_types() -> Any:
    form = CertificateTypeForm()
    if form.validate_on_submit() and attempt(
        form, lambda: services.create_certificate_type(form.name.data, form.description.data or "")
    ):
        flash(_("Certificate type added."), "success")
        return redirect(url_for("staffing.certificate_types"))
    return render_template(
        "staffing/certificate_types.html",
        form=form,
        types=services.certificate_types(),
        counts=queries.certificate_counts(),
    ), form_status()


@bp.route("/certificate-types/<uuid:certificate_type_id>/retire", methods=["POST"])
@require(MANAGE_STAFF)
def retire_certificate_type(certificate_type_id: uuid.UUID) -> Any:
    kind = get_or_404(CertificateType, certificate_type_id)
    services.set_certificate_type_active(kind, False)
    flash(_("Certificate type retired."), "success")
    return redirect(url_for("staffing.certificate_types"))


@bp.route("/certificate-types/<uuid:certificate_type_id>/reactivate", methods=["POST"])
@require(MANAGE_STAFF)
def reactivate_certificate_type(certificate_type_id: uuid.UUID) -> Any:
    kind = get_or_404(CertificateType, certificate_type_id)
    services.set_certificate_type_active(kind, True)
    flash(_("Certificate type back in use."), "success")
    return redirect(url_for("staffing.certificate_types"))
