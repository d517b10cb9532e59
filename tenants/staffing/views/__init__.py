"""Staff pages: the staff list, each staff file and what is kept on it, the
caseload view, workforce settings, certificate types, teams, spreadsheet
imports and exports. One blueprint (`staffing`); each module adds the routes
of one topic to it."""

from __future__ import annotations

from tenants.staffing.views import caseload, certificates, files, reviews, spreadsheets, teams
from tenants.staffing.views.blueprint import bp

__all__ = ["bp", "caseload", "certificates", "files", "reviews", "spreadsheets", "teams"]
