"""Partial credit notes: chosen lines or amounts of an issued invoice,
never more than what remains of a line, numbered in the one gapless
sequence of credit notes, immutable; the invoice shows what was credited
and what remains, on its page, in its documents and through the API."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from saas import db
from saas.models import AuditEvent
from tenants.backoffice import invoicing
from tenants.backoffice.errors import BackOfficeError
from tenants.backoffice.invoicing import CreditRequest
from tenants.backoffice.models import CareInvoice
from tests.backoffice.test_invoicing import build, lines_of, month  # noqa: F401 - the fixture
from tests.factories import login


def issued(m) -> CareInvoice:
    invoice = build(m, "funder", m.funder.id)
    with db.tenant_scope(m.agency.id):
        invoice = invoicing.issue(invoice.id, by=m.admin)
        db.session.commit()
    return invoice


def note_count(m) -> int:
    with db.tenant_scope(m.agency.id):
        return db.session.scalar(
            select(func.count()).select_from(CareInvoice).where(CareInvoice.kind == "credit_note")
        )


def credit_numbers(m) -> list[int]:
    with db.tenant_scope(m.agency.id):
        return list(
            db.session.scalars(
                select(CareInvoice.number)
                .where(CareInvoice.kind == "credit_note")
                .order_by(CareInvoice.number)
            )
        )


def test_partial_credits_add_up_and_never_exceed_a_line(month):  # noqa: F811
    m = month
    invoice = issued(m)
    lines = [line for line in lines_of(m, invoice.id) if line.amount > 0]
    first, second = lines[0], lines[1]
    with db.tenant_scope(m.agency.id):
        note = invoicing.credit_lines(
            invoice.id,
            [CreditRequest(str(first.id), "5.00"), CreditRequest(str(second.id), None)],
            "Visits shortened",
            by=m.admin,
        )
        db.session.commit()
        assert (note.kind, note.partial, note.number, note.status) == ("credit_note", True, 1, "issued")
    # worked out here: 5.00 of the first line, all of the second
    assert note.total == -(Decimal("5.00") + second.amount)
    credit_lines = {line.credits_line_id: line for line in lines_of(m, note.id)}
    assert credit_lines[first.id].amount == Decimal("-5.00")
    assert credit_lines[second.id].amount == -second.amount
    assert credit_lines[second.id].unit_price == -second.unit_price  # a whole line is reversed as it was
    assert {line.kind for line in credit_lines.values()} == {"credit"}

    with db.tenant_scope(m.agency.id):
        taken = invoicing.credited_by_line(invoice.id)
        assert taken[first.id] == Decimal("5.00") and taken[second.id] == second.amount
        # more than remains of the first line, and any of the second: refused by field, nothing kept
        left = first.amount - Decimal("5.00")
        with pytest.raises(BackOfficeError) as refused:
            invoicing.credit_lines(
                invoice.id,
                [CreditRequest(first.id, str(left + Decimal("0.01"))), CreditRequest(second.id, "1")],
                "Again",
                by=m.admin,
            )
        assert [(e.code, e.field) for e in refused.value.by_field()] == [
            ("over_credit", "lines-0-amount"),
            ("line_fully_credited", "lines-1-amount"),
        ]
        assert refused.value.params["remaining"] == str(left)
        db.session.rollback()
    assert note_count(m) == 1
    with db.tenant_scope(m.agency.id):
        for chosen, code, field in (
            ([CreditRequest(first.id, "0")], "credit_amount_invalid", "lines-0-amount"),
            ([CreditRequest(first.id, "-1")], "credit_amount_invalid", "lines-0-amount"),
            ([CreditRequest(first.id, "1e9999")], "credit_amount_invalid", "lines-0-amount"),
            ([CreditRequest("nonsense")], "line_unknown", "lines-0-line_id"),
            ([CreditRequest(uuid.uuid4())], "line_unknown", "lines-0-line_id"),
            ([CreditRequest(first.id, "1"), CreditRequest(first.id, "1")], "line_unknown", "lines-1-line_id"),
            ([], "lines_required", "lines"),
        ):
            with pytest.raises(BackOfficeError) as refused:
                invoicing.credit_lines(invoice.id, chosen, "x", by=m.admin)
            assert (refused.value.by_field()[-1].code, refused.value.by_field()[-1].field) == (code, field)
            db.session.rollback()
        with pytest.raises(BackOfficeError) as refused:
            invoicing.credit_lines(invoice.id, [CreditRequest(first.id, "1")], "  ", by=m.admin)
        assert refused.value.field == "reason"
        db.session.rollback()
        # exactly what remains is fine
        again = invoicing.credit_lines(invoice.id, [CreditRequest(first.id, str(left))], "Rest", by=m.admin)
        db.session.commit()
        assert again.number == 2 and again.total == -left
        # the full credit note takes only what remains of each line
        full = invoicing.credit(invoice.id, "Wrong funder", by=m.admin)
        db.session.commit()
        assert (full.number, full.partial) == (3, False)
        assert full.total == -(invoice.total - Decimal("5.00") - second.amount - left)
        totals = db.session.scalars(
            select(CareInvoice.total).where(CareInvoice.credits_invoice_id == invoice.id)
        ).all()
        assert sum(totals) == -invoice.total
        for line in lines_of(m, invoice.id):
            assert invoicing.credited_by_line(invoice.id)[line.id] == line.amount
        with pytest.raises(BackOfficeError, match="already_credited"):
            invoicing.credit_lines(invoice.id, [CreditRequest(first.id, "1")], "x", by=m.admin)
        with pytest.raises(BackOfficeError, match="not_an_invoice"):
            invoicing.credit_lines(note.id, [CreditRequest(first.id, "1")], "x", by=m.admin)
        db.session.rollback()
        actions = set(
            db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("invoice.%")))
        )
        assert {"invoice.partly_credited", "invoice.credited"} <= actions
    assert credit_numbers(m) == [1, 2, 3]  # one sequence, no gap


def test_a_partial_credit_note_never_changes_and_keeps_the_period_invoiced(month):  # noqa: F811
    m = month
    invoice = issued(m)
    line = next(line for line in lines_of(m, invoice.id) if line.amount > 0)
    with db.tenant_scope(m.agency.id):
        note = invoicing.credit_lines(invoice.id, [CreditRequest(line.id, "1.00")], "Short visit", by=m.admin)
        db.session.commit()
        for statement in (
            "update care_invoices set note = 'changed' where id = :id",
            "update care_invoice_lines set amount = -2 where invoice_id = :id",
            "delete from care_invoice_lines where invoice_id = :id",
            "delete from care_invoices where id = :id",
        ):
            with pytest.raises(DBAPIError):
                with db.session.begin_nested():
                    db.session.execute(text(statement), {"id": note.id})
        # a partly credited invoice still covers its period for its payer
        with pytest.raises(BackOfficeError, match="period_overlaps_issued"):
            invoicing.build_draft(
                m.agency,
                invoicing.Payer("funder", m.funder.id),
                invoice.period_start,
                invoice.period_end,
                by=None,
            )


def test_the_invoice_page_credits_some_lines_in_both_languages(month, client):  # noqa: F811
    m = month
    invoice = issued(m)
    lines = [line for line in lines_of(m, invoice.id) if line.amount > 0]
    login(client, m.admin)
    slug = m.agency.slug
    url = f"/a/{slug}/invoices/{invoice.id}"
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="partial-credit-form"' in page.text
    assert page.text.count('data-testid="credit-line-row"') == len(lines)
    rows = {str(line.id): i for i, line in enumerate(lines)}
    first = lines[0]
    at = rows[str(first.id)]

    def form(amounts: dict[str, str], reason: str = "Short visit") -> dict[str, str]:
        data = {"reason": reason}
        for line in lines:
            i = rows[str(line.id)]
            data[f"lines-{i}-line_id"] = str(line.id)
            data[f"lines-{i}-amount"] = amounts.get(str(line.id), "")
        return data

    too_much = str(first.amount + Decimal("0.01"))
    refused = client.post(f"{url}/credit-lines", data=form({str(first.id): too_much}, reason=""))
    assert refused.status_code == 422
    assert f'id="lines-{at}-amount-error"' in refused.text and "remains to credit" in refused.text
    assert 'id="partial_reason-error"' in refused.text
    assert too_much in refused.text  # what was typed is kept in its field
    nothing = client.post(f"{url}/credit-lines", data=form({}))
    assert nothing.status_code == 422 and 'id="lines-error"' in nothing.text
    odd = client.post(f"{url}/credit-lines", data=form({str(first.id): "x" * 50}))
    assert odd.status_code == 422 and f'id="lines-{at}-amount-error"' in odd.text
    assert note_count(m) == 0
    with factory_locale(m, "zh_CN"):
        chinese = client.post(f"{url}/credit-lines", data=form({str(first.id): too_much}))
        assert (
            chinese.status_code == 422 and "剩余" in chinese.text and "remains to credit" not in chinese.text
        )
    assert note_count(m) == 0

    made = client.post(f"{url}/credit-lines", data=form({str(first.id): "7.50"}))
    assert made.status_code == 302
    note_url = made.headers["Location"]
    note_page = client.get(note_url).text
    assert "CN-000001" in note_page and "INV-000001" in note_page and "Short visit" in note_page
    assert "-7.50" in note_page
    shown = client.get(url).text
    assert 'data-testid="invoice-credited">7.50<' in shown
    remaining = invoice.total - Decimal("7.50")
    assert f'data-testid="invoice-remaining"><strong>{remaining:,.2f}</strong>' in shown
    listed = client.get(f"/a/{slug}/invoices/").text
    assert 'data-testid="partly-credited">7.50 credited in part<' in listed
    pdf = client.get(note_url + "/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    rows_csv = list(csv.reader(io.StringIO(client.get(note_url + "/export.csv").get_data(as_text=True))))
    assert rows_csv[0][0].lstrip("\ufeff") == "document_number"
    assert [(r[0], r[6], r[-2]) for r in rows_csv[1:]] == [("CN-000001", "credit", "-7.50")]


class factory_locale:  # noqa: N801 - used as a context
    """The admin reads in `locale` inside the block."""

    def __init__(self, m, locale: str) -> None:
        self.m, self.locale = m, locale

    def _set(self, value) -> None:
        with db.tenant_scope(self.m.agency.id):
            db.session.get(type(self.m.admin), self.m.admin.id).locale = value
            db.session.commit()

    def __enter__(self):
        self._set(self.locale)
        return self

    def __exit__(self, *exc) -> None:
        self._set(None)


def test_odd_page_input_keeps_nothing(month, client):  # noqa: F811
    m = month
    invoice = issued(m)
    line = next(line for line in lines_of(m, invoice.id) if line.amount > 0)
    login(client, m.admin)
    url = f"/a/{m.agency.slug}/invoices/{invoice.id}/credit-lines"
    for form in (
        {"reason": "x", "lines-0-line_id": "nonsense", "lines-0-amount": "1"},
        {"reason": "x", "lines-0-line_id": str(uuid.uuid4()), "lines-0-amount": "1"},
        {"reason": "x", "lines-0-line_id": str(line.id), "lines-0-amount": "1e999999"},
        {"reason": "x", "lines-0-line_id": str(line.id), "lines-0-amount": "NaN"},
        {"reason": "x" * 3000, "lines-0-line_id": str(line.id), "lines-0-amount": "1"},
        {
            "reason": "x",
            "lines-5-line_id": str(line.id),
            "lines-5-amount": "1",
            "lines-6-line_id": str(line.id),
            "lines-6-amount": "1",
        },
    ):
        answer = client.post(url, data=form)
        assert answer.status_code == 422, (form, answer.status_code)
        assert 'class="error"' in answer.text
    assert note_count(m) == 0


def test_partial_credits_taking_everything_reopen_the_period(month):  # noqa: F811
    m = month
    invoice = issued(m)
    lines = lines_of(m, invoice.id)
    assert all(line.amount > 0 for line in lines)  # no reduction: every line can be credited
    with db.tenant_scope(m.agency.id):
        half = [CreditRequest(line.id, None) for line in lines[: len(lines) // 2]]
        invoicing.credit_lines(invoice.id, half, "First half", by=m.admin)
        db.session.commit()
        # partly credited: the period is still invoiced
        with pytest.raises(BackOfficeError, match="period_overlaps_issued"):
            invoicing.build_draft(
                m.agency,
                invoicing.Payer("funder", m.funder.id),
                invoice.period_start,
                invoice.period_end,
                by=None,
            )
        db.session.rollback()
        rest = [CreditRequest(line.id, None) for line in lines[len(lines) // 2 :]]
        invoicing.credit_lines(invoice.id, rest, "Second half", by=m.admin)
        db.session.commit()
        with pytest.raises(BackOfficeError, match="nothing_to_credit"):
            invoicing.credit(invoice.id, "Once more", by=m.admin)
        db.session.rollback()
        again = invoicing.build_draft(
            m.agency,
            invoicing.Payer("funder", m.funder.id),
            invoice.period_start,
            invoice.period_end,
            by=None,
        )
        db.session.commit()
        assert again.total == invoice.total
    assert credit_numbers(m) == [1, 2]
