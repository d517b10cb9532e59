"""Operators viewing an agency as its admin: a written reason, 30 minutes,
read-only, every page in the agency's audit log, visible to its admins."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from billing.models import ImpersonationSession
from saas import db
from saas.models import AuditEvent, Membership, PlatformAuditEvent, Role
from tests.billing.billing_support import operator
from tests.factories import login

REASON = "Ticket 4521: the admin cannot find the invitations list"


def sessions_of(agency) -> list[ImpersonationSession]:
    with db.tenant_scope(agency.id):
        return list(db.session.scalars(select(ImpersonationSession)))


def page_events(agency) -> list[tuple[str, dict]]:
    with db.tenant_scope(agency.id):
        return [
            (e.subject, e.details)
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "impersonation.page").order_by(AuditEvent.seq)
            )
        ]


def test_a_written_reason_is_required(client, factory):
    agency = factory.agency()
    operator(client, factory)
    for reason in ("", "   ", "because"):
        response = client.post(
            f"/operator/agencies/{agency.id}/impersonate", data={"reason": reason}, follow_redirects=True
        )
        assert "at least 10 characters" in response.text or "Write down why" in response.text
    assert sessions_of(agency) == []
    assert client.get(f"/a/{agency.slug}/").status_code == 404


def test_view_as_admin_is_recorded_read_only_and_visible_to_the_agency(app, client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    other = factory.agency()
    op = operator(client, factory)
    page = client.get(f"/operator/agencies/{agency.id}")
    assert "View as admin" in page.text

    started = client.post(f"/operator/agencies/{agency.id}/impersonate", data={"reason": REASON})
    assert started.status_code == 302 and started.location.endswith(f"/a/{agency.slug}/")
    home = client.get(f"/a/{agency.slug}/")
    assert home.status_code == 200
    assert 'data-testid="impersonation-banner"' in home.text and agency.name in home.text
    assert client.get(f"/a/{agency.slug}/members").status_code == 200
    assert client.get(f"/a/{agency.slug}/audit?page=1").status_code == 200
    # the banner follows the operator back to the console
    assert 'data-testid="impersonation-banner"' in client.get("/operator/").text
    # read-only
    refused = client.post(
        f"/a/{agency.slug}/members/invite", data={"email": "x@example.net", "role": "carer"}
    )
    assert refused.status_code == 403 and "read-only" in refused.text
    # only that agency
    assert client.get(f"/a/{other.slug}/").status_code == 404
    # no membership row was made
    with db.tenant_scope(agency.id):
        assert db.session.scalar(select(Membership).where(Membership.user_id == op.id)) is None

    (row,) = sessions_of(agency)
    assert row.reason == REASON and row.operator_id == op.id
    assert row.expires_at - row.started_at == timedelta(minutes=30)
    visited = page_events(agency)
    assert [path for path, _ in visited] == [
        f"/a/{agency.slug}/",
        f"/a/{agency.slug}/members",
        f"/a/{agency.slug}/audit",
        f"/a/{agency.slug}/members/invite",
    ]
    assert all(d["session"] == str(row.id) for _, d in visited)
    assert visited[-1][1]["refused"] is True and visited[-1][1]["method"] == "POST"
    with db.tenant_scope(agency.id):
        started_event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "impersonation.started")
        )
    assert started_event.details["reason"] == REASON and started_event.actor_id == op.id
    assert db.session.scalar(
        select(PlatformAuditEvent).where(
            PlatformAuditEvent.action == "impersonation.started", PlatformAuditEvent.agency_id == agency.id
        )
    )

    # the agency's admins see the session, its reason and the pages
    admin_c = app.test_client()
    login(admin_c, admin)
    listing = admin_c.get(f"/a/{agency.slug}/billing/access")
    assert listing.status_code == 200
    assert REASON in listing.text and op.email in listing.text and f"/a/{agency.slug}/members" in listing.text

    # ending it
    ended = client.post("/operator/impersonation/end")
    assert ended.status_code == 302
    assert client.get(f"/a/{agency.slug}/").status_code == 404
    db.session.expire_all()
    (row,) = sessions_of(agency)
    assert row.ended_at is not None and row.end_reason == "ended" and row.pages == 4


def test_view_as_stops_after_30_minutes(client, factory):
    agency = factory.agency()
    operator(client, factory)
    start = db.utcnow()
    with time_machine.travel(start, tick=False):
        client.post(f"/operator/agencies/{agency.id}/impersonate", data={"reason": REASON})
        assert client.get(f"/a/{agency.slug}/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert client.get(f"/a/{agency.slug}/members").status_code == 200
    with time_machine.travel(start + timedelta(minutes=30, seconds=1), tick=False):
        expired = client.get(f"/a/{agency.slug}/members")
        assert expired.status_code == 302 and expired.location.endswith(f"/operator/agencies/{agency.id}")
        assert client.get(f"/a/{agency.slug}/").status_code == 404
        assert 'data-testid="impersonation-banner"' not in client.get("/operator/").text
    db.session.expire_all()
    (row,) = sessions_of(agency)
    assert row.end_reason == "expired" and row.ended_at == row.expires_at
    assert len(page_events(agency)) == 2, "the refused page after expiry is not a visit"


def test_view_as_is_bound_to_the_operators_signed_in_session(app, client, factory):
    agency = factory.agency()
    op = operator(client, factory)
    client.post(f"/operator/agencies/{agency.id}/impersonate", data={"reason": REASON})
    assert client.get(f"/a/{agency.slug}/").status_code == 200
    # the same operator signed in elsewhere does not inherit it, and a copied cookie
    # stops working once that sign-in session is revoked
    elsewhere = app.test_client()
    login(elsewhere, op)
    assert elsewhere.get(f"/a/{agency.slug}/").status_code == 404
    from saas.models import UserSession

    db.session.execute(
        UserSession.__table__.update().where(UserSession.user_id == op.id).values(revoked_at=db.utcnow())
    )
    db.session.commit()
    assert client.get(f"/a/{agency.slug}/").status_code in (302, 404)


def test_only_operators_can_view_as(app, client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    login(client, admin)
    assert (
        client.post(f"/operator/agencies/{agency.id}/impersonate", data={"reason": REASON}).status_code == 404
    )
    assert sessions_of(agency) == []


def test_view_as_a_closed_agency_is_refused(client, factory):
    from billing import lifecycle

    agency = factory.agency()
    lifecycle.close(agency, reason="test")
    db.session.commit()
    operator(client, factory)
    client.post(f"/operator/agencies/{agency.id}/impersonate", data={"reason": REASON})
    assert client.get(f"/a/{agency.slug}/").status_code == 403
