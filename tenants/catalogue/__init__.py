"""The service catalogue: categories, items and their dated terms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry
from saas.models import Role
from saas.permissions import Permission

VIEW_CATALOGUE = Permission(
    "VIEW_CATALOGUE", "See the service catalogue and export it", (Role.ADMIN, Role.COORDINATOR)
)
MANAGE_CATALOGUE = Permission(
    "MANAGE_CATALOGUE",
    "Add, change, retire and import service items, their dated terms, categories and presets",
    (Role.ADMIN,),
)

AREA = Area(
    "catalogue",
    api_label=_l("Service catalogue"),
    routes=(".api",),
    models=(".models",),
    blueprints=(".views",),
    permissions=(VIEW_CATALOGUE, MANAGE_CATALOGUE),
    nav=(NavEntry("catalogue.index", _l("Service catalogue"), VIEW_CATALOGUE, 230),),
    url_params={
        "item_id": "service_items",
        "terms_id": "service_item_terms",
        "category_id": "service_categories",
    },
    samples=("tests.staffing.samples_workforce",),
)
