"""Translated labels of stored codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from saas.labels import Labels

type_label = Labels(
    {
        "fall": _l("Fall"),
        "injury": _l("Injury"),
        "medication_error": _l("Medication error"),
        "abuse_neglect": _l("Abuse or neglect"),
        "fire": _l("Fire"),
        "outage": _l("Power or water outage"),
        "missing_person": _l("Missing person"),
        "property_damage": _l("Property damage"),
        "other": lazy_pgettext("incident type", "Other"),
    }
)
severity_label = Labels(
    {
        "minor": _l("Minor"),
        "moderate": _l("Moderate"),
        "serious": _l("Serious"),
        "critical": _l("Critical"),
    }
)
status_label = Labels(
    {
        "reported": _l("Reported"),
        "responded": _l("Immediate response recorded"),
        "investigating": _l("Under investigation"),
        "investigated": _l("Investigated"),
        "closed": lazy_pgettext("incident status", "Closed"),
    }
)
