"""Spreadsheet imports (upload, preview, save or discard), exports and
templates."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from billing.lifecycle import can_grow, refusal_response, require_can_grow
from saas.lifecycle import discard
from saas.permissions import require
from saas.tenancy import current_agency, get_or_404
from tenants.spreadsheets import csv_response
from tenants.staffing import MANAGE_STAFF, VIEW_STAFF, imports, queries, services
from tenants.staffing.errors import Invalid
from tenants.staffing.forms import (
    ImportForm,
)
from tenants.staffing.models import (
    ImportBatch,
)
from tenants.staffing.pages import import_upload
from tenants.staffing.settings import local_today, workforce_settings
from tenants.staffing.views.blueprint import bp, wf_hours

# -- imports ----------------------------------------------------------------------------------------

IMPORT_PAGES = {"staff": "staffing.index", "certificates": "staffing.index", "catalogue": "catalogue.index"}


@bp.route("/staff/import", methods=["GET", "POST"])
@require(MANAGE_STAFF)
@require_can_grow
def import_staff() -> Any:
    return import_upload("staff")


@bp.route("/certificates/import", methods=["GET", "POST"])
@require(MANAGE_STAFF)
def import_certificates() -> Any:
    return import_upload("certificates")


def _batch_or_404(import_id: uuid.UUID) -> ImportBatch:
    return get_or_404(ImportBatch, import_id)


def _render_preview(batch: ImportBatch, checked: imports.Checked | None, status: int = 200) -> Any:
    importer = imports.importer_for(batch.kind)
    return render_template(
        "staffing/import_preview.html",
        batch=batch,
        checked=checked,
        columns=importer.columns,
        back=IMPORT_PAGES.get(batch.kind, "staffing.index"),
    ), status


@bp.route("/imports/<uuid:import_id>")
@require(MANAGE_STAFF)
def import_preview(import_id: uuid.UUID) -> Any:
    batch = _batch_or_404(import_id)
    checked = imports.check_batch(batch) if batch.status == "pending" else None
    return _render_preview(batch, checked)


@bp.route("/imports/<uuid:import_id>/save", methods=["POST"])
@require(MANAGE_STAFF)
def import_save(import_id: uuid.UUID) -> Any:
    batch = _batch_or_404(import_id)
    form = ImportForm()
    if not form.validate_on_submit():
        abort(400)
    if batch.kind == "staff" and not can_grow(current_agency()):
        return refusal_response(current_agency())
    try:
        count, _checked = imports.save_batch(batch, by=current_user)
    except Invalid:
        # keep nothing; the preview shows each row's problems, so no message per problem
        discard()
        batch = _batch_or_404(import_id)
        checked = imports.check_batch(batch) if batch.status == "pending" else None
        flash(_("Nothing was saved: some rows have problems."), "error")
        return _render_preview(batch, checked, 422)
    flash(_("%(count)d rows saved.", count=count), "success")
    return redirect(url_for(IMPORT_PAGES.get(batch.kind, "staffing.index")))


@bp.route("/imports/<uuid:import_id>/discard", methods=["POST"])
@require(MANAGE_STAFF)
def import_discard(import_id: uuid.UUID) -> Any:
    batch = _batch_or_404(import_id)
    imports.discard_batch(batch)
    flash(_("Import discarded. Nothing was saved."), "success")
    return redirect(url_for(IMPORT_PAGES.get(batch.kind, "staffing.index")))


# -- exports ----------------------------------------------------------------------------------------


@bp.route("/staff/export.csv")
@require(VIEW_STAFF)
def export_staff() -> Any:
    rows = queries.staff_export_rows()
    header = [c.key for c in imports.STAFF_COLUMNS]
    return csv_response(
        "staff.csv",
        header,
        (
            [
                email,
                name,
                s.staff_role,
                s.staff_number or "",
                s.employment_start,
                s.employment_end or "",
                wf_hours(s.contracted_hours),
                s.home_area,
                ", ".join(s.skills or []),
                ", ".join(s.languages or []),
            ]
            for s, name, email in rows
        ),
    )


@bp.route("/certificates/export.csv")
@require(VIEW_STAFF)
def export_certificates() -> Any:
    today = local_today()
    window = workforce_settings().certificate_expiring_days
    rows = queries.certificate_export_rows()
    header = [c.key for c in imports.CERTIFICATE_COLUMNS]
    return csv_response(
        "certificates.csv",
        header,
        (
            [
                email,
                staff_number or "",
                name,
                type_name,
                c.number,
                c.issuer,
                c.issued_on,
                c.expires_on or "",
                services.certificate_status(c.expires_on, today, window),
            ]
            for c, type_name, staff_number, name, email in rows
        ),
    )


@bp.route("/staff/import/template.csv")
@require(MANAGE_STAFF)
def staff_template() -> Any:
    return csv_response("staff-template.csv", [c.key for c in imports.STAFF_COLUMNS], [])


@bp.route("/certificates/import/template.csv")
@require(MANAGE_STAFF)
def certificates_template() -> Any:
    return csv_response("certificates-template.csv", [c.key for c in imports.CERTIFICATE_COLUMNS], [])
