"""The service catalogue: categories, items and their dated terms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry
from saas.models import Role

MANAGERS = (Role.ADMIN, Role.COORDINATOR)

AREA = Area(
    "catalogue",
    models=(".models",),
    blueprints=(".views",),
    nav=(NavEntry("catalogue.index", _l("Service catalogue"), MANAGERS, 230),),
    url_params={
        "item_id": "service_items",
        "terms_id": "service_item_terms",
        "category_id": "service_categories",
    },
    samples=("tests.samples_workforce",),
)
