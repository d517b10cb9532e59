"""Imports every module that defines tables, so metadata is complete for
Alembic, the schema tests and the isolation test."""

import billing.models  # noqa: F401
import saas.models  # noqa: F401
import saas.notifications.models  # noqa: F401
import saas.sweeps  # noqa: F401
import tenants.catalogue.models  # noqa: F401
import tenants.clients.models  # noqa: F401
import tenants.feedback.models  # noqa: F401
import tenants.outreach.models  # noqa: F401
import tenants.quality.models  # noqa: F401
import tenants.scheduling.models  # noqa: F401
import tenants.staffing.models  # noqa: F401
import tenants.surveys.models  # noqa: F401
import tenants.training.models  # noqa: F401
