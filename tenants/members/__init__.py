"""Who belongs to the agency: members, invitations, API tokens, the audit log."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry
from saas.permissions import READ_AUDIT_LOG, VIEW_MEMBERS

AREA = Area(
    "members",
    blueprints=(".views",),
    # after every area's pages, as the menu has always ended
    nav=(
        NavEntry("members.index", _l("Members"), VIEW_MEMBERS, 900, settings=True),
        NavEntry("members.audit_log", _l("Audit log"), READ_AUDIT_LOG, 910, settings=True),
    ),
)
