"""The back office through the API, read only: invoices with their lines,
timesheets with their entries (for accounting and payroll systems)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import jsonify

from saas.api.views import bp, ok, operation, uuid_path
from saas.permissions import require
from saas.tenancy import get_or_404
from tenants.backoffice import MANAGE_INVOICES, MANAGE_TIMESHEETS, queries
from tenants.backoffice.invoicing import format_number
from tenants.backoffice.models import CareInvoice, CareInvoiceLine, Timesheet

MONEY = {"type": "string", "description": "a decimal amount, two places", "example": "12.50"}
INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "number": {"type": "string", "nullable": True, "example": "INV-000001"},
        "kind": {"type": "string", "enum": ["invoice", "credit_note"]},
        "status": {"type": "string", "enum": ["draft", "issued"]},
        "payer_kind": {"type": "string", "enum": ["funder", "client"]},
        "payer_id": {"type": "string", "format": "uuid"},
        "payer_name": {"type": "string"},
        "period_start": {"type": "string", "format": "date"},
        "period_end": {"type": "string", "format": "date"},
        "total": MONEY,
        "issued_at": {"type": "string", "format": "date-time", "nullable": True},
        "credits_invoice_id": {"type": "string", "format": "uuid", "nullable": True},
    },
}
LINE_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["visit", "late_cancellation", "adjustment", "credit"]},
        "visit_id": {"type": "string", "format": "uuid", "nullable": True},
        "client_id": {"type": "string", "format": "uuid", "nullable": True},
        "client_name": {"type": "string"},
        "service_name": {"type": "string"},
        "day": {"type": "string", "format": "date", "nullable": True},
        "quantity": {"type": "string"},
        "unit": {"type": "string", "enum": ["per_visit", "per_hour"]},
        "unit_price": MONEY,
        "share_percent": {"type": "string"},
        "charge_percent": {"type": "string"},
        "amount": MONEY,
        "reason": {"type": "string"},
    },
}
TIMESHEET_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "staff_id": {"type": "string", "format": "uuid"},
        "period_start": {"type": "string", "format": "date"},
        "period_end": {"type": "string", "format": "date"},
        "status": {"type": "string", "enum": ["draft", "approved"]},
        "visit_minutes": {"type": "integer"},
        "booked_minutes": {"type": "integer"},
        "travel_minutes": {"type": "integer"},
        "time_off_minutes": {"type": "integer"},
        "approved_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}
ENTRY_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["visit", "travel", "time_off"]},
        "day": {"type": "string", "format": "date"},
        "visit_id": {"type": "string", "format": "uuid", "nullable": True},
        "starts_at": {"type": "string", "format": "date-time", "nullable": True},
        "ends_at": {"type": "string", "format": "date-time", "nullable": True},
        "booked_minutes": {"type": "integer"},
        "minutes": {"type": "integer"},
    },
}


def _invoice(row: CareInvoice) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "number": format_number(row.kind, row.number) or None,
        "kind": row.kind,
        "status": row.status,
        "payer_kind": row.payer_kind,
        "payer_id": str(row.funder_id or row.client_id),
        "payer_name": row.payer_name,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "total": str(row.total),
        "issued_at": row.issued_at.isoformat() if row.issued_at else None,
        "credits_invoice_id": str(row.credits_invoice_id) if row.credits_invoice_id else None,
    }


def _line(line: CareInvoiceLine) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "visit_id": str(line.visit_id) if line.visit_id else None,
        "client_id": str(line.client_id) if line.client_id else None,
        "client_name": line.client_name,
        "service_name": line.service_name,
        "day": line.day.isoformat() if line.day else None,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "share_percent": str(line.share_percent),
        "charge_percent": str(line.charge_percent),
        "amount": str(line.amount),
        "reason": line.reason,
    }


def _timesheet(row: Timesheet) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "staff_id": str(row.staff_file_id),
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "status": row.status,
        "visit_minutes": row.visit_minutes,
        "booked_minutes": row.booked_minutes,
        "travel_minutes": row.travel_minutes,
        "time_off_minutes": row.time_off_minutes,
        "approved_at": row.approved_at.isoformat() if row.approved_at else None,
    }


@bp.route("/invoices")
@operation(
    get={
        "summary": "The agency's invoices and credit notes, newest first (at most 500)",
        "tags": ["back office"],
        "responses": ok(
            {"type": "object", "properties": {"invoices": {"type": "array", "items": INVOICE_SCHEMA}}}
        ),
    }
)
@require(MANAGE_INVOICES)
def api_invoices() -> Any:
    return jsonify(invoices=[_invoice(r[0]) for r in queries.invoice_list()])


@bp.route("/invoices/<uuid:care_invoice_id>")
@operation(
    get={
        "summary": "One invoice or credit note with its lines",
        "tags": ["back office"],
        "parameters": [uuid_path("care_invoice_id")],
        "responses": ok(
            {
                "allOf": [
                    INVOICE_SCHEMA,
                    {"type": "object", "properties": {"lines": {"type": "array", "items": LINE_SCHEMA}}},
                ]
            }
        ),
    }
)
@require(MANAGE_INVOICES)
def api_invoice(care_invoice_id: uuid.UUID) -> Any:
    row = get_or_404(CareInvoice, care_invoice_id)
    return jsonify({**_invoice(row), "lines": [_line(line) for line in queries.invoice_lines(row.id)]})


@bp.route("/timesheets")
@operation(
    get={
        "summary": "The carers' timesheets, latest pay period first (at most 500)",
        "tags": ["back office"],
        "responses": ok(
            {"type": "object", "properties": {"timesheets": {"type": "array", "items": TIMESHEET_SCHEMA}}}
        ),
    }
)
@require(MANAGE_TIMESHEETS)
def api_timesheets() -> Any:
    return jsonify(timesheets=[_timesheet(r[0]) for r in queries.timesheet_list()])


@bp.route("/timesheets/<uuid:timesheet_id>")
@operation(
    get={
        "summary": "One timesheet with its entries (visits worked, travel, time off)",
        "tags": ["back office"],
        "parameters": [uuid_path("timesheet_id")],
        "responses": ok(
            {
                "allOf": [
                    TIMESHEET_SCHEMA,
                    {"type": "object", "properties": {"entries": {"type": "array", "items": ENTRY_SCHEMA}}},
                ]
            }
        ),
    }
)
@require(MANAGE_TIMESHEETS)
def api_timesheet(timesheet_id: uuid.UUID) -> Any:
    row = get_or_404(Timesheet, timesheet_id)
    entries = [
        {
            "kind": e.kind,
            "day": e.day.isoformat(),
            "visit_id": str(e.visit_id) if e.visit_id else None,
            "starts_at": e.starts_at.isoformat() if e.starts_at else None,
            "ends_at": e.ends_at.isoformat() if e.ends_at else None,
            "booked_minutes": e.booked_minutes,
            "minutes": e.minutes,
        }
        for e in queries.timesheet_entries(row.id)
    ]
    return jsonify({**_timesheet(row), "entries": entries})
