"""The back office's API: invoices with their lines and timesheets with
their entries, for those who may see them on the pages; lists paged by
cursor and filtered, with ETags; partial credit notes taken once per
Idempotency-Key."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from saas import db
from tenants.backoffice import invoicing, timesheets
from tenants.backoffice.models import CareInvoice
from tests.backoffice.helpers import MARCH, Month


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_invoices_and_timesheets_read_through_the_api(factory, dbconn, client):
    m = Month(factory)
    visits = m.plan_visits()
    m.work(visits[0], "09:02", "10:01")
    m.rule("40")
    with db.tenant_scope(m.agency.id):
        draft = invoicing.build_draft(m.agency, invoicing.Payer("funder", m.funder.id), *MARCH, by=None)
        invoicing.issue(draft.id, by=None)
        timesheets.build(m.agency, date(2026, 3, 2), date(2026, 3, 15), None, by=None)
        db.session.commit()
    admin = factory.api_token(m.admin_membership)
    answer = client.get("/api/v1/invoices", headers=bearer(admin))
    assert answer.status_code == 200
    (listed,) = answer.json["items"]
    assert (listed["number"], listed["status"], listed["total"]) == ("INV-000001", "issued", "13.33")
    one = client.get(f"/api/v1/invoices/{draft.id}", headers=bearer(admin)).json
    assert [(line["kind"], line["amount"], line["share_percent"]) for line in one["lines"]] == [
        ("visit", "13.33", "40.00")
    ]
    coordinator = factory.api_token(m.coordinator_membership)
    assert client.get("/api/v1/invoices", headers=bearer(coordinator)).status_code == 403
    (sheet,) = client.get("/api/v1/timesheets", headers=bearer(coordinator)).json["items"]
    assert (sheet["staff_id"], sheet["visit_minutes"], sheet["status"]) == (str(m.carer.id), 59, "draft")
    entries = client.get(f"/api/v1/timesheets/{sheet['id']}", headers=bearer(coordinator)).json["entries"]
    assert [(e["kind"], e["day"], e["booked_minutes"], e["minutes"]) for e in entries] == [
        ("visit", "2026-03-02", 60, 59)
    ]
    assert "/api/v1/invoices/{care_invoice_id}" in client.get("/api/v1/openapi.json").json["paths"]


def _month_of_invoices(factory):
    """Three issued invoices of March (the funder's, the client's, the other
    client's) and two timesheets of two carers."""
    m = Month(factory)
    visits = m.plan_visits()
    m.work(visits[0], "09:02", "10:01")
    m.deliver(visits[1])
    m.deliver(visits[4])  # 16 March: the second pay period
    m.hourly_visit(visits[0].starts_at.replace(hour=14))
    m.rule("40")
    made = {}
    with db.tenant_scope(m.agency.id):
        for key, payer in (("funder", m.funder.id), ("client", m.client.id), ("other", m.other.id)):
            kind = "funder" if key == "funder" else "client"
            draft = invoicing.build_draft(m.agency, invoicing.Payer(kind, payer), *MARCH, by=None)
            made[key] = invoicing.issue(draft.id, by=None)
        timesheets.build(m.agency, date(2026, 3, 2), date(2026, 3, 15), None, by=None)
        timesheets.build(m.agency, date(2026, 3, 16), date(2026, 3, 29), None, by=None)
        db.session.commit()
    return m, made


def test_lists_are_paged_filtered_and_conditional(factory, dbconn, client):
    m, made = _month_of_invoices(factory)
    admin = bearer(factory.api_token(m.admin_membership))
    seen, cursor = [], None
    for _ in range(5):
        answer = client.get(
            "/api/v1/invoices", query_string={"limit": 2, "cursor": cursor or ""}, headers=admin
        )
        assert answer.status_code == 200
        seen += [i["id"] for i in answer.json["items"]]
        cursor = answer.json["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(made[k].id) for k in ("funder", "client", "other")]  # by creation, each once

    def ids(**query) -> list[str]:
        answer = client.get("/api/v1/invoices", query_string=query, headers=admin)
        assert answer.status_code == 200, answer.json
        return [i["id"] for i in answer.json["items"]]

    assert ids(funder_id=str(m.funder.id)) == [str(made["funder"].id)]
    assert ids(client_id=str(m.other.id)) == [str(made["other"].id)]
    assert ids(status="draft") == [] and len(ids(status="issued")) == 3
    assert ids(kind="credit_note") == []
    assert len(ids(**{"from": "2026-03-31", "to": "2026-04-30"})) == 3
    assert ids(**{"from": "2026-04-01"}) == [] and ids(to="2026-02-28") == []
    listed = client.get("/api/v1/invoices", query_string={"funder_id": str(m.funder.id)}, headers=admin).json
    assert (
        listed["items"][0]["credited"] == "0.00"
        and listed["items"][0]["remaining"] == listed["items"][0]["total"]
    )

    for query, field, status in (
        ({"status": "paid"}, "status", 422),
        ({"kind": "bill"}, "kind", 422),
        ({"from": "2026-13-01"}, "from", 400),
        ({"to": "yesterday"}, "to", 400),
        ({"from": "2026-03-31", "to": "2026-03-01"}, "to", 422),
        ({"funder_id": "not-an-id"}, "funder_id", 400),
        ({"client_id": "1"}, "client_id", 400),
        ({"limit": "0"}, "limit", 422),
        ({"cursor": "!!!"}, "cursor", 400),
    ):
        refused = client.get("/api/v1/invoices", query_string=query, headers=admin)
        assert refused.status_code == status, (query, refused.json)
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json["field"] == field

    # ETag and If-None-Match, on a page of the list and on one invoice
    answer = client.get("/api/v1/invoices", headers=admin)
    etag = answer.headers["ETag"]
    assert client.get("/api/v1/invoices", headers={**admin, "If-None-Match": etag}).status_code == 304
    one = client.get(f"/api/v1/invoices/{made['funder'].id}", headers=admin)
    again = client.get(
        f"/api/v1/invoices/{made['funder'].id}", headers={**admin, "If-None-Match": one.headers["ETag"]}
    )
    assert again.status_code == 304

    coordinator = bearer(factory.api_token(m.coordinator_membership))
    sheets = client.get("/api/v1/timesheets", query_string={"limit": 1}, headers=coordinator).json
    assert len(sheets["items"]) == 1 and sheets["next_cursor"]
    rest = client.get(
        "/api/v1/timesheets", query_string={"limit": 1, "cursor": sheets["next_cursor"]}, headers=coordinator
    ).json
    assert [s["period_start"] for s in sheets["items"] + rest["items"]] == ["2026-03-02", "2026-03-16"]

    def sheet_days(**query) -> list[str]:
        answer = client.get("/api/v1/timesheets", query_string=query, headers=coordinator)
        assert answer.status_code == 200, answer.json
        return [s["period_start"] for s in answer.json["items"]]

    assert sheet_days(staff_id=str(m.carer.id)) == ["2026-03-02", "2026-03-16"]
    assert sheet_days(staff_id=str(uuid.uuid4())) == []
    assert sheet_days(**{"from": "2026-03-20"}) == ["2026-03-16"]
    assert sheet_days(to="2026-03-15") == ["2026-03-02"]
    assert sheet_days(status="approved") == [] and len(sheet_days(status="draft")) == 2
    etag = client.get("/api/v1/timesheets", headers=coordinator).headers["ETag"]
    assert client.get("/api/v1/timesheets", headers={**coordinator, "If-None-Match": etag}).status_code == 304
    for query, field in (
        ({"staff_id": "x"}, "staff_id"),
        ({"status": "paid"}, "status"),
        ({"from": "x"}, "from"),
    ):
        refused = client.get("/api/v1/timesheets", query_string=query, headers=coordinator)
        assert refused.status_code in (400, 422) and refused.json["field"] == field

    spec = client.get("/api/v1/openapi.json").json
    invoices = spec["paths"]["/api/v1/invoices"]["get"]
    names = {p["name"] for p in invoices["parameters"]}
    assert {
        "cursor",
        "limit",
        "status",
        "kind",
        "from",
        "to",
        "funder_id",
        "client_id",
        "If-None-Match",
    } <= names
    assert {"200", "304", "400", "422"} <= set(invoices["responses"])
    assert invoices["responses"]["200"]["content"]["application/json"]["example"]["items"]
    sheets_op = spec["paths"]["/api/v1/timesheets"]["get"]
    assert {"staff_id", "from", "to", "status"} <= {p["name"] for p in sheets_op["parameters"]}
    credit = spec["paths"]["/api/v1/invoices/{care_invoice_id}/credit-notes"]["post"]
    assert {"201", "409", "422"} <= set(credit["responses"])
    assert "Idempotency-Key" in {p["name"] for p in credit["parameters"]}
    assert credit["requestBody"]["content"]["application/json"]["example"]["lines"]


def test_a_partial_credit_note_through_the_api_is_taken_once(factory, dbconn, client):
    m, made = _month_of_invoices(factory)
    admin = bearer(factory.api_token(m.admin_membership))
    invoice = client.get(f"/api/v1/invoices/{made['funder'].id}", headers=admin).json
    line = invoice["lines"][0]
    assert (line["credited"], line["remaining"]) == ("0.00", line["amount"])
    url = f"/api/v1/invoices/{invoice['id']}/credit-notes"
    too_much = str(Decimal(line["amount"]) + Decimal("0.01"))
    for body, field, status in (
        ({"reason": "x", "lines": [{"line_id": line["id"], "amount": too_much}]}, "lines-0-amount", 422),
        ({"reason": "x", "lines": [{"line_id": str(uuid.uuid4())}]}, "lines-0-line_id", 400),
        ({"reason": "x", "lines": [{"line_id": 7}]}, "lines-0-line_id", 422),
        ({"reason": "x", "lines": [{"line_id": line["id"], "amount": True}]}, "lines-0-amount", 422),
        ({"reason": "x", "lines": [{"line_id": line["id"], "amount": "abc"}]}, "lines-0-amount", 400),
        ({"reason": "x", "lines": "all"}, "lines", 422),
        ({"reason": "", "lines": [{"line_id": line["id"]}]}, "reason", 400),
        ({"reason": 5, "lines": []}, "reason", 422),
    ):
        refused = client.post(url, json=body, headers=admin)
        assert refused.status_code == status, (body, refused.json)
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json["field"] == field
    half = str((Decimal(line["amount"]) / 2).quantize(Decimal("0.01")))
    body = {"reason": "Visit shortened", "lines": [{"line_id": line["id"], "amount": half}]}
    key = {**admin, "Idempotency-Key": str(uuid.uuid4())}
    first = client.post(url, json=body, headers=key)
    assert first.status_code == 201, first.json
    note = first.json
    assert (note["kind"], note["partial"], note["number"], note["total"]) == (
        "credit_note",
        True,
        "CN-000001",
        f"-{half}",
    )
    assert [(x["kind"], x["amount"], x["credits_line_id"]) for x in note["lines"]] == [
        ("credit", f"-{half}", line["id"])
    ]
    replay = client.post(url, json=body, headers=key)
    assert replay.status_code == 201 and replay.json["id"] == note["id"]
    with db.tenant_scope(m.agency.id):
        assert (
            db.session.scalar(
                select(func.count()).select_from(CareInvoice).where(CareInvoice.kind == "credit_note")
            )
            == 1
        )
    after = client.get(f"/api/v1/invoices/{invoice['id']}", headers=admin).json
    left = Decimal(line["amount"]) - Decimal(half)
    assert after["credited"] == half and after["remaining"] == str(Decimal(invoice["total"]) - Decimal(half))
    assert (after["lines"][0]["credited"], after["lines"][0]["remaining"]) == (half, str(left))
    # the rest of the line (no amount: all that remains), a new key: the next number
    rest = client.post(url, json={"reason": "Rest", "lines": [{"line_id": line["id"]}]}, headers=admin)
    assert rest.status_code == 201 and rest.json["number"] == "CN-000002" and rest.json["total"] == f"-{left}"
    refused = client.post(
        url, json={"reason": "More", "lines": [{"line_id": line["id"], "amount": "1"}]}, headers=admin
    )
    assert refused.status_code == 422 and refused.json["field"] == "lines-0-amount"
    notes = client.get("/api/v1/invoices", query_string={"kind": "credit_note"}, headers=admin).json["items"]
    assert [(n["number"], n["credits_invoice_id"], n["credited"]) for n in notes] == [
        ("CN-000001", invoice["id"], None),
        ("CN-000002", invoice["id"], None),
    ]
    coordinator = bearer(factory.api_token(m.coordinator_membership))
    # not for coordinators: the invoice is not theirs to see (404, as on the pages)
    assert client.post(url, json=body, headers=coordinator).status_code == 404


ODD = [
    "",
    " ",
    "0",
    "-1",
    "1e999",
    "9" * 40,
    "٢٠٢٦-٠٣-٠١",
    "20260301",
    "2026-02-30",
    "null",
    "[]",
    "x" * 3000,
]


def test_odd_input_never_answers_500(factory, dbconn, client):
    m, made = _month_of_invoices(factory)
    admin = bearer(factory.api_token(m.admin_membership))
    for name in ("status", "kind", "from", "to", "funder_id", "client_id", "cursor", "limit"):
        for value in ODD:
            answer = client.get("/api/v1/invoices", query_string={name: value}, headers=admin)
            assert answer.status_code in (200, 400, 422), (name, value, answer.status_code)
    for name in ("status", "staff_id", "from", "to", "cursor"):
        for value in ODD:
            answer = client.get("/api/v1/timesheets", query_string={name: value}, headers=admin)
            assert answer.status_code in (200, 400, 422), (name, value, answer.status_code)
    invoice = client.get(f"/api/v1/invoices/{made['funder'].id}", headers=admin).json
    line_id = invoice["lines"][0]["id"]
    url = f"/api/v1/invoices/{invoice['id']}/credit-notes"
    bodies = [
        [],
        "text",
        {},
        {"reason": "x"},
        {"reason": None, "lines": None},
        {"reason": "x", "lines": [None]},
        {"reason": "x", "lines": [{}]},
        {"reason": "x", "lines": [{"line_id": line_id, "amount": {"a": 1}}]},
        {"reason": "x", "lines": [{"line_id": line_id, "amount": 1e308}]},
        {"reason": "x", "lines": [{"line_id": line_id, "amount": -0.0}]},
        {"reason": "x", "lines": [{"line_id": line_id, "amount": "NaN"}]},
        {"reason": "x", "lines": [{"line_id": line_id, "amount": "Infinity"}]},
        {"reason": "x", "lines": [{"line_id": line_id, "amount": "0.001"}]},
        {"reason": "x", "lines": [{"line_id": "x" * 5000, "amount": "1"}]},
        {"reason": "x" * 3000, "lines": [{"line_id": line_id}]},
    ]
    for body in bodies:
        answer = client.post(url, json=body, headers=admin)
        assert answer.status_code in (400, 409, 422), (body, answer.status_code)
    draft_url = "/api/v1/invoices/" + str(uuid.uuid4()) + "/credit-notes"
    assert client.post(draft_url, json=bodies[-1], headers=admin).status_code == 404
    with db.tenant_scope(m.agency.id):
        assert (
            db.session.scalar(
                select(func.count()).select_from(CareInvoice).where(CareInvoice.kind == "credit_note")
            )
            == 0
        )
