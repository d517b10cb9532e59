"""Agency lifecycle rules shared by the operator console, the CLI and the demo."""

from __future__ import annotations

import uuid
from zoneinfo import available_timezones

from sqlalchemy import select

from saas import audit, db
from saas.fields import LOCALE_CODES, RESERVED_SLUGS, SLUG_RE
from saas.models import Agency, AgencyStatus


class AgencyError(ValueError):
    """Refused; `field` names the form field the message belongs next to."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(code)
        self.field = field
        self.code = code


def create_agency(name: str, slug: str, timezone: str, locale: str) -> Agency:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise AgencyError("slug", "slug_invalid")
    if timezone not in available_timezones():
        raise AgencyError("timezone", "timezone_unknown")
    if locale not in LOCALE_CODES:
        raise AgencyError("locale", "locale_unknown")
    if db.session.scalar(select(Agency.id).where(Agency.slug == slug)) is not None:
        raise AgencyError("slug", "slug_taken")
    agency = Agency(name=name.strip(), slug=slug, timezone=timezone, locale=locale, settings={})
    db.session.add(agency)
    db.session.flush()
    audit.record_platform("agency.created", slug, agency_id=agency.id)
    with db.tenant_scope(agency.id):
        audit.record("agency.created", slug)
    from billing.lifecycle import start_trial

    start_trial(agency)  # every new agency starts on a trial (TRIAL_DAYS)
    return agency


def active_agencies(ids: set[uuid.UUID]) -> list[Agency]:
    """The agencies among `ids` that are not suspended: what a sweep works on
    after finding, through the platform reader, which agencies have work due."""
    if not ids:
        return []
    return list(
        db.session.scalars(select(Agency).where(Agency.id.in_(ids), Agency.status == AgencyStatus.ACTIVE))
    )


def set_status(agency: Agency, status: AgencyStatus, reason: str = "") -> None:
    if agency.status == status:
        return
    agency.status = status
    agency.suspended_at = db.utcnow() if status == AgencyStatus.SUSPENDED else None
    action = "agency.suspended" if status == AgencyStatus.SUSPENDED else "agency.reactivated"
    audit.record_platform(action, agency.slug, agency_id=agency.id, reason=reason)
    with db.tenant_scope(agency.id):
        audit.record(action, agency.slug, reason=reason)
