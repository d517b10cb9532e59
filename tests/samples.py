"""One sample row per tenant-owned table, and which URL parameters name them.

The core's are here; each area declares its own (`Area.samples`, the test
modules with its `@sample` builders, and `Area.url_params`). The schema test
fails for a tenant table with no sample, and the isolation test fails for a
URL parameter it cannot fill: every new table and route has to be declared,
so none escapes the cross-tenant checks.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from saas import areas, audit, db
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


@sample("idempotency_keys")
def _idempotency_key(factory, world: AgencyWorld) -> uuid.UUID:
    from saas.models import IdempotencyKey

    with db.tenant_scope(world.agency.id):
        row = IdempotencyKey(
            membership_id=world.ids["memberships"], key=f"sample-{uuid.uuid4()}", request_hash="0" * 64
        )
        db.session.add(row)
        db.session.flush()
        return row.id


@sample("audit_events")
def _audit(factory, world: AgencyWorld) -> uuid.UUID:
    from sqlalchemy import select

    from saas.models import AuditEvent

    with db.tenant_scope(world.agency.id):
        audit.record("test.sample", "sample")
        db.session.commit()
        return db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "test.sample"))


# URL parameter name -> the table whose id it takes: the core's here, each
# area's from its declaration (`Area.url_params`), added below
URL_PARAMS: dict[str, str] = {
    "member_id": "memberships",
    "invitation_id": "invitations",
    "token_id": "api_tokens",
}
# parameters that name no agency-owned object (platform objects, link secrets)
# ("month": YYYY-MM, the public quality page's)
NON_TENANT_PARAMS = {
    "slug", "token", "agency_id", "message_id", "filename", "billing_plan_id", "action", "month",
}  # fmt: skip


def url_values(rule, slug: str, ids: dict[str, uuid.UUID]) -> dict[str, object]:
    """Fill a URL rule's parameters: the slug, the sample ids, and for other
    parameters a valid non-tenant value."""
    values: dict[str, object] = {}
    for arg in rule.arguments:
        if arg == "slug":
            values[arg] = slug
        elif arg in URL_PARAMS:
            values[arg] = ids[URL_PARAMS[arg]]
        else:
            assert arg in NON_TENANT_PARAMS, f"{rule.rule}: declare <{arg}> in its area's url_params"
            options = getattr(rule._converters[arg], "items", None)  # an <any(...)> choice
            values[arg] = sorted(options)[0] if options else "00000000000000000000000000000000"
    return values


class SampleIds(dict):
    """Ids by table. A sample that needs another table's row before it was
    built builds it then, so the areas' sample modules may load in any order."""

    def __init__(self, factory, world: AgencyWorld) -> None:
        super().__init__()
        self._factory, self._world = factory, world

    def __missing__(self, table: str) -> uuid.UUID:
        self[table] = SAMPLES[table](self._factory, self._world)
        return self[table]


def build_world(factory, slug: str | None = None) -> AgencyWorld:
    """An agency with one sample row in every tenant table."""
    world = AgencyWorld(agency=factory.agency(slug))
    world.ids = SampleIds(factory, world)
    for table in SAMPLES:
        world.ids[table]  # noqa: B018 - built on first use
    return world


def load_area_samples() -> None:
    """Each area's sample modules and URL parameters, as it declares them."""
    for area in areas.discover():
        for name in area.samples:
            importlib.import_module(name)
    URL_PARAMS.update(areas.url_params())


import tests.core.samples_notifications  # noqa: E402, F401 - the core's reminders, notifications, preferences

load_area_samples()
