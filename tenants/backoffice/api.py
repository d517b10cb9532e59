"""The back office through the API: invoices with their lines and what was
credited of each, partial credit notes, timesheets with their entries (for
accounting and payroll systems). Lists are paged by cursor and filtered."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from flask import g, jsonify, request
from flask_babel import gettext as _

from saas.api.body import json_object, refuse
from saas.api.conditional import respond
from saas.api.filters import choice_arg, param, uuid_arg
from saas.api.paging import PARAMETERS, cursor_page, page_schema
from saas.api.views import bp, ok, operation, uuid_path
from saas.permissions import require
from saas.tenancy import get_or_404
from tenants.backoffice import MANAGE_INVOICES, MANAGE_TIMESHEETS, invoicing, queries
from tenants.backoffice.invoicing import format_number
from tenants.backoffice.models import (
    CareInvoice,
    CareInvoiceLine,
    InvoiceKind,
    InvoiceStatus,
    Timesheet,
    TimesheetStatus,
)

TAG = "back office"
DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
ID = {"type": "string", "format": "uuid"}
MONEY = {"type": "string", "description": "a decimal amount, two places", "example": "12.50"}
NULLABLE_MONEY = {**MONEY, "nullable": True}
INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": ID,
        "number": {"type": "string", "nullable": True, "example": "INV-000001"},
        "kind": {"type": "string", "enum": [k.value for k in InvoiceKind]},
        "status": {"type": "string", "enum": [s.value for s in InvoiceStatus]},
        "partial": {
            "type": "boolean",
            "description": "A credit note for chosen lines or amounts "
            "(false: an invoice, or a full credit note)",
        },
        "payer_kind": {"type": "string", "enum": ["funder", "client"]},
        "payer_id": ID,
        "payer_name": {"type": "string"},
        "period_start": {"type": "string", "format": "date"},
        "period_end": {"type": "string", "format": "date"},
        "total": MONEY,
        "credited": {
            **NULLABLE_MONEY,
            "description": "An invoice: what its credit notes took from it, full and partial "
            "(null on a credit note)",
            "example": "0.00",
        },
        "remaining": {
            **NULLABLE_MONEY,
            "description": "An invoice: its total less what was credited (null on a credit note)",
        },
        "issued_at": {"type": "string", "format": "date-time", "nullable": True},
        "credits_invoice_id": {**ID, "nullable": True},
        "reason": {"type": "string", "description": "Why a credit note was issued (empty on an invoice)"},
    },
}
INVOICE_EXAMPLE = {
    "id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b",
    "number": "INV-000001",
    "kind": "invoice",
    "status": "issued",
    "partial": False,
    "payer_kind": "funder",
    "payer_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a70",
    "payer_name": "Harbour Council",
    "period_start": "2026-11-01",
    "period_end": "2026-11-30",
    "total": "266.64",
    "credited": "20.00",
    "remaining": "246.64",
    "issued_at": "2026-12-01T09:00:00+00:00",
    "credits_invoice_id": None,
    "reason": "",
}
LINE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": ID,
        "kind": {"type": "string", "enum": ["visit", "late_cancellation", "adjustment", "credit"]},
        "visit_id": {**ID, "nullable": True},
        "client_id": {**ID, "nullable": True},
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
        "credits_line_id": {
            **ID,
            "nullable": True,
            "description": "A credit line: the invoice line it credits",
        },
        "credited": {**NULLABLE_MONEY, "description": "An invoice's line: what credit notes took from it"},
        "remaining": {**NULLABLE_MONEY, "description": "An invoice's line: what may still be credited"},
    },
}
LINE_EXAMPLE = {
    "id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a80",
    "kind": "visit",
    "visit_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a81",
    "client_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a82",
    "client_name": "Edith Carver",
    "service_name": "Bathing",
    "day": "2026-11-02",
    "quantity": "1.00",
    "unit": "per_visit",
    "unit_price": "33.33",
    "share_percent": "100.00",
    "charge_percent": "100.00",
    "amount": "33.33",
    "reason": "",
    "credits_line_id": None,
    "credited": "20.00",
    "remaining": "13.33",
}
CREDIT_BODY = {
    "type": "object",
    "required": ["reason", "lines"],
    "properties": {
        "reason": {"type": "string", "maxLength": 2000, "description": "Why these lines are credited"},
        "lines": {
            "type": "array",
            "minItems": 1,
            "description": "The invoice lines to credit, each once",
            "items": {
                "type": "object",
                "required": ["line_id"],
                "properties": {
                    "line_id": ID,
                    "amount": {
                        "type": "string",
                        "nullable": True,
                        "example": "20.00",
                        "description": "How much of the line to credit, above zero and at most what remains "
                        "of it; absent or null: all that remains",
                    },
                },
            },
        },
    },
}
TIMESHEET_SCHEMA = {
    "type": "object",
    "properties": {
        "id": ID,
        "staff_id": ID,
        "period_start": {"type": "string", "format": "date"},
        "period_end": {"type": "string", "format": "date"},
        "status": {"type": "string", "enum": [s.value for s in TimesheetStatus]},
        "visit_minutes": {"type": "integer"},
        "booked_minutes": {"type": "integer"},
        "travel_minutes": {"type": "integer"},
        "time_off_minutes": {"type": "integer"},
        "approved_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}
TIMESHEET_EXAMPLE = {
    "id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a90",
    "staff_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a91",
    "period_start": "2026-11-16",
    "period_end": "2026-11-29",
    "status": "approved",
    "visit_minutes": 1740,
    "booked_minutes": 1710,
    "travel_minutes": 260,
    "time_off_minutes": 480,
    "approved_at": "2026-11-30T16:00:00+00:00",
}
ENTRY_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["visit", "travel", "time_off"]},
        "day": {"type": "string", "format": "date"},
        "visit_id": {**ID, "nullable": True},
        "starts_at": {"type": "string", "format": "date-time", "nullable": True},
        "ends_at": {"type": "string", "format": "date-time", "nullable": True},
        "booked_minutes": {"type": "integer"},
        "minutes": {"type": "integer"},
    },
}
INVOICE_DOCUMENT = {
    "allOf": [
        INVOICE_SCHEMA,
        {"type": "object", "properties": {"lines": {"type": "array", "items": LINE_SCHEMA}}},
    ]
}


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        if not DAY.fullmatch(raw):
            raise ValueError(raw)  # only YYYY-MM-DD, not the other forms Python reads
        return date.fromisoformat(raw)
    except ValueError:
        refuse(400, _("%(field)s must be a date as YYYY-MM-DD.", field=name), name)


def _period_args() -> tuple[date | None, date | None]:
    start, end = _date_arg("from"), _date_arg("to")
    if start is not None and end is not None and end < start:
        refuse(422, _("%(field)s must be on or after from.", field="to"), "to")
    return start, end


PERIOD_PARAMETERS = [
    param("from", {"type": "string", "format": "date"}, "Only those whose period ends on or after this day"),
    param("to", {"type": "string", "format": "date"}, "Only those whose period starts on or before this day"),
]


def _invoice(row: CareInvoice, credited: Any = None) -> dict[str, Any]:
    is_invoice = row.kind == InvoiceKind.INVOICE
    taken = invoicing.money(credited if credited is not None else 0) if is_invoice else None
    return {
        "id": str(row.id),
        "number": format_number(row.kind, row.number) or None,
        "kind": row.kind,
        "status": row.status,
        "partial": row.partial,
        "payer_kind": row.payer_kind,
        "payer_id": str(row.funder_id or row.client_id),
        "payer_name": row.payer_name,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "total": str(row.total),
        "credited": str(taken) if taken is not None else None,
        "remaining": str(row.total - taken) if taken is not None else None,
        "issued_at": row.issued_at.isoformat() if row.issued_at else None,
        "credits_invoice_id": str(row.credits_invoice_id) if row.credits_invoice_id else None,
        "reason": row.note,
    }


def _line(line: CareInvoiceLine, credited: Any = None, remaining: Any = None) -> dict[str, Any]:
    return {
        "id": str(line.id),
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
        "credits_line_id": str(line.credits_line_id) if line.credits_line_id else None,
        "credited": str(invoicing.money(credited)) if credited is not None else None,
        "remaining": str(invoicing.money(remaining)) if remaining is not None else None,
    }


def _invoice_document(row: CareInvoice) -> dict[str, Any]:
    lines, notes = queries.invoice_credits(row)
    if row.kind == InvoiceKind.INVOICE:
        credited = -sum((n.total for n in notes), invoicing.Decimal(0))
        rendered = [_line(line, taken, left) for line, taken, left in lines]
        return {**_invoice(row, credited), "lines": rendered}
    return {**_invoice(row), "lines": [_line(line) for line, _taken, _left in lines]}


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
        "summary": "The agency's invoices and credit notes, by creation (new ones on the last page)",
        "description": "Filters combine; a period filter keeps those whose period overlaps it.",
        "tags": [TAG],
        "parameters": [
            *PARAMETERS,
            param(
                "status", {"type": "string", "enum": [s.value for s in InvoiceStatus]}, "Only in this state"
            ),
            param("kind", {"type": "string", "enum": [k.value for k in InvoiceKind]}, "Only of this kind"),
            *PERIOD_PARAMETERS,
            param("funder_id", ID, "Only those billed to this funder"),
            param("client_id", ID, "Only those billed to this client (as payer)"),
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": page_schema(INVOICE_SCHEMA),
                        "example": {"items": [INVOICE_EXAMPLE], "next_cursor": None},
                    }
                },
            }
        },
    }
)
@require(MANAGE_INVOICES, refuse=403)
def api_invoices() -> Any:
    start, end = _period_args()
    stmt = queries.api_invoices(
        status=choice_arg("status", [s.value for s in InvoiceStatus]),
        kind=choice_arg("kind", [k.value for k in InvoiceKind]),
        start=start,
        end=end,
        funder_id=uuid_arg("funder_id"),
        client_id=uuid_arg("client_id"),
    )
    page = cursor_page(stmt, [CareInvoice.created_at, CareInvoice.id], scalars=False)
    return respond(page.document(lambda r: _invoice(r[2], r.credited)))


@bp.route("/invoices/<uuid:care_invoice_id>")
@operation(
    get={
        "summary": "One invoice or credit note with its lines (an invoice's: what was credited of each)",
        "tags": [TAG],
        "parameters": [uuid_path("care_invoice_id")],
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": INVOICE_DOCUMENT,
                        "example": {**INVOICE_EXAMPLE, "lines": [LINE_EXAMPLE]},
                    }
                },
            }
        },
    }
)
@require(MANAGE_INVOICES)
def api_invoice(care_invoice_id: uuid.UUID) -> Any:
    return respond(_invoice_document(get_or_404(CareInvoice, care_invoice_id)))


def _credit_request(body: dict[str, Any]) -> tuple[str, list[invoicing.CreditRequest]]:
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        refuse(422, _("%(field)s must be text.", field="reason"), "reason")
    if len(reason) > 2000:
        refuse(422, _("%(field)s is longer than %(limit)d characters.", field="reason", limit=2000), "reason")
    lines = body.get("lines")
    if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
        refuse(422, _("%(field)s must be a list of objects.", field="lines"), "lines")
    if len(lines) > 5000:
        refuse(422, _("Give at most %(n)d lines.", n=5000), "lines")
    chosen = []
    for i, item in enumerate(lines):
        line_id, amount = item.get("line_id"), item.get("amount")
        if not isinstance(line_id, str):
            refuse(422, _("%(field)s must be an id.", field=f"lines-{i}-line_id"), f"lines-{i}-line_id")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, str | int | float)):
            refuse(
                422,
                _("%(field)s must be an amount such as 12.50.", field=f"lines-{i}-amount"),
                f"lines-{i}-amount",
            )
        chosen.append(invoicing.CreditRequest(line_id, amount))
    return reason, chosen


@bp.route("/invoices/<uuid:care_invoice_id>/credit-notes", methods=["POST"])
@operation(
    post={
        "summary": "Credit chosen lines of an issued invoice, or amounts of them (a partial credit note)",
        "description": "Issued at once and numbered in the agency's one sequence of credit notes; it cannot "
        "change afterwards. Each line may be credited up to what remains of it (422 naming "
        "`lines-<i>-amount` beyond). The invoice may be credited again while something remains.",
        "tags": [TAG],
        "parameters": [uuid_path("care_invoice_id")],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": CREDIT_BODY,
                    "example": {
                        "reason": "Visit of 2 November shortened by the client",
                        "lines": [{"line_id": LINE_EXAMPLE["id"], "amount": "20.00"}],
                    },
                }
            },
        },
        "responses": {
            "201": {
                "description": "Created: the credit note with its lines",
                "content": {
                    "application/json": {
                        "schema": INVOICE_DOCUMENT,
                        "example": {
                            **INVOICE_EXAMPLE,
                            "number": "CN-000001",
                            "kind": "credit_note",
                            "partial": True,
                            "total": "-20.00",
                            "credited": None,
                            "remaining": None,
                            "credits_invoice_id": INVOICE_EXAMPLE["id"],
                            "reason": "Visit of 2 November shortened by the client",
                            "lines": [
                                {
                                    **LINE_EXAMPLE,
                                    "kind": "credit",
                                    "quantity": "1.00",
                                    "unit_price": "-20.00",
                                    "amount": "-20.00",
                                    "credits_line_id": LINE_EXAMPLE["id"],
                                    "credited": None,
                                    "remaining": None,
                                }
                            ],
                        },
                    }
                },
            }
        },
    }
)
@require(MANAGE_INVOICES)
def api_credit_note(care_invoice_id: uuid.UUID) -> Any:
    get_or_404(CareInvoice, care_invoice_id)
    reason, chosen = _credit_request(json_object())
    note = invoicing.credit_lines(care_invoice_id, chosen, reason, by=g.api_user)
    return respond(_invoice_document(note), 201)


@bp.route("/timesheets")
@operation(
    get={
        "summary": "The carers' timesheets, by pay period (the latest on the last page)",
        "description": "Filters combine; a period filter keeps those whose period overlaps it.",
        "tags": [TAG],
        "parameters": [
            *PARAMETERS,
            param("staff_id", ID, "Only this carer's (a staff file's id)"),
            *PERIOD_PARAMETERS,
            param(
                "status", {"type": "string", "enum": [s.value for s in TimesheetStatus]}, "Only in this state"
            ),
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": page_schema(TIMESHEET_SCHEMA),
                        "example": {"items": [TIMESHEET_EXAMPLE], "next_cursor": None},
                    }
                },
            }
        },
    }
)
@require(MANAGE_TIMESHEETS, refuse=403)
def api_timesheets() -> Any:
    start, end = _period_args()
    stmt = queries.api_timesheets(
        status=choice_arg("status", [s.value for s in TimesheetStatus]),
        staff_id=uuid_arg("staff_id"),
        start=start,
        end=end,
    )
    page = cursor_page(stmt, [Timesheet.period_start, Timesheet.id], scalars=False)
    return respond(page.document(lambda r: _timesheet(r[2])))


@bp.route("/timesheets/<uuid:timesheet_id>")
@operation(
    get={
        "summary": "One timesheet with its entries (visits worked, travel, time off)",
        "tags": [TAG],
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
