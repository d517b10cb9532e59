"""The operator console: agencies, first admins, suspension, outbox, audit."""

from __future__ import annotations

from sqlalchemy import func, select

from saas import db
from saas.models import Agency, AuditEvent, MailMessage, Membership, PlatformAuditEvent, Role
from tests.factories import login, run_jobs, unique


def operator_client(client, factory, *, through_pages: bool = False):
    operator = factory.user(operator=True, totp=True)
    login(client, operator, through_pages=through_pages)
    return operator


def test_operator_creates_agency_and_invites_admin(client, factory):
    operator_client(client, factory)
    slug = unique("new")
    response = client.post(
        "/operator/agencies/new",
        data={"name": "Harbour Care", "slug": slug.upper(), "timezone": "Asia/Shanghai", "locale": "zh_CN",
              "admin_email": f"boss@{slug}.example"},
    )  # fmt: skip
    assert response.status_code == 302
    agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
    assert agency is not None and agency.timezone == "Asia/Shanghai" and agency.locale == "zh_CN"
    assert run_jobs("auth.send_invitation") == 1, "the worker mails the invitation"
    mail = db.session.scalar(select(MailMessage).where(MailMessage.to_address == f"boss@{slug}.example"))
    assert mail is not None and "/invite/" in mail.body and mail.agency_id == agency.id
    listing = client.get("/operator/")
    assert "Harbour Care" in listing.text and f"/a/{slug}/" in listing.text
    outbox = client.get("/operator/outbox")
    assert mail.subject in outbox.text
    assert "/invite/" in client.get(f"/operator/outbox/{mail.id}").text
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "member.invited"))


def test_agency_form_errors(client, factory):
    operator_client(client, factory)
    existing = factory.agency()
    cases = {
        existing.slug: "already taken",
        "operator": "reserved",
        "api": "reserved",
        "Bad Slug!": "lowercase letters",
        "-x-": "lowercase letters",
    }
    before = db.session.scalar(select(func.count()).select_from(Agency))
    for slug, message in cases.items():
        response = client.post(
            "/operator/agencies/new",
            data={"name": "Dup", "slug": slug, "timezone": "Europe/London", "locale": "en"},
        )
        assert response.status_code == 200 and message in response.text, slug
    bad_tz = client.post(
        "/operator/agencies/new",
        data={"name": "X", "slug": unique("tz"), "timezone": "Mars/Base", "locale": "en"},
    )
    assert bad_tz.status_code == 200 and "Not a valid choice" in bad_tz.text
    bad_email = client.post(
        "/operator/agencies/new",
        data={
            "name": "X",
            "slug": unique("em"),
            "timezone": "Europe/London",
            "locale": "en",
            "admin_email": "nope",
        },
    )
    assert bad_email.status_code == 200 and "Invalid email address" in bad_email.text
    assert db.session.scalar(select(func.count()).select_from(Agency)) == before, "nothing half-saved"


def test_suspension_shows_clear_page_and_nothing_else(client, factory, app):
    agency = factory.agency()
    carer, _ = factory.member(agency, Role.CARER)
    operator_client(client, factory)
    assert (
        client.post(f"/operator/agencies/{agency.id}/suspend", data={"reason": "unpaid"}).status_code == 302
    )
    member = app.test_client()
    login(member, carer)
    page = member.get(f"/a/{agency.slug}/")
    assert page.status_code == 403
    assert "suspended" in page.text
    assert "Members" not in page.text and "API tokens" not in page.text
    with db.tenant_scope(agency.id):
        actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "agency.suspended" in actions
    assert db.session.scalar(
        select(PlatformAuditEvent.details).where(PlatformAuditEvent.action == "agency.suspended")
    ) == {"reason": "unpaid"}
    client.post(f"/operator/agencies/{agency.id}/reactivate", data={})
    assert member.get(f"/a/{agency.slug}/").status_code == 200


def test_operator_sees_members_of_an_agency(client, factory):
    agency = factory.agency()
    carer, _ = factory.member(agency, Role.CARER)
    operator_client(client, factory)
    page = client.get(f"/operator/agencies/{agency.id}")
    assert carer.email in page.text
    assert client.get("/operator/agencies/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/operator/agencies/not-a-uuid").status_code == 404


def test_invite_admin_to_existing_agency(client, factory):
    agency = factory.agency()
    operator_client(client, factory)
    email = f"{unique('adm')}@example.net"
    client.post(f"/operator/agencies/{agency.id}/invite", data={"email": email})
    assert run_jobs("auth.send_invitation") == 1
    assert db.session.scalar(select(MailMessage).where(MailMessage.to_address == email))
    admin, _ = factory.member(agency, Role.ADMIN)
    again = client.post(
        f"/operator/agencies/{agency.id}/invite", data={"email": admin.email}, follow_redirects=True
    )
    assert "already a member" in again.text


def test_platform_audit_log_visible_to_operators(client, factory):
    operator = operator_client(client, factory, through_pages=True)  # its sign-in is on the log
    page = client.get("/operator/audit")
    assert page.status_code == 200 and operator.email in page.text
    assert 'data-action="auth.signed_in">Signed in<' in page.text


def test_member_counts_read_across_agencies(client, factory):
    a = factory.agency()
    for role in (Role.CARER, Role.CARER, Role.CLIENT):
        factory.member(a, role)
    operator_client(client, factory)
    page = client.get("/operator/")
    row = next(line for line in page.text.split("<tr>") if f"/a/{a.slug}/" in line)
    assert "<td>3</td>" in row
    with db.tenant_scope(a.id):
        assert len(db.session.scalars(select(Membership)).all()) == 3
