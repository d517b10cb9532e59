"""Publishing a month's quality summary: the admin chooses the indicators, the
public page opens without signing in, in the agency's language, with numbers
only (no client or worker names, no text anyone typed); funders get the link
through the outbox; unpublishing is recorded and the page is then not found."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import func, select

from saas import db
from saas.models import Agency, AuditEvent, MailMessage
from tenants.quality import publishing
from tenants.quality.models import QualitySummary
from tests.factories import login
from tests.quality.test_quality import APP, NOW, OCTOBER, _build, generate, make_world

pytestmark = pytest.mark.dates  # also run with the clock moved (tests/moved_clock.py)


@pytest.fixture(autouse=True)
def _app(app):
    APP.append(app)
    yield
    APP.clear()


def _world_with_summary(factory, **kw):
    world = make_world(factory, **kw)
    generate(world, OCTOBER, seed=51, visits=60)
    with time_machine.travel(NOW, tick=False):
        summary = _build(world.agency, OCTOBER)
    return world, summary


def _actions(agency: Agency) -> list[str]:
    with db.tenant_scope(agency.id):
        return list(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("quality.%publish%"))
                .order_by(AuditEvent.at)
            )
        )


def test_admin_publishes_chosen_indicators_the_public_reads_them_and_unpublishing_ends_it(
    factory, client, dbconn
):
    world, summary = _world_with_summary(factory)
    base = f"/a/{world.agency.slug}/quality"
    public = f"{base}/public/2026-10"
    assert client.get(public).status_code == 404  # not published yet
    login(client, world.admin)
    page = client.get(f"{base}/{summary.id}").get_data(as_text=True)
    assert 'data-testid="quality-publication"' in page and 'name="kpis"' in page
    response = client.post(
        f"{base}/{summary.id}/publish", data={"kpis": ["satisfaction", "complaints_on_time"]}
    )
    assert response.status_code == 302
    page = client.get(f"{base}/{summary.id}").get_data(as_text=True)
    assert f"http://localhost{public}" in page or public in page
    assert _actions(world.agency) == ["quality.published"]

    anonymous = client.application.test_client()
    response = anonymous.get(public)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Quality summary for October 2026" in text
    assert 'data-kpi="satisfaction"' in text and 'data-kpi="complaints_on_time"' in text
    assert 'data-kpi="coverage"' not in text and 'data-kpi="response_time"' not in text
    assert 'id="quality-public-trend"' in text or "quality-public-trend" in text
    # numbers only: no client, no worker, no complaint topic, no response text
    for word in (
        "Edith Carver",
        "Client 51-",
        "Carer 0",
        "Punctuality",
        "Attitude",
        "We called back",
        "item 1",
    ):
        assert word not in text, word
    # another agency's slug, a month not published, a month that is not one: not found
    other = make_world(factory)
    assert anonymous.get(f"/a/{other.agency.slug}/quality/public/2026-10").status_code == 404
    assert anonymous.get(f"{base}/public/2026-09").status_code == 404
    assert anonymous.get(f"{base}/public/2026-13").status_code == 404
    assert anonymous.get(f"{base}/public/october").status_code == 404

    assert client.post(f"{base}/{summary.id}/unpublish").status_code == 302
    assert anonymous.get(public).status_code == 404
    assert _actions(world.agency) == ["quality.published", "quality.unpublished"]
    with db.tenant_scope(world.agency.id):
        row = db.session.scalar(
            select(QualitySummary)
            .where(QualitySummary.id == summary.id)
            .execution_options(populate_existing=True)
        )
        assert row.published_at is None


def test_the_public_page_is_in_the_agencys_language(factory, client, dbconn):
    world = make_world(factory, tz="Asia/Shanghai")
    agency = db.session.get(Agency, world.agency.id)
    agency.locale = "zh_CN"
    db.session.commit()
    with time_machine.travel(NOW, tick=False):
        summary = _build(agency, OCTOBER)
    with APP[0].test_request_context(), db.tenant_scope(agency.id):
        row = db.session.get(QualitySummary, (agency.id, summary.id))
        publishing.publish(agency, row, ["coverage"], by=world.admin)
        db.session.commit()
    text = client.get(f"/a/{agency.slug}/quality/public/2026-10").get_data(as_text=True)
    assert "2026年10月质量月报" in text and "计划服务对象覆盖率" in text


def test_publishing_nothing_is_refused_next_to_the_field_and_nothing_is_kept(factory, client, dbconn):
    world, summary = _world_with_summary(factory)
    login(client, world.admin)
    response = client.post(f"/a/{world.agency.slug}/quality/{summary.id}/publish", data={})
    assert response.status_code == 422
    assert "Choose at least one indicator to publish." in response.get_data(as_text=True)
    response = client.post(
        f"/a/{world.agency.slug}/quality/{summary.id}/publish", data={"kpis": ["nonsense"]}
    )
    assert response.status_code == 422
    assert "Choose among this summary&#39;s indicators." in response.get_data(as_text=True)
    assert _actions(world.agency) == []
    assert client.get(f"/a/{world.agency.slug}/quality/public/2026-10").status_code == 404


def test_only_admins_publish(factory, client, dbconn):
    world, summary = _world_with_summary(factory)
    login(client, world.coordinator)
    base = f"/a/{world.agency.slug}/quality/{summary.id}"
    assert 'data-testid="quality-publication"' not in client.get(base).get_data(as_text=True)
    assert client.post(f"{base}/publish", data={"kpis": ["coverage"]}).status_code == 404
    assert client.post(f"{base}/unpublish").status_code == 404
    assert client.post(f"{base}/send-to-funders").status_code == 404


def test_funders_with_an_email_get_the_link_through_the_outbox(factory, client, dbconn):
    from tenants.outreach import services as outreach

    world, summary = _world_with_summary(factory)
    with APP[0].test_request_context(), db.tenant_scope(world.agency.id):
        outreach.create_funder(
            outreach.FunderData(name="City Welfare Office", email="grants@welfare.example")
        )
        outreach.create_funder(outreach.FunderData(name="District Office"))  # no email
        db.session.commit()
    login(client, world.admin)
    base = f"/a/{world.agency.slug}/quality/{summary.id}"
    client.post(f"{base}/publish", data={"kpis": ["coverage"]})
    page = client.get(base).get_data(as_text=True)
    assert "Email the link to 1 funder" in page
    page = client.post(f"{base}/send-to-funders", follow_redirects=True).get_data(as_text=True)
    assert "The link is on its way to 1 funder." in page
    client.post(f"{base}/send-to-funders")  # once per publication
    mails = db.session.scalars(
        select(MailMessage).where(
            MailMessage.agency_id == world.agency.id, MailMessage.kind == "quality.published"
        )
    ).all()
    assert [m.to_address for m in mails] == ["grants@welfare.example"]
    assert f"/a/{world.agency.slug}/quality/public/2026-10" in mails[0].body


def test_sending_before_publishing_or_without_funders_is_refused(factory, client, dbconn):
    world, summary = _world_with_summary(factory)
    login(client, world.admin)
    base = f"/a/{world.agency.slug}/quality/{summary.id}"
    page = client.post(f"{base}/send-to-funders", follow_redirects=True).get_data(as_text=True)
    assert "This summary is not published." in page
    client.post(f"{base}/publish", data={"kpis": ["coverage"]})
    page = client.post(f"{base}/send-to-funders", follow_redirects=True).get_data(as_text=True)
    assert "No active funder has an email address" in page
    count = select(func.count()).select_from(MailMessage).where(MailMessage.kind == "quality.published")
    assert db.session.scalar(count.where(MailMessage.agency_id == world.agency.id)) == 0
