"""Read models of the clients area: the client's file, one statement that also
logs the read (`file`), and the lists and pages around it (`pages`); every
name is importable from here."""

from __future__ import annotations

from tenants.clients.queries.file import (
    AFTER_OPENING,
    CASES_SHOWN,
    CONTACTS_SHOWN,
    DETAIL_READ,
    PORTAL_SHOWN,
    TIMELINE_PAGE,
    ClientFile,
    client_file,
    file_statement,
    own_entries,
    own_lines,
)
from tenants.clients.queries.pages import (
    FOLLOW_UP_DUE,
    PLAN_WAITING,
    CareFigures,
    CaseFile,
    access_log,
    active_carers,
    active_client_count,
    active_service_items,
    care_figures,
    case_file,
    client_list,
    client_of,
    contacts_of,
    plan_lines,
    plan_people,
    portal_candidates,
)

__all__ = [
    "FOLLOW_UP_DUE",
    "PLAN_WAITING",
    "CareFigures",
    "care_figures",
    "AFTER_OPENING",
    "CASES_SHOWN",
    "CONTACTS_SHOWN",
    "DETAIL_READ",
    "PORTAL_SHOWN",
    "TIMELINE_PAGE",
    "CaseFile",
    "ClientFile",
    "access_log",
    "active_carers",
    "active_client_count",
    "active_service_items",
    "case_file",
    "client_file",
    "client_list",
    "client_of",
    "contacts_of",
    "file_statement",
    "own_entries",
    "own_lines",
    "plan_lines",
    "plan_people",
    "portal_candidates",
]
