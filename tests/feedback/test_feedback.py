"""Visit ratings (portal, signed link, phone), low-rating follow-up, the
public opinions and complaints page, the complaint workflow and deadlines,
rectifications and re-inspections (the statistics: tests/feedback/test_feedback_statistics.py)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from saas import db
from saas.models import MailMessage, Membership, Role
from tenants.clients import services as clients
from tenants.feedback import services
from tenants.feedback.models import (
    FeedbackItem,
    FeedbackTransition,
    FollowUpTask,
    RatingLink,
    Rectification,
    VisitRating,
)
from tenants.feedback.services import FeedbackData, FeedbackError, RectificationData, Scores
from tenants.scheduling import services as scheduling
from tests.factories import login
from tests.scheduling.test_scheduling import World
from tests.staffing import workforce_helpers as wf

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)

GOOD = {
    "score_attitude": "5",
    "score_process": "4",
    "score_effect": "5",
    "score_environment": "4",
    "score_timeliness": "5",
}


def completed_world(factory, *, carer_name="Joan Smith"):
    """A World whose plan went active five days ago, one carer (a staff file
    through the staffing service) and the plan's first visit assigned to them
    and completed at its time: checked in and out through the services, the
    clock travelling there."""
    with time_machine.travel(db.utcnow() - timedelta(days=5), tick=True):
        world = World(factory)
        world.activate()
        world.carer_user, _membership, staff_id = wf.staff(
            factory, world.agency, name=carer_name, contracted_hours=Decimal(20)
        )
        with db.tenant_scope(world.agency.id):
            world.staff = wf.staff_file(staff_id)
        first = world.visits()[0]
        with db.tenant_scope(world.agency.id):
            scheduling.assign(world.agency, first, staff_id, by=world.coordinator, role="coordinator")
            db.session.commit()
    # Monday and Thursday visits: the first is at most four days after the plan went active
    world.visit, _record = factory.complete_visit(world.agency, first.id, staff_id, by=world.carer_user)
    return world


def factory_app(world):
    return world.factory.app


def portal_member(factory, world, name="Mary Daughter"):
    user, membership = factory.member(world.agency, Role.CLIENT, name=name)
    with db.tenant_scope(world.agency.id):
        clients.link_portal_member(world.client, membership, "daughter")
        db.session.commit()
    return user, membership


def scores(low=False, **kw):
    values = {"attitude": 4, "process": 4, "effect": 4, "environment": 4, "timeliness": 4, **kw}
    if low:
        values["attitude"] = 1
    return Scores(**values)


def fresh(model, row_id):
    return db.session.scalar(
        select(model).where(model.id == row_id).execution_options(populate_existing=True)
    )


# -- ratings ----------------------------------------------------------------------------------


def test_family_member_rates_in_the_portal(client, factory, dbconn):
    world = completed_world(factory)
    user, membership = portal_member(factory, world)
    login(client, user)
    slug = world.agency.slug
    portal = client.get(f"/a/{slug}/portal")
    assert f"/portal/visits/{world.visit.id}/rate" in portal.text
    page = client.get(f"/a/{slug}/portal/visits/{world.visit.id}/rate")
    assert page.status_code == 200 and 'type="radio"' in page.text and "<legend>" in page.text
    assert "Joan" in page.text and "Smith" not in page.text
    response = client.post(
        f"/a/{slug}/portal/visits/{world.visit.id}/rate", data={**GOOD, "comment": "Lovely"}
    )
    assert response.status_code == 302
    with db.tenant_scope(world.agency.id):
        rating = db.session.scalar(select(VisitRating))
        assert (rating.attitude, rating.comment, rating.channel) == (5, "Lovely", "portal")
        assert rating.membership_id == membership.id and rating.staff_file_id == world.staff.id


def test_portal_rating_needs_a_portal_link_to_the_client(client, factory, dbconn):
    world = completed_world(factory)
    stranger, _ = factory.member(world.agency, Role.CLIENT)
    login(client, stranger)
    assert client.get(f"/a/{world.agency.slug}/portal/visits/{world.visit.id}/rate").status_code == 404
    assert (
        client.post(f"/a/{world.agency.slug}/portal/visits/{world.visit.id}/rate", data=GOOD).status_code
        == 404
    )


def test_missing_score_is_refused_next_to_the_field(client, factory, dbconn):
    world = completed_world(factory)
    user, _ = portal_member(factory, world)
    login(client, user)
    data = {k: v for k, v in GOOD.items() if k != "score_timeliness"}
    response = client.post(f"/a/{world.agency.slug}/portal/visits/{world.visit.id}/rate", data=data)
    assert response.status_code == 422 and "Choose a score." in response.text
    data = {**GOOD, "score_timeliness": "9"}
    assert (
        client.post(f"/a/{world.agency.slug}/portal/visits/{world.visit.id}/rate", data=data).status_code
        == 422
    )


def test_only_a_completed_visit_can_be_rated(factory, app_ctx):
    world = World(factory)
    world.activate()
    with db.tenant_scope(world.agency.id):
        visit = world.visits()[0]
        with pytest.raises(FeedbackError) as err:
            services.rate_visit(world.agency, visit, scores(), channel="portal")
        assert err.value.code == "not_completed"
        with pytest.raises(FeedbackError):
            services.issue_rating_link(world.agency, visit)


def test_one_rating_per_visit_amendable_for_seven_days(factory, app_ctx):
    world = completed_world(factory)
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    with db.tenant_scope(world.agency.id), time_machine.travel(start, tick=False):
        first = services.rate_visit(world.agency, world.visit, scores(), channel="portal")
        db.session.flush()
    with db.tenant_scope(world.agency.id), time_machine.travel(start + timedelta(days=6), tick=False):
        again = services.rate_visit(world.agency, world.visit, scores(attitude=5), channel="portal")
        assert again.id == first.id and again.attitude == 5
        assert db.session.scalar(select(func.count()).select_from(VisitRating)) == 1
    with (
        db.tenant_scope(world.agency.id),
        time_machine.travel(start + timedelta(days=7, hours=1), tick=False),
    ):
        with pytest.raises(FeedbackError) as err:
            services.rate_visit(world.agency, world.visit, scores(attitude=2), channel="portal")
        assert err.value.code == "amend_closed"


def test_unique_rating_per_visit_in_the_database(factory, app_ctx):
    world = completed_world(factory)
    from sqlalchemy.exc import IntegrityError

    with db.tenant_scope(world.agency.id):
        services.rate_visit(world.agency, world.visit, scores(), channel="portal")
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(
                VisitRating(
                    visit_id=world.visit.id,
                    client_id=world.client.id,
                    channel="portal",
                    **{d: 3 for d in ("attitude", "process", "effect", "environment", "timeliness")},
                )
            )
            db.session.flush()


def test_low_rating_creates_a_task_and_mails_coordinators_once(factory, app_ctx):
    world = completed_world(factory)
    with db.tenant_scope(world.agency.id):
        services.rate_visit(world.agency, world.visit, scores(low=True), channel="portal")
        services.rate_visit(world.agency, world.visit, scores(low=True, process=2), channel="portal")
        db.session.commit()
        tasks = list(db.session.scalars(select(FollowUpTask)))
        assert len(tasks) == 1 and tasks[0].staff_file_id == world.staff.id
        assert tasks[0].assigned_role == "coordinator"
    mails = list(
        db.session.scalars(
            select(MailMessage).where(
                MailMessage.kind == "rating.low", MailMessage.agency_id == world.agency.id
            )
        )
    )
    assert [m.to_address for m in mails] == [world.coordinator.email]


def test_good_rating_and_threshold_setting(factory, app_ctx):
    world = completed_world(factory)
    with db.tenant_scope(world.agency.id):
        services.rate_visit(world.agency, world.visit, scores(attitude=3), channel="portal")
        assert db.session.scalar(select(FollowUpTask.id)) is None
        world.agency.settings = {**world.agency.settings, "low_rating_threshold": 3}
        services.rate_visit(world.agency, world.visit, scores(attitude=3), channel="portal")
        assert db.session.scalar(select(FollowUpTask.id)) is not None


def test_staff_records_a_phone_rating_marked_with_who_took_it(client, factory, dbconn):
    world = completed_world(factory)
    login(client, world.coordinator)
    slug = world.agency.slug
    assert "Record a rating taken by phone" in client.get(f"/a/{slug}/visits/{world.visit.id}").text
    response = client.post(f"/a/{slug}/visits/{world.visit.id}/rating", data={**GOOD, "score_attitude": "2"})
    assert response.status_code == 302
    with db.tenant_scope(world.agency.id):
        rating = db.session.scalar(select(VisitRating))
        assert rating.channel == "phone" and rating.recorded_by_user_id == world.coordinator.id
    tasks = client.get(f"/a/{slug}/feedback/tasks")
    assert tasks.status_code == 200 and "Edith Carver" in tasks.text
    carer_client = factory.app.test_client()
    login(carer_client, world.carer_user)
    assert carer_client.get(f"/a/{slug}/visits/{world.visit.id}/rating").status_code == 404
    with db.tenant_scope(world.agency.id):
        with pytest.raises(FeedbackError):
            services.rate_visit(world.agency, world.visit, scores(), channel="phone", by=None)


def _issue_link(world):
    with factory_app(world).test_request_context(), db.tenant_scope(world.agency.id):
        token = services.issue_rating_link(world.agency, world.visit)
        db.session.commit()
    return token


def test_rating_link_works_once_without_sign_in_and_reveals_little(client, factory, dbconn):
    world = completed_world(factory)
    token = _issue_link(world)
    with db.tenant_scope(world.agency.id):
        stored = db.session.scalar(select(RatingLink.token_hash))
    assert token.split(".")[-1] not in stored, "stored hashed"
    page = client.get(f"/r/{token}")
    assert page.status_code == 200
    assert "Joan" in page.text and "Smith" not in page.text
    assert "Edith" not in page.text and "Carver" not in page.text and "Mill Lane" not in page.text
    assert "Bathing" not in page.text and world.agency.name not in page.text
    assert client.post(f"/r/{token}", data=GOOD).status_code == 200
    with db.tenant_scope(world.agency.id):
        rating = db.session.scalar(select(VisitRating))
        assert rating.channel == "link" and rating.membership_id is None
    assert client.get(f"/r/{token}").status_code == 404
    assert client.post(f"/r/{token}", data=GOOD).status_code == 404


def test_rating_link_expires_after_fourteen_days(app, client, factory, dbconn):
    world = completed_world(factory)
    with time_machine.travel(datetime(2030, 1, 1, 12, tzinfo=UTC), tick=False), app.test_request_context():
        token = _issue_link(world)
    with time_machine.travel(datetime(2030, 1, 14, 12, tzinfo=UTC), tick=False):
        assert client.get(f"/r/{token}").status_code == 200
    with time_machine.travel(datetime(2030, 1, 15, 12, 1, tzinfo=UTC), tick=False):
        assert client.get(f"/r/{token}").status_code == 404
        assert client.post(f"/r/{token}", data=GOOD).status_code == 404


def test_tampered_rating_links_are_404(client, factory, dbconn):
    world = completed_world(factory)
    token = _issue_link(world)
    agency_hex, link_hex, secret = token.split(".")
    other = factory.agency()
    for bad in (
        f"{agency_hex}.{link_hex}.{secret[:-1]}x",
        f"{other.id.hex}.{link_hex}.{secret}",
        f"{agency_hex}.{agency_hex}.{secret}",
        f"{agency_hex}.{link_hex}",
        "nonsense",
    ):
        assert client.get(f"/r/{bad}").status_code == 404, bad
    assert client.get(f"/r/{token}").status_code == 200


def test_staff_creates_a_rating_link(client, factory, dbconn):
    world = completed_world(factory)
    login(client, world.coordinator)
    page = client.post(f"/a/{world.agency.slug}/visits/{world.visit.id}/rating-link")
    assert page.status_code == 200
    url = page.text.split('data-testid="rating-url">')[1].split("<")[0]
    anonymous = factory.app.test_client()
    assert anonymous.get(url.replace("http://localhost", "")).status_code == 200


def test_client_ratings_provider_for_reviews(factory, app_ctx):
    from tenants.staffing.services import client_ratings_average

    world = completed_world(factory)
    factory.rating(world.agency, world.visit.id, attitude=5, process=3)
    with db.tenant_scope(world.agency.id):
        day = world.visit.local_day
        average = client_ratings_average(world.staff.id, day, day)
        assert average == Decimal("4.00")  # (5 + 3 + 4 + 4 + 4) / 5
        assert (
            client_ratings_average(world.staff.id, day + timedelta(days=1), day + timedelta(days=9)) is None
        )


# -- the public page --------------------------------------------------------------------------


def _public_form(client, slug):
    page = client.get(f"/a/{slug}/feedback")
    assert page.status_code == 200
    return page.text.split('name="started" type="hidden" value="')[1].split('"')[0]


def _post_public(client, slug, started, **data):
    form = {
        "kind": "complaint",
        "about": "agency",
        "description": "Nobody came on Monday",
        "started": started,
    }
    form.update(data)
    return client.post(f"/a/{slug}/feedback", data=form)


def test_public_page_needs_no_sign_in_and_records_a_complaint(client, factory, dbconn):
    world = completed_world(factory)
    slug = world.agency.slug
    with time_machine.travel(time.time() - 60, tick=True):
        started = _public_form(client, slug)
    response = _post_public(client, slug, started, contact="0123")
    assert response.status_code == 201
    with db.tenant_scope(world.agency.id):
        item = db.session.scalar(select(FeedbackItem))
        assert (item.kind, item.channel, item.status, item.contact) == (
            "complaint",
            "public",
            "received",
            "0123",
        )
        assert db.session.scalar(select(FeedbackTransition.to_status)) == "received"
    mails = list(
        db.session.scalars(
            select(MailMessage).where(
                MailMessage.kind == "feedback.complaint", MailMessage.agency_id == world.agency.id
            )
        )
    )
    assert [m.to_address for m in mails] == [world.admin.email], "admins notified at once"


def test_public_page_honeypot_keeps_nothing(client, factory, dbconn):
    world = World(factory)
    with time_machine.travel(time.time() - 60, tick=True):
        started = _public_form(client, world.agency.slug)
    response = _post_public(client, world.agency.slug, started, website="http://spam.example")
    assert response.status_code == 200
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(FeedbackItem.id)) is None


def test_public_page_refuses_too_fast_and_forged_timestamps(client, factory, dbconn):
    world = World(factory)
    slug = world.agency.slug
    started = _public_form(client, slug)
    assert _post_public(client, slug, started).status_code == 422, "sent at once"
    assert _post_public(client, slug, "1700000000.0").status_code == 422, "unsigned"
    with time_machine.travel(time.time() - 3 * 24 * 3600, tick=True):
        old = _public_form(client, slug)
    assert _post_public(client, slug, old).status_code == 422, "expired"
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(FeedbackItem.id)) is None


def test_public_page_refuses_an_empty_description(client, factory, dbconn):
    world = World(factory)
    with time_machine.travel(time.time() - 60, tick=True):
        started = _public_form(client, world.agency.slug)
    response = _post_public(client, world.agency.slug, started, description="   ")
    assert response.status_code == 422 and "This field is required." in response.text
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(FeedbackItem.id)) is None
        with pytest.raises(FeedbackError):
            services.submit_feedback(
                world.agency, FeedbackData(kind="complaint", description=" "), channel="phone"
            )


def test_public_page_is_rate_limited(client, factory, dbconn):
    world = World(factory)
    slug = world.agency.slug
    with time_machine.travel(time.time() - 60, tick=True):
        started = _public_form(client, slug)
    codes = [_post_public(client, slug, started, kind="opinion").status_code for _ in range(6)]
    assert codes[:5] == [201] * 5 and codes[5] == 429


def test_html_is_shown_as_text(client, factory, dbconn):
    world = World(factory)
    with time_machine.travel(time.time() - 60, tick=True):
        started = _public_form(client, world.agency.slug)
    _post_public(client, world.agency.slug, started, description="<script>alert(1)</script>")
    login(client, world.coordinator)
    page = client.get(f"/a/{world.agency.slug}/feedback/inbox")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text


def test_public_page_of_a_suspended_agency_is_404(client, factory, dbconn):
    world = World(factory)
    from saas.models import AgencyStatus

    world.agency.status = AgencyStatus.SUSPENDED
    db.session.commit()
    assert world.agency.is_suspended
    assert client.get(f"/a/{world.agency.slug}/feedback").status_code == 404
    assert client.get("/a/no-such-agency/feedback").status_code == 404


# -- portal and staff entry, confidentiality --------------------------------------------------


def test_portal_feedback_and_confidentiality(client, factory, dbconn):
    world = World(factory)
    user, membership = portal_member(factory, world)
    login(client, user)
    response = client.post(
        f"/a/{world.agency.slug}/portal/feedback",
        data={
            "kind": "suggestion",
            "about": "agency",
            "description": "Please call before",
            "confidential": "y",
        },
    )
    assert response.status_code == 302
    with db.tenant_scope(world.agency.id):
        item = db.session.scalar(select(FeedbackItem))
        assert item.membership_id == membership.id and item.confidential and item.channel == "portal"
        # the client is the one the member's portal opens
        assert item.client_id == world.client.id
    coordinator = factory.app.test_client()
    login(coordinator, world.coordinator)
    assert "Mary Daughter" not in coordinator.get(f"/a/{world.agency.slug}/feedback/inbox").text
    assert "Mary Daughter" not in coordinator.get(f"/a/{world.agency.slug}/feedback/items/{item.id}").text
    admin = factory.app.test_client()
    login(admin, world.admin)
    inbox = admin.get(f"/a/{world.agency.slug}/feedback/inbox").text
    assert "Mary Daughter" in inbox, "the From names the sender"
    assert f"Client: {world.client.full_name}" in inbox
    assert "Mary Daughter" in admin.get(f"/a/{world.agency.slug}/feedback/items/{item.id}").text


def test_staff_enters_feedback_received_by_phone(client, factory, dbconn):
    world = World(factory)
    login(client, world.coordinator)
    response = client.post(
        f"/a/{world.agency.slug}/feedback/new",
        data={"channel": "opinion_box", "kind": "praise", "about": "agency", "description": "Great team"},
    )
    assert response.status_code == 302
    with db.tenant_scope(world.agency.id):
        item = db.session.scalar(select(FeedbackItem))
        assert item.channel == "opinion_box" and item.entered_by_user_id == world.coordinator.id


# -- workflow and deadlines -------------------------------------------------------------------


def test_workflow_steps_are_dated_and_attributed_and_closing_needs_a_response(factory, app_ctx):
    world = World(factory)
    with db.tenant_scope(world.agency.id):
        item = services.submit_feedback(
            world.agency, FeedbackData(kind="complaint", description="Late", contact="0123"), channel="phone"
        )
        services.transition(item, "acknowledged", by=world.coordinator)
        with pytest.raises(FeedbackError) as err:
            services.transition(item, "received", by=world.coordinator)
        assert err.value.code == "not_forward"
        services.transition(item, "investigating", by=world.coordinator, note="Called the carer")
        with pytest.raises(FeedbackError) as err:
            services.transition(item, "closed", by=world.coordinator)
        assert err.value.code == "response_required"
        with pytest.raises(FeedbackError):
            services.transition(item, "responded", by=world.coordinator)
        services.transition(
            item, "responded", by=world.coordinator, response="We apologised and changed the rota"
        )
        services.transition(item, "closed", by=world.admin)
        steps = db.session.execute(
            select(FeedbackTransition.to_status, FeedbackTransition.by_user_id).order_by(
                FeedbackTransition.at
            )
        ).all()
        assert [s for s, _ in steps] == ["received", "acknowledged", "investigating", "responded", "closed"]
        assert steps[-1][1] == world.admin.id and item.closed_at is not None


def test_anonymous_feedback_closes_without_a_response(factory, app_ctx):
    world = World(factory)
    with db.tenant_scope(world.agency.id):
        item = services.submit_feedback(
            world.agency, FeedbackData(kind="opinion", description="Fine"), channel="public"
        )
        services.transition(item, "closed", by=world.coordinator)
        assert item.status == "closed"


def test_closing_through_the_page_needs_a_response(app, client, factory, dbconn):
    world = World(factory)
    item = factory.feedback_item(world.agency, "complaint", "Late", contact="0123")
    login(client, world.coordinator)
    url = f"/a/{world.agency.slug}/feedback/items/{item.id}/transition"
    refused = client.post(url, data={"to_status": "closed"})
    assert refused.status_code == 422 and "Record the response" in refused.text
    assert client.post(url, data={"to_status": "closed", "response": "Called back"}).status_code == 302
    with db.tenant_scope(world.agency.id):
        assert fresh(FeedbackItem, item.id).status == "closed"


def test_deadlines_due_soon_and_overdue(app, client, factory, dbconn):
    world = World(factory)
    world.agency.settings = {
        **world.agency.settings,
        "complaint_response_days": 2,
        "feedback_response_days": 5,
    }
    db.session.commit()
    start = db.utcnow().replace(microsecond=0) - timedelta(days=3)
    with time_machine.travel(start, tick=False), app.test_request_context(), db.tenant_scope(world.agency.id):
        complaint = services.submit_feedback(
            world.agency, FeedbackData(kind="complaint", description="Late"), channel="phone"
        )
        opinion = services.submit_feedback(
            world.agency, FeedbackData(kind="opinion", description="Ok"), channel="phone"
        )
        db.session.commit()
        assert complaint.due_at == start + timedelta(days=2) and opinion.due_at == start + timedelta(days=5)
        assert services.deadline_state(complaint) == "on_time"
    assert services.deadline_state(complaint, start + timedelta(days=1, hours=1)) == "due_soon"
    assert services.deadline_state(complaint, start + timedelta(days=2, minutes=1)) == "overdue"
    assert services.deadline_state(opinion, start + timedelta(days=2, minutes=1)) == "on_time"
    login(client, world.coordinator)
    page = client.get(f"/a/{world.agency.slug}/feedback/inbox")
    assert 'data-state="overdue"' in page.text and 'data-state="on_time"' in page.text
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        complaint = fresh(FeedbackItem, complaint.id)
        services.transition(complaint, "responded", by=world.coordinator, response="Sorry")
        assert services.deadline_state(complaint, start + timedelta(days=9)) == "answered"


# -- rectifications ---------------------------------------------------------------------------


def _membership(user, agency):
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


def _rectification(world, owner_membership, **kw):
    data = {
        "source": "inspection",
        "finding": "Unsafe hoist",
        "problem": "Hoist not checked",
        "measures": "Weekly check",
        "owner_membership_id": owner_membership.id,
        "deadline": date(2030, 3, 10),
        **kw,
    }
    return services.open_rectification(world.agency, RectificationData(**data), by=world.admin)


def test_rectification_closed_only_by_a_supervisor_who_is_not_the_owner(factory, app_ctx):
    world = World(factory)
    coordinator = _membership(world.coordinator, world.agency)
    admin = _membership(world.admin, world.agency)
    carer_user, _staff = world.carer()
    carer = _membership(carer_user, world.agency)
    with db.tenant_scope(world.agency.id):
        rect = _rectification(world, coordinator)
        with pytest.raises(FeedbackError) as err:
            services.reinspect(rect, coordinator, passed=True)
        assert err.value.code == "owner_cannot_inspect"
        with pytest.raises(FeedbackError) as err:
            services.reinspect(rect, carer, passed=True)
        assert err.value.code == "not_supervisor"
        services.reinspect(rect, admin, passed=False, notes="Still not checked")
        assert rect.status == "open"
        services.reinspect(rect, admin, passed=True)
        assert rect.status == "closed" and rect.closed_at is not None
        services.reinspect(rect, admin, passed=False, notes="Hoist broken again")
        assert rect.status == "open" and rect.closed_at is None, "a failed re-inspection re-opens it"


def test_rectification_sources_are_checked(factory, app_ctx):
    world = completed_world(factory)
    owner = _membership(world.coordinator, world.agency)
    with db.tenant_scope(world.agency.id):
        good = services.rate_visit(world.agency, world.visit, scores(), channel="portal")
        with pytest.raises(FeedbackError):
            _rectification(world, owner, source="low_rating", rating_id=good.id)
        low = services.rate_visit(world.agency, world.visit, scores(low=True), channel="portal")
        assert _rectification(world, owner, source="low_rating", rating_id=low.id).rating_id == low.id
        praise = services.submit_feedback(
            world.agency, FeedbackData(kind="praise", description="x"), channel="phone"
        )
        with pytest.raises(FeedbackError):
            _rectification(world, owner, source="complaint", feedback_item_id=praise.id)
        with pytest.raises(FeedbackError) as err:
            _rectification(world, owner, problem="  ")
        assert err.value.code == "required"


def test_rectification_pages_open_list_overdue_and_inspect(client, factory, dbconn):
    world = World(factory)
    coordinator = _membership(world.coordinator, world.agency)
    login(client, world.admin)
    slug = world.agency.slug
    today = clients.agency_today(world.agency)
    for problem, deadline in (
        ("Cleaning skipped", today + timedelta(days=4)),
        ("Late notes", today - timedelta(days=1)),
    ):
        response = client.post(
            f"/a/{slug}/rectifications/new",
            data={
                "source": "inspection",
                "finding": "Dirty kitchen",
                "problem": problem,
                "measures": "Checklist",
                "owner": str(coordinator.id),
                "deadline": deadline.isoformat(),
            },
        )
        assert response.status_code == 302
    listing = client.get(f"/a/{slug}/rectifications")
    assert listing.text.count('data-overdue="no"') == 1 and listing.text.count('data-overdue="yes"') == 1
    with db.tenant_scope(world.agency.id):
        rect = db.session.scalar(select(Rectification).where(Rectification.problem == "Cleaning skipped"))
    assert (
        client.post(f"/a/{slug}/rectifications/{rect.id}/inspect", data={"outcome": "pass"}).status_code
        == 302
    )
    with db.tenant_scope(world.agency.id):
        assert fresh(Rectification, rect.id).status == "closed"
    assert "Cleaning skipped" not in client.get(f"/a/{slug}/rectifications").text
    owner_client = factory.app.test_client()
    login(owner_client, world.coordinator)
    refused = owner_client.post(f"/a/{slug}/rectifications/{rect.id}/inspect", data={"outcome": "fail"})
    assert refused.status_code == 422 and "owner cannot" in refused.text


def test_overdue_items_escalate_to_the_agency_head_once(app, client, factory, dbconn):
    world = World(factory)
    start = db.utcnow().replace(microsecond=0)
    with time_machine.travel(start, tick=False), app.test_request_context(), db.tenant_scope(world.agency.id):
        complaint = services.submit_feedback(
            world.agency, FeedbackData(kind="complaint", description="Nobody came"), channel="phone"
        )
        answered = services.submit_feedback(
            world.agency, FeedbackData(kind="opinion", description="Nice"), channel="phone"
        )
        services.transition(answered, "responded", by=world.coordinator, response="Thank you")
        db.session.commit()
    with app.test_request_context(), db.tenant_scope(world.agency.id):
        assert services.escalate_overdue(world.agency, start + timedelta(days=2)) == 0, "still on time"
        assert services.escalate_overdue(world.agency, start + timedelta(days=3, minutes=1)) == 1
        assert services.escalate_overdue(world.agency, start + timedelta(days=4)) == 0, "once only"
        db.session.commit()
        assert fresh(FeedbackItem, complaint.id).escalated_at == start + timedelta(days=3, minutes=1)
        assert fresh(FeedbackItem, answered.id).escalated_at is None
    to = list(
        db.session.scalars(
            select(MailMessage.to_address).where(
                # sent through the notification centre (tenants/feedback/reminders.py)
                MailMessage.kind == "notification",
                MailMessage.agency_id == world.agency.id,
                MailMessage.subject.startswith("Overdue: Complaint"),
            )
        )
    )
    assert to == [world.admin.email], "the agency head (its admins), once"
    login(client, world.admin)
    page = client.get(f"/a/{world.agency.slug}/feedback/items/{complaint.id}")
    assert 'data-testid="escalated"' in page.text


# -- the API ----------------------------------------------------------------------------------


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_api_client_rates_and_reads_ratings(client, factory, dbconn):
    world = completed_world(factory)
    visit_id = world.visit.id  # requests that roll back expire the test's objects
    _user, membership = portal_member(factory, world)
    token = factory.api_token(membership)
    url = f"/api/v1/visits/{visit_id}/rating"
    good = {"attitude": 5, "process": 4, "effect": 5, "environment": 4, "timeliness": 5, "comment": "Kind"}
    assert client.post(url, json=dict(good, attitude=9), headers=bearer(token)).status_code == 400
    assert client.post(url, json=dict(good, attitude="5"), headers=bearer(token)).status_code == 400
    assert client.post(url, data="not json", headers=bearer(token)).status_code == 400
    rated = client.post(url, json=good, headers=bearer(token))
    assert rated.status_code == 200 and rated.json["attitude"] == 5 and rated.json["can_amend"] is True
    amended = client.post(url, json=dict(good, effect=3), headers=bearer(token))
    assert amended.status_code == 200 and amended.json["effect"] == 3
    mine = client.get("/api/v1/my/ratings", headers=bearer(token)).json["ratings"]
    assert [(r["visit_id"], r["effect"]) for r in mine] == [(str(visit_id), 3)]
    with db.tenant_scope(world.agency.id):
        assert db.session.scalar(select(func.count()).select_from(VisitRating)) == 1, "one rating per visit"


def test_api_rating_of_someone_elses_visit_is_404(client, factory, dbconn):
    world = completed_world(factory)
    _user, membership = factory.member(world.agency, Role.CLIENT)  # not linked to this client
    token = factory.api_token(membership)
    good = {"attitude": 5, "process": 4, "effect": 5, "environment": 4, "timeliness": 5}
    assert (
        client.post(f"/api/v1/visits/{world.visit.id}/rating", json=good, headers=bearer(token)).status_code
        == 404
    )


def test_api_submit_list_and_advance_complaints(client, factory, dbconn):
    world = completed_world(factory)
    _user, client_membership = portal_member(factory, world)
    client_token = factory.api_token(client_membership)
    with db.tenant_scope(world.agency.id):
        coordinator_membership = db.session.scalar(
            select(Membership).where(Membership.user_id == world.coordinator.id)
        )
    staff_token = factory.api_token(coordinator_membership)
    empty = client.post(
        "/api/v1/feedback", json={"kind": "complaint", "description": " "}, headers=bearer(client_token)
    )
    assert empty.status_code == 400
    complaint = {"kind": "complaint", "description": "<b>Late</b> again", "about": "visit"}
    unnamed = client.post("/api/v1/feedback", json=complaint, headers=bearer(client_token))
    assert unnamed.status_code == 400 and unnamed.json["error"]["message"] == "Say which visit it is about."
    not_an_id = client.post(
        "/api/v1/feedback", json={**complaint, "visit_id": "tuesday"}, headers=bearer(client_token)
    )
    assert not_an_id.status_code == 422
    made = client.post(
        "/api/v1/feedback", json={**complaint, "visit_id": str(world.visit.id)}, headers=bearer(client_token)
    )
    assert (
        made.status_code == 200 and made.json["status"] == "received" and made.json["deadline"] == "on_time"
    )
    # the visit names its client and its carer
    assert (made.json["client_id"], made.json["visit_id"], made.json["staff_id"]) == (
        str(world.client.id),
        str(world.visit.id),
        str(world.staff.id),
    )
    assert client.get("/api/v1/feedback", headers=bearer(client_token)).status_code == 403
    listed = client.get("/api/v1/feedback", headers=bearer(staff_token)).json["items"]
    assert [i["id"] for i in listed] == [made.json["id"]]
    url = f"/api/v1/feedback/{made.json['id']}/transition"
    refused = client.post(url, json={"to_status": "closed"}, headers=bearer(staff_token))
    assert refused.status_code == 400, "closing needs a recorded response"
    done = client.post(
        url, json={"to_status": "responded", "response": "We are sorry"}, headers=bearer(staff_token)
    )
    assert done.status_code == 200 and done.json["deadline"] == "answered"
    back = client.post(url, json={"to_status": "acknowledged"}, headers=bearer(staff_token))
    assert back.status_code == 400, "only forward"
    assert client.post(url, json={"to_status": "closed"}, headers=bearer(client_token)).status_code == 404
