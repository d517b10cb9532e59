"""Monthly quality summary: each agency's month against its own targets."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import Permission
from tenants.quality.targets import SETTINGS

VIEW_QUALITY = Permission(
    "VIEW_QUALITY", "The monthly quality summaries, as pages and PDF", (Role.ADMIN, Role.COORDINATOR)
)
BUILD_QUALITY_SUMMARIES = Permission(
    "BUILD_QUALITY_SUMMARIES", "Build a month's quality summary now, or rebuild one", (Role.ADMIN,)
)
PUBLISH_QUALITY_SUMMARIES = Permission(
    "PUBLISH_QUALITY_SUMMARIES",
    "Publish or unpublish a month's quality summary on its public page; send funders its link",
    (Role.ADMIN,),
)

AREA = Area(
    "quality",
    api_label=_l("Quality summaries"),
    routes=(".api",),
    models=(".models",),
    blueprints=(".views",),
    periodic=(Periodic("quality_summaries", ".jobs.monthly_sweep", cron="7 * * * *"),),
    permissions=(VIEW_QUALITY, BUILD_QUALITY_SUMMARIES, PUBLISH_QUALITY_SUMMARIES),
    nav=(NavEntry("quality.index", _l("Quality summaries"), VIEW_QUALITY, 80),),
    dashboard=(".dashboard.kpi_figures",),
    url_params={"summary_id": "quality_summaries"},
    samples=("tests.quality.samples_quality",),
    settings=SETTINGS,
)
