"""An area is added by creating its folder (and its migration): the app
factory, the agency menu, the scheduler, the reminder centre, the metadata
and the isolation walk find it through its `AREA` declaration alone.

The example area is written to a temporary folder that joins the `tenants`
package's path, as a folder under `tenants/` would; it has no table, so no
migration, and is gone when the test ends.
"""

from __future__ import annotations

import sys
import textwrap
from types import SimpleNamespace

import pytest
from flask import g

import tenants
from saas import areas, settings
from saas.app import CORE_NAV, create_app
from saas.menu import agency_menu
from saas.notifications import kinds
from saas.periodic import schedule
from tests import samples
from tests.conftest import make_config
from tests.samples import url_values

EXAMPLE = {
    "__init__.py": '''
        """An example area: one page, one reminder kind, one periodic job."""
        from flask_babel import lazy_gettext as _l

        from saas.areas import Area, NavEntry, Periodic
        from saas.models import Role
        from saas.settings import Kind, Setting

        AREA = Area(
            "example",
            models=(".models",),
            blueprints=(".views",),
            reminders=(".reminders",),
            receivers=(".receivers",),
            periodic=(Periodic("example_sweep", ".jobs.sweep", interval=600),),
            nav=(NavEntry("example.index", _l("Example"), (Role.ADMIN,), 75),),
            url_params={"example_id": "memberships"},
            settings=(Setting("example_days", Kind.INT, 3, _l("Example"), min=1, max=9, page="example"),),
        )
    ''',
    "models.py": '''
        """Tables would be declared here (and created by the area's migration)."""
        IMPORTED = True
    ''',
    "views.py": """
        import uuid

        from flask import Blueprint

        bp = Blueprint("example", __name__, url_prefix="/a/<slug>")


        @bp.route("/example")
        def index() -> str:
            return "example"


        @bp.route("/example/<uuid:example_id>")
        def show(example_id: uuid.UUID) -> str:
            return str(example_id)
    """,
    "reminders.py": """
        from flask_babel import lazy_gettext as _l

        from saas.notifications.kinds import Kind, register

        EXAMPLE_DUE = register(Kind("example.due", _l("Example")))
    """,
    "receivers.py": """
        from saas.signals import agency_created

        SEEN = []
        agency_created.connect(SEEN.append)
    """,
    "jobs.py": """
        def sweep() -> int:
            return 0
    """,
}


@pytest.fixture
def example_area(tmp_path, monkeypatch):
    folder = tmp_path / "areas"
    package = folder / "example"
    package.mkdir(parents=True)
    for name, text in EXAMPLE.items():
        (package / name).write_text(textwrap.dedent(text))
    monkeypatch.setattr(tenants, "__path__", [*tenants.__path__, str(folder)])
    areas.discover.cache_clear()
    yield "tenants.example"
    areas.discover.cache_clear()
    kinds.KINDS.pop("example.due", None)
    for name in [m for m in sys.modules if m == "tenants.example" or m.startswith("tenants.example.")]:
        del sys.modules[name]


def test_a_new_area_is_found_from_its_folder_alone(example_area, services, migrated, monkeypatch):
    found = {area.name: area for area in areas.discover()}
    assert "example" in found and found["example"].package == example_area

    # the app factory registers its blueprint and connects its receivers
    app = create_app(make_config(services))
    rules = {rule.rule: rule for rule in app.url_map.iter_rules()}
    assert "/a/<slug>/example" in rules
    assert sys.modules["tenants.example.models"].IMPORTED
    assert sys.modules["tenants.example.receivers"].SEEN == []

    # the scheduler runs its periodic job
    assert ("example_sweep", "tenants.example.jobs.sweep") in {(p.name, p.func) for p in schedule()}

    # the reminder centre knows its kind
    assert "example.due" in kinds.load_kinds()

    # its settings are declared, on their page, with their defaults
    assert settings.page_settings("example")[0].key == "example_days"
    out_of_range = SimpleNamespace(id="a", settings={"example_days": 99})
    assert settings.agency_setting(out_of_range, "example_days") == 3

    # the agency menu shows its entry to the roles it names, in its place
    agency = SimpleNamespace(id="a", settings={}, slug="sunrise", locale="en", timezone="Europe/London")
    admin_menu = [e.endpoint for e in areas.nav_entries(agency, "admin", CORE_NAV)]
    assert admin_menu.index("feedback.statistics") < admin_menu.index("example.index")
    assert admin_menu.index("example.index") < admin_menu.index("quality.index")
    assert "example.index" not in [e.endpoint for e in areas.nav_entries(agency, "carer", CORE_NAV)]
    with app.test_request_context("/a/sunrise/example"):
        g.agency = agency  # as the request's agency resolution sets it
        g.membership = SimpleNamespace(role="admin")
        menu = agency_menu(agency, "admin", areas.nav_entries(agency, "admin", CORE_NAV))
        # the template alone: the context processors would read a real agency
        html = app.jinja_env.get_template("_menu_links.html").render(menu=menu, current="example.index")
    assert '<a href="/a/sunrise/example" aria-current="page">Example</a>' in html

    # the isolation walk fills its URL parameter with another agency's id
    # (tests/samples.py reads every area's url_params when it loads)
    for param, table in areas.url_params().items():
        monkeypatch.setitem(samples.URL_PARAMS, param, table)
    values = url_values(rules["/a/<slug>/example/<uuid:example_id>"], "b", {"memberships": "an-id"})
    assert values == {"slug": "b", "example_id": "an-id"}


def test_the_core_areas_are_declared_once():
    names = [area.name for area in areas.discover()]
    assert names[0] == "billing"  # its plans exist before the care areas' demo
    assert {"clients", "scheduling", "feedback", "staffing", "training", "catalogue"} <= set(names)
    assert len(names) == len(set(names))
    jobs = [p.name for p in schedule()]
    assert len(jobs) == len(set(jobs))
