"""Per-agency workforce settings, and the agency's own calendar date. Every
one is a typed setting the area declares (`tenants.staffing.AREA`): the
numbers, and the certificates each role requires (a structured one, see
`tenants.staffing.required`), read and written through `saas.settings`.
`WorkforceSettings` is their typed read model, holding no default of its own."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import g, has_request_context

from saas import db
from saas.models import Agency
from saas.settings import page_settings, settings_of, update_settings
from tenants.staffing.required import REQUIRED_CERTIFICATES


@dataclass(frozen=True)
class WorkforceSettings:
    certificate_expiring_days: int
    pre_service_hours: Decimal
    annual_training_hours: Decimal
    caseload_limit_individual: int
    caseload_limit_community: int
    # staff role -> certificate type ids that role must hold, valid
    required_certificate_types: Mapping[str, tuple[uuid.UUID, ...]]

    def required_for(self, staff_role: str) -> tuple[uuid.UUID, ...]:
        return self.required_certificate_types.get(staff_role, ())


def agency_in_scope() -> Agency:
    """The agency of the request, or of the tenant scope (jobs, CLI)."""
    if has_request_context() and g.get("agency") is not None:
        agency = g.agency
        if agency.id == db.current_tenant_id():
            return agency
    tenant_id = db.current_tenant_id()
    if tenant_id is None:
        raise RuntimeError("no agency in scope")
    agency = db.session.get(Agency, tenant_id)
    if agency is None:
        raise RuntimeError("agency in scope does not exist")
    return agency


def number_keys() -> list[str]:
    """The workforce settings page's numbers (declared by the area)."""
    return [s.key for s in page_settings("workforce")]


def workforce_settings(agency: Agency | None = None) -> WorkforceSettings:
    values = settings_of(agency or agency_in_scope())
    return WorkforceSettings(
        certificate_expiring_days=values.get("certificate_expiring_days"),
        pre_service_hours=Decimal(values.get("pre_service_hours")),
        annual_training_hours=Decimal(values.get("annual_training_hours")),
        caseload_limit_individual=values.get("caseload_limit_individual"),
        caseload_limit_community=values.get("caseload_limit_community"),
        required_certificate_types=values.get(REQUIRED_CERTIFICATES),
    )


def save_workforce_settings(
    agency: Agency, numbers: dict[str, Any], required: Mapping[str, list[uuid.UUID]]
) -> None:
    """The numbers and the certificates at once: all checked before anything
    is written (jobs, imports and tests set both)."""
    values: dict[str, Any] = {key: numbers.get(key) for key in number_keys()}
    update_settings(agency, {**values, REQUIRED_CERTIFICATES: required})


def save_required_certificates(agency: Agency, required: Mapping[str, list[Any]]) -> None:
    """The certificate types each role must hold (types in use only)."""
    update_settings(agency, {REQUIRED_CERTIFICATES: required})


def forget_certificate_type(agency: Agency, type_id: uuid.UUID) -> None:
    """A retired certificate type is no longer required of any role."""
    current = workforce_settings(agency).required_certificate_types
    if any(type_id in ids for ids in current.values()):
        chosen = {role: [i for i in ids if i != type_id] for role, ids in current.items()}
        update_settings(agency, {REQUIRED_CERTIFICATES: chosen})


def local_today(agency: Agency | None = None) -> date:
    """Today's date where the agency works."""
    return (agency or agency_in_scope()).today()
