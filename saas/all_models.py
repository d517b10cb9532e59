"""Imports every module that defines tables, so metadata is complete for
Alembic, the schema tests and the isolation test: the core's, then each
area's as it declares them (`saas.areas`)."""

import saas.models  # noqa: F401
import saas.notifications.models  # noqa: F401
import saas.sweeps  # noqa: F401
from saas.areas import import_all

import_all("models")
