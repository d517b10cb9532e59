"""Per-agency workforce settings, and the agency's own calendar date. The
numbers are typed settings the area declares (`tenants.staffing.AREA`), read
with `saas.settings`; the certificates each role requires are a structure of
their own, kept beside them in `Agency.settings`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import g, has_request_context
from sqlalchemy import cast, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm.attributes import set_committed_value

from saas import audit, db
from saas.models import Agency
from saas.settings import page_settings, settings_of, update_settings
from tenants.staffing.errors import Problem, raise_if
from tenants.staffing.models import STAFF_ROLES, CertificateType

REQUIRED_CERTIFICATES = "required_certificate_types"


@dataclass(frozen=True)
class WorkforceSettings:
    certificate_expiring_days: int
    pre_service_hours: Decimal
    annual_training_hours: Decimal
    caseload_limit_individual: int
    caseload_limit_community: int
    # staff role -> certificate type ids that role must hold, valid
    required_certificate_types: dict[str, tuple[uuid.UUID, ...]]

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
    agency = agency or agency_in_scope()
    values = settings_of(agency)
    raw = (agency.settings or {}).get(REQUIRED_CERTIFICATES) or {}
    required: dict[str, tuple[uuid.UUID, ...]] = {}
    for role in STAFF_ROLES:
        ids = []
        for value in raw.get(role, []) if isinstance(raw, dict) else []:
            try:
                ids.append(uuid.UUID(str(value)))
            except ValueError:
                continue
        required[role] = tuple(ids)
    return WorkforceSettings(
        certificate_expiring_days=values.get("certificate_expiring_days"),
        pre_service_hours=Decimal(values.get("pre_service_hours")),
        annual_training_hours=Decimal(values.get("annual_training_hours")),
        caseload_limit_individual=values.get("caseload_limit_individual"),
        caseload_limit_community=values.get("caseload_limit_community"),
        required_certificate_types=required,
    )


def save_workforce_settings(
    agency: Agency, numbers: dict[str, Any], required: dict[str, list[uuid.UUID]]
) -> None:
    """The numbers and the certificates at once: all checked before anything
    is written (jobs, imports and tests set both)."""
    chosen = _check_required(required)
    update_settings(agency, {key: numbers.get(key) for key in number_keys()})
    _store_required(agency, chosen)


def save_required_certificates(agency: Agency, required: dict[str, list[uuid.UUID]]) -> None:
    """The certificate types each role must hold (active ones only), merged into
    the agency's settings in one statement (other keys are left as they are)."""
    _store_required(agency, _check_required(required))


def _check_required(required: dict[str, list[uuid.UUID]]) -> dict[str, list[str]]:
    problems = []
    known = set(db.session.scalars(select(CertificateType.id).where(CertificateType.active.is_(True))))
    chosen: dict[str, list[str]] = {}
    for role in STAFF_ROLES:
        ids = list(dict.fromkeys(required.get(role, [])))
        if any(i not in known for i in ids):
            problems.append(Problem("type_choose", f"required_{role}"))
        chosen[role] = [str(i) for i in ids]
    raise_if(problems)
    return chosen


def _store_required(agency: Agency, chosen: dict[str, list[str]]) -> None:
    patch = {REQUIRED_CERTIFICATES: chosen}
    db.session.execute(
        update(Agency)
        .where(Agency.id == agency.id)
        .values(settings=Agency.settings.op("||")(cast(patch, JSONB)))
    )
    _reload_settings(agency)
    audit.record("workforce.settings_changed", agency.slug, **patch)


def forget_certificate_type(agency: Agency, type_id: uuid.UUID) -> None:
    """A retired certificate type is no longer required of any role."""
    current = workforce_settings(agency).required_certificate_types
    if not any(type_id in ids for ids in current.values()):
        return
    chosen = {role: [str(i) for i in ids if i != type_id] for role, ids in current.items()}
    db.session.execute(
        update(Agency)
        .where(Agency.id == agency.id)
        .values(settings=Agency.settings.op("||")(cast({REQUIRED_CERTIFICATES: chosen}, JSONB)))
    )
    _reload_settings(agency)


def _reload_settings(agency: Agency) -> None:
    """The merged settings back on the object, attached to the session or not."""
    set_committed_value(
        agency, "settings", db.session.scalar(select(Agency.settings).where(Agency.id == agency.id))
    )


def local_today(agency: Agency | None = None) -> date:
    """Today's date where the agency works."""
    return (agency or agency_in_scope()).today()
