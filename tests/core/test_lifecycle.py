"""One request lifecycle (saas/lifecycle.py): a request commits once at its
end when it succeeds, and keeps nothing when a rule refused it, whatever
status its page has; the refusal's message is next to its field, in the
reader's language; the API answers a refusal with its error document."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import event, select

from saas import audit, db
from saas.auth import services as accounts
from saas.auth.passwords import verify_password
from saas.errors import DomainError, error_message
from saas.lifecycle import field_of, refuse
from saas.models import PlatformAuditEvent, Role, User
from tests.factories import PASSWORD, login

NEW_PASSWORD = "a new and long enough password"


def _password_form(current: str) -> dict[str, str]:
    return {"current": current, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


def _fresh(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def _password_changes(user: User) -> int:
    return len(
        db.session.scalars(
            select(PlatformAuditEvent.id).where(
                PlatformAuditEvent.action == "password.changed", PlatformAuditEvent.actor_id == user.id
            )
        ).all()
    )


def test_a_refused_form_keeps_nothing_though_its_page_is_200(client, factory, monkeypatch):
    user = factory.user()
    login(client, user)

    def writes_then_refuses(person: User, current: str, new: str) -> None:
        # the rule refuses only after a write (the new password, an audit entry)
        accounts.set_password(person, new)
        audit.record_platform("password.changed", person.email, actor_id=person.id)
        db.session.flush()
        raise accounts.AccountError("password_wrong", "current")

    monkeypatch.setattr(accounts, "change_password", writes_then_refuses)
    response = client.post("/account/password", data=_password_form(PASSWORD))
    assert response.status_code == 200
    assert "This is not your current password." in response.text
    assert verify_password(_fresh(user).password_hash, PASSWORD)
    assert _password_changes(user) == 0


def test_a_successful_post_is_committed_once(client, factory):
    user = factory.user()
    login(client, user)
    commits: list[str] = []

    def committed(conn, *args):  # noqa: ANN001
        commits.append("commit")

    engine = db.get_engine()
    # inside the test's outer transaction a commit is the release of the request's
    # savepoint; on a cluster, where tests commit, it is a commit
    event.listen(engine, "commit", committed)
    event.listen(engine, "release_savepoint", committed)
    try:
        response = client.post("/account/password", data=_password_form(PASSWORD))
    finally:
        event.remove(engine, "commit", committed)
        event.remove(engine, "release_savepoint", committed)
    assert response.status_code == 302
    assert len(commits) == 1
    assert verify_password(_fresh(user).password_hash, NEW_PASSWORD)
    assert _password_changes(user) == 1


def test_a_commit_that_fails_answers_409_and_tells_of_no_success(client, factory, monkeypatch):
    user = factory.user()
    taken = factory.user()
    login(client, user)

    def conflicting(action: str, subject: str, **details: object) -> None:
        # written only at the commit: another account already has this address
        db.session.add(User(email=taken.email, name="Same address", password_hash=None))

    monkeypatch.setattr(audit, "record_platform", conflicting)
    response = client.post("/account/password", data=_password_form(PASSWORD))
    assert response.status_code == 409
    monkeypatch.undo()
    assert verify_password(_fresh(user).password_hash, PASSWORD)
    page = client.get("/account")
    assert page.status_code == 200
    assert "Your password has been changed" not in page.text


def test_a_domain_error_in_the_api_is_its_error_document_and_keeps_nothing(client, factory, monkeypatch):
    agency = factory.agency()
    user, membership = factory.member(agency, Role.CARER)
    token = factory.api_token(membership)
    user_id = user.id
    import saas.api.views

    def renames_then_refuses(user_id: object) -> list:
        person = db.session.get(User, user_id)
        person.name = "Renamed"
        db.session.flush()
        raise DomainError("not_now")

    monkeypatch.setattr(saas.api.views, "memberships_of", renames_then_refuses)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 422 and response.json["detail"] == "This change is not allowed."
    assert response.json["error"] == {"status": 422, "message": "This change is not allowed."}
    assert db.session.get(User, user_id).name == "Test Person"


@pytest.mark.parametrize(
    ("locale", "message"),
    [("en", "This is not your current password."), ("zh_CN", "当前密码不正确。")],
)
def test_the_message_is_next_to_its_field_in_the_readers_language(client, factory, locale, message):
    user = factory.user()
    login(client, user)
    assert client.post("/language", data={"locale": locale}).status_code == 302
    response = client.post("/account/password", data=_password_form("not my password"))
    assert response.status_code == 200
    text = html.unescape(response.text)
    # inside the current password's field block, before the next field
    start = text.index('name="current"')
    assert message in text[start : text.index('name="password"')]
    assert verify_password(_fresh(user).password_hash, PASSWORD)


def test_a_dash_path_reaches_a_field_in_a_list(app_ctx):
    from tenants.clients.forms import ClientForm

    form = ClientForm(meta={"csrf": False})
    while len(form.contacts) < 1:
        form.contacts.append_entry()
    target = field_of(form, "contacts-0-phone")
    assert target is form.contacts[0].phone
    refuse(form, DomainError("phone_missing", "contacts-0-phone"))
    assert form.contacts[0].phone.errors == [error_message(DomainError("phone_missing"))]
    assert field_of(form, "contacts-9-phone") is None


def test_a_job_or_command_commits_once_at_its_end_or_keeps_nothing(app_ctx):
    from saas import agencies
    from saas.lifecycle import unit_of_work
    from saas.models import Agency
    from tests.factories import unique

    kept, dropped = unique("kept"), unique("dropped")
    with unit_of_work():
        agencies.create_agency("Kept", kept, "Europe/London", "en")
    with pytest.raises(RuntimeError), unit_of_work():
        agencies.create_agency("Dropped", dropped, "Europe/London", "en")
        raise RuntimeError("the job failed after its write")
    with pytest.raises(agencies.AgencyError), unit_of_work():
        agencies.create_agency("Bad", dropped, "Nowhere/Atlantis", "en")
    slugs = set(db.session.scalars(select(Agency.slug).where(Agency.slug.in_([kept, dropped]))))
    assert slugs == {kept}
