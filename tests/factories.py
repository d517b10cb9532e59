"""Factories for agencies, users and memberships, through the real services."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from saas import agencies, db
from saas.auth.passwords import hash_password
from saas.auth.services import invite
from saas.models import Agency, Invitation, Membership, Role, User
from tenants.members.services import create_token

PASSWORD = "correct-horse-battery-9"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"
_HASH: dict[str, str] = {}


def _hash(password: str) -> str:
    if password not in _HASH:
        _HASH[password] = hash_password(password)
    return _HASH[password]


def unique(prefix: str = "x") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


# the agencies the current test made: sweeps run over every agency in the
# database, and browser tests leave committed agencies behind, so a test
# counts only what a sweep did for its own (see `new_reminders`)
MADE_AGENCIES: list[uuid.UUID] = []


# outbox entries already waiting when the test began: the browser tests commit
# theirs into the same database, and they are not this test's to run
WAITING_BEFORE: set[uuid.UUID] = set()


class Factory:
    def __init__(self, app) -> None:
        from saas.models import OutboxEntry

        self.app = app
        MADE_AGENCIES.clear()
        WAITING_BEFORE.clear()
        WAITING_BEFORE.update(db.session.scalars(select(OutboxEntry.id).where(OutboxEntry.done_at.is_(None))))

    def agency(
        self,
        slug: str | None = None,
        *,
        name: str | None = None,
        tz: str = "Europe/London",
        locale: str = "en",
    ) -> Agency:
        slug = slug or unique("ag")
        agency = agencies.create_agency(name or f"Agency {slug}", slug, tz, locale)
        db.session.commit()
        MADE_AGENCIES.append(agency.id)
        return agency

    def user(
        self,
        email: str | None = None,
        *,
        password: str = PASSWORD,
        totp: bool = False,
        operator: bool = False,
        name: str = "Test Person",
    ) -> User:
        user = User(
            email=(email or f"{unique('u')}@example.net").lower(),
            name=name,
            password_hash=_hash(password),
            is_operator=operator,
            totp_secret=TOTP_SECRET if totp else None,
        )
        db.session.add(user)
        db.session.commit()
        return user

    def member(
        self, agency: Agency, role: Role | str = Role.CARER, *, user: User | None = None, **user_kwargs
    ) -> tuple[User, Membership]:
        role = Role(role)
        if user is None:
            # whoever opens client files must use two-factor (saas.tenancy.needs_two_factor)
            user_kwargs.setdefault("totp", role in (Role.ADMIN, Role.COORDINATOR))
            user = self.user(**user_kwargs)
        with db.tenant_scope(agency.id):
            membership = Membership(user_id=user.id, role=role)
            db.session.add(membership)
            db.session.commit()
        return user, membership

    def invitation(
        self, agency: Agency, email: str, role: Role | str = Role.CARER, by: User | None = None
    ) -> tuple[Invitation, str]:
        with self.app.test_request_context(), db.tenant_scope(agency.id):
            invitation = invite(agency, email, role, invited_by=by)
            db.session.commit()
        # the link is made and mailed by the job, as the worker would run it
        run_jobs("auth.send_invitation")
        link = self.last_mail_link(email)
        return invitation, link.rsplit("/", 1)[-1]

    def api_token(self, membership: Membership) -> str:
        with db.tenant_scope(membership.tenant_id):
            token = create_token(membership, "test token")
            db.session.commit()
        return token

    def last_mail_link(self, to: str) -> str:
        from saas.models import MailMessage

        msg = db.session.scalar(
            select(MailMessage).where(MailMessage.to_address == to).order_by(MailMessage.created_at.desc())
        )
        assert msg is not None, f"no mail to {to}"
        for line in msg.body.splitlines():
            if line.startswith("http"):
                return line.strip()
        raise AssertionError("no link in mail")


def run_jobs(*jobs: str) -> int:
    """Run the outbox entries not done yet (only these jobs, if named) through
    `saas.jobs.run_outbox_entry`, as the worker does, and then those they queue
    in turn; returns how many ran. Call it once the request (or the factory)
    has committed: the worker sees only committed work, and the job's commit
    ends the current session (objects loaded before stay readable)."""
    from saas.jobs import run_outbox_entry
    from saas.models import OutboxEntry

    ran = 0
    for _round in range(10):
        stmt = select(OutboxEntry.id).where(OutboxEntry.done_at.is_(None)).order_by(OutboxEntry.created_at)
        if jobs:
            stmt = stmt.where(OutboxEntry.job.in_(jobs))
        pending = [i for i in db.session.scalars(stmt) if i not in WAITING_BEFORE]
        if not pending:
            return ran
        for entry_id in pending:
            assert run_outbox_entry(str(entry_id)) == "done"
        ran += len(pending)
    raise AssertionError("jobs keep queueing jobs")


def totp_now(secret: str = TOTP_SECRET) -> str:
    from saas.auth.totp import for_secret

    return for_secret(secret).now()


def login(client, user: User, password: str = PASSWORD) -> None:
    """Sign in through the real pages, two-factor included."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.text[:500]
    if response.location.endswith("/login/two-factor"):
        # each code works once: forget the last one so tests can sign in repeatedly
        db.session.execute(User.__table__.update().where(User.id == user.id).values(totp_last_counter=None))
        db.session.commit()
        response = client.post("/login/two-factor", data={"code": totp_now()})
        assert response.status_code == 302, response.text[:500]


def our_reminders() -> int:
    """How many reminder occurrences exist for the agencies this test made."""
    from sqlalchemy import func, select

    from saas.notifications.models import Reminder

    with db.platform_reader() as reader:
        return reader.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.tenant_id.in_(list(MADE_AGENCIES)))
        )
