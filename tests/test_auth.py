"""Sign-in, sessions, two-factor, password rules and resets, invitations."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from saas import db
from saas.auth.passwords import password_problem, verify_password
from saas.models import (
    Invitation,
    MailMessage,
    Membership,
    PasswordReset,
    PlatformAuditEvent,
    Role,
    User,
    UserSession,
)
from tests.factories import PASSWORD, login, totp_now, unique


def audit_actions(user_id=None) -> list[str]:
    stmt = select(PlatformAuditEvent.action).order_by(PlatformAuditEvent.at)
    if user_id:
        stmt = stmt.where(PlatformAuditEvent.actor_id == user_id)
    return list(db.session.scalars(stmt))


# -- sign-in -----------------------------------------------------------------


def test_sign_in_lands_on_the_only_agency(client, factory):
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == f"/a/{agency.slug}/"
    assert "auth.signed_in" in audit_actions(user.id)
    home = client.get(response.location)
    assert home.status_code == 200 and agency.name in home.text


def test_wrong_password_says_nothing_about_the_account(client, factory):
    user = factory.user()
    wrong = client.post("/login", data={"email": user.email, "password": "not-the-password-1"})
    unknown = client.post(
        "/login", data={"email": "nobody-here@example.net", "password": "not-the-password-1"}
    )
    assert wrong.status_code == unknown.status_code == 200
    assert "The email or password is not right." in wrong.text
    assert "The email or password is not right." in unknown.text
    assert "auth.sign_in_failed" in audit_actions(user.id)


def test_session_id_rotates_at_sign_in(client, factory):
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)
    login(client, user)
    first = db.session.scalar(select(UserSession.id).where(UserSession.user_id == user.id))
    client.post("/logout")
    login(client, user)
    ids = list(db.session.scalars(select(UserSession.id).where(UserSession.user_id == user.id)))
    assert len(ids) == 2 and first in ids
    revoked = db.session.scalar(select(UserSession.revoked_at).where(UserSession.id == first))
    assert revoked is not None, "signing out revokes the server-side session"


def test_lockout_per_account_does_not_reveal_existence(client, factory, redis_conn):
    user = factory.user()
    for _ in range(10):
        client.post("/login", data={"email": user.email, "password": "wrong-password-xyz"})
    locked = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many attempts" in locked.text
    for _ in range(10):
        client.post("/login", data={"email": "ghost@example.net", "password": "wrong-password-xyz"})
    ghost = client.post("/login", data={"email": "ghost@example.net", "password": "wrong-password-xyz"})
    assert ghost.status_code == 429 and ghost.text == locked.text.replace(user.email, "ghost@example.net")


def test_lockout_per_address(client, factory, redis_conn):
    for i in range(30):
        client.post("/login", data={"email": f"someone{i}@example.net", "password": "wrong-password-xyz"})
    assert client.post("/login", data={"email": "x@example.net", "password": "y"}).status_code == 429


def test_idle_and_absolute_timeouts(client, factory):
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)
    with time_machine.travel(db.utcnow(), tick=True) as traveller:
        login(client, user)
        assert client.get(f"/a/{agency.slug}/").status_code == 200
        traveller.shift(timedelta(minutes=29))
        assert client.get(f"/a/{agency.slug}/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        assert client.get(f"/a/{agency.slug}/").status_code == 302, "idle for 31 minutes"
    with time_machine.travel(db.utcnow(), tick=True) as traveller:
        login(client, user)
        for _ in range(25):  # active every 29 minutes for over 12 hours
            traveller.shift(timedelta(minutes=29))
            client.get(f"/a/{agency.slug}/")
        assert client.get(f"/a/{agency.slug}/").status_code == 302, "absolute limit of 12 hours"


def test_agency_may_shorten_idle_timeout(client, factory):
    agency = factory.agency()
    agency.settings = {"session_idle_minutes": 5}
    db.session.commit()
    user, _ = factory.member(agency, Role.CARER)
    with time_machine.travel(db.utcnow(), tick=True) as traveller:
        login(client, user)
        traveller.shift(timedelta(minutes=6))
        assert client.get(f"/a/{agency.slug}/").status_code == 302


def test_open_redirect_is_refused(client, factory):
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)
    client.get("/login?next=https://evil.example/")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.location == f"/a/{agency.slug}/"


# -- two-factor --------------------------------------------------------------


def test_two_factor_required_and_codes_single_use(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    first = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert first.location.endswith("/login/two-factor")
    assert client.get(f"/a/{agency.slug}/").status_code == 302, "not signed in before the code"
    bad = client.post("/login/two-factor", data={"code": "000000"})
    assert "That code is not right" in bad.text
    code = totp_now()
    assert client.post("/login/two-factor", data={"code": code}).status_code == 302
    assert client.get(f"/a/{agency.slug}/").status_code == 200
    client.post("/logout")
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    replay = client.post("/login/two-factor", data={"code": code})
    assert replay.status_code == 200 and "already used" in replay.text


def test_admin_without_two_factor_must_enrol(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN, totp=False)
    login(client, admin)
    response = client.get(f"/a/{agency.slug}/members")
    assert response.status_code == 302 and response.location.endswith("/account/two-factor")
    page = client.get("/account/two-factor")
    with client.session_transaction() as s:
        secret = s["totp_enrol_secret"]
    assert secret in page.text and "<svg" in page.text
    assert "not right" in client.post("/account/two-factor", data={"code": "123456"}).text
    from saas.auth.totp import for_secret

    done = client.post("/account/two-factor", data={"code": for_secret(secret).now()})
    assert done.status_code == 302
    assert client.get(f"/a/{agency.slug}/members").status_code == 200
    assert db.session.get(User, admin.id).totp_secret == secret


def test_operator_must_enrol_before_anything(client, factory):
    operator = factory.user(operator=True)
    login(client, operator)
    assert client.get("/operator/").location.endswith("/account/two-factor")


# -- passwords ---------------------------------------------------------------


def test_password_policy(app_ctx):
    assert password_problem("short") is not None
    assert password_problem("password1234") is not None, "in the common list"
    assert password_problem("aaaaaaaaaaaaaa") is not None
    assert password_problem("someone@example.net", "someone@example.net") is not None
    assert password_problem("Blue-kettle-harbour-42") is None


def test_passwords_are_argon2id(factory):
    user = factory.user()
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, PASSWORD)
    assert not verify_password(None, PASSWORD)


def test_change_password_signs_out_other_sessions(client, factory, app):
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)
    other = app.test_client()
    login(other, user)
    login(client, user)
    refused = client.post(
        "/account/password",
        data={
            "current": "wrong-current-pw",
            "password": "New-kettle-harbour-42",
            "confirm": "New-kettle-harbour-42",
        },
    )
    assert "This is not your current password." in refused.text
    weak = client.post("/account/password", data={"current": PASSWORD, "password": "123", "confirm": "123"})
    assert "at least 12 characters" in weak.text
    ok = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": "New-kettle-harbour-42", "confirm": "New-kettle-harbour-42"},
    )
    assert ok.status_code == 302
    assert other.get(f"/a/{agency.slug}/").status_code == 302, "the other session is signed out"
    assert client.get(f"/a/{agency.slug}/").status_code == 200
    assert verify_password(db.session.get(User, user.id).password_hash, "New-kettle-harbour-42")


def test_sign_out_everywhere_else(client, factory, app):
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)
    other = app.test_client()
    login(other, user)
    login(client, user)
    assert client.post("/account/sessions").status_code == 302
    assert other.get(f"/a/{agency.slug}/").status_code == 302
    assert client.get(f"/a/{agency.slug}/").status_code == 200


def test_password_reset_single_use_and_expiring(client, factory):
    user = factory.user()
    client.post("/password/forgot", data={"email": user.email})
    client.post("/password/forgot", data={"email": "nobody@example.net"})
    mails = db.session.scalars(select(MailMessage).where(MailMessage.kind == "password_reset")).all()
    assert [m.to_address for m in mails] == [user.email], "no mail for an unknown address"
    link = factory.last_mail_link(user.email)
    path = link.replace("http://localhost", "")
    weak = client.post(path, data={"password": "abc", "confirm": "abc"})
    assert weak.status_code == 200 and "at least 12 characters" in weak.text
    done = client.post(path, data={"password": "Fresh-kettle-harbour-7", "confirm": "Fresh-kettle-harbour-7"})
    assert done.status_code == 302
    assert client.get(path).status_code == 404, "used once"
    assert "This link cannot be used" in client.get(path).text
    client.post("/password/forgot", data={"email": user.email})
    path2 = factory.last_mail_link(user.email).replace("http://localhost", "")
    with time_machine.travel(db.utcnow() + timedelta(minutes=61)):
        assert client.get(path2).status_code == 404, "expired after an hour"
    assert client.get("/password/reset/garbage").status_code == 404
    assert client.get(path2[:-3] + "abc").status_code == 404, "tampered"
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) >= 2


# -- invitations and several agencies -----------------------------------------


def test_invitation_creates_account_and_membership(client, factory):
    agency = factory.agency()
    email = f"{unique('new')}@example.net"
    invitation, token = factory.invitation(agency, email, Role.CARER)
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200 and agency.name in page.text
    bad = client.post(f"/invite/{token}", data={"name": "New", "password": "short", "confirm": "short"})
    assert "at least 12 characters" in bad.text
    assert db.session.scalar(select(User).where(User.email == email)) is None, "nothing half-saved"
    ok = client.post(
        f"/invite/{token}",
        data={"name": "New Carer", "password": "Blue-kettle-harbour-42", "confirm": "Blue-kettle-harbour-42"},
    )
    assert ok.status_code == 302 and ok.location.endswith(f"/a/{agency.slug}/")
    assert client.get(ok.location).status_code == 200
    assert client.get(f"/invite/{token}").status_code == 404, "reused link"


def test_invited_admin_must_enrol_two_factor(client, factory):
    agency = factory.agency()
    _inv, token = factory.invitation(agency, f"{unique('adm')}@example.net", Role.ADMIN)
    ok = client.post(
        f"/invite/{token}",
        data={"name": "Ada", "password": "Blue-kettle-harbour-42", "confirm": "Blue-kettle-harbour-42"},
    )
    assert ok.location.endswith("/account/two-factor")


def test_expired_and_tampered_invitations(client, factory):
    agency = factory.agency()
    _inv, token = factory.invitation(agency, f"{unique('late')}@example.net")
    with time_machine.travel(db.utcnow() + timedelta(days=8)):
        assert client.get(f"/invite/{token}").status_code == 404
    assert client.get(f"/invite/{token[:-2]}xx").status_code == 404
    assert client.get("/invite/not.a.token").status_code == 404
    assert client.get("/invite/" + "a" * 5000).status_code in (404, 414)


def test_one_person_in_two_agencies(client, factory):
    a = factory.agency()
    b = factory.agency()
    user, _ = factory.member(a, Role.CARER)
    _inv, token = factory.invitation(b, user.email, Role.COORDINATOR)
    assert client.get(f"/invite/{token}").location.endswith("/login")
    login(client, user)
    join = client.post(f"/invite/{token}")
    assert join.status_code == 302 and join.location.endswith(f"/a/{b.slug}/")
    listing = client.get("/agencies")
    assert a.name in listing.text and b.name in listing.text
    assert client.get(f"/a/{a.slug}/").status_code == 200
    assert client.get(f"/a/{b.slug}/members").status_code == 200, "coordinator in b"
    assert client.get(f"/a/{a.slug}/members").status_code == 403, "carer in a"
    with db.tenant_scope(b.id):
        assert (
            db.session.scalar(select(Membership.role).where(Membership.user_id == user.id)) == "coordinator"
        )


def test_reinvite_replaces_pending_invitation(client, factory):
    agency = factory.agency()
    email = f"{unique('twice')}@example.net"
    _first, old = factory.invitation(agency, email)
    _second, new = factory.invitation(agency, email)
    assert client.get(f"/invite/{old}").status_code == 404
    assert client.get(f"/invite/{new}").status_code == 200
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(func.count()).where(Invitation.email == email)) == 2


# -- language ----------------------------------------------------------------


def test_language_choice_order(client, factory):
    zh = factory.agency(locale="zh_CN")
    user, _ = factory.member(zh, Role.CARER)
    assert 'lang="en"' in client.get("/login").text
    assert 'lang="zh-Hans"' in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    login(client, user)
    assert 'lang="zh-Hans"' in client.get(f"/a/{zh.slug}/").text, "the agency's language"
    client.post("/language", data={"locale": "en", "next": f"/a/{zh.slug}/"})
    assert 'lang="en"' in client.get(f"/a/{zh.slug}/").text, "the user's own choice wins"
    assert db.session.get(User, user.id).locale == "en"
