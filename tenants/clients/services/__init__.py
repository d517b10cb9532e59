"""The service loop for one client: intake, assessment, plan, closure and
follow-ups. Views, jobs and the API all call these; each topic is a module of
this package, and its names are importable from here."""

from __future__ import annotations

from tenants.clients.errors import ClientError
from tenants.clients.services.cases import (
    TRANSITIONS,
    close_case,
    follow_up_offset,
    high_risks,
    open_case,
    record_assessment,
    record_follow_up,
    record_risks,
    risk_score,
    set_special_programme,
    transition,
)
from tenants.clients.services.plans import (
    PlanFields,
    PlanItemData,
    activate_plan,
    add_plan_item,
    approve_plan,
    new_plan,
    remove_plan_item,
    return_plan,
    submit_plan,
    update_plan,
)
from tenants.clients.services.profiles import (
    ClientData,
    ContactData,
    EmergencyContactRow,
    age_group,
    agency_today,
    emergency_contacts_of,
    has_emergency_contact,
    link_portal_member,
    log_file_access,
    portal_client_ids,
    save_client,
)

__all__ = [
    "TRANSITIONS",
    "ClientData",
    "ClientError",
    "ContactData",
    "EmergencyContactRow",
    "PlanFields",
    "PlanItemData",
    "activate_plan",
    "add_plan_item",
    "age_group",
    "agency_today",
    "approve_plan",
    "close_case",
    "follow_up_offset",
    "has_emergency_contact",
    "high_risks",
    "link_portal_member",
    "log_file_access",
    "new_plan",
    "open_case",
    "portal_client_ids",
    "emergency_contacts_of",
    "record_assessment",
    "record_follow_up",
    "record_risks",
    "remove_plan_item",
    "return_plan",
    "risk_score",
    "save_client",
    "set_special_programme",
    "submit_plan",
    "transition",
    "update_plan",
]
