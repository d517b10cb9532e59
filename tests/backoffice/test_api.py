"""The back office's read-only API: invoices with their lines and timesheets
with their entries, for those who may see them on the pages."""

from __future__ import annotations

from datetime import date

from saas import db
from tenants.backoffice import invoicing, timesheets
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
    (listed,) = answer.json["invoices"]
    assert (listed["number"], listed["status"], listed["total"]) == ("INV-000001", "issued", "13.33")
    one = client.get(f"/api/v1/invoices/{draft.id}", headers=bearer(admin)).json
    assert [(line["kind"], line["amount"], line["share_percent"]) for line in one["lines"]] == [
        ("visit", "13.33", "40.00")
    ]
    coordinator = factory.api_token(m.coordinator_membership)
    assert client.get("/api/v1/invoices", headers=bearer(coordinator)).status_code == 403
    (sheet,) = client.get("/api/v1/timesheets", headers=bearer(coordinator)).json["timesheets"]
    assert (sheet["staff_id"], sheet["visit_minutes"], sheet["status"]) == (str(m.carer.id), 59, "draft")
    entries = client.get(f"/api/v1/timesheets/{sheet['id']}", headers=bearer(coordinator)).json["entries"]
    assert [(e["kind"], e["day"], e["booked_minutes"], e["minutes"]) for e in entries] == [
        ("visit", "2026-03-02", 60, 59)
    ]
    assert "/api/v1/invoices/{care_invoice_id}" in client.get("/api/v1/openapi.json").json["paths"]
