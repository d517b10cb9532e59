"""The agency home page."""

from __future__ import annotations

from saas.areas import Area

AREA = Area("home", blueprints=(".views",))
