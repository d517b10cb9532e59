"""Records and archives: how long a client's file is kept after its last case
closed (3 years, 5 for a special programme, per agency), the monthly list of
files at the end of their retention, and the appraisal deciding each: kept
until a new review, anonymised or destroyed, every decision recorded."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import MANAGE_SETTINGS, Permission
from saas.settings import Kind, Setting

APPRAISE_RECORDS = Permission(
    "APPRAISE_RECORDS",
    "The appraisal of the files at the end of their retention: keep, anonymise or destroy each",
    (Role.ADMIN,),
)

AREA = Area(
    "records",
    models=(".models",),
    blueprints=(".views",),
    # daily, idempotent: the list changes once a month (files whose retention
    # ends in the agency's current month); a missed day is made up the next
    periodic=(Periodic("retention_sweep", ".jobs.retention_sweep", cron="17 3 * * *"),),
    nav=(
        NavEntry("records.appraisal", _l("Appraisal of records"), APPRAISE_RECORDS, 175),
        NavEntry("records.settings", _l("Retention settings"), MANAGE_SETTINGS, 176),
    ),
    permissions=(APPRAISE_RECORDS,),
    url_params={"review_id": "retention_reviews"},
    samples=("tests.records.samples_records",),
    settings=(
        Setting(
            "retention_years",
            Kind.INT,
            3,
            _l("Keep a client's file this many years after their last case closed"),
            min=3,
            max=50,
            page="records",
            section=_l("Records and archives"),
        ),
        Setting(
            "special_programme_retention_years",
            Kind.INT,
            5,
            _l("For a case of a special programme, this many years"),
            min=5,
            max=50,
            page="records",
            section=_l("Records and archives"),
        ),
    ),
)
