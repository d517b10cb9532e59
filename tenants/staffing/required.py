"""The certificates each staff role must hold: a structured agency setting
(`required_certificate_types`, declared in `tenants.staffing.AREA`), read and
written through `saas.settings` like the area's numbers. Light on purpose: the
area's declaration imports it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from saas.settings import Invalid, Shape
from tenants.staffing.errors import MESSAGES

# The job a staff file is for (`StaffFile.staff_role`), not the membership's access
# role: saas.models.STAFF_ROLES are the roles of the agency's staff members.
JOB_ROLES = ("carer", "social_worker", "coordinator")

REQUIRED_CERTIFICATES = "required_certificate_types"


def field(role: str) -> str:
    """The form field of one role's required certificates."""
    return f"required_{role}"


class RequiredCertificates(Shape):
    """Staff role -> the ids of the certificate types that role must hold,
    valid (each once, in the order chosen). Stored as role -> id strings; a
    type must be in use (active) to be made required."""

    messages = {"type_choose": MESSAGES["type_choose"]}

    def clean(self, raw: Any) -> Mapping[str, tuple[uuid.UUID, ...]]:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping) or not set(raw) <= set(JOB_ROLES):
            raise Invalid("format")
        value: dict[str, tuple[uuid.UUID, ...]] = {}
        parts: dict[str, Invalid] = {}
        for role in JOB_ROLES:
            items = raw.get(role) or ()
            try:
                if isinstance(items, str | bytes) or not isinstance(items, list | tuple | set | frozenset):
                    raise ValueError(items)
                ids = [i if isinstance(i, uuid.UUID) else uuid.UUID(str(i)) for i in items]
            except ValueError:
                parts[field(role)] = Invalid("type_choose")
                continue
            value[role] = tuple(dict.fromkeys(ids))
        if parts:
            raise Invalid("parts", parts=parts)
        return MappingProxyType(value)

    def dump(self, value: Mapping[str, tuple[uuid.UUID, ...]]) -> dict[str, list[str]]:
        return {role: [str(i) for i in ids] for role, ids in value.items()}

    def check(self, value: Mapping[str, tuple[uuid.UUID, ...]]) -> None:
        # imported here: the area's declaration imports this module, and reads no table
        from sqlalchemy import select

        from saas import db
        from tenants.staffing.models import CertificateType

        wanted = {i for ids in value.values() for i in ids}
        if not wanted:
            return
        in_use = select(CertificateType.id).where(
            CertificateType.id.in_(wanted), CertificateType.active.is_(True)
        )
        known = set(db.session.scalars(in_use))
        parts = {field(role): Invalid("type_choose") for role, ids in value.items() if set(ids) - known}
        if parts:
            raise Invalid("parts", parts=parts)


NONE_REQUIRED: Mapping[str, tuple[uuid.UUID, ...]] = MappingProxyType({role: () for role in JOB_ROLES})
