"""Agency lifecycle rules shared by the operator console, the CLI and the demo."""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable, Iterator
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from saas import audit, db
from saas.errors import DomainError, register_messages
from saas.fields import LOCALE_CODES, RESERVED_SLUGS, SLUG_RE
from saas.models import Agency, AgencyStatus
from saas.signals import AgencyCreated, agency_created

log = logging.getLogger(__name__)


class AgencyError(DomainError):
    """Refused; `field` names the form field the message belongs next to."""


register_messages(
    {
        "slug_taken": _l("This web address is already taken."),
        "slug_invalid": _l("This address is reserved. Choose another."),
        "timezone_unknown": _l("Choose a time zone from the list."),
        "locale_unknown": _l("Choose a language from the list."),
    },
    error=AgencyError,
)


def create_agency(name: str, slug: str, timezone: str, locale: str) -> Agency:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise AgencyError("slug_invalid", "slug")
    if timezone not in available_timezones():
        raise AgencyError("timezone_unknown", "timezone")
    if locale not in LOCALE_CODES:
        raise AgencyError("locale_unknown", "locale")
    if db.session.scalar(select(Agency.id).where(Agency.slug == slug)) is not None:
        raise AgencyError("slug_taken", "slug")
    agency = Agency(name=name.strip(), slug=slug, timezone=timezone, locale=locale, settings={})
    db.session.add(agency)
    db.session.flush()
    audit.record_platform("agency.created", slug, agency_id=agency.id)
    with db.tenant_scope(agency.id):
        audit.record("agency.created", slug)
    agency_created.send(AgencyCreated(agency))  # billing starts its trial
    return agency


def active_agencies(ids: set[uuid.UUID]) -> list[Agency]:
    """The agencies among `ids` that are not suspended: what a sweep works on
    after finding, through the platform reader, which agencies have work due."""
    if not ids:
        return []
    return list(
        db.session.scalars(select(Agency).where(Agency.id.in_(ids), Agency.status == AgencyStatus.ACTIVE))
    )


def agencies_with(stmt: Select) -> Iterator[Agency]:
    """Run `stmt` (selecting tenant ids) across agencies through the platform
    reader, then yield each active agency found with it in scope."""
    with db.platform_reader() as reader:
        ids = set(reader.scalars(stmt.distinct()))
    for agency in active_agencies(ids):
        with db.tenant_scope(agency.id):
            yield agency


def sweep_agencies(stmt: Select, work: Callable[[Agency], int]) -> int:
    """`work(agency)` for each agency `stmt` finds, each agency's work
    committed on its own; one agency's failure is rolled back and logged
    (agency id only) without stopping the others, then raised at the end so
    the sweep's run is recorded as failed."""
    total, failed = 0, None
    for agency in agencies_with(stmt):
        try:
            with db.unit_of_work():
                total += work(agency)
        except Exception as exc:  # noqa: BLE001 - re-raised below, after the other agencies
            # the error's type and where it happened, not its message: a database
            # error's message carries the statement's values (names, emails)
            log.error(  # noqa: TRY400 - no exc_info on purpose (see above)
                "sweep failed for agency %s: %s\n%s",
                agency.id,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            failed = failed or exc
    if failed is not None:
        raise failed
    return total


def set_status(agency: Agency, status: AgencyStatus, reason: str = "") -> None:
    if agency.status == status:
        return
    agency.status = status
    agency.suspended_at = db.utcnow() if status == AgencyStatus.SUSPENDED else None
    action = "agency.suspended" if status == AgencyStatus.SUSPENDED else "agency.reactivated"
    audit.record_platform(action, agency.slug, agency_id=agency.id, reason=reason)
    with db.tenant_scope(agency.id):
        audit.record(action, agency.slug, reason=reason)
