"""What the workforce pages share (staffing, training and the catalogue):
who may view, the staff file a page is about, and the spreadsheet upload page."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas.lifecycle import attempt, form_status
from saas.permissions import can
from saas.tenancy import current_membership, get_or_404
from tenants.staffing import MANAGE_STAFF, VIEW_STAFF, imports
from tenants.staffing.forms import ImportForm
from tenants.staffing.models import ImportBatch, StaffFile


def is_viewer() -> bool:
    return can(VIEW_STAFF)


def is_admin() -> bool:
    return can(MANAGE_STAFF)


def staff_or_404(staff_id: uuid.UUID, *, own_ok: bool = False) -> StaffFile:
    """A staff file of this agency; carers reach only their own (others are 404)."""
    staff = get_or_404(StaffFile, staff_id)
    if is_viewer():
        return staff
    if own_ok and staff.membership_id == current_membership().id:
        return staff
    abort(404)


def import_upload(kind: str) -> Any:
    """The upload page of any import kind (shared by the catalogue)."""
    form = ImportForm()
    importer = imports.importer_for(kind)
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors.append(_("Choose a file."))
        else:
            data = upload.stream.read(5 * 1024 * 1024 + 1)
            created: list[ImportBatch] = []
            if attempt(
                form,
                lambda: created.append(imports.start_import(kind, upload.filename, data, by=current_user)),
            ):
                return redirect(url_for("staffing.import_preview", import_id=created[0].id))
    return render_template(
        "staffing/import_upload.html",
        form=form,
        kind=kind,
        columns=importer.columns,
        max_rows=importer.max_rows,
    ), form_status()
