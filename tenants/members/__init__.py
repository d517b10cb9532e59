"""Who belongs to the agency: members, invitations, API tokens, the audit log."""

from __future__ import annotations

from saas.areas import Area

AREA = Area("members", blueprints=(".views",))
