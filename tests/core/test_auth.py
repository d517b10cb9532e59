"""Sign-in, sessions, two-factor, password rules and resets, invitations."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import func, select

from saas import db
from saas.auth import throttle
from saas.auth.passwords import password_problem, verify_password
from saas.models import (
    Agency,
    AuditEvent,
    Invitation,
    MailMessage,
    Membership,
    OutboxEntry,
    PasswordReset,
    PlatformAuditEvent,
    Role,
    User,
    UserSession,
)
from tests.factories import PASSWORD, login, run_jobs, totp_now, unique
from tests.sqlcount import count_statements


@pytest.fixture(autouse=True)
def _throttle_asks_redis(monkeypatch):
    """A Redis failure in an earlier test (tests/core/test_faults.py) rests the
    sign-in throttle for a few seconds; these tests start with it awake."""
    monkeypatch.setattr(throttle, "_redis_failed_at", 0.0)


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
    login(client, user, through_pages=True)
    first = db.session.scalar(select(UserSession.id).where(UserSession.user_id == user.id))
    client.post("/logout")
    login(client, user, through_pages=True)
    ids = list(db.session.scalars(select(UserSession.id).where(UserSession.user_id == user.id)))
    assert len(ids) == 2 and first in ids
    revoked = db.session.scalar(select(UserSession.revoked_at).where(UserSession.id == first))
    assert revoked is not None, "signing out revokes the server-side session"


ADDRESS_A = {"REMOTE_ADDR": "198.51.100.7"}
ADDRESS_B = {"REMOTE_ADDR": "203.0.113.9"}
ADDRESS_C = {"REMOTE_ADDR": "192.0.2.44"}
WRONG = "wrong-password-xyz"


def _attempt(client, email: str, password: str, address: dict, code: str | None = None):
    data = {"email": email, "password": password}
    if code is not None:
        data["code"] = code
    return client.post("/login", data=data, environ_base=address)


def _guess(client, email: str, address: dict, times: int, clock) -> None:
    """Wrong passwords, each one checked: the clock moves past the account's wait."""
    for _ in range(times):
        assert _attempt(client, email, WRONG, address).status_code == 200
        clock.shift(61)


def _without_token(text: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*>', "", text)


def test_guessing_never_locks_the_owner_out(app, client, factory, redis_conn):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    attacker, owner = app.test_client(), app.test_client()
    with time_machine.travel(db.utcnow(), tick=False) as clock:
        _guess(attacker, admin.email, ADDRESS_A, 9, clock)
        assert _attempt(attacker, admin.email, WRONG, ADDRESS_A).status_code == 200  # the 10th: a 60 s wait
        waiting = _attempt(owner, admin.email, PASSWORD, ADDRESS_B)
        assert waiting.status_code == 429
        assert "Too many attempts for this account. Try again in 60 seconds." in waiting.text
        assert 'name="code"' in waiting.text, "the owner is offered the quick way in"
        assert owner.get(f"/a/{agency.slug}/").status_code == 302, "not signed in"
        wrong_code = _attempt(owner, admin.email, PASSWORD, ADDRESS_B, code="000000")
        assert wrong_code.status_code == 429, "the password alone is not enough while the account waits"
        signed_in = _attempt(owner, admin.email, PASSWORD, ADDRESS_B, code=totp_now())
        assert signed_in.status_code == 302 and signed_in.location == f"/a/{agency.slug}/"
        assert owner.get(f"/a/{agency.slug}/").status_code == 200
        assert _attempt(attacker, admin.email, PASSWORD, ADDRESS_A).status_code == 429, "address A is stopped"
        assert "auth.sign_in_failed" in audit_actions(admin.id)


def test_the_owner_waits_a_minute_at_most(app, factory, redis_conn):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    attacker, owner = app.test_client(), app.test_client()
    with time_machine.travel(db.utcnow(), tick=False) as clock:
        _guess(attacker, admin.email, ADDRESS_C, 9, clock)
        _attempt(attacker, admin.email, WRONG, ADDRESS_C)
        clock.shift(30)
        refused = _attempt(owner, admin.email, PASSWORD, ADDRESS_B)
        assert refused.status_code == 429 and "Try again in 30 seconds." in refused.text
        clock.shift(30)
        password = _attempt(owner, admin.email, PASSWORD, ADDRESS_B)
        assert password.status_code == 302 and password.location.endswith("/login/two-factor")
        done = owner.post("/login/two-factor", data={"code": totp_now()}, environ_base=ADDRESS_B)
        assert done.status_code == 302
        assert owner.get(f"/a/{agency.slug}/").status_code == 200


def test_waiting_answers_never_tell_which_accounts_exist(app, factory, redis_conn):
    agency = factory.agency()
    carer, _ = factory.member(agency, Role.CARER)
    ghost = f"{unique('ghost')}@example.net"
    answers = {}
    with time_machine.travel(db.utcnow(), tick=False) as clock:
        for n, email in enumerate((carer.email, ghost)):
            attacker = app.test_client()
            address = {"REMOTE_ADDR": f"198.51.100.{20 + n}"}
            _guess(attacker, email, address, 6, clock)
            _attempt(attacker, email, WRONG, address)
            clock.shift(2)
            answers[email] = _attempt(app.test_client(), email, PASSWORD, ADDRESS_B, code="123456")
    real, unknown = answers[carer.email], answers[ghost]
    assert real.status_code == unknown.status_code == 429
    assert _without_token(real.text) == _without_token(unknown.text).replace(ghost, carer.email)


def test_sign_in_limited_per_address(client, factory, redis_conn):
    for i in range(10):
        client.post("/login", data={"email": f"someone{i}@example.net", "password": WRONG})
    assert client.post("/login", data={"email": "x@example.net", "password": "y"}).status_code == 429
    other = client.post("/login", data={"email": "x@example.net", "password": "y"}, environ_base=ADDRESS_B)
    assert other.status_code == 200, "another address is counted on its own"


def test_forwarded_addresses_are_ignored_without_a_trusted_proxy(client, redis_conn):
    for i in range(10):
        client.post(
            "/password/forgot", data={"email": f"p{i}@example.net"}, headers={"X-Forwarded-For": "192.0.2.1"}
        )
    spoofed = client.post(
        "/password/forgot", data={"email": "q@example.net"}, headers={"X-Forwarded-For": "192.0.2.2"}
    )
    assert spoofed.status_code == 429, "a client cannot pick the address it is counted under"


def test_limits_count_per_client_behind_the_proxy(services, dbconn, redis_conn):
    from saas.app import create_app
    from tests.conftest import make_config

    proxied = create_app(make_config(services, TRUSTED_PROXY_HOPS=1)).test_client()

    def forgot(forwarded_for: str):
        return proxied.post(
            "/password/forgot", data={"email": "p@example.net"}, headers={"X-Forwarded-For": forwarded_for}
        )

    for _ in range(10):
        assert forgot("198.51.100.7").status_code == 200
    assert forgot("198.51.100.7").status_code == 429
    assert forgot("203.0.113.1, 198.51.100.7").status_code == 429, (
        "what the client wrote first is not believed"
    )
    assert forgot("198.51.100.8").status_code == 200, "another visitor has a count of their own"


def test_throttle_without_redis_lets_people_sign_in(client, factory, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from saas import jobs

    calls = []

    def down(url=None):
        calls.append(url)
        raise RedisConnectionError("down")

    monkeypatch.setattr(jobs, "redis_connection", down)
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)
    for _ in range(6):
        assert "not right" in client.post("/login", data={"email": user.email, "password": WRONG}).text
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert calls and throttle._redis_failed_at > 0, "the throttle noticed, and rests for a few seconds"


def test_idle_and_absolute_timeouts(client, factory):
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)
    with time_machine.travel(db.utcnow(), tick=True) as traveller:
        login(client, user, through_pages=True)
        assert client.get(f"/a/{agency.slug}/").status_code == 200
        traveller.shift(timedelta(minutes=29))
        assert client.get(f"/a/{agency.slug}/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        assert client.get(f"/a/{agency.slug}/").status_code == 302, "idle for 31 minutes"
    with time_machine.travel(db.utcnow(), tick=True) as traveller:
        login(client, user, through_pages=True)
        for _ in range(25):  # active every 29 minutes for over 12 hours
            traveller.shift(timedelta(minutes=29))
            client.get(f"/a/{agency.slug}/")
        assert client.get(f"/a/{agency.slug}/").status_code == 302, "absolute limit of 12 hours"


def test_an_active_person_stays_signed_in_on_read_only_pages(client, factory):
    """Reading pages is activity: the idle clock moves without any write."""
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)
    with time_machine.travel(db.utcnow(), tick=True) as traveller:
        login(client, user, through_pages=True)
        for minute in range(20, 300, 20):  # a page every 20 minutes for almost 5 hours
            traveller.shift(timedelta(minutes=20))
            assert client.get(f"/a/{agency.slug}/").status_code == 200, f"signed out at minute {minute}"
        traveller.shift(timedelta(minutes=31))
        response = client.get(f"/a/{agency.slug}/")
        assert response.status_code == 302 and "/login" in response.location, "idle for 31 minutes"


def test_a_read_only_page_sends_no_session_update(client, factory):
    """No UPDATE (and so no row lock held through the request) on a page that
    changes nothing; the row catches up when a request commits anyway."""
    agency = factory.agency()
    user, _ = factory.member(agency, Role.CARER)
    with time_machine.travel(db.utcnow(), tick=True) as traveller:
        login(client, user, through_pages=True)
        traveller.shift(timedelta(minutes=10))
        with count_statements() as counter:
            assert client.get(f"/a/{agency.slug}/").status_code == 200
        assert not [
            s for s in counter.statements if "user_sessions" in s and s.lstrip().upper().startswith("UPDATE")
        ]

        def last_seen():
            return db.session.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == user.id))

        before = last_seen()
        traveller.shift(timedelta(minutes=10))
        # a request that commits anyway (the language choice) brings the row's clock along
        assert client.post("/language", data={"locale": "en"}).status_code == 302
        assert last_seen() >= before + timedelta(minutes=10)


def test_agency_may_shorten_idle_timeout(client, factory):
    agency = factory.agency()
    agency.settings = {"session_idle_minutes": 5}
    db.session.commit()
    user, _ = factory.member(agency, Role.CARER)
    with time_machine.travel(db.utcnow(), tick=True) as traveller:
        login(client, user, through_pages=True)
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
    superscript = client.post("/login/two-factor", data={"code": "²²²²²²"})  # isdigit(), not ASCII: was a 500
    assert superscript.status_code == 200 and "not right" in superscript.text
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
    login(client, admin, through_pages=True)
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


def _enrol(client) -> None:
    from saas.auth.totp import for_secret

    client.get("/account/two-factor")
    with client.session_transaction() as s:
        secret = s["totp_enrol_secret"]
    assert client.post("/account/two-factor", data={"code": for_secret(secret).now()}).status_code == 302


def test_coordinator_without_two_factor_must_enrol(client, factory):
    agency = factory.agency()
    coordinator, _ = factory.member(agency, Role.COORDINATOR, totp=False)
    login(client, coordinator, through_pages=True)
    for path in ("/", "/members"):
        refused = client.get(f"/a/{agency.slug}{path}")
        assert refused.status_code == 302 and refused.location.endswith("/account/two-factor")
    _enrol(client)
    assert client.get(f"/a/{agency.slug}/members").status_code == 200


def test_a_session_older_than_the_enrolment_must_sign_in_with_the_code(app, client, factory):
    """Two-factor set up on one device: a session opened elsewhere with the
    password alone no longer opens the agency's files."""
    agency = factory.agency()
    coordinator, _ = factory.member(agency, Role.COORDINATOR, totp=False)
    login(client, coordinator, through_pages=True)
    other_device = app.test_client()
    login(other_device, coordinator, through_pages=True)
    _enrol(other_device)
    assert other_device.get(f"/a/{agency.slug}/members").status_code == 200
    stale = client.get(f"/a/{agency.slug}/members")
    assert stale.status_code == 302 and "/login" in stale.location
    assert client.get(f"/a/{agency.slug}/members").location.startswith("/login")


def test_invited_coordinator_must_enrol_two_factor(client, factory):
    agency = factory.agency()
    _inv, token = factory.invitation(agency, f"{unique('co')}@example.net", Role.COORDINATOR)
    ok = client.post(
        f"/invite/{token}",
        data={"name": "Cora", "password": "Blue-kettle-harbour-42", "confirm": "Blue-kettle-harbour-42"},
    )
    assert ok.location.endswith("/account/two-factor")


def test_agency_may_ask_carers_for_two_factor(app, client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    carer, _ = factory.member(agency, Role.CARER)
    carer_client = app.test_client()
    login(carer_client, carer, through_pages=True)
    assert carer_client.get(f"/a/{agency.slug}/").status_code == 200, "off unless the agency turns it on"
    login(client, admin, through_pages=True)
    members = client.get(f"/a/{agency.slug}/members")
    assert "Carers sign in with two-factor too" in members.text
    assert (
        client.post(f"/a/{agency.slug}/members/two-factor", data={"carers_two_factor": "y"}).status_code
        == 302
    )
    assert db.session.get(Agency, agency.id).settings["carers_two_factor"] is True
    with db.tenant_scope(agency.id):
        changes = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "settings.changed"))
        assert [(e.subject, e.details) for e in changes] == [
            ("carers_two_factor", {"old": False, "new": True})
        ]
    asked = carer_client.get(f"/a/{agency.slug}/")
    assert asked.status_code == 302 and asked.location.endswith("/account/two-factor")
    _enrol(carer_client)
    assert carer_client.get(f"/a/{agency.slug}/").status_code == 200
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    coordinator_client = app.test_client()
    login(coordinator_client, coordinator, through_pages=True)
    refused = coordinator_client.post(f"/a/{agency.slug}/members/two-factor", data={})
    assert refused.status_code == 403, "only admins change it"
    client.post(f"/a/{agency.slug}/members/two-factor", data={})
    assert db.session.get(Agency, agency.id).settings["carers_two_factor"] is False


def test_operator_must_enrol_before_anything(client, factory):
    operator = factory.user(operator=True)
    login(client, operator, through_pages=True)
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
    login(other, user, through_pages=True)
    login(client, user, through_pages=True)
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
    login(other, user, through_pages=True)
    login(client, user, through_pages=True)
    assert client.post("/account/sessions").status_code == 302
    assert other.get(f"/a/{agency.slug}/").status_code == 302
    assert client.get(f"/a/{agency.slug}/").status_code == 200


def reset_path(factory, email: str) -> str:
    return urlsplit(factory.last_mail_link(email)).path


def test_password_reset_single_use_and_expiring(client, factory):
    user = factory.user()
    client.post("/password/forgot", data={"email": user.email})
    client.post("/password/forgot", data={"email": "nobody@example.net"})
    assert run_jobs("auth.send_password_reset") == 2
    mails = db.session.scalars(select(MailMessage).where(MailMessage.kind == "password_reset")).all()
    assert [m.to_address for m in mails] == [user.email], "no mail for an unknown address"
    path = reset_path(factory, user.email)
    weak = client.post(path, data={"password": "abc", "confirm": "abc"})
    assert weak.status_code == 200 and "at least 12 characters" in weak.text
    done = client.post(path, data={"password": "Fresh-kettle-harbour-7", "confirm": "Fresh-kettle-harbour-7"})
    assert done.status_code == 302
    assert client.get(path).status_code == 404, "used once"
    assert "This link cannot be used" in client.get(path).text
    client.post("/password/forgot", data={"email": user.email})
    run_jobs("auth.send_password_reset")
    path2 = reset_path(factory, user.email)
    with time_machine.travel(db.utcnow() + timedelta(minutes=61)):
        assert client.get(path2).status_code == 404, "expired after an hour"
    assert client.get("/password/reset/garbage").status_code == 404
    assert client.get(path2[:-3] + "abc").status_code == 404, "tampered"
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) >= 2


def test_forgot_password_looks_up_nobody_while_the_person_waits(client, factory):
    user = factory.user()
    client.get("/password/forgot")
    with count_statements() as known:
        first = client.post("/password/forgot", data={"email": user.email.upper()})
    with count_statements() as unknown:
        second = client.post("/password/forgot", data={"email": f"{unique('nobody')}@example.net"})
    assert first.status_code == second.status_code == 200
    assert first.text.count("\n") == second.text.count("\n")
    assert known.statements == unknown.statements, "the same work whether the account exists or not"
    assert not any("users" in s for s in known.statements), "the account is looked up by the job"
    queued = {
        args["email"]
        for args in db.session.scalars(
            select(OutboxEntry.args).where(OutboxEntry.job == "auth.send_password_reset")
        )
    }
    assert user.email in queued and user.email.upper() not in queued, "normalised before it is queued"


def test_reset_mail_only_for_an_active_account(client, factory):
    active, gone = factory.user(), factory.user()
    db.session.execute(User.__table__.update().where(User.id == gone.id).values(is_active=False))
    db.session.commit()
    for email in (active.email, gone.email, "nobody@example.net"):
        client.post("/password/forgot", data={"email": email})
    assert run_jobs("auth.send_password_reset") == 3
    sent = db.session.scalars(
        select(MailMessage.to_address).where(
            MailMessage.kind == "password_reset",
            MailMessage.to_address.in_([active.email, gone.email, "nobody@example.net"]),
        )
    ).all()
    assert sent == [active.email]
    assert run_jobs("auth.send_password_reset") == 0, "each request mails once"


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
    login(client, user, through_pages=True)
    join = client.post(f"/invite/{token}")
    assert join.status_code == 302 and join.location.endswith("/account/two-factor"), "coordinators use it"
    listing = client.get("/agencies")
    assert a.name in listing.text and b.name in listing.text
    assert client.get(f"/a/{a.slug}/").status_code == 200, "a carer in a needs no second factor"
    assert client.get(f"/a/{b.slug}/members").location.endswith("/account/two-factor")
    _enrol(client)
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


def test_invitation_does_the_same_whether_the_person_has_an_account(client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    elsewhere = factory.user()
    login(client, admin, through_pages=True)
    client.get(f"/a/{agency.slug}/members")
    with count_statements() as known:
        first = client.post(
            f"/a/{agency.slug}/members/invite", data={"email": elsewhere.email, "role": "carer"}
        )
    with count_statements() as unknown:
        second = client.post(
            f"/a/{agency.slug}/members/invite",
            data={"email": f"{unique('new')}@example.net", "role": "carer"},
        )
    assert first.status_code == second.status_code == 302
    assert known.statements == unknown.statements, "nothing tells whether the address has an account"


# -- language ----------------------------------------------------------------


def test_language_choice_order(client, factory):
    zh = factory.agency(locale="zh_CN")
    user, _ = factory.member(zh, Role.CARER)
    assert 'lang="en"' in client.get("/login").text
    assert 'lang="zh-Hans"' in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    login(client, user, through_pages=True)
    assert 'lang="zh-Hans"' in client.get(f"/a/{zh.slug}/").text, "the agency's language"
    client.post("/language", data={"locale": "en", "next": f"/a/{zh.slug}/"})
    assert 'lang="en"' in client.get(f"/a/{zh.slug}/").text, "the user's own choice wins"
    assert db.session.get(User, user.id).locale == "en"
