"""Invoices: lines from the booked prices and the payment rule, late
cancellations by the notice rule, adjustments, issue and numbering, credit
notes, immutability, overlapping periods refused."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from saas import db
from tenants.backoffice import invoicing
from tenants.backoffice.errors import BackOfficeError
from tenants.backoffice.models import CareInvoice, CareInvoiceLine
from tests.backoffice.helpers import MARCH, Month
from tests.factories import login

CENT = Decimal("0.01")


def expected(price: Decimal, quantity: Decimal, share: Decimal, charge: Decimal = Decimal(100)) -> Decimal:
    """One line, worked out here apart from the SQL that builds them."""
    return (price * quantity * share / 100 * charge / 100).quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.fixture
def month(factory, dbconn):
    m = Month(factory)
    visits = m.plan_visits()
    assert len(visits) == 8  # Mondays and Thursdays, 2 to 26 March
    for visit in visits[:5]:
        m.deliver(visit)
    m.cancel(visits[5], hours_before=3)  # inside the 24 hours' notice: charged
    m.cancel(visits[6], hours_before=48)  # in good time: not charged
    # visits[7] was never delivered (still scheduled): not charged
    m.hourly_visit(visits[0].starts_at + timedelta(days=1))
    m.settings(late_cancellation_charge_percent=40)
    m.rule("37.5")
    return m


def build(m: Month, kind: str, payer_id, start=MARCH[0], end=MARCH[1]) -> CareInvoice:
    with db.tenant_scope(m.agency.id):
        row = invoicing.build_draft(m.agency, invoicing.Payer(kind, payer_id), start, end, by=m.admin)
        db.session.commit()
        return row


def lines_of(m: Month, invoice_id) -> list[CareInvoiceLine]:
    with db.tenant_scope(m.agency.id):
        return list(
            db.session.scalars(
                select(CareInvoiceLine)
                .where(CareInvoiceLine.invoice_id == invoice_id)
                .order_by(CareInvoiceLine.day)
            )
        )


def test_funder_and_client_totals_match_an_independent_computation(month):
    m = month
    price, share = Decimal("33.33"), Decimal("37.5")
    funder = build(m, "funder", m.funder.id)
    delivered = [expected(price, Decimal(1), share)] * 5
    late = [expected(price, Decimal(1), share, Decimal(40))]
    assert sorted(line.amount for line in lines_of(m, funder.id)) == sorted(delivered + late)
    assert funder.total == sum(delivered + late) == Decimal("12.50") * 5 + Decimal("5.00")
    assert {line.kind for line in lines_of(m, funder.id)} == {"visit", "late_cancellation"}

    client = build(m, "client", m.client.id)
    rest = Decimal(100) - share
    assert client.total == expected(price, Decimal(1), rest) * 5 + expected(
        price, Decimal(1), rest, Decimal(40)
    )
    # the one-off hourly visit (no plan: the client's alone), 90 minutes at 18.50 an hour
    other = build(m, "client", m.other.id)
    (line,) = lines_of(m, other.id)
    assert (line.quantity, line.unit, line.share_percent) == (Decimal("1.50"), "per_hour", Decimal(100))
    assert other.total == expected(Decimal("18.50"), Decimal("1.5"), Decimal(100)) == Decimal("27.75")


def test_a_plan_the_funder_pays_in_full_leaves_nothing_to_the_client(month):
    m = month
    m.rule("100")
    with db.tenant_scope(m.agency.id), pytest.raises(BackOfficeError) as refused:
        invoicing.build_draft(m.agency, invoicing.Payer("client", m.client.id), *MARCH, by=None)
    assert (refused.value.code, refused.value.field) == ("nothing_to_invoice", "period_start")
    m.rule(None)  # no funder: the client pays all
    client = build(m, "client", m.client.id)
    assert client.total == Decimal("33.33") * 5 + expected(
        Decimal("33.33"), Decimal(1), Decimal(100), Decimal(40)
    )


def test_the_booked_price_is_kept_when_the_catalogue_changes(month):
    from tenants.catalogue import services as catalogue
    from tenants.catalogue.models import ServiceItem

    m = month
    with db.tenant_scope(m.agency.id):
        item = db.session.get(ServiceItem, (m.agency.id, m.item_id))
        catalogue.change_terms(
            item,
            m.agency.today(),
            catalogue.TermsInput(price=Decimal("99.00"), unit="per_visit", duration_minutes=60),
            by=None,
        )
        db.session.commit()
    funder = build(m, "funder", m.funder.id)
    assert {line.unit_price for line in lines_of(m, funder.id)} == {Decimal("33.33")}


def test_adjust_issue_and_the_issued_invoice_never_changes(month):
    m = month
    draft = build(m, "funder", m.funder.id)
    with db.tenant_scope(m.agency.id):
        row = db.session.get(CareInvoice, (m.agency.id, draft.id))
        invoicing.adjust(row, "-2.50", "Visit of 12 March shortened", by=m.admin)
        db.session.commit()
        for amount, reason, code in (
            ("0", "x", "amount_invalid"),
            ("1.005", "x", "amount_invalid"),
            ("abc", "x", "amount_invalid"),
            ("9e99999999", "x", "amount_invalid"),
            ("NaN", "x", "amount_invalid"),
            ("3", " ", "reason_required"),
        ):
            with pytest.raises(BackOfficeError) as refused:
                invoicing.adjust(row, amount, reason, by=m.admin)
            assert refused.value.code == code
        issued = invoicing.issue(draft.id, by=m.admin)
        db.session.commit()
        assert (issued.number, issued.status) == (1, "issued")
        assert issued.total == Decimal("12.50") * 5 + Decimal("5.00") - Decimal("2.50")
        adjustment = db.session.scalar(select(CareInvoiceLine).where(CareInvoiceLine.kind == "adjustment"))
        assert (adjustment.amount, adjustment.by_user_id) == (Decimal("-2.50"), m.admin.id)
        with pytest.raises(BackOfficeError, match="not_draft"):
            invoicing.adjust(issued, "5", "late", by=m.admin)
        # the database itself refuses any change to it or its lines
        for statement in (
            update(CareInvoice).where(CareInvoice.id == draft.id).values(total=Decimal(1)),
            update(CareInvoiceLine).where(CareInvoiceLine.invoice_id == draft.id).values(amount=Decimal(1)),
            text("delete from care_invoice_lines where invoice_id = :i").bindparams(i=draft.id),
            text("delete from care_invoices where id = :i").bindparams(i=draft.id),
        ):
            with pytest.raises(DBAPIError, match="issued invoice"), db.session.begin_nested():
                db.session.execute(statement)
        # a line added to it: refused
        with pytest.raises(DBAPIError, match="issued invoice"), db.session.begin_nested():
            db.session.add(
                CareInvoiceLine(invoice_id=draft.id, kind="adjustment", amount=Decimal(9), reason="x")
            )
            db.session.flush()
    with db.tenant_scope(m.agency.id):
        from saas.models import AuditEvent

        actions = set(
            db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("invoice.%")))
        )
    assert {"invoice.drafted", "invoice.adjusted", "invoice.issued"} <= actions


def test_a_credit_note_reverses_an_issued_invoice_and_reopens_its_period(month):
    m = month
    first = build(m, "funder", m.funder.id)
    with db.tenant_scope(m.agency.id):
        invoicing.issue(first.id, by=m.admin)
        db.session.commit()
        with pytest.raises(BackOfficeError) as refused:
            invoicing.credit(first.id, "  ", by=m.admin)
        assert refused.value.field == "reason"
        note = invoicing.credit(first.id, "Wrong funder share", by=m.admin)
        db.session.commit()
        assert (note.kind, note.number, note.status, note.total) == ("credit_note", 1, "issued", -first.total)
        with pytest.raises(BackOfficeError, match="already_credited"):
            invoicing.credit(first.id, "again", by=m.admin)
        with pytest.raises(BackOfficeError, match="not_an_invoice"):
            invoicing.credit(note.id, "again", by=m.admin)
    credit_lines = lines_of(m, note.id)
    assert sorted(line.amount for line in credit_lines) == sorted(
        -line.amount for line in lines_of(m, first.id)
    )
    assert {line.kind for line in credit_lines} == {"credit"}
    # the period can be invoiced again, under the next invoice number
    m.rule("50")
    again = build(m, "funder", m.funder.id)
    with db.tenant_scope(m.agency.id):
        again = invoicing.issue(again.id, by=m.admin)
        db.session.commit()
    assert again.number == 2
    assert again.total == expected(Decimal("33.33"), Decimal(1), Decimal(50)) * 5 + expected(
        Decimal("33.33"), Decimal(1), Decimal(50), Decimal(40)
    )


def test_a_period_overlapping_an_issued_invoice_is_refused_naming_the_field(month, client):
    m = month
    first = build(m, "funder", m.funder.id, date(2026, 3, 1), date(2026, 3, 15))
    with db.tenant_scope(m.agency.id):
        invoicing.issue(first.id, by=m.admin)
        db.session.commit()
        before = db.session.scalar(select(func.count()).select_from(CareInvoice))
    login(client, m.admin)
    answer = client.post(
        f"/a/{m.agency.slug}/invoices/",
        data={"payer": f"funder:{m.funder.id}", "period_start": "2026-03-10", "period_end": "2026-03-31"},
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'id="period_start-error"' in page and "overlaps invoice INV-000001" in page
    with db.tenant_scope(m.agency.id):
        assert db.session.scalar(select(func.count()).select_from(CareInvoice)) == before
    # the rest of the month, after it, is fine; and another payer is not concerned
    answer = client.post(
        f"/a/{m.agency.slug}/invoices/",
        data={"payer": f"funder:{m.funder.id}", "period_start": "2026-03-16", "period_end": "2026-03-31"},
    )
    assert answer.status_code == 302
    answer = client.post(
        f"/a/{m.agency.slug}/invoices/",
        data={"payer": f"client:{m.client.id}", "period_start": "2026-03-01", "period_end": "2026-03-31"},
    )
    assert answer.status_code == 302


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"payer": "", "period_start": "2026-03-01", "period_end": "2026-03-31"}, "payer"),
        ({"payer": "funder:not-an-id", "period_start": "2026-03-01", "period_end": "2026-03-31"}, "payer"),
        ({"payer": "FUNDER", "period_start": "", "period_end": "2026-03-31"}, "period_start"),
        ({"payer": "FUNDER", "period_start": "2026-03-31", "period_end": "2026-03-01"}, "period_end"),
        ({"payer": "FUNDER", "period_start": "2026-13-01", "period_end": "2026-03-31"}, "period_start"),
        ({"payer": "FUNDER", "period_start": "2026-01-01", "period_end": "2026-03-31"}, "period_end"),
        ({"payer": "FUNDER", "period_start": "2026-03-01", "period_end": "2999-03-31"}, "period_end"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_keeps_nothing(month, client, form, field):
    m = month
    login(client, m.admin)
    form = {k: (f"funder:{m.funder.id}" if v == "FUNDER" else v) for k, v in form.items()}
    answer = client.post(f"/a/{m.agency.slug}/invoices/", data=form)
    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.get_data(as_text=True)
    with db.tenant_scope(m.agency.id):
        assert db.session.scalar(select(func.count()).select_from(CareInvoice)) == 0


def test_pages_downloads_and_a_fixed_number_of_statements(month, client):
    from tests.sqlcount import count_statements

    m = month
    draft = build(m, "funder", m.funder.id)
    login(client, m.admin)
    slug = m.agency.slug
    page = client.get(f"/a/{slug}/invoices/{draft.id}")
    assert page.status_code == 200 and "Harbour Council" in page.get_data(as_text=True)
    client.post(f"/a/{slug}/invoices/{draft.id}/adjust", data={"amount": "4.20", "reason": "Mileage"})
    answer = client.post(f"/a/{slug}/invoices/{draft.id}/issue")
    assert answer.status_code == 302
    pdf = client.get(f"/a/{slug}/invoices/{draft.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    csv = client.get(f"/a/{slug}/invoices/{draft.id}/export.csv").get_data(as_text=True)
    header, *rows = csv.lstrip("\ufeff").splitlines()
    assert header.split(",")[:3] == ["document_number", "document_type", "issued_on"]
    assert len(rows) == 7 and all(r.startswith("INV-000001,invoice,") for r in rows)
    xlsx = client.get(f"/a/{slug}/invoices/{draft.id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    with count_statements() as few:
        assert client.get(f"/a/{slug}/invoices/{draft.id}").status_code == 200
        assert client.get(f"/a/{slug}/invoices/").status_code == 200
        assert client.get(f"/a/{slug}/invoices/payers").status_code == 200
    # more lines, more invoices: the same statements
    other = build(m, "client", m.client.id)
    with count_statements() as more:
        assert client.get(f"/a/{slug}/invoices/{other.id}").status_code == 200
        assert client.get(f"/a/{slug}/invoices/").status_code == 200
        assert client.get(f"/a/{slug}/invoices/payers").status_code == 200
    assert more.count == few.count


def test_the_quality_summary_shows_invoiced_against_delivered(month, app_ctx):
    from tenants.quality import services as quality
    from tenants.quality.models import QualitySummary
    from tenants.quality.signals import sections_for

    m = month
    funder = build(m, "funder", m.funder.id)
    client = build(m, "client", m.client.id)
    with db.tenant_scope(m.agency.id):
        invoicing.issue(funder.id, by=None)
        db.session.commit()
        figures = quality.compute_figures(m.agency, date(2026, 3, 1), as_of=db.utcnow())
    stored = figures["sections"]["invoicing"]
    # delivered: five plan visits at 33.33 and the 90-minute hourly one at 18.50 an hour
    assert stored == {
        "delivered_visits": 6,
        "delivered_value": str(Decimal("33.33") * 5 + Decimal("27.75")),
        "invoiced": str(funder.total),  # the client's draft is not issued: not counted
    }
    assert client.status == "draft"
    (section,) = [
        s
        for s in sections_for(QualitySummary(month=date(2026, 3, 1), figures=figures))
        if s.key == "invoicing"
    ]
    rows = dict(section.rows)
    assert (
        rows["Invoiced against delivered"]
        == f"{(funder.total / Decimal('194.40') * 100).quantize(Decimal('0.1'))}%"
    )


def test_who_pays_page_refuses_bad_shares_and_a_new_plan_version_keeps_its_rule(month, client):
    from tenants.backoffice.models import PaymentRule
    from tenants.clients import services as clients
    from tenants.clients.models import Case, ServicePlan

    m = month
    login(client, m.admin)
    url = f"/a/{m.agency.slug}/invoices/payers/{m.plan.id}"
    for form, field in (
        ({"funder_id": str(m.funder.id), "funder_percent": "150"}, "funder_percent"),
        ({"funder_id": str(m.funder.id), "funder_percent": "abc"}, "funder_percent"),
        ({"funder_id": "", "funder_percent": "40"}, "funder_id"),
        ({"funder_id": str(uuid.uuid4()), "funder_percent": "40"}, "funder_id"),
    ):
        answer = client.post(url, data=form)
        assert answer.status_code == 422, form
        assert f'id="{field.replace("_id", "")}-{m.plan.id}-error"' in answer.get_data(as_text=True) or (
            f"{field}" in answer.get_data(as_text=True)
        )
    with db.tenant_scope(m.agency.id):
        rule = db.session.scalar(select(PaymentRule).where(PaymentRule.plan_id == m.plan.id))
        assert rule.funder_percent == Decimal("37.5"), "nothing kept"
    assert client.post(url, data={"funder_id": str(m.funder.id), "funder_percent": "60"}).status_code == 302
    assert client.get(f"/a/{m.agency.slug}/invoices/settings").status_code == 200
    # a new version of the plan, approved and activated, pays the same way
    with db.tenant_scope(m.agency.id):
        case = db.session.get(Case, (m.agency.id, m.case.id))
        new = clients.new_plan(case, by=m.coordinator)
        clients.submit_plan(new, case, by=m.coordinator)
        clients.approve_plan(m.agency, new, case, by=m.admin, role="admin")
        clients.activate_plan(new, case, by=m.admin)
        db.session.flush()
        rules = dict(
            db.session.execute(
                select(ServicePlan.version, PaymentRule.funder_percent).join(
                    PaymentRule, PaymentRule.plan_id == ServicePlan.id
                )
            ).all()
        )
    assert rules == {1: Decimal("60.00"), 2: Decimal("60.00")}


def test_a_credit_note_page_and_pdf(month, client):
    m = month
    first = build(m, "funder", m.funder.id)
    login(client, m.admin)
    slug = m.agency.slug
    client.post(f"/a/{slug}/invoices/{first.id}/issue")
    answer = client.post(f"/a/{slug}/invoices/{first.id}/credit", data={"reason": ""})
    assert answer.status_code == 422 and 'id="reason-error"' in answer.get_data(as_text=True)
    answer = client.post(f"/a/{slug}/invoices/{first.id}/credit", data={"reason": "Wrong share"})
    assert answer.status_code == 302
    note_url = answer.headers["Location"]
    page = client.get(note_url).get_data(as_text=True)
    assert "CN-000001" in page and "INV-000001" in page and "Wrong share" in page
    assert client.get(note_url + "/pdf").data.startswith(b"%PDF")
    # an issued invoice cannot be deleted or adjusted through the pages either
    client.post(f"/a/{slug}/invoices/{first.id}/delete")
    answer = client.post(f"/a/{slug}/invoices/{first.id}/adjust", data={"amount": "5", "reason": "x"})
    assert answer.status_code == 422
    with db.tenant_scope(m.agency.id):
        assert db.session.get(CareInvoice, (m.agency.id, first.id)).total == first.total


@pytest.mark.parametrize(
    ("path", "form"),
    [
        (
            "/invoices/",
            {
                "payer": "client:" + str(uuid.UUID(int=7)),
                "period_start": "0001-01-01",
                "period_end": "0001-01-31",
            },
        ),
        ("/invoices/", {"payer": "funder:", "period_start": "9999-12-01", "period_end": "9999-12-31"}),
        ("/invoices/", {"payer": "x" * 5000, "period_start": "2026-02-30", "period_end": "2026-03-01"}),
        ("/timesheets/", {"staff_id": "", "period_start": "0001-01-01", "period_end": "0001-01-05"}),
        (
            "/timesheets/",
            {"staff_id": str(uuid.UUID(int=7)), "period_start": "2026-03-02", "period_end": "2026-03-08"},
        ),
        ("/invoices/DRAFT/adjust", {"amount": "1e-99999999", "reason": "x"}),
        ("/invoices/DRAFT/adjust", {"amount": "-9" * 30, "reason": "x" * 3000}),
        ("/invoices/DRAFT/credit", {"reason": "a draft is not credited"}),
        (
            "/invoices/DRAFT/credit-lines",
            {"reason": "x", "lines-0-line_id": "nonsense", "lines-0-amount": "1"},
        ),
        ("/invoices/DRAFT/credit-lines", {"lines-99999-amount": "1e999999", "lines-x-line_id": "\u2028"}),
        ("/invoices/payers/PLAN", {"funder_id": "FUNDER", "funder_percent": "1e-99999999"}),
        ("/invoices/payers/PLAN", {"funder_id": "FUNDER", "funder_percent": "9e99999999"}),
        ("/invoices/payers/PLAN", {"funder_id": "nonsense", "funder_percent": ""}),
    ],
)
def test_odd_input_never_answers_500(month, client, path, form):
    m = month
    draft = build(m, "funder", m.funder.id)
    login(client, m.admin)
    names = {"DRAFT": str(draft.id), "PLAN": str(m.plan.id), "FUNDER": str(m.funder.id)}
    for key, value in names.items():
        path = path.replace(key, value)
        form = {k: v.replace(key, value) for k, v in form.items()}
    answer = client.post(f"/a/{m.agency.slug}{path}", data=form)
    assert answer.status_code in (302, 422), answer.status_code
    with db.tenant_scope(m.agency.id):
        assert db.session.get(CareInvoice, (m.agency.id, draft.id)).total == draft.total
