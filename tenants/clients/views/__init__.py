"""Clients' pages: the clients list, each client's profile and file, their cases
with assessments, closure and follow-ups, service plans, the care settings.
One blueprint (`clients`, in `blueprint`); each module adds the routes of one
topic to it. Only admins and coordinators see client files; every view of one
is logged."""

from __future__ import annotations

from tenants.clients.views import care_settings, cases, clients, plans
from tenants.clients.views.blueprint import bp

__all__ = ["bp", "care_settings", "cases", "clients", "plans"]
