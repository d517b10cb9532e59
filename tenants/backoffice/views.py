"""The back office pages: who pays for each plan, invoices (build, adjust,
issue, credit, download) and timesheets (build, review, approve, export)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from saas.fields import uuid_or_none
from saas.lifecycle import attempt, form_status
from saas.permissions import MANAGE_SETTINGS, require
from saas.settings import agency_setting
from saas.settings_pages import settings_page as generated_settings_page
from saas.tenancy import current_agency, get_or_404
from tenants.backoffice import MANAGE_INVOICES, MANAGE_TIMESHEETS, documents, invoicing, labels, queries
from tenants.backoffice import timesheets as sheets
from tenants.backoffice.forms import (
    AdjustForm,
    BuildInvoiceForm,
    BuildTimesheetsForm,
    CreditForm,
    PartialCreditForm,
    PaymentRuleForm,
)
from tenants.backoffice.invoicing import format_number
from tenants.backoffice.models import CareInvoice, Timesheet
from tenants.clients.models import ServicePlan
from tenants.spreadsheets import csv_response

bp = Blueprint("backoffice", __name__, url_prefix="/a/<slug>")
bp.app_template_global("invoice_number")(format_number)
bp.app_template_global("line_kind_label")(labels.LINE_KINDS)
bp.app_template_global("unit_label")(labels.UNITS)
bp.app_template_global("invoice_status_label")(labels.INVOICE_STATUSES)
bp.app_template_global("invoice_kind_label")(labels.INVOICE_KINDS)
bp.app_template_global("timesheet_status_label")(labels.TIMESHEET_STATUSES)
bp.app_template_global("entry_kind_label")(labels.ENTRY_KINDS)
bp.app_template_global("as_hours")(sheets.hours)
bp.app_template_global("money")(documents.money)
bp.app_template_global("amount_of")(documents.amount_of)


def _last_month() -> tuple[date, date]:
    first = current_agency().today().replace(day=1)
    end = first - timedelta(days=1)
    return end.replace(day=1), end


def _last_fortnight() -> tuple[date, date]:
    """The two weeks ending on the last Sunday before today."""
    today = current_agency().today()
    sunday = today - timedelta(days=today.isoweekday())
    return sunday - timedelta(days=13), sunday


# -- invoices ------------------------------------------------------------------------------------


def _payer_groups() -> dict[str, list[tuple[str, str]]]:
    groups: dict[str, list[tuple[str, str]]] = {_("Funders"): [], _("Clients"): []}
    for value, name, kind in queries.payer_choices():
        groups[_("Funders") if kind == "funder" else _("Clients")].append((value, name))
    return {"": [("", _("Choose…"))], **groups}


@bp.route("/invoices/", methods=["GET", "POST"])
@require(MANAGE_INVOICES)
def invoices() -> Any:
    form = BuildInvoiceForm()
    form.payer.choices = _payer_groups()
    if request.method == "GET":
        form.period_start.data, form.period_end.data = _last_month()
    if form.validate_on_submit():
        made: list[CareInvoice] = []
        if attempt(
            form,
            lambda: made.append(
                invoicing.build_draft(
                    current_agency(),
                    invoicing.parse_payer(form.payer.data),
                    form.period_start.data,
                    form.period_end.data,
                    by=current_user,
                )
            ),
        ):
            flash(_("Draft invoice built: review it, adjust it if needed, then issue it."), "success")
            return redirect(url_for("backoffice.invoice", care_invoice_id=made[0].id))
    status = request.args.get("status") or None
    rows = queries.invoice_list(status)
    return render_template("backoffice/invoices.html", form=form, rows=rows, status=status), form_status()


def _invoice_page(invoice: CareInvoice, status: int = 200, **forms: Any) -> Any:
    page = queries.invoice_page(invoice)
    partial = forms.get("partial")
    if partial is None:
        partial = PartialCreditForm(
            formdata=None, data={"lines": [{"line_id": str(r[0].id), "amount": ""} for r in page.creditable]}
        )
    return render_template(
        "backoffice/invoice.html",
        page=page,
        invoice=invoice,
        adjust_form=forms.get("adjust") or AdjustForm(formdata=None),
        credit_form=forms.get("credit") or CreditForm(formdata=None),
        partial_form=partial,
        partial_rows={e.line_id.data: e for e in partial.lines},
    ), status


@bp.route("/invoices/<uuid:care_invoice_id>")
@require(MANAGE_INVOICES)
def invoice(care_invoice_id: uuid.UUID) -> Any:
    return _invoice_page(get_or_404(CareInvoice, care_invoice_id))


@bp.route("/invoices/<uuid:care_invoice_id>/adjust", methods=["POST"])
@require(MANAGE_INVOICES)
def adjust(care_invoice_id: uuid.UUID) -> Any:
    row = get_or_404(CareInvoice, care_invoice_id)
    form = AdjustForm()
    if form.validate_on_submit() and attempt(
        form, lambda: invoicing.adjust(row, form.amount.data, form.reason.data or "", by=current_user)
    ):
        flash(_("Adjustment recorded."), "success")
        return redirect(url_for("backoffice.invoice", care_invoice_id=care_invoice_id))
    return _invoice_page(get_or_404(CareInvoice, care_invoice_id), 422, adjust=form)


@bp.route("/invoices/<uuid:care_invoice_id>/issue", methods=["POST"])
@require(MANAGE_INVOICES)
def issue(care_invoice_id: uuid.UUID) -> Any:
    get_or_404(CareInvoice, care_invoice_id)
    done: list[CareInvoice] = []
    if attempt(None, lambda: done.append(invoicing.issue(care_invoice_id, by=current_user))):
        flash(_("Invoice %(number)s issued.", number=format_number(done[0].kind, done[0].number)), "success")
    return redirect(url_for("backoffice.invoice", care_invoice_id=care_invoice_id))


@bp.route("/invoices/<uuid:care_invoice_id>/delete", methods=["POST"])
@require(MANAGE_INVOICES)
def delete(care_invoice_id: uuid.UUID) -> Any:
    row = get_or_404(CareInvoice, care_invoice_id)
    if attempt(None, lambda: invoicing.delete_draft(row, by=current_user)):
        flash(_("Draft deleted."), "success")
        return redirect(url_for("backoffice.invoices"))
    return redirect(url_for("backoffice.invoice", care_invoice_id=care_invoice_id))


@bp.route("/invoices/<uuid:care_invoice_id>/credit", methods=["POST"])
@require(MANAGE_INVOICES)
def credit(care_invoice_id: uuid.UUID) -> Any:
    get_or_404(CareInvoice, care_invoice_id)
    form = CreditForm()
    made: list[CareInvoice] = []
    if form.validate_on_submit() and attempt(
        form, lambda: made.append(invoicing.credit(care_invoice_id, form.reason.data or "", by=current_user))
    ):
        flash(
            _("Credit note %(number)s issued.", number=format_number(made[0].kind, made[0].number)), "success"
        )
        return redirect(url_for("backoffice.invoice", care_invoice_id=made[0].id))
    return _invoice_page(get_or_404(CareInvoice, care_invoice_id), 422, credit=form)


@bp.route("/invoices/<uuid:care_invoice_id>/credit-lines", methods=["POST"])
@require(MANAGE_INVOICES)
def credit_lines(care_invoice_id: uuid.UUID) -> Any:
    """A partial credit note: the amounts entered against the invoice's lines
    (an empty one is not credited)."""
    get_or_404(CareInvoice, care_invoice_id)
    form = PartialCreditForm()
    chosen = [
        invoicing.CreditRequest(entry.line_id.data, entry.amount.data, field=f"lines-{at}")
        for at, entry in enumerate(form.lines)
        if (entry.amount.data or "").strip()
    ]
    made: list[CareInvoice] = []
    if form.validate_on_submit() and attempt(
        form,
        lambda: made.append(
            invoicing.credit_lines(care_invoice_id, chosen, form.reason.data or "", by=current_user)
        ),
    ):
        flash(
            _("Credit note %(number)s issued.", number=format_number(made[0].kind, made[0].number)), "success"
        )
        return redirect(url_for("backoffice.invoice", care_invoice_id=made[0].id))
    return _invoice_page(get_or_404(CareInvoice, care_invoice_id), 422, partial=form)


def _filename(row: CareInvoice, ext: str) -> str:
    return f"{format_number(row.kind, row.number) or 'draft-' + row.period_start.isoformat()}.{ext}"


@bp.route("/invoices/<uuid:care_invoice_id>/pdf")
@require(MANAGE_INVOICES)
def invoice_pdf(care_invoice_id: uuid.UUID) -> Any:
    row = get_or_404(CareInvoice, care_invoice_id)
    page = queries.invoice_page(row)
    related = format_number(page.related.kind, page.related.number) if page.related else ""
    data = documents.render_pdf(row, [line[0] for line in page.lines], current_agency(), related)
    response = Response(data, mimetype="application/pdf")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = f'inline; filename="{_filename(row, "pdf")}"'
    return response


@bp.route("/invoices/<uuid:care_invoice_id>/export.csv")
@require(MANAGE_INVOICES)
def invoice_csv(care_invoice_id: uuid.UUID) -> Any:
    return _invoice_export(care_invoice_id, "csv")


@bp.route("/invoices/<uuid:care_invoice_id>/export.xlsx")
@require(MANAGE_INVOICES)
def invoice_xlsx(care_invoice_id: uuid.UUID) -> Any:
    return _invoice_export(care_invoice_id, "xlsx")


def _invoice_export(care_invoice_id: uuid.UUID, fmt: str) -> Any:
    row = get_or_404(CareInvoice, care_invoice_id)
    rows = documents.export_rows(row, queries.invoice_lines(row.id), current_agency())
    if fmt == "xlsx":
        return documents.xlsx_response(_filename(row, "xlsx"), documents.EXPORT_COLUMNS, rows)
    return csv_response(_filename(row, "csv"), documents.EXPORT_COLUMNS, rows)


# -- who pays ------------------------------------------------------------------------------------


@bp.route("/invoices/payers")
@require(MANAGE_INVOICES)
def payers() -> Any:
    return _payers_page()


def _payers_page(
    status: int = 200, failed: uuid.UUID | None = None, form: PaymentRuleForm | None = None
) -> Any:
    funders = queries.funder_choices()
    return render_template(
        "backoffice/payers.html",
        rows=queries.plan_payers(),
        funders=funders,
        failed=failed,
        failed_form=form,
    ), status


@bp.route("/invoices/payers/<uuid:plan_id>", methods=["POST"])
@require(MANAGE_INVOICES)
def set_payer(plan_id: uuid.UUID) -> Any:
    get_or_404(ServicePlan, plan_id)
    form = PaymentRuleForm()
    form.funder_id.choices = [("", "")] + queries.funder_choices()
    if form.validate_on_submit() and attempt(
        form,
        lambda: invoicing.set_payment_rule(
            plan_id, uuid_or_none(form.funder_id.data), form.funder_percent.data, by=current_user
        ),
    ):
        flash(_("Saved."), "success")
        return redirect(url_for("backoffice.payers"))
    return _payers_page(422, plan_id, form)


@bp.route("/invoices/settings", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def settings_page() -> Any:
    return generated_settings_page(
        "invoicing",
        title=_("Invoice and timesheet settings"),
        endpoint="backoffice.settings_page",
        intro=_("A new notice rule applies to invoices built from now on; issued ones never change."),
        saved=_("Saved."),
    )


# -- timesheets ------------------------------------------------------------------------------------


@bp.route("/timesheets/", methods=["GET", "POST"])
@require(MANAGE_TIMESHEETS)
def timesheets() -> Any:
    form = BuildTimesheetsForm()
    form.staff_id.choices = [("", _("Every carer"))] + queries.staff_choices()
    if request.method == "GET":
        form.period_start.data, form.period_end.data = _last_fortnight()
    if form.validate_on_submit():
        counts: list[tuple[int, int]] = []
        if attempt(
            form,
            lambda: counts.append(
                sheets.build(
                    current_agency(),
                    form.period_start.data,
                    form.period_end.data,
                    _chosen(form.staff_id.data),
                    by=current_user,
                )
            ),
        ):
            built, skipped = counts[0]
            flash(ngettext("%(num)d timesheet built.", "%(num)d timesheets built.", built), "success")
            if skipped:
                flash(
                    ngettext(
                        "%(num)d carer already had a timesheet overlapping this period: left as it was.",
                        "%(num)d carers already had a timesheet overlapping this period: left as they were.",
                        skipped,
                    ),
                    "info",
                )
            return redirect(url_for("backoffice.timesheets", period=form.period_start.data.isoformat()))
    status = request.args.get("status") or None
    period = _day(request.args.get("period"))
    rows = queries.timesheet_list(status, period)
    approved_periods = sorted(
        {(r[0].period_start, r[0].period_end) for r in rows if r[0].status == "approved"}, reverse=True
    )
    return render_template(
        "backoffice/timesheets.html",
        form=form,
        rows=rows,
        status=status,
        period=period,
        approved_periods=approved_periods,
        columns=sheets.EXPORT_COLUMNS,
    ), form_status()


def _chosen(value: str | None) -> uuid.UUID | None:
    """The carer chosen, None for every carer; a value that is no id names
    nobody (the service refuses it next to the field)."""
    if not value:
        return None
    return uuid_or_none(value) or uuid.UUID(int=0)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/timesheets/<uuid:timesheet_id>")
@require(MANAGE_TIMESHEETS)
def timesheet(timesheet_id: uuid.UUID) -> Any:
    row = get_or_404(Timesheet, timesheet_id)
    threshold = int(agency_setting(current_agency(), "timesheet_difference_minutes"))
    return render_template(
        "backoffice/timesheet.html",
        page=queries.timesheet_page(row, threshold),
        threshold=threshold,
        columns=sheets.EXPORT_COLUMNS,
    )


@bp.route("/timesheets/<uuid:timesheet_id>/approve", methods=["POST"])
@require(MANAGE_TIMESHEETS)
def approve(timesheet_id: uuid.UUID) -> Any:
    row = get_or_404(Timesheet, timesheet_id)
    if attempt(None, lambda: sheets.approve(row, by=current_user)):
        flash(_("Timesheet approved: it can now be exported for payroll."), "success")
    return redirect(url_for("backoffice.timesheet", timesheet_id=timesheet_id))


def _payroll(ids: list[uuid.UUID], name: str, fmt: str) -> Any:
    rows = [
        [
            r.staff_number or "",
            r.carer or "",
            r.period_start.isoformat(),
            r.period_end.isoformat(),
            r.day.isoformat(),
            sheets.PAY_CODES[r.kind],
            sheets.hours(int(r.minutes)),
        ]
        for r in queries.export_rows(ids)
    ]
    if fmt == "xlsx":
        return documents.xlsx_response(f"{name}.xlsx", sheets.EXPORT_COLUMNS, rows)
    return csv_response(f"{name}.csv", sheets.EXPORT_COLUMNS, rows)


@bp.route("/timesheets/<uuid:timesheet_id>/export.csv")
@require(MANAGE_TIMESHEETS)
def timesheet_csv(timesheet_id: uuid.UUID) -> Any:
    return _timesheet_export(timesheet_id, "csv")


@bp.route("/timesheets/<uuid:timesheet_id>/export.xlsx")
@require(MANAGE_TIMESHEETS)
def timesheet_xlsx(timesheet_id: uuid.UUID) -> Any:
    return _timesheet_export(timesheet_id, "xlsx")


def _timesheet_export(timesheet_id: uuid.UUID, fmt: str) -> Any:
    row = get_or_404(Timesheet, timesheet_id)
    if row.status != "approved":
        flash(_("Approve the timesheet before exporting it."), "error")
        return redirect(url_for("backoffice.timesheet", timesheet_id=timesheet_id))
    return _payroll([row.id], f"timesheet-{row.period_start.isoformat()}", fmt)


@bp.route("/timesheets/export.csv")
@require(MANAGE_TIMESHEETS)
def period_csv() -> Any:
    return _period_export("csv")


@bp.route("/timesheets/export.xlsx")
@require(MANAGE_TIMESHEETS)
def period_xlsx() -> Any:
    return _period_export("xlsx")


def _period_export(fmt: str) -> Any:
    start, end = _day(request.args.get("start")), _day(request.args.get("end"))
    if start is None or end is None:
        abort(404)
    return _payroll(
        queries.approved_ids(start, end), f"timesheets-{start.isoformat()}-{end.isoformat()}", fmt
    )
