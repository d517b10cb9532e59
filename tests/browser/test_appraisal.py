"""An agency admin appraises a file at the end of its retention: a decision
without a reason is refused next to the field, nothing kept; kept with a
reason and a new review date, it moves to the latest decisions."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from playwright.sync_api import Page, expect
from sqlalchemy import select

from saas import db
from saas.models import AuditEvent, Role
from tenants.records import services
from tenants.records.models import RetentionReview
from tests.browser.helpers import sign_in
from tests.factories import TOTP_SECRET, unique

pytestmark = pytest.mark.browser


def test_admin_appraises_a_file(page: Page, make, live_server):
    agency = make.agency(name=f"Archive Care {unique()}")
    admin, _ = make.member(agency, Role.ADMIN, name="Ada Admin")
    person = make.client(agency, "Edith Archive")
    make.close_case(agency, make.case(agency, person, by=admin), by=admin)
    # the monthly sweep, run as it will be three years on
    later = datetime.combine(agency.today() + relativedelta(years=3), time(12), agency.zone)
    with time_machine.travel(later, tick=False), db.tenant_scope(agency.id):
        assert services.sweep(agency) == 1
        db.session.commit()

    sign_in(page, admin.email, totp_secret=TOTP_SECRET)
    page.goto(f"/a/{agency.slug}/records/appraisal")
    expect(page.get_by_role("heading", name="Appraisal of records")).to_be_visible()
    row = page.get_by_test_id("pending-review").filter(has_text="Edith Archive")
    expect(row).to_be_visible()
    row.get_by_role("link", name="Appraise").click()
    expect(page.get_by_role("heading", name="Appraise the file of Edith Archive")).to_be_visible()

    page.get_by_label("Keep the file until a new review").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("#reason-error")).to_contain_text("Write down why")

    review_on = agency.today() + timedelta(days=365)
    page.get_by_label("Reason").fill("The family asked us to keep it for a pending claim.")
    page.get_by_label("Next review on").fill(review_on.isoformat())
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("The file is kept until")).to_be_visible()
    expect(page.get_by_test_id("pending-review")).to_have_count(0)
    expect(page.get_by_text("The family asked us to keep it for a pending claim.")).to_be_visible()

    with db.tenant_scope(agency.id):
        review = db.session.scalar(select(RetentionReview))
        assert (review.decision, review.review_on, review.decided_by_user_id) == ("keep", review_on, admin.id)
        decided = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.decided"))
        assert decided.actor_id == admin.id and decided.details["decision"] == "keep"
        db.session.commit()
