"""A client opens a personal rating link on a phone and rates the visit."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from saas import db
from tenants.feedback import services
from tenants.feedback.models import VisitRating
from tests.feedback.test_feedback import completed_world

pytestmark = pytest.mark.browser

QUESTIONS = (
    "The carer's attitude",
    "How the service was done",
    "The result of the service",
    "Cleanliness and tidiness",
    "Arriving and leaving on time",
)


def test_client_rates_a_visit_from_a_link_on_a_phone(phone: Page, make, live_server):
    world = completed_world(make, carer_name="Joan Smith")
    with make.app.test_request_context(), db.tenant_scope(world.agency.id):
        token = services.issue_rating_link(world.agency, world.visit)
        db.session.commit()

    phone.goto(f"/r/{token}")
    expect(phone.get_by_role("heading", name="How was your visit?")).to_be_visible()
    expect(phone.get_by_test_id("rated-visit")).to_contain_text("with Joan")
    expect(phone.get_by_text("Smith")).to_have_count(0)
    for question in QUESTIONS[:-1]:
        phone.get_by_role("group", name=question).get_by_label("5 – Excellent").check()
    # the big targets: the whole label is tappable
    phone.get_by_role("group", name=QUESTIONS[-1]).get_by_text("2 – Poor").tap()
    phone.get_by_label("Anything you would like to add").fill("Joan was a little late")
    widths = phone.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], widths
    phone.get_by_role("button", name="Send my rating").tap()
    expect(phone.get_by_text("Thank you for your rating.")).to_be_visible()

    with db.tenant_scope(world.agency.id):
        rating = db.session.scalar(select(VisitRating).where(VisitRating.visit_id == world.visit.id))
        assert (rating.attitude, rating.timeliness, rating.channel) == (5, 2, "link")
    db.session.remove()

    phone.goto(f"/r/{token}")
    expect(phone.get_by_role("heading", name="This link cannot be used")).to_be_visible()
