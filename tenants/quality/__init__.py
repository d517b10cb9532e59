"""Monthly quality summary: each agency's month against its own targets."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role

MANAGERS = (Role.ADMIN, Role.COORDINATOR)

AREA = Area(
    "quality",
    models=(".models",),
    blueprints=(".views",),
    periodic=(Periodic("quality_summaries", ".jobs.monthly_sweep", cron="7 * * * *"),),
    nav=(NavEntry("quality.index", _l("Quality summaries"), MANAGERS, 80),),
    url_params={"summary_id": "quality_summaries"},
    samples=("tests.samples_quality",),
)
