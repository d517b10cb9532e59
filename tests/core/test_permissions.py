"""Named permissions: one decorator for pages and the API, `can()`, the menu,
and the table of who may do what in CONTRIBUTING.md."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from saas import areas, permissions
from saas.models import Role
from saas.permissions import MANAGE_SETTINGS, VIEW_MEMBERS, Permission, can
from tests.factories import login

ROOT = Path(__file__).resolve().parents[2]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_contributing_shows_the_declared_permissions():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    start, end = text.index(permissions.TABLE_START), text.index(permissions.TABLE_END)
    shown = text[start + len(permissions.TABLE_START) : end].strip()
    assert shown == permissions.markdown().strip(), (
        "CONTRIBUTING.md's table of permissions is out of date: "
        "paste the output of `python -m saas.permissions --markdown` between its markers"
    )


def test_each_permission_is_named_once_and_given_to_known_roles():
    declared = permissions.declared()
    names = [p.name for _where, p in declared]
    assert len(names) == len(set(names))
    assert {where for where, _p in declared} >= {"core", "clients", "scheduling", "billing"}
    for _where, permission in declared:
        assert permission.roles and set(permission.roles) <= {r.value for r in Role}
        assert permission is permissions.by_name(permission.name)


def test_a_permission_answers_for_roles_and_members(app):
    assert Role.ADMIN in MANAGE_SETTINGS and "coordinator" not in MANAGE_SETTINGS
    assert VIEW_MEMBERS.roles == ("admin", "coordinator")
    coordinator = SimpleNamespace(role="coordinator")
    assert can(VIEW_MEMBERS, coordinator) and can("VIEW_MEMBERS", coordinator)
    assert not can(MANAGE_SETTINGS, coordinator)
    with app.test_request_context():
        assert not can(MANAGE_SETTINGS), "outside an agency, nobody holds anything"
    declared_late = Permission("X", "x", (Role.CLIENT, Role.ADMIN))
    assert declared_late.roles == ("admin", "client"), "in the order of Role"


def test_the_menu_shows_an_entry_to_the_permission_holders():
    entry = areas.NavEntry("clients.index", "Clients", VIEW_MEMBERS, 10)
    agency = SimpleNamespace(id=None, settings={})
    assert entry in areas.nav_entries(agency, "coordinator", (entry,))
    assert entry not in areas.nav_entries(agency, "carer", (entry,))


def test_a_page_requires_its_permission(client, factory):
    agency = factory.agency()
    carer, _ = factory.member(agency, Role.CARER)
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    admin, admin_m = factory.member(agency, Role.ADMIN)
    as_carer, as_coordinator, as_admin = (client.application.test_client() for _ in range(3))
    login(as_carer, carer)
    login(as_coordinator, coordinator)
    login(as_admin, admin)
    assert as_carer.get(f"/a/{agency.slug}/members").status_code == 403, "VIEW_MEMBERS: not a carer"
    assert as_coordinator.get(f"/a/{agency.slug}/members").status_code == 200
    assert as_coordinator.get(f"/a/{agency.slug}/audit").status_code == 403, "READ_AUDIT_LOG: admins only"
    assert as_admin.get(f"/a/{agency.slug}/audit").status_code == 200
    # a page about one object: whether it exists is not for those without the permission
    member = f"/a/{agency.slug}/members/{admin_m.id}/deactivate"
    assert as_coordinator.post(member).status_code == 404, "MANAGE_MEMBERS, on one member"


def test_an_api_route_requires_its_permission(client, factory):
    agency = factory.agency()
    _carer, carer_m = factory.member(agency, Role.CARER)
    _coordinator, coordinator_m = factory.member(agency, Role.COORDINATOR)
    carer, coordinator = factory.api_token(carer_m), factory.api_token(coordinator_m)

    refused = client.get("/api/v1/feedback", headers=bearer(carer))
    assert refused.status_code == 403, "HANDLE_COMPLAINTS: not a carer"
    assert refused.json["error"]["status"] == 403, "the API's JSON error, as before"
    assert client.get("/api/v1/feedback", headers=bearer(coordinator)).status_code == 200

    # a member through the API: refused with 403 although the route names an object, as it always was
    assert client.get(f"/api/v1/members/{coordinator_m.id}", headers=bearer(carer)).status_code == 403
    assert client.get(f"/api/v1/members/{carer_m.id}", headers=bearer(coordinator)).status_code == 200


def test_every_menu_entry_opens_for_the_role_it_is_shown_to(client, factory):
    """A menu entry carries its page's permission: each role's menu holds only
    pages that open for it, and those it holds all do."""
    import re

    from flask import url_for

    from saas.app import CORE_NAV

    agency = factory.agency()
    for role in Role:
        user, _membership = factory.member(agency, role)
        reader = client.application.test_client()
        login(reader, user)
        home = reader.get(f"/a/{agency.slug}/")
        assert home.status_code == 200
        with client.application.test_request_context():
            entries = areas.nav_entries(agency, role.value, CORE_NAV)
            urls = {e.endpoint: url_for(e.endpoint, slug=agency.slug) for e in entries}
        links = set(re.findall(r'href="([^"]+)"', home.text))
        for endpoint, url in urls.items():
            assert url in links, f"{role}: {endpoint} not in the menu"
            assert reader.get(url).status_code == 200, f"{role}: {endpoint} is in the menu but refused"
        # every role has API operations of its own (a client's app rates visits)
        tokens = f"/a/{agency.slug}/tokens"
        assert tokens in links and reader.get(tokens).status_code == 200
