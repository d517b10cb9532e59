"""An invoice as a PDF in the agency's language (the quality summary's CJK
font, subset to the document's characters), and as CSV or XLSX for the
accounts, one row per line in a fixed layout."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from flask import Response
from flask_babel import force_locale, format_date, format_decimal
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from saas.models import Agency
from tenants.backoffice.invoicing import format_number
from tenants.backoffice.labels import line_kind_label, unit_label
from tenants.backoffice.models import CareInvoice, CareInvoiceLine, InvoiceKind
from tenants.quality.pdf import _truetype_subset, font_file
from tenants.spreadsheets import defuse

# the accounts' layout: one row per line, these columns in this order
EXPORT_COLUMNS = (
    "document_number",
    "document_type",
    "issued_on",
    "payer",
    "period_start",
    "period_end",
    "line_type",
    "service_date",
    "client",
    "service",
    "quantity",
    "unit",
    "unit_price",
    "payer_share_percent",
    "charged_percent",
    "amount",
    "reason",
)


def money(value: Decimal) -> str:
    """An amount in the reader's language, two places."""
    return format_decimal(value, format="#,##0.00")


def amount_of(value: Decimal) -> str:
    """A quantity or a percentage, without trailing zeros, in the reader's language."""
    return format_decimal(value, format="#,##0.##")


def export_rows(invoice: CareInvoice, lines: Sequence[CareInvoiceLine], agency: Agency) -> list[list[Any]]:
    issued = invoice.issued_at.astimezone(agency.zone).date().isoformat() if invoice.issued_at else ""
    return [
        [
            format_number(invoice.kind, invoice.number) or "DRAFT",
            invoice.kind,
            issued,
            invoice.payer_name,
            invoice.period_start.isoformat(),
            invoice.period_end.isoformat(),
            line.kind,
            line.day.isoformat() if line.day else "",
            line.client_name,
            line.service_name,
            line.quantity,
            line.unit,
            line.unit_price,
            line.share_percent,
            line.charge_percent,
            line.amount,
            line.reason,
        ]
        for line in lines
    ]


def xlsx_response(filename: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Response:
    """One sheet: the header, then the rows (numbers as numbers, text defused
    so a spreadsheet never runs it as a formula)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(header))
    for row in rows:
        sheet.append([v if isinstance(v, (int, float, Decimal)) else defuse(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    response = Response(
        out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


class _Doc(FPDF):
    def __init__(self, font_path: str | None) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(auto=True, margin=15)
        self.family = "helvetica"
        if font_path:
            self.add_font("body", fname=font_path)
            self.family = "body"


def render_pdf(
    invoice: CareInvoice, lines: Sequence[CareInvoiceLine], agency: Agency, related_number: str = ""
) -> bytes:
    with force_locale(agency.locale):
        texts = _texts(invoice, lines, agency, related_number)
        chars = "".join(sorted({c for t in texts["all"] for c in t} | set(" 0123456789.,-–")))
        found = font_file()
        with tempfile.NamedTemporaryFile(suffix=".ttf") as handle:
            if found is not None:
                handle.write(_truetype_subset(found[0], found[1], chars))
                handle.flush()
            doc = _Doc(handle.name if found is not None else None)
            _draw(doc, texts)
            return bytes(doc.output())


def _texts(
    invoice: CareInvoice, lines: Sequence[CareInvoiceLine], agency: Agency, related_number: str
) -> dict[str, Any]:
    credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    title = _("Invoice")
    if credit:
        title = _("Partial credit note") if invoice.partial else _("Credit note")
    number = format_number(invoice.kind, invoice.number) or _("Draft: not issued")
    facts = [
        (_("Number"), number),
        (
            _("Issued on"),
            format_date(invoice.issued_at.astimezone(agency.zone).date(), "long")
            if invoice.issued_at
            else "—",
        ),
        (_("Billed to"), invoice.payer_name),
        (
            _("Period"),
            f"{format_date(invoice.period_start, 'medium')} – {format_date(invoice.period_end, 'medium')}",
        ),
    ]
    if credit and related_number:
        facts.append((_("Credits invoice"), related_number))
    if invoice.note:
        facts.append((_("Reason"), invoice.note))
    head = [_("Date"), _("Client"), _("Service"), _("Quantity"), _("Price"), _("Share"), _("Amount")]
    rows = []
    for line in lines:
        what = line.service_name
        if line.kind not in ("visit", "credit"):
            what = line_kind_label(line.kind) + (f": {line.reason}" if line.reason else "")
        elif line.kind == "credit" and line.reason:
            what = f"{line.service_name or line_kind_label('adjustment')}: {line.reason}"
        rows.append(
            [
                format_date(line.day, "short") if line.day else "",
                line.client_name,
                what,
                f"{amount_of(line.quantity)} {unit_label(line.unit)}",
                money(line.unit_price),
                f"{amount_of(line.share_percent * line.charge_percent / 100)}%",
                money(line.amount),
            ]
        )
    total = (_("Total"), money(invoice.total))
    footer = _(
        "Prices are those each visit was booked at. "
        "Late cancellations are charged by the agency's notice rule."
    )
    everything = [agency.name, title, footer, *head, *total, *(t for pair in facts for t in pair)]
    everything += [cell for row in rows for cell in row]
    return {
        "agency": agency.name,
        "title": title,
        "facts": facts,
        "head": head,
        "rows": rows,
        "total": total,
        "footer": footer,
        "all": everything,
    }


WIDTHS = (22, 38, 50, 22, 20, 16, 22)


def _draw(doc: _Doc, t: dict[str, Any]) -> None:
    doc.add_page()
    doc.set_font(doc.family, size=16)
    doc.cell(0, 9, t["agency"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(doc.family, size=13)
    doc.cell(0, 8, t["title"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(2)
    doc.set_font(doc.family, size=10)
    for label, value in t["facts"]:
        doc.cell(35, 6, label)
        doc.multi_cell(0, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(4)
    _head(doc, t["head"])
    for row in t["rows"]:
        if doc.will_page_break(6):
            doc.add_page()
            _head(doc, t["head"])  # the columns named again on each page
        doc.set_font(doc.family, size=8.5)
        for index, (width, value) in enumerate(zip(WIDTHS, row, strict=True)):
            text = value
            while text and doc.get_string_width(text) > width - 1.5:
                text = text[:-2] + "…"
            doc.cell(width, 6, text, border="B", align="R" if index >= 3 else "L")
        doc.ln()
    doc.ln(2)
    doc.set_font(doc.family, size=11)
    doc.cell(sum(WIDTHS) - 30, 8, t["total"][0], align="R")
    doc.cell(30, 8, t["total"][1], align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(4)
    doc.set_font(doc.family, size=8)
    doc.multi_cell(0, 5, t["footer"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _head(doc: _Doc, head: list[str]) -> None:
    doc.set_font(doc.family, size=8.5)
    doc.set_fill_color(235, 238, 242)
    for index, (width, label) in enumerate(zip(WIDTHS, head, strict=True)):
        doc.cell(width, 7, label, border="B", fill=True, align="R" if index >= 3 else "L")
    doc.ln()
