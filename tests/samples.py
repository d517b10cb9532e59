"""One sample row per tenant-owned table, and which URL parameters name them.

The schema test fails for a tenant table with no sample here, and the
isolation test fails for a URL parameter it cannot fill: every new table and
route has to be registered, so none escapes the cross-tenant checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from saas import audit, db
from saas.models import Agency, Role


@dataclass
class AgencyWorld:
    """Everything one agency owns in the tests: ids by table name."""

    agency: Agency
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    people: dict[str, object] = field(default_factory=dict)
    api_token: str = ""


SAMPLES: dict[str, Callable[[object, AgencyWorld], uuid.UUID]] = {}


def sample(table: str):
    def decorator(fn):
        SAMPLES[table] = fn
        return fn

    return decorator


@sample("memberships")
def _membership(factory, world: AgencyWorld) -> uuid.UUID:
    user, membership = factory.member(world.agency, Role.COORDINATOR)
    world.people["coordinator"] = user
    return membership.id


@sample("invitations")
def _invitation(factory, world: AgencyWorld) -> uuid.UUID:
    invitation, _ = factory.invitation(world.agency, f"invitee-{uuid.uuid4().hex[:6]}@example.net")
    return invitation.id


@sample("api_tokens")
def _api_token(factory, world: AgencyWorld) -> uuid.UUID:
    from sqlalchemy import select

    from saas.models import ApiToken, Membership

    with db.tenant_scope(world.agency.id):
        membership = db.session.scalar(select(Membership).where(Membership.id == world.ids["memberships"]))
        world.api_token = factory.api_token(membership)
        return db.session.scalar(select(ApiToken.id).where(ApiToken.membership_id == membership.id))


@sample("audit_events")
def _audit(factory, world: AgencyWorld) -> uuid.UUID:
    from sqlalchemy import select

    from saas.models import AuditEvent

    with db.tenant_scope(world.agency.id):
        audit.record("test.sample", "sample")
        db.session.commit()
        return db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "test.sample"))


# URL parameter name -> the table whose id it takes
URL_PARAMS: dict[str, str] = {
    "member_id": "memberships",
    "invitation_id": "invitations",
    "token_id": "api_tokens",
}
# parameters that name no agency-owned object (platform objects, link secrets)
NON_TENANT_PARAMS = {"slug", "token", "agency_id", "message_id", "filename"}


def build_world(factory, slug: str | None = None) -> AgencyWorld:
    """An agency with one sample row in every tenant table (dict order is
    dependency order)."""
    world = AgencyWorld(agency=factory.agency(slug))
    for table, make in SAMPLES.items():
        world.ids[table] = make(factory, world)
    return world
