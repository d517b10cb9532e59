"""Visits' pages: the coordinator's board and the visit sheet, the carer's
schedule and check-in/out, return visits, the client portal. One blueprint
(`scheduling`, in `blueprint`); each module adds the routes of one topic to it."""

from __future__ import annotations

from tenants.scheduling.views import board, carer, phone, portal, presence, return_visits, rota
from tenants.scheduling.views.blueprint import bp

__all__ = ["bp", "board", "carer", "phone", "portal", "presence", "return_visits", "rota"]
