"""Factories for agencies, users and memberships, and for the care loop's
clients, cases, plans, visits, ratings, feedback and teams, service items,
outreach (boxes and their logs, funders, stakeholder rounds) and surveys
(templates, campaigns, responses), through the real services. Staff
files, certificates, courses and attendance: `tests.staffing.workforce_helpers`."""

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
ASSESSMENT_DOMAINS = ("physical", "psychological", "social", "family_network", "quality_of_life")


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

    def api_token(self, membership: Membership, scopes: list[str] | None = None) -> str:
        with db.tenant_scope(membership.tenant_id):
            token = create_token(membership, "test token", scopes)
            db.session.commit()
        return token

    # -- the care loop, through its services: only what the pages could make --

    def client(
        self,
        agency: Agency,
        name: str = "Edith Carver",
        *,
        contacts: tuple[tuple[str, str, str], ...] = (("Kit Carver", "daughter", "07700 900123"),),
        **fields: object,
    ):
        """A client (consenting to services) with emergency contacts, each
        (name, relationship, phone), through `save_client`."""
        from tenants.clients import services as clients

        fields.setdefault("consent_services", True)
        data = clients.ClientData(
            full_name=name, contacts=[clients.ContactData(*contact) for contact in contacts], **fields
        )
        with db.tenant_scope(agency.id):
            row = clients.save_client(agency, data)
            db.session.commit()
            return row

    def case(
        self,
        agency: Agency,
        client=None,
        *,
        by: User | None = None,
        assessed: bool = True,
        level: int = 2,
        channel: str = "phone",
        special_programme: bool = False,
    ):
        """An open case for the client (a new one if none given), its needs
        assessed today at `level` in every domain unless `assessed` is False
        (then it stays at intake); of a special programme if asked."""
        from tenants.clients import services as clients

        client = client if client is not None else self.client(agency)
        with db.tenant_scope(agency.id):
            case = clients.open_case(
                agency,
                client,
                channel=channel,
                referrer="",
                materials="",
                by=by,
                special_programme=special_programme,
            )
            if assessed:
                today = clients.agency_today(agency)
                clients.record_assessment(
                    case,
                    method="interview",
                    assessed_on=today,
                    by=by,
                    today=today,
                    summary="",
                    domains={d: {"level": level} for d in ASSESSMENT_DOMAINS},
                )
            db.session.commit()
            return case

    def close_case(self, agency: Agency, case, *, by: User | None = None, reason: str = "Goals met"):
        """Close the case today (the agency's day) through `close_case`: its
        client is archived once none of their cases is open."""
        from tenants.clients import services as clients
        from tenants.clients.models import Case

        with db.tenant_scope(agency.id):
            case = db.session.scalar(
                select(Case).where(Case.id == case.id).execution_options(populate_existing=True)
            )
            clients.close_case(agency, case, reason=reason, closed_on=clients.agency_today(agency), by=by)
            db.session.commit()
            return case

    def plan(
        self,
        agency: Agency,
        case,
        item_id: uuid.UUID,
        *,
        author: User,
        approver: User,
        approver_role: str = "admin",
        weekdays: tuple[int, ...] = (1, 4),
        start_time: str = "09:00",
        minutes: int = 60,
        goals: str = "Wash safely",
        starts_on=None,
        active: bool = False,
    ):
        """A care plan for an assessed case with one service item, written and
        submitted by `author`, approved by `approver` (who must differ), and
        activated (which books its visits) if `active`."""
        from tenants.clients import services as clients

        with db.tenant_scope(agency.id):
            plan = clients.new_plan(case, by=author)
            starts_on = starts_on or clients.agency_today(agency)
            clients.update_plan(plan, clients.PlanFields(goals, None, "", None, starts_on, None))
            clients.add_plan_item(plan, clients.PlanItemData(item_id, list(weekdays), start_time, minutes))
            clients.submit_plan(plan, case, by=author)
            clients.approve_plan(agency, plan, case, by=approver, role=approver_role)
            if active:
                clients.activate_plan(plan, case, by=approver)
            db.session.commit()
            return plan

    def complete_visit(
        self,
        agency: Agency,
        visit_id: uuid.UUID,
        staff_id: uuid.UUID,
        *,
        by: User | None = None,
        what_was_done: str = "Washed and dressed",
        notes: str = "",
        needs_attention: bool = False,
        ticked: list[bool] | None = None,
        late_minutes: int = 1,
        reason: str = "The client asked to finish early.",
    ):
        """Check the carer in and out of their visit, at its booked time (the
        clock travels there, `late_minutes` after its start) and through the
        scheduling services, with a service record; every checklist point is
        ticked unless `ticked` says otherwise; `reason` is the one a short stay
        needs (the check-out follows the check-in at once). Returns the visit and its record.
        The visit must be the carer's (assigned) and not yet begun."""
        from datetime import timedelta

        import time_machine

        from tenants.scheduling import services as scheduling
        from tenants.scheduling.models import Visit

        with db.tenant_scope(agency.id):
            starts_at = db.session.scalar(select(Visit.starts_at).where(Visit.id == visit_id))
        with (
            time_machine.travel(starts_at + timedelta(minutes=late_minutes), tick=True),
            self.app.test_request_context(),
            db.tenant_scope(agency.id),
        ):
            visit = db.session.scalar(
                select(Visit).where(Visit.id == visit_id).execution_options(populate_existing=True)
            )
            scheduling.check_in(agency, visit, staff_id=staff_id)
            record = scheduling.check_out(
                agency,
                visit,
                scheduling.RecordData(
                    ticked=ticked if ticked is not None else [True] * len(visit.checklist),
                    what_was_done=what_was_done,
                    tools_used="",
                    outcome="",
                    notes=notes,
                    needs_attention=needs_attention,
                    # checked out at once: a short stay, which needs a reason
                    reason=reason,
                ),
                staff_id=staff_id,
                by=by,
            )
            db.session.commit()
            return visit, record

    def rating(
        self,
        agency: Agency,
        visit_id: uuid.UUID,
        *,
        channel: str = "portal",
        comment: str = "",
        **scores: int,
    ):
        """A rating of a completed visit through `rate_visit`: 4 on every
        dimension unless given (attitude=1, say, for a low one)."""
        from tenants.feedback import services as feedback
        from tenants.scheduling.models import Visit

        values = {"attitude": 4, "process": 4, "effect": 4, "environment": 4, "timeliness": 4, **scores}
        with self.app.test_request_context(), db.tenant_scope(agency.id):
            visit = db.session.scalar(select(Visit).where(Visit.id == visit_id))
            row = feedback.rate_visit(
                agency, visit, feedback.Scores(**values, comment=comment), channel=channel
            )
            db.session.commit()
            return row

    def feedback_item(
        self,
        agency: Agency,
        kind: str = "complaint",
        description: str = "Nobody came on Tuesday",
        *,
        channel: str = "phone",
        by: User | None = None,
        **fields: object,
    ):
        """A complaint (or opinion, praise... by `kind`) received through
        `submit_feedback`, as the office records one taken by phone."""
        from tenants.feedback import services as feedback

        with self.app.test_request_context(), db.tenant_scope(agency.id):
            item = feedback.submit_feedback(
                agency,
                feedback.FeedbackData(kind=kind, description=description, **fields),
                channel=channel,
                by=by,
            )
            db.session.commit()
            return item

    def portal_feedback(
        self,
        agency: Agency,
        membership: Membership,
        kind: str = "complaint",
        description: str = "The carer was rude",
        **fields: object,
    ):
        """An opinion or complaint a portal member sends about their client
        (`visit_id`, `staff_file_id`, `about`... among the client's recent
        visits), through `submit_portal_feedback`."""
        from tenants.feedback import services as feedback

        with self.app.test_request_context(), db.tenant_scope(agency.id):
            item = feedback.submit_portal_feedback(
                agency, feedback.FeedbackData(kind=kind, description=description, **fields), membership
            )
            db.session.commit()
            return item

    def respond(self, agency: Agency, item_id: uuid.UUID, response: str, *, by: User | None = None):
        """The office's answer to an opinion or complaint: it moves to
        responded with `response`, through `transition` (which mails it to
        the complainant)."""
        from tenants.feedback import services as feedback
        from tenants.feedback.models import FeedbackItem

        with self.app.test_request_context(), db.tenant_scope(agency.id):
            item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.id == item_id))
            feedback.transition(item, "responded", by=by, response=response, agency=agency)
            db.session.commit()
            return item

    def team(
        self,
        agency: Agency,
        name: str = "North",
        *,
        supervisor: Membership | None = None,
        staff_ids: tuple[uuid.UUID, ...] = (),
    ):
        """A team through the staffing service, supervised by `supervisor`
        (a membership) if given, with these staff files placed in it. Staff
        files and certificates are made by `tests.staffing.workforce_helpers`."""
        from tenants.staffing import teams
        from tenants.staffing.models import StaffFile

        with db.tenant_scope(agency.id):
            team = teams.create_team(
                teams.TeamInput(name=name, supervisor_membership_id=supervisor.id if supervisor else None)
            )
            for staff_id in staff_ids:
                teams.place_in_team(
                    db.session.scalar(select(StaffFile).where(StaffFile.id == staff_id)), team.id
                )
            db.session.commit()
            return team

    def service_item(
        self,
        agency: Agency,
        name: str = "Bathing",
        *,
        category: str = "Personal care",
        price: str = "25.00",
        checklist: tuple[str, ...] = ("Safe transfer", "Skin check"),
        minutes: int = 60,
    ) -> uuid.UUID:
        """A service item in `category` (made if the agency has none of that
        name), its terms in effect from today, through the catalogue services.
        No request context: the caller's rows stay in its session (leaving a
        request context ends the session)."""
        from decimal import Decimal

        from tenants.catalogue import services as catalogue
        from tenants.catalogue.models import ServiceCategory

        with db.tenant_scope(agency.id):
            category_id = db.session.scalar(
                select(ServiceCategory.id).where(ServiceCategory.name == category)
            )
            if category_id is None:
                category_id = catalogue.create_category(category).id
            item = catalogue.create_item(
                catalogue.ItemInput(category_id=category_id, name=name),
                catalogue.TermsInput(
                    price=Decimal(price),
                    unit="per_visit",
                    duration_minutes=minutes,
                    checklist=list(checklist),
                ),
                by=None,
            )
            db.session.commit()
            return item.id

    # -- visits booked one by one, through the scheduling services -----------------------------

    def visit(
        self,
        agency: Agency,
        client_id: uuid.UUID,
        item_id: uuid.UUID,
        starts_at,
        *,
        minutes: int = 60,
        staff_id: uuid.UUID | None = None,
        by: User | None = None,
        override_reason: str = "",
    ):
        """A one-off visit booked through `add_one_off_visit` at `starts_at`
        (its local day and time in the agency's zone) and, if `staff_id` is
        given, assigned to that worker through `assign` (a refusal fails the
        test, unless an admin's `override_reason` may override it). A
        visit in the past is booked the way it was then: the clock travels to
        an hour before it. The item's terms in effect on its day give it its
        price and checklist (none if the item is newer)."""
        from datetime import timedelta

        import time_machine

        from tenants.clients.models import Client
        from tenants.scheduling import services as scheduling

        booked_at = min(db.utcnow(), starts_at - timedelta(hours=1))
        local = starts_at.astimezone(agency.zone)
        with (
            time_machine.travel(booked_at, tick=False),
            self.app.test_request_context(),
            db.tenant_scope(agency.id),
        ):
            client = db.session.scalar(select(Client).where(Client.id == client_id))
            row = scheduling.add_one_off_visit(
                agency,
                client,
                service_item_id=item_id,
                day=local.date(),
                start=local.strftime("%H:%M"),
                duration_minutes=minutes,
                by=by,
            )
            if staff_id is not None:
                # only an admin may override the checks
                role = "admin" if override_reason else "coordinator"
                scheduling.assign(agency, row, staff_id, by=by, role=role, override_reason=override_reason)
            db.session.commit()
            return row

    def check_in(self, agency: Agency, visit_id: uuid.UUID, staff_id: uuid.UUID, at):
        """The worker checks in to their visit at `at` (the clock travels
        there), through `check_in`; the visit stays in progress."""
        import time_machine

        from tenants.scheduling import services as scheduling
        from tenants.scheduling.models import Visit

        with (
            time_machine.travel(at, tick=False),
            self.app.test_request_context(),
            db.tenant_scope(agency.id),
        ):
            row = db.session.scalar(
                select(Visit).where(Visit.id == visit_id).execution_options(populate_existing=True)
            )
            scheduling.check_in(agency, row, staff_id=staff_id)
            db.session.commit()
            return row

    # -- surveys, through the survey services ---------------------------------------------------

    def survey_template(
        self,
        agency: Agency,
        name: str = "Satisfaction",
        purpose: str = "satisfaction",
        *,
        questions=None,
        by: User | None = None,
    ):
        """A survey template with its questions (`QuestionData`s; by default a
        required 1-5 scale and an optional free text), through `create_template`
        and `add_question` as the template page makes them. Returns the template;
        its questions are `questions_of(template.id)`."""
        from tenants.surveys import services as surveys

        if questions is None:
            questions = (
                surveys.QuestionData("scale5", {"en": "How satisfied are you?"}),
                surveys.QuestionData("text", {"en": "Anything else?"}, required=False),
            )
        with self.app.test_request_context(), db.tenant_scope(agency.id):
            template = surveys.create_template(name, purpose, by=by)
            for question in questions:
                surveys.add_question(template, question)
            db.session.commit()
            return template

    def served_client(
        self, agency: Agency, name: str, *, item_id: uuid.UUID, author: User, approver: User, **fields
    ):
        """A client currently served: a case whose plan (one item, Mon and Thu)
        is active, so surveys count them eligible. `fields` go to the client
        (an `email` to be sent survey links, `languages`...)."""
        client = self.client(agency, name, **fields)
        case = self.case(agency, client, by=author)
        self.plan(agency, case, item_id, author=author, approver=approver, active=True)
        return client

    def survey_campaign(
        self,
        agency: Agency,
        template,
        *,
        title: str = "Spring survey",
        audience: str = "all",
        sample_size: int | None = None,
        seed: int | None = None,
        by: User | None = None,
    ):
        """A campaign created and sent through `create_campaign` and
        `send_campaign`: the clients currently served (or a sample of them)
        are invited, and those with an email are mailed their personal link."""
        from tenants.surveys import services as surveys

        with self.app.test_request_context(), db.tenant_scope(agency.id):
            campaign = surveys.create_campaign(agency, template, title, audience, sample_size, by=by)
            surveys.send_campaign(agency, campaign, by=by, seed=seed)
            db.session.commit()
            return campaign

    def survey_response(self, agency: Agency, campaign, client_id: uuid.UUID, answers: dict):
        """The client answers the campaign through their personal link, as the
        answer page takes it: the link mailed to them (a printed one through
        `issue_printed_link` if they have no email) is opened, the form read by
        `parse_answers` and recorded by `submit_answers`. `answers` maps a
        question's id to the form's value ("4", "c1", a list for a multiple
        choice, the text). Returns the invitation."""
        from werkzeug.datastructures import MultiDict

        from saas.models import MailMessage
        from tenants.surveys import services as surveys
        from tenants.surveys.models import SurveyInvitation

        with self.app.test_request_context(), db.tenant_scope(agency.id):
            invitation = db.session.scalar(
                select(SurveyInvitation).where(
                    SurveyInvitation.campaign_id == campaign.id, SurveyInvitation.client_id == client_id
                )
            )
            assert invitation is not None, "the client was not invited"
            mail = db.session.scalar(
                select(MailMessage.body).where(
                    MailMessage.dedupe_key == f"{agency.id}:survey.invitation:{invitation.id}"
                )
            )
            if mail is not None:
                link = next(line for line in mail.splitlines() if "/s/" in line)
                token = link.strip().rsplit("/", 1)[-1]
            else:
                token = surveys.issue_printed_link(agency, campaign, invitation)
                db.session.commit()
            opened = surveys.open_link(token)
            assert opened is not None and opened.state == "open", opened and opened.state
            assert opened.invitation.id == invitation.id
            form = MultiDict()
            for question_id, value in answers.items():
                for one in value if isinstance(value, list | tuple) else [value]:
                    form.add(f"q_{question_id}", one)
            parsed, errors = surveys.parse_answers(surveys.questions_of(campaign.template_id), form)
            assert not errors, errors
            surveys.submit_answers(opened, parsed)
            db.session.commit()
            return invitation

    # -- outreach, through its services ---------------------------------------------------------

    def _on_day(self, agency: Agency, day):
        """The clock at noon on the agency's local `day`."""
        from datetime import datetime, time

        import time_machine

        return time_machine.travel(datetime.combine(day, time(12), tzinfo=agency.zone), tick=False)

    def box_location(self, agency: Agency, name: str = "Front desk", *, since=None):
        """An opinion box set up through `add_location`: on the agency's local
        day `since` (the clock travels there), else today."""
        from contextlib import nullcontext

        from tenants.outreach import services as outreach

        with (
            self._on_day(agency, since) if since is not None else nullcontext(),
            self.app.test_request_context(),
            db.tenant_scope(agency.id),
        ):
            row = outreach.add_location(agency, name)
            db.session.commit()
            return row

    def box_log(self, agency: Agency, location_id: uuid.UUID, day, *, by: Membership, slips: int = 0):
        """The box opened on `day` by `by` (a membership), logged through
        `log_box` on that day itself (the clock travels there)."""
        from tenants.outreach import services as outreach

        with self._on_day(agency, day), self.app.test_request_context(), db.tenant_scope(agency.id):
            row = outreach.log_box(
                agency,
                outreach.BoxLogData(location_id, day, True, slips, opened_by_membership_id=by.id),
                by=None,
            )
            db.session.commit()
            return row

    def funder(self, agency: Agency, name: str = "City Welfare Office", *, at=None):
        """A funder put on the list through `create_funder`, at the instant
        `at` (the clock travels there), else now."""
        from contextlib import nullcontext

        import time_machine

        from tenants.outreach import services as outreach

        with (
            time_machine.travel(at, tick=False) if at is not None else nullcontext(),
            self.app.test_request_context(),
            db.tenant_scope(agency.id),
        ):
            row = outreach.create_funder(outreach.FunderData(name=name))
            db.session.commit()
            return row

    def stakeholder_round(
        self,
        agency: Agency,
        team_id: uuid.UUID,
        group: str,
        held_on,
        *,
        led_by: Membership,
        method: str = "meeting",
        participants: int = 6,
        opinions: int = 4,
        summary: str = "Heard them",
        by: User | None = None,
    ):
        """A team's round with a stakeholder group (clients, funders,
        partners), recorded through `record_round` on the day it was held."""
        from tenants.outreach import services as outreach

        with self._on_day(agency, held_on), self.app.test_request_context(), db.tenant_scope(agency.id):
            row = outreach.record_round(
                agency,
                outreach.RoundData(
                    team_id, group, held_on, method, participants, opinions, summary, led_by.id
                ),
                by=by,
            )
            db.session.commit()
            return row

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


def login(client, user: User, password: str = PASSWORD, *, through_pages: bool = False) -> None:
    """Sign `client` in as `user`, both factors passed as the pages would.

    By default the session is made by the service the sign-in pages end with
    (`start_session`) and written into the client's cookie by the app's own
    session interface: the state after a successful sign-in, without the two
    argon2 checks each page sign-in costs. A test about signing in itself
    (passwords, two-factor, throttling, rate limits, the audit of sign-ins,
    session rotation) passes `through_pages=True`; a password other than the
    default always goes through the pages, where it can be refused."""
    if through_pages or password != PASSWORD:
        sign_in_through_pages(client, user, password)
        return
    from flask.ctx import RequestContext
    from flask.testing import EnvironBuilder

    from saas.auth.services import user_by_email
    from saas.auth.sessions import start_session

    # the account as the pages find it, and only one they would let in
    user = user_by_email(user.email)
    assert user is not None and user.is_active and user.password_hash, "the sign-in pages would refuse this"
    app = client.application
    with client.session_transaction() as cookie_session:
        # a request context given the client's session: push() opens no other
        environ = EnvironBuilder(app, "/login", method="POST").get_environ()
        with RequestContext(app, environ, session=cookie_session):
            start_session(user, two_factor_passed=user.has_totp)
            db.session.commit()


def sign_in_through_pages(client, user: User, password: str = PASSWORD) -> None:
    """Sign in through the real pages: POST /login, then /login/two-factor."""
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
