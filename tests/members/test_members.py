"""Agency admins manage who belongs: invitations, roles, deactivation."""

from __future__ import annotations

import re

from sqlalchemy import select

from saas import db
from saas.jobs import run_outbox_entry
from saas.models import ApiToken, AuditEvent, Invitation, MailMessage, Membership, OutboxEntry, Role
from tests.factories import login, run_jobs, unique
from tests.sqlcount import count_statements


def test_admin_invites_changes_role_and_deactivates(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    carer, carer_m = factory.member(agency, Role.CARER)
    login(client, admin)
    email = f"{unique('inv')}@example.net"
    response = client.post(f"/a/{agency.slug}/members/invite", data={"email": email, "role": "client"})
    assert response.status_code == 302
    assert run_jobs("auth.send_invitation") == 1
    assert db.session.scalar(select(MailMessage.subject).where(MailMessage.to_address == email))
    page = client.get(f"/a/{agency.slug}/members")
    assert email in page.text and carer.email in page.text

    assert (
        client.post(f"/a/{agency.slug}/members/{carer_m.id}/role", data={"role": "coordinator"}).status_code
        == 302
    )
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(Membership.role).where(Membership.id == carer_m.id)) == "coordinator"
    client.post(f"/a/{agency.slug}/members/{carer_m.id}/deactivate")
    other = client.application.test_client()
    login(other, carer)
    assert other.get(f"/a/{agency.slug}/").status_code == 404, "deactivated members are out"
    with db.tenant_scope(agency.id):
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"member.invited", "member.role_changed", "member.deactivated"} <= actions
    client.post(f"/a/{agency.slug}/members/{carer_m.id}/reactivate")
    back = other.get(f"/a/{agency.slug}/")
    assert back.status_code == 302 and back.location.endswith("/account/two-factor"), "a coordinator now"


def invitation_mails(email: str) -> list[MailMessage]:
    return db.session.scalars(select(MailMessage).where(MailMessage.to_address == email)).all()


def test_the_invitation_is_mailed_by_a_job_once(client, agency, admin):
    email = f"{unique('inv')}@example.net"
    assert (
        client.post(f"/a/{agency.slug}/members/invite", data={"email": email, "role": "carer"}).status_code
        == 302
    )
    assert invitation_mails(email) == [], "the request only records the invitation"
    page = client.get(f"/a/{agency.slug}/members")
    assert email in page.text and 'data-testid="being-sent"' in page.text

    assert run_jobs("auth.send_invitation") == 1
    [mail] = invitation_mails(email)
    link = next(line for line in mail.body.splitlines() if "/invite/" in line)
    token = link.rsplit("/", 1)[-1]
    assert client.get(f"/invite/{token}").status_code == 200
    page = client.get(f"/a/{agency.slug}/members")
    assert email in page.text and 'data-testid="being-sent"' not in page.text

    # this invitation's job (other tests' invitations share the database)
    with db.tenant_scope(agency.id):
        invitation_id = db.session.scalar(select(Invitation.id).where(Invitation.email == email))
    sent = db.session.scalars(select(OutboxEntry).where(OutboxEntry.job == "auth.send_invitation")).all()
    (entry,) = [e.id for e in sent if e.args.get("invitation_id") == str(invitation_id)]
    assert run_outbox_entry(str(entry)) == "already done", "a redelivered job sends nothing"
    assert len(invitation_mails(email)) == 1


def test_a_withdrawn_or_replaced_invitation_is_never_mailed(client, agency, admin):
    withdrawn, replaced = f"{unique('w')}@example.net", f"{unique('r')}@example.net"
    client.post(f"/a/{agency.slug}/members/invite", data={"email": withdrawn, "role": "carer"})
    with db.tenant_scope(agency.id):
        first = db.session.scalar(select(Invitation.id).where(Invitation.email == withdrawn))
    client.post(f"/a/{agency.slug}/members/invitations/{first}/revoke")
    client.post(f"/a/{agency.slug}/members/invite", data={"email": replaced, "role": "carer"})
    client.post(f"/a/{agency.slug}/members/invite", data={"email": replaced, "role": "coordinator"})
    assert run_jobs("auth.send_invitation") == 3
    assert invitation_mails(withdrawn) == []
    [mail] = invitation_mails(replaced)
    assert "as Coordinator" in mail.body, "only the invitation that replaced the first one"


def test_inviting_does_the_same_work_whether_the_address_has_an_account(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    elsewhere, _ = factory.member(factory.agency(), Role.CARER)
    login(client, admin)
    client.get(f"/a/{agency.slug}/members")
    invite = f"/a/{agency.slug}/members/invite"
    with count_statements() as known:
        first = client.post(invite, data={"email": elsewhere.email.upper(), "role": "carer"})
    with count_statements() as unknown:
        second = client.post(invite, data={"email": f"{unique('nobody')}@example.net", "role": "carer"})
    assert first.status_code == second.status_code == 302
    assert known.statements == unknown.statements, "the same work whether the account exists or not"
    assert not any("mail_messages" in s for s in known.statements), "the job makes the link and mails it"
    with db.tenant_scope(agency.id):
        hashes = db.session.scalars(select(Invitation.token_hash)).all()
    assert hashes == ["", ""], "no usable link before the job ran"


def test_invite_bad_input(client, agency, admin):
    bad = client.post(f"/a/{agency.slug}/members/invite", data={"email": "not-an-email", "role": "carer"})
    assert bad.status_code == 422 and "Invalid email address" in bad.text
    bad_role = client.post(
        f"/a/{agency.slug}/members/invite", data={"email": "a@example.net", "role": "king"}
    )
    assert bad_role.status_code == 422 and "Not a valid choice" in bad_role.text
    dup = client.post(f"/a/{agency.slug}/members/invite", data={"email": admin.email, "role": "carer"})
    assert dup.status_code == 422 and "already a member" in dup.text
    with db.tenant_scope(agency.id):
        assert db.session.scalars(select(Invitation)).all() == []


def test_last_admin_and_self_protection(client, factory):
    agency = factory.agency()
    admin, admin_m = factory.member(agency, Role.ADMIN)
    login(client, admin)
    r = client.post(
        f"/a/{agency.slug}/members/{admin_m.id}/role", data={"role": "carer"}, follow_redirects=True
    )
    assert "at least one active admin" in r.text
    r = client.post(f"/a/{agency.slug}/members/{admin_m.id}/deactivate", follow_redirects=True)
    assert "cannot deactivate yourself" in r.text
    with db.tenant_scope(agency.id):
        m = db.session.scalar(select(Membership).where(Membership.id == admin_m.id))
        assert m.role == "admin" and m.active


def test_roles_limit_pages(client, factory):
    agency = factory.agency()
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    login(client, coordinator)
    assert client.get(f"/a/{agency.slug}/members").status_code == 200
    assert (
        client.post(
            f"/a/{agency.slug}/members/invite", data={"email": "x@example.net", "role": "admin"}
        ).status_code
        == 403
    )
    assert client.get(f"/a/{agency.slug}/audit").status_code == 403


def test_withdraw_invitation(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    invitation, token = factory.invitation(agency, f"{unique('w')}@example.net")
    login(client, admin)
    client.post(f"/a/{agency.slug}/members/invitations/{invitation.id}/revoke")
    assert client.get(f"/invite/{token}").status_code == 404


def test_agency_audit_log_page(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    factory.invitation(agency, f"{unique('a')}@example.net", by=admin)
    login(client, admin)
    page = client.get(f"/a/{agency.slug}/audit")
    assert 'data-action="member.invited">Member invited<' in page.text and admin.email in page.text
    # the action in the reader's language, never its code
    client.post("/language", data={"locale": "zh_CN"})
    assert 'data-action="member.invited">已邀请成员<' in client.get(f"/a/{agency.slug}/audit").text


def test_api_tokens_page(client, factory):
    agency = factory.agency()
    carer, membership = factory.member(agency, Role.CARER)
    login(client, carer)
    # nothing ticked: refused next to the field, nothing made
    refused = client.post(f"/a/{agency.slug}/tokens", data={"name": "my phone"})
    assert (
        "Choose at least one of read and write." in refused.text
        and 'data-testid="new-token"' not in refused.text
    )
    # as the page comes, every box ticked
    page = client.get(f"/a/{agency.slug}/tokens")
    ticked = {
        "kinds": ["read", "write"],
        "areas": re.findall(r'name="areas"[^>]*value="([a-z]+)"', page.text),
    }
    assert "scheduling" in ticked["areas"] and "checked" in page.text
    created = client.post(f"/a/{agency.slug}/tokens", data={"name": "my phone", **ticked})
    token = created.text.split('data-testid="new-token">')[1].split("<")[0]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with db.tenant_scope(agency.id):
        row = db.session.scalar(select(ApiToken).where(ApiToken.membership_id == membership.id))
        assert row.token_hash != token and token.split(".")[-1] not in row.token_hash
    assert client.post(f"/a/{agency.slug}/tokens", data={"name": ""}).status_code == 200
    client.post(f"/a/{agency.slug}/tokens/{row.id}/revoke")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_someone_elses_token_is_not_found(client, factory):
    agency = factory.agency()
    carer, _ = factory.member(agency, Role.CARER)
    _other, other_m = factory.member(agency, Role.CARER)
    factory.api_token(other_m)
    with db.tenant_scope(agency.id):
        other_token = db.session.scalar(select(ApiToken.id).where(ApiToken.membership_id == other_m.id))
    login(client, carer)
    assert client.post(f"/a/{agency.slug}/tokens/{other_token}/revoke").status_code == 404


def test_member_search_is_literal(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN, name="Ann Admin")
    factory.member(agency, Role.CARER, name="Bob 100% Reliable")
    login(client, admin)

    def listed(query: str) -> str:
        # the page's own content: the account menu in the frame names the admin
        page = client.get(f"/a/{agency.slug}/members?{query}").text
        return page.split("<main", 1)[1].split("</main>", 1)[0]

    assert "Bob 100% Reliable" in listed("q=100%25")
    page = listed("q=%25")
    assert "Bob 100% Reliable" in page and "Ann Admin" not in page, "% is not a wildcard"
    assert "Ann Admin" not in listed("q=_")
    carers = listed("role=carer")
    assert "Bob 100% Reliable" in carers and "Ann Admin" not in carers


def test_members_page_costs_the_same_at_any_size(client, factory):
    from tests.sqlcount import count_statements

    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    with count_statements() as small:
        assert client.get(f"/a/{agency.slug}/members").status_code == 200
    for _ in range(60):
        factory.member(agency, Role.CARER)
    with count_statements() as large:
        assert client.get(f"/a/{agency.slug}/members").status_code == 200
    assert large.count == small.count, large.statements
