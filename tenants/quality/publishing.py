"""Publishing a month's quality summary to the agency's public page
(`/a/<slug>/quality/public/<YYYY-MM>`, no sign-in), for residents and funders.

What the public page may show is decided here, once: the KPIs the admin chose
(each its value, target and whether it was met, as numbers) and the
satisfaction trend (means per month), in the agency's language. Never a name
of a client or a worker, never text someone typed (complaint topics, service
records, responses): the stored figures' free-text parts (complaint
categories) are not read. Publishing and unpublishing are audited; an
unpublished month's page is not found."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from billing.lifecycle import external_url
from saas import audit, db, mail
from saas.errors import DomainError, register_messages
from saas.models import Agency, User
from tenants.outreach import services as outreach
from tenants.quality import targets
from tenants.quality.models import BuildState, QualitySummary

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class PublishingError(DomainError):
    """A publication refused (the page shows the message next to the field)."""


register_messages(
    {
        "no_kpis": _l("Choose at least one indicator to publish."),
        "unknown_kpi": _l("Choose among this summary's indicators."),
        "not_built": _l("The summary is not built yet."),
        "not_published": _l("This summary is not published."),
        "no_funders": _l("No active funder has an email address: add one on the funders page."),
    },
    error=PublishingError,
)


def month_of(value: str) -> date | None:
    """`YYYY-MM` as the first day of that month; None for anything else."""
    match = MONTH_RE.match(value or "")
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        return None


def public_url(agency: Agency, month: date) -> str:
    return external_url("quality.public", slug=agency.slug, month=f"{month:%Y-%m}")


def publish(agency: Agency, summary: QualitySummary, kpis: list[str], *, by: User | None) -> QualitySummary:
    """Publish a built summary with the chosen KPIs (published again: the new
    choice replaces the old one)."""
    if summary.state != BuildState.DONE and summary.built_at is None:
        raise PublishingError("not_built")
    have = {k.key for k in targets.kpis_in(summary.figures or {})}
    chosen = list(dict.fromkeys(kpis))
    if not chosen:
        raise PublishingError("no_kpis", "kpis")
    if not set(chosen) <= have:
        raise PublishingError("unknown_kpi", "kpis")
    summary.published_kpis = [k.key for k in targets.KPIS if k.key in chosen]
    summary.published_at = db.utcnow()
    summary.published_by_user_id = by.id if by else None
    audit.record(
        "quality.published",
        summary.month.isoformat(),
        kpis=summary.published_kpis,
        by_user=str(by.id) if by else None,
    )
    return summary


def unpublish(summary: QualitySummary, *, by: User | None) -> QualitySummary:
    """Take the month's public page down (it is then not found); recorded."""
    if summary.published_at is None:
        raise PublishingError("not_published")
    summary.published_at = None
    summary.published_by_user_id = None
    audit.record("quality.unpublished", summary.month.isoformat(), by_user=str(by.id) if by else None)
    return summary


def funders_with_email() -> list[Any]:
    """The agency's active funders that have an email address (outreach's list)."""
    return [f for f in outreach.funders(active_only=True) if f.email]


def send_to_funders(agency: Agency, summary: QualitySummary, *, by: User | None) -> int:
    """Email the public page's link to each active funder with an address,
    through the outbox, in the agency's language; once per funder and
    publication (the dedupe key carries the publication's instant)."""
    if summary.published_at is None:
        raise PublishingError("not_published")
    funders = funders_with_email()
    if not funders:
        raise PublishingError("no_funders")
    link = public_url(agency, summary.month)
    sent = 0
    for funder in funders:
        if mail.send(
            funder.email,
            "quality_published",
            locale=agency.locale,
            kind="quality.published",
            agency_id=agency.id,
            dedupe_key=f"{agency.id}:quality.published:{summary.month.isoformat()}:"
            f"{summary.published_at.isoformat()}:{funder.id}",
            agency_name=agency.name,
            month=summary.month,
            link=link,
        ):
            sent += 1
    audit.record(
        "quality.link_sent", summary.month.isoformat(), funders=sent, by_user=str(by.id) if by else None
    )
    return sent


@dataclass(frozen=True)
class PublicKpi:
    key: str
    unit: str
    higher_is_better: bool
    value: float | None
    target: float
    met: bool | None


@dataclass(frozen=True)
class PublicSummary:
    """What the public page shows: numbers only, no names, no free text."""

    month: date
    locale: str
    kpis: list[PublicKpi]
    trend: list[dict[str, Any]]  # {"month": "YYYY-MM-01", "mean": float}, when satisfaction is published


def published(month: date) -> PublicSummary | None:
    """The agency's published summary of `month` (in scope), as the public
    page may show it; None when not published."""
    row = db.session.execute(
        select(
            QualitySummary.month,
            QualitySummary.locale,
            QualitySummary.published_kpis,
            QualitySummary.figures["kpis"].label("kpis"),
            QualitySummary.figures[("satisfaction", "trend")].label("trend"),
        ).where(QualitySummary.month == month, QualitySummary.published_at.isnot(None))
    ).first()
    if row is None:
        return None
    stored = row.kpis or {}
    kpis = [
        PublicKpi(
            k.key,
            k.unit,
            k.higher_is_better,
            _number(stored[k.key].get("value")),
            float(stored[k.key]["target"]),
            stored[k.key].get("met"),
        )
        for k in targets.KPIS
        if k.key in (row.published_kpis or []) and k.key in stored
    ]
    trend = (
        [{"month": str(t["month"]), "mean": float(t["mean"])} for t in row.trend or []]
        if "satisfaction" in (row.published_kpis or [])
        else []
    )
    return PublicSummary(row.month, row.locale, kpis, trend)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
