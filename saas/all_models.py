"""Imports every module that defines tables, so metadata is complete for
Alembic, the schema tests and the isolation test."""

import saas.models  # noqa: F401
