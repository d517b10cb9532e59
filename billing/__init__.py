"""Platform business: plans, subscriptions (Stripe or manual invoicing), the
agency billing life cycle, data exports, purges and operator impersonation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import Permission

MANAGE_BILLING = Permission(
    "MANAGE_BILLING",
    "The agency's subscription and billing portal, its billing banner, the operators' view-as sessions",
    (Role.ADMIN,),
)
EXPORT_AGENCY_DATA = Permission(
    "EXPORT_AGENCY_DATA", "Export all the agency's data (also once the agency is closed)", (Role.ADMIN,)
)

AREA = Area(
    "billing",
    models=(".models",),
    blueprints=(".views", ".webhooks", ".operator_views"),
    # the operator console's agency list (figures) and creation wizard (plan, catalogue)
    routes=(".operator_console",),
    receivers=(".listeners", ".receivers"),
    dashboard=(".dashboard.operator_figures",),
    periodic=(
        # life cycle (trial end, grace, closing, purge), quantity syncs, export expiry
        Periodic("billing_sweep", ".jobs.sweep", queue="default", interval=60),
        Periodic("billing_reconcile", ".jobs.reconcile_quantities", queue="low", cron="41 4 * * *"),
    ),
    url_params={"invoice_id": "invoices", "export_id": "data_exports"},
    samples=("tests.billing.samples_billing",),
    demo=".demo.seed",
    permissions=(MANAGE_BILLING, EXPORT_AGENCY_DATA),
    nav=(NavEntry("billing.index", _l("Billing"), MANAGE_BILLING, 920, settings=True),),
)
