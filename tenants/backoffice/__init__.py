"""The agency's back office: invoices to funders and clients built from the
visits delivered (at the price each was booked at), and carers' timesheets
for payroll (visits worked, travel between them, time off)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry
from saas.models import Role
from saas.permissions import MANAGE_SETTINGS, Permission
from saas.settings import Kind, Setting

MANAGE_INVOICES = Permission(
    "MANAGE_INVOICES",
    "Who pays for each plan; build, adjust and issue invoices, credit notes; download them",
    (Role.ADMIN,),
)
MANAGE_TIMESHEETS = Permission(
    "MANAGE_TIMESHEETS",
    "Build carers' timesheets, review the differences, approve them and export them for payroll",
    (Role.ADMIN, Role.COORDINATOR),
)

AREA = Area(
    "backoffice",
    api_label=_l("Invoices and timesheets"),
    models=(".models",),
    blueprints=(".views",),
    routes=(".api",),
    receivers=(".receivers",),
    nav=(
        NavEntry("backoffice.invoices", _l("Invoices"), MANAGE_INVOICES, 85),
        NavEntry("backoffice.timesheets", _l("Timesheets"), MANAGE_TIMESHEETS, 86),
        NavEntry("backoffice.settings_page", _l("Invoice and timesheet settings"), MANAGE_SETTINGS, 183),
    ),
    permissions=(MANAGE_INVOICES, MANAGE_TIMESHEETS),
    url_params={"care_invoice_id": "care_invoices", "timesheet_id": "timesheets"},
    samples=("tests.backoffice.samples_backoffice",),
    demo="tenants.backoffice.demo.seed",
    settings=(
        Setting(
            "late_cancellation_notice_hours",
            Kind.INT,
            24,
            _l("Notice needed to cancel a visit without charge (hours)"),
            help=_l("A visit cancelled later than this before its start is charged on the invoice."),
            min=0,
            max=336,
            page="invoicing",
        ),
        Setting(
            "late_cancellation_charge_percent",
            Kind.INT,
            100,
            _l("Share of the price charged for a late cancellation (%)"),
            min=0,
            max=100,
            page="invoicing",
        ),
        Setting(
            "timesheet_difference_minutes",
            Kind.INT,
            10,
            _l("List a visit for review when worked and booked time differ by (minutes)"),
            min=0,
            max=240,
            page="invoicing",
        ),
    ),
)
