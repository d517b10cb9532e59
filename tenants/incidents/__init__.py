"""Incidents: a fall, an injury, a medication error, abuse or neglect, a fire,
an outage, a missing person, damage: reported at once (carers from their visit
or their phone), the immediate response, an investigation with its owner and
deadline, the actions of accountability and prevention, and a closure by
someone other than the investigator. The agency head is told at once; overdue
steps and unacknowledged serious incidents escalate to the head."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import MANAGE_SETTINGS, Permission
from saas.settings import Kind, Setting

REPORT_INCIDENTS = Permission(
    "REPORT_INCIDENTS",
    "Report an incident (pages and API) and follow the ones one reported or is named on",
    (Role.ADMIN, Role.COORDINATOR, Role.CARER),
)
MANAGE_INCIDENTS = Permission(
    "MANAGE_INCIDENTS",
    "Every incident (safeguarding ones aside): immediate response, investigation, actions, closure",
    (Role.ADMIN, Role.COORDINATOR),
)
ACKNOWLEDGE_INCIDENTS = Permission(
    "ACKNOWLEDGE_INCIDENTS", "Acknowledge serious incidents as the agency head", (Role.ADMIN,)
)
READ_SAFEGUARDING_INCIDENTS = Permission(
    "READ_SAFEGUARDING_INCIDENTS",
    "Read every abuse or neglect report (others see only those naming them)",
    (Role.ADMIN,),
)

AREA = Area(
    "incidents",
    api_label=_l("Incidents"),
    models=(".models",),
    blueprints=(".views",),
    routes=(".api",),
    reminders=(".reminders",),
    receivers=(".receivers",),
    periodic=(Periodic("incidents_escalate", ".reminders.escalation_sweep", queue="high", interval=900),),
    nav=(
        NavEntry("incidents.index", _l("Incidents"), REPORT_INCIDENTS, 45, tab=4, icon="alert"),
        NavEntry("incidents.settings_page", _l("Incident settings"), MANAGE_SETTINGS, 182),
    ),
    permissions=(REPORT_INCIDENTS, MANAGE_INCIDENTS, ACKNOWLEDGE_INCIDENTS, READ_SAFEGUARDING_INCIDENTS),
    url_params={"incident_id": "incidents", "action_id": "incident_actions"},
    samples=("tests.incidents.samples_incidents",),
    demo="tenants.incidents.demo.seed",
    settings=(
        Setting(
            "incident_acknowledge_hours",
            Kind.INT,
            24,
            _l("The agency head acknowledges a serious incident within (hours)"),
            help=_l(
                "Serious and critical incidents, abuse or neglect, fires and missing persons; "
                "unacknowledged after this, they are escalated."
            ),
            min=1,
            max=168,
            page="incidents",
        ),
        Setting(
            "incident_investigation_days",
            Kind.INT,
            7,
            _l("Investigation deadline offered (days after the report)"),
            min=1,
            max=90,
            page="incidents",
        ),
        Setting(
            "incident_response_target_minutes",
            Kind.INT,
            60,
            _l("Target: mean time from report to first response (minutes)"),
            help=_l("Shown against the month's figure in the quality summary."),
            min=1,
            max=10_080,
            page="incidents",
        ),
    ),
)
